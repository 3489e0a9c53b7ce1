"""Real `bmsa-train` processes stopped at every kind of moment (SIGKILL mid-training, before the first checkpoint,
during the summary write; Ctrl-C), then resumed, end bit for bit like an uninterrupted run; so does a finished run
extended with `--resume --epochs`. Two processes never share a run folder."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
import torch
from bmsa.runs import RunLock, RunError, read_checkpoint

root = Path(__file__).resolve().parents[1]
train_cmd = [sys.executable, '-c', 'from bmsa.train import main; main()']
settings = ['--method', 'bmsa', '--epochs', '6', '--n-train', '1200', '--n-valid', '300', '--checkpoint-every', '3',
            '--threads', '1', '--seed', '3']

def data_or_skip():
    data = os.environ.get('BMSA_DATA')
    if not data or not (Path(data) / 'fashion_mnist').is_dir():
        pytest.skip("Fashion-MNIST not found: set BMSA_DATA to a folder with fashion_mnist/ in it")

def log_rows(run):
    path = run / 'log.csv'
    return path.read_text().splitlines()[1:] if path.exists() else []

def without_seconds(run):
    lines = (run / 'log.csv').read_text().splitlines()
    header = lines[0].split(',')
    keep = [i for i, h in enumerate(header) if h not in ('seconds', 'update_seconds')]
    return [[row.split(',')[i] for i in keep] for row in lines]

def assert_equal(a, b, where=''):
    "Nested checkpoint contents equal bit for bit (tensors with torch.equal)."
    if isinstance(a, torch.Tensor): assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray): assert np.array_equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a: assert_equal(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)): assert_equal(x, y, f"{where}[{i}]")
    else: assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"

def assert_same_run(whole, cut):
    "Same log (to the printed digit, but the seconds) and the same final checkpoint: model, optimizer, generators, history."
    assert without_seconds(cut) == without_seconds(whole)
    a = read_checkpoint(whole / 'checkpoints' / 'last.pt')
    b = read_checkpoint(cut / 'checkpoints' / 'last.pt')
    assert a['epoch'] == b['epoch'] == 6
    for key in ('model', 'opt', 'training'): assert_equal(a[key], b[key], key)
    assert [h['epoch'] for h in b['training']['sparse_training'][0]['history']] == list(range(5))   # labels go on after a resume
    summary = lambda r: {k: v for k, v in json.loads((r / 'summary.json').read_text()).items() if k != 'seconds'}
    assert summary(cut) == summary(whole)
    assert not list(cut.rglob('.*.tmp'))

_whole = {}
def whole_run(tmp_path_factory, backend='masked'):
    "The uninterrupted run every test compares with (one per backend, made once)."
    if backend not in _whole:
        run = tmp_path_factory.mktemp('whole') / backend
        subprocess.run(train_cmd + settings + ['--backend', backend, '--out', str(run)], check=True, cwd=root, capture_output=True)
        _whole[backend] = run
    return _whole[backend]

def start(argv, **kw): return subprocess.Popen(train_cmd + argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

def when_rows(run, n, process, then=0.05):
    "Wait until `run` has `n` log rows, then a moment more (somewhere inside the next epoch)."
    deadline = time.time() + 300
    while len(log_rows(run)) < n and time.time() < deadline and process.poll() is None: time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be stopped: make it longer"
    time.sleep(then)

def resume(run, *extra):
    done = subprocess.run(train_cmd + ['--resume', str(run), '--threads', '1', *extra], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done

@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_sigkill_mid_training(tmp_path, tmp_path_factory, backend):
    data_or_skip()
    whole, cut = whole_run(tmp_path_factory, backend), tmp_path / 'cut'
    process = start(settings + ['--backend', backend, '--out', str(cut)])
    when_rows(cut, 4, process)                                   # a checkpoint after epoch 2, killed in epoch 4
    process.send_signal(signal.SIGKILL); process.wait()
    assert 4 <= len(log_rows(cut)) < 6
    resume(cut)
    assert_same_run(whole, cut)

def test_sigkill_before_the_first_checkpoint(tmp_path, tmp_path_factory):
    data_or_skip()
    whole, cut = whole_run(tmp_path_factory), tmp_path / 'cut'
    process = start(settings + ['--out', str(cut), '--checkpoint-every', '5'])   # same run, later first checkpoint
    when_rows(cut, 1, process, then=0)
    process.send_signal(signal.SIGKILL); process.wait()
    assert not (cut / 'checkpoints' / 'last.pt').exists()
    assert 'starting the run again from epoch 0' in resume(cut).stdout
    assert_same_run(whole, cut)

@pytest.mark.parametrize('stop', [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=['ctrl-c', 'sigterm', 'sighup'])
def test_ctrl_c_and_sigterm_save_the_last_finished_epoch(tmp_path, tmp_path_factory, stop):
    "Ctrl-C, `kill` (SIGTERM) and a closed terminal (SIGHUP) save the last finished epoch; the resumed run is exact."
    data_or_skip()
    whole, cut = whole_run(tmp_path_factory), tmp_path / 'cut'
    process = start(settings + ['--out', str(cut)])
    when_rows(cut, 4, process)                                   # the last regular checkpoint was after epoch 2
    with pytest.raises(RunError, match='in use by another process'): RunLock(cut).release()   # what --resume meets now
    process.send_signal(stop)
    _, err = process.communicate()
    assert process.returncode == 130
    assert err.strip().count('\n') == 0 and f'Continue with: bmsa-train --resume {cut}' in err, err   # one line
    assert read_checkpoint(cut / 'checkpoints' / 'last.pt')['epoch'] >= 4
    resume(cut)
    assert_same_run(whole, cut)

slow_summary = """
import sys, time, bmsa.runs as runs
write = runs.atomic_write
def stall_in_summary(path, data, root=None):
    if path.name == 'summary.json':
        (path.parent / '.summary.json.bmsa-k1ll.tmp').write_text('{"epo')      # half written, as by a killed process
        print('WRITING SUMMARY', flush=True); time.sleep(300)
    return write(path, data, root)
