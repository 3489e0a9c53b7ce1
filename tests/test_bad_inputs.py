"""Every bad input we know of gets a clear message (and nothing is written), never a traceback or a silent run.

Add a row to a table below for each new option or each new way to misuse one. The tables are also the sweep that
issue 15's closing note counts: run `pytest tests/test_bad_inputs.py -q -rA` to see each case.
"""
import json, os, shutil, stat, subprocess, sys
from pathlib import Path
import pytest
import torch
from bmsa.train import run

def data_or_skip():
    data = os.environ.get('BMSA_DATA')
    if not data or not (Path(data) / 'fashion_mnist').is_dir():
        pytest.skip("Fashion-MNIST not found: set BMSA_DATA to a folder with fashion_mnist/ in it")

tiny = ['--n-train', '100', '--n-valid', '100', '--epochs', '1', '--threads', '1']

def cli(argv, capsys):
    "Run `bmsa-train argv` in this process: (exit code, the error text, stdout)."
    try: run([str(a) for a in argv]); code = 0
    except SystemExit as e: code = e.code
    out = capsys.readouterr()
    return code, (code if isinstance(code, str) else '') + out.err, out.out

# --- options: (argv, expected message) ------------------------------------------------------------------------------
# argparse's own errors ("invalid int value") and ours ("must be ...") both exit before anything is imported or written.
option_cases = [
    (['--epochs', '0'], 'epochs must be a whole number ≥ 1'),
    (['--epochs', '-3'], 'epochs must be a whole number ≥ 1'),
    (['--epochs', '1.5'], "invalid int value: '1.5'"),
    (['--bs', '0'], 'bs must be a whole number ≥ 1'),
    (['--checkpoint-every', '0'], 'checkpoint_every must be a whole number ≥ 1'),
    (['--topology-every', '-1'], 'topology_every must be a whole number ≥ 0'),
    (['--seed', 'abc'], "invalid int value: 'abc'"),
    (['--seed', '1.5'], "invalid int value: '1.5'"),
    (['--seed', 'nan'], "invalid int value: 'nan'"),
    (['--seed', str(2**70)], 'seed must be a whole number from 0 to 2**32 - 1'),
    (['--seed', '-1'], 'seed must be a whole number from 0 to 2**32 - 1'),
    (['--lr', 'nan'], 'lr must be a finite number > 0'),
    (['--lr', 'inf'], 'lr must be a finite number > 0'),
    (['--lr', '-1'], 'lr must be a finite number > 0'),
    (['--lr', '0'], 'lr must be a finite number > 0'),
    (['--epsilon', 'nan'], 'epsilon must be a finite number'),
    (['--zeta', 'nan'], 'zeta must be a finite number'),
    (['--zeta', '0'], 'zeta (ζ)'),
    (['--zeta', '1.5'], 'zeta (ζ)'),
    (['--method', 'accset', '--k', '3'], '(-1, 1)'),
    (['--k', 'inf'], 'k must be a finite number'),
    (['--n-train', '-5'], 'n_train must be a whole number ≥ 1'),
    (['--n-train', '0'], 'n_train must be a whole number ≥ 1'),
    (['--n-train', '5'], 'n_train must be at least 10'),
    (['--n-valid', '0'], 'n_valid must be a whole number ≥ 1'),
    (['--threads', '0'], 'threads must be a whole number ≥ 1'),
    (['--threads', '-1'], 'threads must be a whole number ≥ 1'),
    (['--dataset', 'imagenet'], "unknown dataset 'imagenet'"),
    (['--method', 'sett'], "invalid choice: 'sett'"),
    (['--backend', 'gpu'], "invalid choice: 'gpu'"),
    (['--epochs'], 'expected one argument'),
    (['--resume', '/nonexistent/run'], 'does not exist'),
    (['--resume', '/a', '--out', '/b'], 'cannot move to --out'),
    (['--data', '/nonexistent/data'], 'No complete copy of fashion_mnist'),
    (['--method', 'bmsa', '--opt', 'no_such_option=1'], "BMSA has no option 'no_such_option'"),
    (['--method', 'bmsa', '--opt', 'strikes_to_remove=x'], 'must be of type int like its default 3'),
    (['--method', 'bmsa', '--opt', 'strikes_to_remove=0'], 'strikes_to_remove'),
    (['--method', 'bmsa', '--opt', 'zeta=0.2'], 'zeta is a run setting'),
    (['--method', 'bmsa', '--opt', 'strikes_to_remove'], '--opt takes NAME=VALUE'),
    (['--method', 'dense', '--opt', 'k=0.5'], 'a dense run has none'),
    (['--method', 'dense', '--topology-every', '1'], 'a dense run has none'),
    (['--protocol', 'keras'], "invalid choice: 'keras'"),
]

