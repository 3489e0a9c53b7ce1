"""Misuses of the Python API (`sparsify`, the sparse-training callbacks) get a clear message or a visible warning, and
valid values in another numeric type (NumPy scalars, 0-d tensors) are accepted (issue 21).

Add a row to a table below for each new way to misuse the API. Run `pytest tests/test_bad_api_inputs.py -q -rA` to
see each case.
"""
import warnings
import numpy as np
import pytest
import torch
from torch import nn
from bmsa.masked import sparsify, MaskedLinear
from bmsa.sparse import connections, layer_connections, format_sparsity_summary, is_sparse, check_sparse_invariants

def mlp(): return nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3))

def tied_linears():
    "Two linear layers that share one weight Parameter (`b.weight = a.weight`)."
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.weight = a.weight
    return nn.Sequential(a, nn.ReLU(), b)

def tied_biases():
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.bias = a.bias
    return nn.Sequential(a, nn.ReLU(), b)

class TiedLM(nn.Module):
    "A language model whose output layer shares the embedding's weight."
    def __init__(self, vocab=10, d=4):
        super().__init__()
        self.emb, self.hidden, self.out = nn.Embedding(vocab, d), nn.Linear(d, d), nn.Linear(d, vocab)
        self.out.weight = self.emb.weight
    def forward(self, x): return self.out(torch.relu(self.hidden(self.emb(x))))

def tied_mlp_20():
    "The synthetic learner's input size, with a hidden pair of tied layers."
    a, b = nn.Linear(20, 20), nn.Linear(20, 20)
    b.weight = a.weight
    return nn.Sequential(a, nn.ReLU(), b, nn.ReLU(), nn.Linear(20, 4))

class SubLinear(nn.Linear):
    "A user's own linear layer: a subclass, which `sparsify` cannot re-class without losing its behaviour."

def snapshot(model):
    return [(n, type(m)) for n, m in model.named_modules()], {k: v.clone() for k, v in model.state_dict().items()}

def refused(make_model, **kwargs):
    "`sparsify(make_model(), **kwargs)`, checking that the model is exactly as before when it raises."
    model = make_model()
    before = snapshot(model)
    try: sparsify(model, **kwargs)
    finally:
        after = snapshot(model)
        assert after[0] == before[0], "a refused sparsify changed the model's modules"
        assert after[1].keys() == before[1].keys() and all(torch.equal(after[1][k], v) for k, v in before[1].items())
        assert not is_sparse(model)

def sparse_model(): return sparsify(mlp(), epsilon=1, generator=torch.Generator().manual_seed(0))

def _set(**kw):
    from bmsa.set import SET; return SET(**kw)
def _bmsa(**kw):
    from bmsa.bmsa import BMSA; return BMSA(**kw)
def _learner(cb, model=None):
    from bmsa.test_utils import synthetic_learner
    return synthetic_learner(cbs=cb, model=model, n=64)

