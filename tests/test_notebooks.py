"Run every notebook in nbs/ as one counted test, skipping cells flagged `slow` unless `--flags slow` is given."
from pathlib import Path
import pytest
from nbdev import test as nbdev_test

root = Path(__file__).resolve().parents[1]
notebooks = sorted(p for p in (root / 'nbs').glob('*.ipynb') if not p.name.startswith('_'))

@pytest.mark.parametrize('notebook', notebooks, ids=[p.name for p in notebooks])
def test_notebook(notebook, request):
    forced = request.config.getoption('--flags').split()
    skip = [f for f in ('notest', 'slow') if f not in forced]
    passed, seconds = nbdev_test.test_nb(notebook, skip_flags=skip, force_flags=forced, basepath=root)
    assert passed, f"{notebook.name} failed: see the traceback above"

def test_every_notebook_is_collected():
    assert len(notebooks) >= 5, [p.name for p in notebooks]