@pytest.mark.parametrize('argv, message', option_cases, ids=[' '.join(a) for a, _ in option_cases])
def test_bad_option(argv, message, tmp_path, capsys):
    data_or_skip()
    out = tmp_path / 'run'
    code, error, _ = cli(argv + ['--out', out] if '--out' not in argv and '--resume' not in argv else argv, capsys)
    assert code not in (0, None) and message in error, error
    assert 'Traceback' not in error
    assert not out.exists(), "a refused run left files behind"

# --- run folders: each case builds its situation in `tmp_path`, returns (argv, expected message) --------------------
def finished_run(folder, method='set'):
    run([str(a) for a in tiny + ["--method", method, "--out", folder]])
    return folder

def out_is_a_file(tmp):
    (tmp / 'f').write_text('x'); return ['--out', tmp / 'f'] + tiny, 'is a file'

def out_not_empty(tmp):
    (tmp / 'mine').mkdir(); (tmp / 'mine' / 'log.csv').write_text('precious')
    return ['--out', tmp / 'mine'] + tiny, 'is not empty'

def out_holds_a_finished_run(tmp):
    return ['--out', finished_run(tmp / 'r')] + tiny, 'already holds a finished run'

def out_in_use(tmp):
    from bmsa.runs import RunLock
    held.append(RunLock(tmp / 'busy'))   # the owner: another open file description, as another process would have
    return ['--out', tmp / 'busy'] + tiny, 'in use by another process'

def resume_in_use(tmp):
    from bmsa.runs import RunLock
    r = finished_run(tmp / 'r'); held.append(RunLock(r))
    return ['--resume', r, '--epochs', '2'], 'in use by another process'

def config_not_json(tmp):
    r = finished_run(tmp / 'r'); (r / 'config.json').write_text('{"epochs": 1,')
    return ['--resume', r], 'config.json is not valid JSON'

def config_not_an_object(tmp):
    r = finished_run(tmp / 'r'); (r / 'config.json').write_text('[1, 2]')
    return ['--resume', r], 'config.json must hold a JSON object'

def config_missing_key(tmp):
    r = finished_run(tmp / 'r'); c = json.loads((r / 'config.json').read_text()); del c['lr']
    (r / 'config.json').write_text(json.dumps(c))
    return ['--resume', r], "config.json lacks the settings ['lr']"

def config_wrong_type(tmp):
    r = finished_run(tmp / 'r'); c = json.loads((r / 'config.json').read_text()); c['epochs'] = 'x'
    (r / 'config.json').write_text(json.dumps(c))
    return ['--resume', r], "config.json: epochs must be a whole number ≥ 1; got 'x'"

def resume_other_settings(tmp):
    return ['--resume', finished_run(tmp / 'r'), '--zeta', '0.2'], 'Refusing to resume'

def resume_fewer_epochs(tmp):
    r = finished_run(tmp / 'r'); run([str(a) for a in ['--resume', r, '--epochs', '2']])
    return ['--resume', r, '--epochs', '1'], 'more than --epochs 1'

def checkpoint_of_another_method(tmp):
    a, b = finished_run(tmp / 'set', 'set'), finished_run(tmp / 'accset', 'accset')
    shutil.copy(a / 'checkpoints' / 'last.pt', b / 'checkpoints' / 'last.pt')
    return ['--resume', b], 'written by another run'

def checkpoint_damaged(tmp):
    r = finished_run(tmp / 'r'); p = r / 'checkpoints' / 'last.pt'; p.write_bytes(p.read_bytes()[:1000])
    return ['--resume', r], 'damaged'

