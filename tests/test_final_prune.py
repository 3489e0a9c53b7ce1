"""The paper's last prune (issue 20): Algorithm 1 skips the growth after the last epoch (line 15) but not the prune.
`final_prune=True` (or `--opt final_prune=True`) prunes once more when a fit ends; the run's summary.json gives the
connections after it, and `final_prune_connections` reads any finished run that way."""
import json, os
from pathlib import Path
import pytest
import torch
from torch import nn
from bmsa.set import SET
from bmsa.bmsa import BMSA
from bmsa.rigl import RigL
from bmsa.sparse import layer_connections, connections
from bmsa.test_utils import synthetic_learner

def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))

def fit(learn, n):
    with learn.no_bar(), learn.no_logging(): learn.fit(n)

@pytest.mark.parametrize('rule', [SET, BMSA], ids=['SET', 'BMSA'])
def test_final_prune_removes_without_growing(rule):
    plain = synthetic_learner(model=mlp(), cbs=(kept := rule(sparsity=0.8, seed=0)))
    fit(plain, 3)
    pruned = synthetic_learner(model=mlp(), cbs=(cb := rule(sparsity=0.8, seed=0, final_prune=True)))
    fit(pruned, 3)
    last = cb.history[-1]
    assert last['final_prune'] and all(l['added'] == 0 for l in last['layers'])
    assert sum(l['removed'] for l in last['layers']) > 0 and cb.pending is None
    assert [h['epoch'] for h in cb.history] == [0, 1, 2] and len(kept.history) == 2    # the update after epoch 2
    if rule is SET:                                # the same run up to the last update, which only prunes
        assert connections(pruned.model) == connections(plain.model) - sum(l['removed'] for l in last['layers'])

def test_set_final_prune_leaves_fewer_connections_than_it_started_with():
    learn = synthetic_learner(model=mlp(), cbs=(cb := SET(sparsity=0.8, seed=0, final_prune=True)))
    start = layer_connections(learn.model)
    fit(learn, 2)
    removed = [l['removed'] for l in cb.history[-1]['layers']]
    assert layer_connections(learn.model) == [n - r for n, r in zip(start, removed)]
    assert all(r > 0 for r in removed)

def test_bad_final_prune_values():
    with pytest.raises(ValueError, match='final_prune must be True or False'): SET(final_prune='yes')
    with pytest.raises(ValueError, match='RigL updates every ΔT steps'): RigL(final_prune=True)

def data_or_skip():
    data = os.environ.get('BMSA_DATA')
    if not data or not (Path(data) / 'fashion_mnist').is_dir(): pytest.skip("Fashion-MNIST not found: set BMSA_DATA")

def test_cli_final_prune_reported_and_kept_on_resume(tmp_path, capsys):
    data_or_skip()
    from bmsa.train import run, final_prune_connections
    r = tmp_path / 'r'
    common = ['--method', 'set', '--n-train', '500', '--n-valid', '100', '--threads', '1']
    run(['--out', str(r), '--epochs', '2', '--opt', 'final_prune=True'] + common)
    summary = json.loads((r / 'summary.json').read_text())
    assert json.loads((r / 'config.json').read_text())['options'] == {'final_prune': True}
    assert summary['connections_after_final_prune'] < summary['final_connections']
    assert sum(final_prune_connections(r)) == summary['connections_after_final_prune']
    before = (r / 'summary.json').read_bytes()
    (r / 'summary.json').unlink()
    run(['--resume', str(r)])                                                   # a finished run: repaired, not retrained
    assert (r / 'summary.json').read_bytes() == before
    plain = tmp_path / 'plain'
    run(['--out', str(plain), '--epochs', '2'] + common)
    assert 'connections_after_final_prune' not in json.loads((plain / 'summary.json').read_text())
    assert sum(final_prune_connections(plain)) == summary['connections_after_final_prune']   # same run, read the paper's way
