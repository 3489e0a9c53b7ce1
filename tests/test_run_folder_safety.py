"""Run folders from someone else are data, never code: a crafted checkpoint runs nothing, writes never follow links out
of the folder, results are never deleted to start again, damage is detected and survived, edited fields are refused.
(Issue 21; every case here failed before it was fixed.)"""
import json, os, subprocess, sys
from pathlib import Path
import pytest
import torch
from bmsa.train import run
from bmsa.runs import read_checkpoint, sealed, checkpoint_path, previous_checkpoint_path, run_state

tiny = ['--n-train', '100', '--n-valid', '100', '--epochs', '2', '--threads', '1', '--method', 'set', '--checkpoint-every', '1']

from test_bad_inputs import cli, data_or_skip   # the bad-input table's helpers: bmsa-train in this process

def finished(folder, capsys):
    code, err, _ = cli(['--out', folder] + tiny, capsys)
    assert code == 0, err
    return folder

def files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(Path(folder).rglob('*')) if p.is_file() and p.name != '.lock'}

class Payload:
    "A pickle that, when unpickled, creates a marker file: harmless proof that code ran."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (Path.touch, (Path(self.marker),))

def crafted(run_dir, marker):
    for p in (checkpoint_path(run_dir), previous_checkpoint_path(run_dir)):
        if p.exists(): torch.save({'format': 1, 'epoch': Payload(marker)}, p)

# --- 1. a crafted pickle runs nothing, from any entry point -----------------------------------------------------------
entry_points = {
    'resume': lambda r: run([ '--resume', str(r)]),
    'extend': lambda r: run(['--resume', str(r), '--epochs', '3']),
    'out': lambda r: run(['--out', str(r)] + tiny),
    'plot': lambda r: __import__('bmsa.figures', fromlist=['plot_main']).plot_main([str(r), '--out', str(r.parent / 'figs')]),
    'run_state': lambda r: run_state(r),
    'run_model': lambda r: __import__('bmsa.train', fromlist=['run_model']).run_model(r),
}

@pytest.mark.parametrize('entry', list(entry_points))
def test_crafted_checkpoint_runs_no_code(entry, tmp_path, capsys):
    data_or_skip()
    r, marker = finished(tmp_path / 'r', capsys), tmp_path / 'PWNED'
    crafted(r, marker)
    try: entry_points[entry](r)
    except SystemExit as e: assert 'unpickling' in str(e) or 'already holds' in str(e), e
    except Exception as e: assert 'unpickling' in str(e), e
    assert not marker.exists(), f"{entry} unpickled a checkpoint"