def checkpoint_not_finite(tmp):
    r = finished_run(tmp / 'r'); p = r / 'checkpoints' / 'last.pt'
    from bmsa.runs import read_checkpoint, sealed
    state = read_checkpoint(p)
    name = next(k for k, v in state['model'].items() if v.is_floating_point())
    state['model'][name].view(-1)[0] = float('nan'); p.write_bytes(sealed(state))
    return ['--resume', r, '--epochs', '2'], 'holds inf or nan'

def data_file_damaged(tmp):
    src = Path(os.environ['BMSA_DATA']) / 'fashion_mnist'
    (tmp / 'data').mkdir()
    for f in src.iterdir(): (tmp / 'data' / f.name).symlink_to(f)
    victim = next(p for p in (tmp / 'data').iterdir() if 'train-images' in p.name)
    victim.unlink(); victim.write_bytes(b'\0' * 1000)
    return ['--out', tmp / 'r', '--data', tmp / 'data'] + tiny, 'fashion_mnist'

def diverging_lr(tmp):
    return ['--out', tmp / 'r', '--lr', '1e4', '--n-train', '2000', '--n-valid', '100', '--epochs', '3',
            '--threads', '1', '--method', 'set'], 'Training diverged in epoch'

folder_cases = [out_is_a_file, out_not_empty, out_holds_a_finished_run, out_in_use, resume_in_use, config_not_json,
                config_not_an_object, config_missing_key, config_wrong_type, resume_other_settings, resume_fewer_epochs,
                checkpoint_of_another_method, checkpoint_damaged, checkpoint_not_finite, data_file_damaged, diverging_lr]

def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file() and p.name != '.lock'}

held = []   # locks a case holds while the command runs

@pytest.mark.parametrize('case', folder_cases, ids=[c.__name__ for c in folder_cases])
def test_bad_run_folder(case, tmp_path, capsys):
    data_or_skip()
    argv, message = case(tmp_path)
    capsys.readouterr()
    before = snapshot(tmp_path)
    try: code, error, _ = cli(argv, capsys)
    finally:
        while held: held.pop().release()
    assert code not in (0, None) and message in error, error
    assert 'Traceback' not in error
    after = snapshot(tmp_path)
    if case is diverging_lr:   # the run started; nothing non-finite was saved, and no summary claims it finished
        assert not (tmp_path / 'r' / 'summary.json').exists()
        if (tmp_path / 'r' / 'checkpoints' / 'last.pt').exists():
            from bmsa.runs import load_checkpoint
            load_checkpoint(tmp_path / 'r')                      # finite, or it would raise
        assert 'nan' not in (tmp_path / 'r' / 'log.csv').read_text().lower() if (tmp_path / 'r' / 'log.csv').exists() else True
    else: assert after == before, "a refused command changed files"

def without_root_powers():
    "A command prefix that makes file permissions count: root loses its power to ignore them (setpriv)."
    if os.geteuid() != 0: return []
    if shutil.which('setpriv'): return ['setpriv', '--bounding-set=-dac_override,-dac_read_search']
    pytest.skip("root without setpriv ignores file permissions")

def cli_process(argv):
    "Run `bmsa-train argv` as its own process, without root's powers: (exit code, stderr)."
    done = subprocess.run(without_root_powers() + [sys.executable, '-c', 'from bmsa.train import main; main()'] +
                          [str(a) for a in argv], capture_output=True, text=True)
    return done.returncode, done.stderr

def test_read_only_out(tmp_path):
    data_or_skip()
    (tmp_path / 'ro').mkdir(); (tmp_path / 'ro').chmod(0o555)
    code, error = cli_process(['--out', tmp_path / 'ro' / 'run'] + tiny)
    assert code != 0 and f"Cannot write into {tmp_path / 'ro' / 'run'} (Permission denied)" in error, error
    assert 'Traceback' not in error and not (tmp_path / 'ro' / 'run').exists()

def test_unreadable_data_file(tmp_path):
    data_or_skip()
    shutil.copytree(Path(os.environ['BMSA_DATA']) / 'fashion_mnist', tmp_path / 'data')
    victim = next(p for p in (tmp_path / 'data').iterdir() if 'train-images' in p.name); victim.chmod(0)
    code, error = cli_process(['--out', tmp_path / 'run', '--data', tmp_path / 'data'] + tiny)
    assert code != 0 and f"Permission denied: '{victim}'" in error, error
    assert 'Traceback' not in error and not (tmp_path / 'run').exists()