# --- refused with a clear ValueError: (description, callable, expected message) -------------------------------------
error_cases = [
    # 1. shared (tied) parameters: each layer would get its own mask over one weight
    ("tied linear weights", lambda: refused(tied_linears, epsilon=1), "0.weight = 2.weight"),
    ("tied linear weights, compressed backend", lambda: refused(tied_linears, epsilon=1, backend='sparse'),
     "0.weight = 2.weight"),
    ("tied linear weights, sparsity", lambda: refused(tied_linears, sparsity=0.5), "Untie them"),
    ("tied biases", lambda: refused(tied_biases, epsilon=1), "0.bias = 2.bias"),
    ("embedding tied to the output layer", lambda: refused(TiedLM, epsilon=1), "emb.weight = out.weight"),
    ("embedding tied to the output layer, advice", lambda: refused(TiedLM, epsilon=1), "layers=['hidden']"),
    ("only the tied layer chosen", lambda: refused(TiedLM, epsilon=1, layers=['out']), "emb.weight = out.weight"),
    ("tied layers under SET", lambda: _learner(_set(epsilon=2), tied_mlp_20()), "shared (tied)"),
    # 3. tracebacks that became messages
    ("SET(epsilon=10**400)", lambda: _set(epsilon=10**400), "epsilon (ε)"),
    ("sparsify(epsilon=10**400)", lambda: refused(mlp, epsilon=10**400), "finite"),
    ("sparsify(epsilon=-10**400)", lambda: refused(mlp, epsilon=-10**400), "finite"),
    ("SET(evolve=3)", lambda: _set(evolve=3), "evolve must be"),
    ("SET(evolve='0')", lambda: _set(evolve='0'), "evolve=['0']"),
    ("SET(evolve=[0, 1])", lambda: _set(evolve=[0, 1]), "evolve must be"),
    ("already sparse, sparsity=0.9", lambda: sparsify(sparse_model(), sparsity=0.9), "already sparse"),
    ("already sparse, epsilon=5", lambda: sparsify(sparse_model(), epsilon=5), "already sparse"),
    ("sparsify('model')", lambda: sparsify('model'), "nn.Module"),
    ("sparsify(None)", lambda: sparsify(None), "nn.Module"),
    ("sparsify(generator='x')", lambda: refused(mlp, generator='x'), "torch.Generator"),
    ("sparsify(generator=0)", lambda: refused(mlp, generator=0), "torch.Generator"),
    ("sparsify(backend='gpu') changes nothing", lambda: refused(mlp, backend='gpu'), "backend must be"),
    # 4. what stays refused among numbers in other types
    ("SET(seed=True)", lambda: _set(seed=True), "seed must be"),
    ("SET(seed=np.float64(3))", lambda: _set(seed=np.float64(3)), "seed must be"),
    ("SET(seed=np.uint64(2**64-1))", lambda: _set(seed=np.uint64(2**64 - 1)), "seed must be"),
    ("SET(seed=tensor(3.))", lambda: _set(seed=torch.tensor(3.)), "seed must be"),
    ("SET(zeta=np.float32(nan))", lambda: _set(zeta=np.float32('nan')), "zeta (ζ)"),
    ("SET(zeta=np.bool_(True))", lambda: _set(zeta=np.bool_(True)), "zeta (ζ)"),
    ("SET(zeta=tensor([0.3, 0.4]))", lambda: _set(zeta=torch.tensor([0.3, 0.4])), "zeta (ζ)"),
    ("SET(zeta=tensor(True))", lambda: _set(zeta=torch.tensor(True)), "zeta (ζ)"),
    ("sparsify(sparsity=tensor(inf))", lambda: refused(mlp, sparsity=torch.tensor(float('inf'))), "[0, 1)"),
    ("sparsify(sparsity=np.bool_(False))", lambda: refused(mlp, sparsity=np.bool_(False)), "[0, 1)"),
    # 5. fast_dropout is a switch
    ("SET(fast_dropout='no')", lambda: _set(fast_dropout='no'), "fast_dropout must be True or False"),
    ("BMSA(fast_dropout=1)", lambda: _bmsa(fast_dropout=1), "fast_dropout must be True or False"),
]

@pytest.mark.parametrize('make, message', [c[1:] for c in error_cases], ids=[c[0] for c in error_cases])
def test_bad_api_input(make, message):
    with pytest.raises(ValueError) as e: make()
    assert message in str(e.value), str(e.value)

# --- layers that the selection skips are named in a warning: (description, callable, expected warning) --------------
def skipped_subclass():
    model = sparsify(nn.Sequential(SubLinear(6, 4), nn.ReLU(), nn.Linear(4, 3)), epsilon=1)
    assert type(model[0]) is SubLinear and isinstance(model[2], MaskedLinear)     # still skipped, still dense

def skipped_lazy():
    model = sparsify(nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.Linear(4, 3)), epsilon=1)
    assert isinstance(model[0], nn.LazyLinear) and isinstance(model[2], MaskedLinear)

def skipped_in_summary():
    model = sparsify(nn.Sequential(SubLinear(6, 4), nn.ReLU(), nn.Linear(4, 3)), epsilon=1)
    assert 'dense (skipped: subclass of nn.Linear)' in format_sparsity_summary(model), format_sparsity_summary(model)

def skipped_by_set():
    from bmsa.set import SET
    learn = _learner(SET(epsilon=2), nn.Sequential(nn.Linear(20, 8), nn.ReLU(), SubLinear(8, 4)))
    assert type(learn.model[2]) is SubLinear

warning_cases = [
    ("nn.Linear subclass", skipped_subclass, "'0' (SubLinear: a subclass of nn.Linear"),
    ("nn.LazyLinear", skipped_lazy, "run one batch through the model first"),
    ("skipped layer in the summary", skipped_in_summary, "a subclass of nn.Linear"),
    ("nn.Linear subclass under SET", skipped_by_set, "'2' (SubLinear: a subclass of nn.Linear"),
]

@pytest.mark.parametrize('make, message', [c[1:] for c in warning_cases], ids=[c[0] for c in warning_cases])
def test_skipped_layer_warns(make, message):
    with pytest.warns(UserWarning) as record: make()
    assert any(message in str(w.message) for w in record), [str(w.message) for w in record]

# --- valid input that must simply work (and warn about nothing): (description, callable) ----------------------------
def check(value, expected, kind):
    assert value == pytest.approx(expected) and type(value) is kind, (value, type(value))

def half(**kw):
    model = sparsify(nn.Sequential(nn.Linear(10, 10)), distribution='uniform', **kw)
    assert connections(model) == 50

