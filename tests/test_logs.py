"""A run's log adds up: every row's per-layer connections sum to its total, on both backends and for every method
(issue 20: they lagged the total by one epoch); log.csv has Unix line endings; every committed log adds up too."""
import csv, io, os
from pathlib import Path
import pytest
from bmsa.train import train, methods

root = Path(__file__).resolve().parents[1]

def data_or_skip():
    data = os.environ.get('BMSA_DATA')
    if not data or not (Path(data) / 'fashion_mnist').is_dir():
        pytest.skip("Fashion-MNIST not found: set BMSA_DATA to a folder with fashion_mnist/ in it")

def mismatches(text):
    "Epochs whose per-layer counts (where all are given) do not sum to the total."
    rows = list(csv.DictReader(io.StringIO(text)))
    cols = [c for c in rows[0] if c.startswith('connections_')]
    full = [r for r in rows if cols and all(r[c] not in ('', None) for c in cols)]
    return [r['epoch'] for r in full if sum(int(float(r[c])) for c in cols) != int(float(r['connections']))]

@pytest.mark.parametrize('backend', ['masked', 'sparse'])
@pytest.mark.parametrize('method', [m for m in methods if m != 'dense'])
def test_per_layer_connections_sum_to_the_total(method, backend, tmp_path):
    data_or_skip()
    train(out=tmp_path / 'r', show_progress=False, method=method, backend=backend, epochs=3, n_train=500, n_valid=100,
          checkpoint_every=3)
    data = (tmp_path / 'r' / 'log.csv').read_bytes()
    assert b'\r' not in data
    assert mismatches(data.decode()) == []

def test_committed_logs_add_up():
    logs = sorted((root / 'experiments').rglob('log.csv'))
    assert logs
    wrong = {str(p.relative_to(root)): m for p in logs if (m := mismatches(p.read_text()))}
    assert wrong == {}
    assert not [p for p in logs if b'\r\n' in p.read_bytes()]