def test_old_format_is_refused_with_how_to_convert(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    state = read_checkpoint(checkpoint_path(r))
    from fastcore.foundation import L
    state['opt']['hypers'] = L(state['opt']['hypers'])                     # as bmsa wrote before: pickled fastcore types
    torch.save({**state, 'format': 1}, checkpoint_path(r)); previous_checkpoint_path(r).unlink()
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code and 'convert_checkpoint' in err and 'Traceback' not in err, err
    from bmsa.runs import convert_checkpoint
    assert convert_checkpoint(checkpoint_path(r))['epoch'] == 2            # a trusted file, converted once
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code == 0, err

# --- 2. no write of ours lands outside the run folder ------------------------------------------------------------------
def test_lock_that_is_a_link(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    victim = tmp_path / 'victim.txt'; victim.write_text('precious')
    (r / '.lock').unlink(); (r / '.lock').symlink_to(victim)
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code and 'is a link' in err, err
    assert victim.read_text() == 'precious'

def test_checkpoints_folder_that_is_a_link(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    elsewhere = tmp_path / 'elsewhere'; elsewhere.mkdir(); (elsewhere / '.mine.bmsa-x.tmp').write_text('theirs')
    os.replace(r / 'checkpoints', tmp_path / 'moved'); (r / 'checkpoints').symlink_to(elsewhere)
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code and 'is a link' in err, err
    assert sorted(p.name for p in elsewhere.iterdir()) == ['.mine.bmsa-x.tmp']

def test_topology_temporary_that_is_a_link(tmp_path, capsys):
    data_or_skip()
    r = tmp_path / 'r'
    code, err, _ = cli(['--out', r, '--topology-every', '1'] + tiny, capsys); assert code == 0, err
    victim = tmp_path / 'victim.txt'; victim.write_text('precious')
    (r / 'topology.pt.tmp').symlink_to(victim)
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code == 0, err
    assert victim.read_text() == 'precious' and not (r / 'topology.pt').is_symlink()

def test_out_never_deletes_the_users_files(tmp_path, capsys):
    data_or_skip()
    d = tmp_path / 'd'; d.mkdir(); (d / '.notes.tmp').write_text('mine')
    code, err, _ = cli(['--out', d] + tiny, capsys)
    assert code and 'is not empty' in err, err
    assert (d / '.notes.tmp').read_text() == 'mine'

# --- 3. results are never deleted to start again -------------------------------------------------------------------
def test_finished_run_without_its_checkpoint_keeps_its_results(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    for p in (checkpoint_path(r), previous_checkpoint_path(r)): p.unlink()
    before = files(r)
    assert run_state(r) == 'finished'
    code, err, _ = cli(['--resume', r], capsys)
    assert code and 'no checkpoint' in err and 'put its checkpoints/last.pt back' in err, err
    assert files(r) == before

def test_finished_run_without_last_pt_keeps_its_results(tmp_path, capsys):
    "The issue's case: only last.pt deleted (prev.pt still there): log.csv and summary.json stay byte-identical."
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    checkpoint_path(r).unlink()
    before = files(r)
    assert run_state(r) == 'finished'
    code, err, _ = cli(['--resume', r], capsys)
    assert code and 'no checkpoint' in err, err
    assert files(r) == before

def test_config_nested_too_deep(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    (r / 'config.json').write_text('[' * 200_000 + ']' * 200_000)
    code, err, _ = cli(['--resume', r], capsys)
    assert code and 'nested too deeply' in err and 'Traceback' not in err, err

def test_checkpoints_that_is_a_file(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    import shutil; shutil.rmtree(r / 'checkpoints'); (r / 'checkpoints').write_text('not a folder')
    before = files(r)
    code, err, _ = cli(['--resume', r], capsys)
    assert code and 'Traceback' not in err and ('is a file' in err or 'no checkpoint' in err), err
    assert files(r) == before

# --- 5. damage is detected, and the previous checkpoint takes over ---------------------------------------------------
def test_flipped_bit_falls_back_to_the_previous_checkpoint(tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    data = bytearray(checkpoint_path(r).read_bytes()); data[len(data) // 2] ^= 0x80; checkpoint_path(r).write_bytes(data)
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code == 0 and 'does not match its SHA-256 digest' in err and 'previous checkpoint' in err, err
    assert read_checkpoint(checkpoint_path(r))['epoch'] == 3
    assert [int(l.split(',')[0]) for l in (r / 'log.csv').read_text().splitlines()[1:]] == [0, 1, 2]

# --- 6. edited fields are refused before anything trains -----------------------------------------------------------
edits = {
    'epoch 0': lambda s: s.update(epoch=0), 'epoch -1': lambda s: s.update(epoch=-1), "epoch '2'": lambda s: s.update(epoch='2'),
    'epoch 1.5': lambda s: s.update(epoch=1.5), 'epoch disagrees with log': lambda s: s.update(epoch=1),
    'log None': lambda s: s.update(log=None), "log 'abc'": lambda s: s.update(log='abc'),
    'no torch RNG state': lambda s: s['training'].pop('torch'), 'opt {}': lambda s: s.update(opt={}),
    "settings 'set'": lambda s: s.update(settings='set'), 'no settings': lambda s: s.pop('settings'),
}

@pytest.mark.parametrize('edit', list(edits))
def test_edited_checkpoint_fields(edit, tmp_path, capsys):
    data_or_skip()
    r = finished(tmp_path / 'r', capsys)
    previous_checkpoint_path(r).unlink()
    state = read_checkpoint(checkpoint_path(r)); edits[edit](state); checkpoint_path(r).write_bytes(sealed(state))
    before = files(r)
    code, err, _ = cli(['--resume', r, '--epochs', '4'], capsys)
    assert code and 'not usable' in err and 'Traceback' not in err, err
    assert files(r) == before

def test_checkpoint_of_another_seed(tmp_path, capsys):
    data_or_skip()
    a, b = finished(tmp_path / 'a', capsys), tmp_path / 'b'
    code, err, _ = cli(['--out', b, '--seed', '1'] + tiny, capsys); assert code == 0, err
    checkpoint_path(b).write_bytes(checkpoint_path(a).read_bytes()); previous_checkpoint_path(b).unlink()
    code, err, _ = cli(['--resume', b, '--epochs', '3'], capsys)
    assert code and 'written by another run' in err and 'seed' in err, err

def test_damaged_topology_file(tmp_path, capsys):
    data_or_skip()
    r = tmp_path / 'r'
    code, err, _ = cli(['--out', r, '--topology-every', '1'] + tiny, capsys); assert code == 0, err
    (r / 'topology.pt').write_bytes(b'')
    code, err, _ = cli(['--resume', r, '--epochs', '3'], capsys)
    assert code and 'not a readable topology history' in err and 'Traceback' not in err, err

# --- 9. smaller ------------------------------------------------------------------------------------------------------
def test_dense_with_topology_recording_is_refused_before_writing(tmp_path, capsys):
    data_or_skip()
    code, err, _ = cli(['--out', tmp_path / 'r', '--method', 'dense', '--topology-every', '1'] + tiny[:6], capsys)
    assert code and 'a dense run has none' in err, err
    assert not (tmp_path / 'r').exists()

def test_plot_refuses_two_runs_of_one_name(tmp_path, capsys):
    data_or_skip()
    a, b = finished(tmp_path / 'a' / 'run', capsys), finished(tmp_path / 'b' / 'run', capsys)
    from bmsa.figures import plot_main
    with pytest.raises(SystemExit, match='several runs are named run'): plot_main([str(a), str(b), '--out', str(tmp_path / 'p')])

def test_another_datasets_folder_is_named_not_called_corrupt(tmp_path, capsys):
    data_or_skip()
    d = tmp_path / 'data'; d.mkdir()
    for f in (Path(os.environ['BMSA_DATA']) / 'mnist').iterdir(): (d / f.name).symlink_to(f)
    code, err, _ = cli(['--out', tmp_path / 'r', '--data', d] + tiny, capsys)
    assert code and "is mnist's file" in err and 'delete' not in err, err
    assert not (tmp_path / 'r').exists()

def test_constant_features_are_not_divided_by_zero():
    from bmsa.data import NormalizeFlat
    x, = NormalizeFlat([0.5, 0.2], [0., 0.1], (1, 1, 2))((torch.tensor([[3, 40]], dtype=torch.uint8),))
    assert torch.isfinite(x).all()

def test_topology_of_another_run_is_refused(tmp_path, capsys):
    data_or_skip()
    a, b = tmp_path / 'a', tmp_path / 'b'
    for run_dir, seed in ((a, '0'), (b, '1')):
        code, err, _ = cli(['--out', run_dir, '--topology-every', '1', '--seed', seed] + tiny, capsys); assert code == 0, err
    (b / 'topology.pt').write_bytes((a / 'topology.pt').read_bytes())
    code, err, _ = cli(['--resume', b, '--epochs', '3'], capsys)
    assert code and 'recorded by another run' in err and 'seed' in err, err
    code, err, _ = cli(['--resume', a, '--epochs', '3'], capsys)     # its own history goes on
    assert code == 0, err