def reused_module():
    shared = nn.Linear(4, 4)
    model = sparsify(nn.Sequential(shared, nn.ReLU(), shared, nn.ReLU(), nn.Linear(4, 2)), epsilon=2)
    assert isinstance(shared, MaskedLinear) and len(layer_connections(model)) == 2
    check_sparse_invariants(model)

def tied_left_dense():
    model = sparsify(TiedLM(), epsilon=1, layers=['hidden'])
    assert isinstance(model.hidden, MaskedLinear) and type(model.out) is nn.Linear
    assert (model.emb.weight != 0).all()

def tied_rejected_by_function():
    model = sparsify(TiedLM(), epsilon=1, layers=lambda name, module: name != 'out')
    assert isinstance(model.hidden, MaskedLinear) and type(model.out) is nn.Linear

def subclass_not_selected():
    model = sparsify(nn.Sequential(SubLinear(6, 4), nn.ReLU(), nn.Linear(4, 3)), epsilon=1, layers=['2'])
    assert type(model[0]) is SubLinear

def already_sparse_no_target():
    model = sparse_model(); n = connections(model)
    assert connections(sparsify(model)) == n
    assert connections(sparsify(model, backend='sparse')) == n

def sparse_training_runs():
    learn = _learner(_set(sparsity=np.float32(0.5), zeta=np.float32(0.2), seed=np.int64(1)))
    with learn.no_bar(), learn.no_logging(): learn.fit(2)
    assert connections(learn.model) / (20 * 32 + 32 * 4) == pytest.approx(0.5, abs=0.01)

def evolve_ok(evolve):
    cb = _set(epsilon=2, evolve=evolve)
    learn = _learner(cb)
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    assert [n for n, _ in cb.evolving_layers()] == (['0', '2'] if evolve in ('all', None) else ['0'])

valid_cases = [
    ("SET(seed=np.int64(3))", lambda: check(_set(seed=np.int64(3)).seed, 3, int)),
    ("SET(seed=np.uint32(7))", lambda: check(_set(seed=np.uint32(7)).seed, 7, int)),
    ("SET(seed=tensor(3))", lambda: check(_set(seed=torch.tensor(3)).seed, 3, int)),
    ("SET(zeta=np.float32(0.3))", lambda: check(_set(zeta=np.float32(0.3)).zeta, 0.3, float)),
    ("SET(zeta=tensor(0.3))", lambda: check(_set(zeta=torch.tensor(0.3)).zeta, 0.3, float)),
    ("SET(epsilon=np.float32(2))", lambda: check(_set(epsilon=np.float32(2)).epsilon, 2, float)),
    ("SET(epsilon=tensor(2))", lambda: check(_set(epsilon=torch.tensor(2)).epsilon, 2, float)),
    ("SET(sparsity=np.float32(0.5))", lambda: check(_set(sparsity=np.float32(0.5)).sparsity, 0.5, float)),
    ("SET(sparsity=np.float32(0.5)) trains", sparse_training_runs),
    ("sparsify(sparsity=np.float32(0.5))", lambda: half(sparsity=np.float32(0.5))),
    ("sparsify(sparsity=np.float64(0.5))", lambda: half(sparsity=np.float64(0.5))),
    ("sparsify(sparsity=tensor(0.5))", lambda: half(sparsity=torch.tensor(0.5))),
    ("sparsify(sparsity={'0': np.float32(0.5)})", lambda: half(sparsity={'0': np.float32(0.5)})),
    ("sparsify(epsilon=np.float32(2.5))", lambda: half(epsilon=np.float32(2.5))),
    ("sparsify(epsilon=tensor(2.5))", lambda: half(epsilon=torch.tensor(2.5))),
    ("a module used twice is not a tie", reused_module),
    ("tied layers left dense with layers=[...]", tied_left_dense),
    ("tied layers left dense with a function", tied_rejected_by_function),
    ("a subclass that layers= does not name", subclass_not_selected),
    ("sparsify(already sparse) without a target", already_sparse_no_target),
    ("SET(evolve=['0'])", lambda: evolve_ok(['0'])),
    ("SET(evolve=('0',))", lambda: evolve_ok(('0',))),
    ("SET(evolve={'0'})", lambda: evolve_ok({'0'})),
    ("SET(evolve=function)", lambda: evolve_ok(lambda name, layer: name == '0')),
    ("SET(evolve=None)", lambda: evolve_ok(None)),
    ("SET(evolve='all')", lambda: evolve_ok('all')),
    ("SET(fast_dropout=True)", lambda: _set(fast_dropout=True)),
    ("SET(fast_dropout=np.bool_(False))", lambda: _set(fast_dropout=np.bool_(False))),
]

@pytest.mark.parametrize('make', [c[1] for c in valid_cases], ids=[c[0] for c in valid_cases])
def test_valid_api_input(make):
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)
        make()