runs.atomic_write = stall_in_summary
from bmsa.train import main; main()
"""

def test_sigkill_during_the_summary_write(tmp_path, tmp_path_factory):
    data_or_skip()
    whole, cut = whole_run(tmp_path_factory), tmp_path / 'cut'
    process = subprocess.Popen([sys.executable, '-c', slow_summary] + settings + ['--out', str(cut)], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in process.stdout:
        if 'WRITING SUMMARY' in line: break
    process.send_signal(signal.SIGKILL); process.wait()
    assert not (cut / 'summary.json').exists() and (cut / '.summary.json.bmsa-k1ll.tmp').exists()
    assert 'rewrote summary.json' in resume(cut).stdout
    assert_same_run(whole, cut)

def test_extending_a_finished_run(tmp_path, tmp_path_factory):
    data_or_skip()
    whole, short = whole_run(tmp_path_factory), tmp_path / 'short'
    four = [a if a != '6' else '4' for a in settings]
    subprocess.run(train_cmd + four + ['--out', str(short)], check=True, cwd=root, capture_output=True)
    resume(short, '--epochs', '6')
    assert json.loads((short / 'config.json').read_text())['epochs'] == 6
    assert_same_run(whole, short)

def test_one_owner_per_run_folder(tmp_path):
    data_or_skip()
    run = tmp_path / 'run'
    first, second = start(settings + ['--out', str(run)]), start(settings + ['--out', str(run), '--seed', '4'])
    outcomes = [(p.wait(), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 1], outcomes
    refused = next(err for code, err in outcomes if code)
    assert 'in use by another process' in refused or 'already holds' in refused, refused
    config = json.loads((run / 'config.json').read_text())
    state = read_checkpoint(run / 'checkpoints' / 'last.pt')
    assert state['settings'] == {k: v for k, v in config.items() if k != 'data_variant'}   # one run's files only
