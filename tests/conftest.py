import os
from pathlib import Path

def pytest_addoption(parser):
    parser.addoption('--flags', default='', help="space-separated notebook test flags to run too, e.g. 'slow'")

def pytest_configure(config):
    os.environ.setdefault('OMP_NUM_THREADS', '2')
    shared = Path(__file__).resolve().parents[2] / 'shared' / 'data'
    if 'BMSA_DATA' not in os.environ and shared.exists(): os.environ['BMSA_DATA'] = str(shared)
    os.environ.setdefault('MPLBACKEND', 'Agg')