def test_disk_full_says_so_and_the_run_resumes(tmp_path, capsys, monkeypatch):
    data_or_skip()
    import errno, bmsa.runs
    def full(folder, data): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder))
    monkeypatch.setattr(bmsa.runs, 'write_checkpoint', full)
    r = tmp_path / 'r'
    code, error, _ = cli(['--out', r, '--method', 'set'] + tiny, capsys)
    assert code not in (0, None) and 'No space left on device' in error and f'--resume {r}' in error, error
    assert 'has no checkpoint yet' in error, error        # not "keeps its last checkpoint": there was none
    monkeypatch.undo()
    code, _, out = cli(['--resume', r], capsys)
    assert code in (0, None) and 'starting the run again from epoch 0' in out and (r / 'summary.json').exists()

# --- what used to go wrong silently now behaves -----------------------------------------------------------------------
def test_run_files_honour_umask_and_stale_temporaries_go(tmp_path, capsys):
    data_or_skip()
    old = os.umask(0o027)
    try: cli(['--out', tmp_path / 'r', '--method', 'set'] + tiny, capsys)
    finally: os.umask(old)
    for name in ('config.json', 'log.csv', 'summary.json', 'checkpoints/last.pt'):
        assert stat.S_IMODE((tmp_path / 'r' / name).stat().st_mode) == 0o640, name
    stale = tmp_path / 'r' / 'checkpoints' / '.last.pt.bmsa-k1ll3d.tmp'; stale.write_bytes(b'half')
    code, _, out = cli(['--resume', tmp_path / 'r'], capsys)
    assert code in (0, None) and 'nothing to resume' in out and not stale.exists()

def test_lost_summary_and_cut_log_are_repaired(tmp_path, capsys):
    data_or_skip()
    r = tmp_path / 'r'
    cli(['--out', r, '--method', 'set', '--epochs', '2'] + tiny[:4] + ['--threads', '1'], capsys)
    log, summary = (r / 'log.csv').read_bytes(), (r / 'summary.json').read_bytes()
    (r / 'summary.json').unlink(); (r / 'log.csv').write_bytes(log[:len(log) // 2])
    code, _, out = cli(['--resume', r], capsys)
    assert code in (0, None) and 'rewrote log.csv and summary.json' in out, out
    assert (r / 'log.csv').read_bytes() == log and (r / 'summary.json').read_bytes() == summary
    assert 'NaN' not in summary.decode()

# --- the callbacks' own arguments (the lead's validation in bmsa.dst and the rules) -----------------------------------
def _set(**kw):
    from bmsa.set import SET; return SET(**kw)
def _set_learner(**kw):
    from bmsa.test_utils import synthetic_learner; return synthetic_learner(cbs=_set(**kw))
def _bmsa(**kw):
    from bmsa.bmsa import BMSA; return BMSA(**kw)
def _accuracy_in_percent():
    from bmsa.dst import check_accuracy; check_accuracy(83.0)

callback_cases = [
    pytest.param(lambda: _set_learner(epsilon=1e-3), 'no connection at all', id="SET(epsilon=1e-3)"),
    pytest.param(lambda: _bmsa(growth_k='x'), 'growth_k', id="BMSA(growth_k='x')"),
    pytest.param(lambda: _bmsa(growth_k=float('nan')), 'growth_k', id="BMSA(growth_k=nan)"),
    pytest.param(lambda: _bmsa(strikes_to_remove=256), 'strikes_to_remove', id='BMSA(strikes_to_remove=256)'),
    pytest.param(lambda: _set(new_weight_std=float('inf')), 'new_weight_std', id='SET(new_weight_std=inf)'),
    pytest.param(_accuracy_in_percent, '0.83, not 83', id='accuracy 83 (percent)'),
]

@pytest.mark.parametrize('make, message', callback_cases)
def test_bad_callback_argument(make, message):
    with pytest.raises(ValueError) as e: make()
    assert message in str(e.value)
