"A real `bmsa-train` process killed with SIGKILL mid-training, then resumed, ends like an uninterrupted run."
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch

root = Path(__file__).resolve().parents[1]
train_cmd = [sys.executable, '-c', 'from bmsa.train import main; main()']
settings = ['--method', 'bmsa', '--epochs', '8', '--n-train', '6000', '--n-valid', '1000', '--checkpoint-every', '2',
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
    keep = [i for i, h in enumerate(header) if h != 'seconds']
    return [[row.split(',')[i] for i in keep] for row in lines]

@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_killed_run_resumes_to_the_same_result(tmp_path, backend):
    data_or_skip()
    whole, cut = tmp_path / 'whole', tmp_path / 'cut'
    run_settings = settings + ['--backend', backend]
    subprocess.run(train_cmd + run_settings + ['--out', str(whole)], check=True, cwd=root, capture_output=True)

    process = subprocess.Popen(train_cmd + run_settings + ['--out', str(cut)], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while len(log_rows(cut)) < 3 and time.time() < deadline and process.poll() is None: time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed: make it longer"
    time.sleep(0.1)                                  # somewhere inside the fourth epoch
    process.send_signal(signal.SIGKILL); process.wait()
    assert 3 <= len(log_rows(cut)) < 8

    subprocess.run(train_cmd + ['--resume', str(cut), '--threads', '1'], check=True, cwd=root, capture_output=True)
    assert without_seconds(cut) == without_seconds(whole)           # every logged figure, to the printed digit
    a = torch.load(whole / 'checkpoints' / 'last.pt', weights_only=False)
    b = torch.load(cut / 'checkpoints' / 'last.pt', weights_only=False)
    assert a['epoch'] == b['epoch'] == 8
    for key, value in a['model'].items():
        assert torch.equal(value, b['model'][key]), key             # weights, masks, strikes and removals: bit for bit
    for p, q in zip(a['opt']['state'], b['opt']['state']):
        for k in p: assert torch.equal(p[k], q[k]) if isinstance(p[k], torch.Tensor) else p[k] == q[k]

def test_resume_refuses_other_settings_and_damaged_checkpoints(tmp_path):
    data_or_skip()
    run = tmp_path / 'run'
    short = ['--method', 'set', '--epochs', '2', '--n-train', '500', '--n-valid', '200', '--threads', '1']
    subprocess.run(train_cmd + short + ['--out', str(run)], check=True, cwd=root, capture_output=True)
    other = subprocess.run(train_cmd + ['--resume', str(run), '--zeta', '0.2'], cwd=root, capture_output=True, text=True)
    assert other.returncode != 0 and 'Refusing to resume' in other.stderr and 'zeta' in other.stderr
    done = subprocess.run(train_cmd + ['--resume', str(run)], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0 and 'nothing to resume' in done.stdout
    checkpoint = run / 'checkpoints' / 'last.pt'
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])          # truncated, as by a failing disk
    broken = subprocess.run(train_cmd + ['--resume', str(run)], cwd=root, capture_output=True, text=True)
    assert broken.returncode != 0 and 'damaged' in broken.stderr
    checkpoint.unlink()
    missing = subprocess.run(train_cmd + ['--resume', str(run)], cwd=root, capture_output=True, text=True)
    assert missing.returncode != 0 and 'No checkpoint' in missing.stderr
