"""A seeded API run gives the same numbers in two processes (issue 24: paper_learner(seed=0) + BMSA(seed=0) did not)."""
import os, subprocess, sys
from pathlib import Path
import pytest

code = """
import torch; torch.set_num_threads(1)
from bmsa.models import paper_learner
from bmsa.bmsa import BMSA
learn = paper_learner('fashion_mnist', n_train=500, n_valid=200, seed=0, cbs=BMSA(seed=0))
with learn.no_bar(), learn.no_logging(): learn.fit(2)
print(repr([float(v) for v in learn.recorder.values[-1]]))
"""

def test_seeded_runs_repeat_across_processes():
    data = os.environ.get('BMSA_DATA')
    if not data or not (Path(data) / 'fashion_mnist').is_dir(): pytest.skip("Fashion-MNIST not found (BMSA_DATA)")
    runs = [subprocess.run([sys.executable, '-c', code], capture_output=True, text=True) for _ in range(2)]
    for r in runs: assert r.returncode == 0, r.stderr[-2000:]
    first, second = (r.stdout.strip().splitlines()[-1] for r in runs)
    assert first == second
