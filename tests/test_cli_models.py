"""The RigL comparison's settings as bmsa-train's own (issue 20): `--model cnn` and `--sparsity`, each log row with
the topology updates of its epoch and their wall time, so that scripts/compare_methods.py is a thin call of bmsa-train."""
import csv, json, os
from pathlib import Path
import pytest
from bmsa.train import run

def data_or_skip(name):
    data = os.environ.get('BMSA_DATA')
    if not data or not any((Path(data) / n).is_dir() for n in (name, f'{name}-jpeg')):
        pytest.skip(f"{name} not found: set BMSA_DATA")

def test_cnn_with_a_sparsity_budget(tmp_path):
    data_or_skip('cifar10')
    r = tmp_path / 'r'
    with pytest.warns(Warning): run(['--dataset', 'cifar10', '--model', 'cnn', '--sparsity', '0.9', '--method', 'rigl',
                                     '--epochs', '2', '--n-train', '300', '--n-valid', '100', '--threads', '1',
                                     '--opt', 'delta_t=1', '--out', str(r)])
    config = json.loads((r / 'config.json').read_text())
    assert config['model'] == 'cnn' and config['sparsity'] == 0.9
    rows = list(csv.DictReader(open(r / 'log.csv')))
    assert len([c for c in rows[0] if c.startswith('connections_')]) == 5          # three convolutions, two linear layers
    updates = [int(row['updates']) for row in rows]
    assert updates[0] >= 1 and sum(updates) <= 4                                   # ΔT = 1, none after T_end (75 % of 6 steps)
    assert float(rows[0]['update_seconds']) > 0
    density = int(rows[0]['connections']) / (3*16*9 + 16*32*9 + 32*64*9 + 1024*128 + 128*10)
    assert 0.09 < density < 0.11

@pytest.mark.parametrize('argv, message', [
    (['--sparsity', '1.5'], 'sparsity must be a share in (0, 1)'),
    (['--model', 'cnn', '--init', 'glorot'], "use --init kaiming or lecun with --model cnn"),
])
def test_bad_model_settings_leave_no_folder(tmp_path, argv, message, capsys):
    r = tmp_path / 'r'
    with pytest.raises(SystemExit) as e: run(['--epochs', '1', '--out', str(r)] + argv)
    assert message in str(e.value) and not r.exists()
