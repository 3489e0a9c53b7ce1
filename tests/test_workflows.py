"""fastai and PyTorch workflows without silent surprises (issue 24): each case is one way a user's ordinary workflow
used to do something other than what it looked like.

1. a model's existing (e.g. pretrained) weights are masked, not re-drawn, unless the model or the call asks for an
   initialisation (the paper's MLP asks for He's on the sparse fan-in);
2. a new callback of the same rule in each `fit` continues the rule (pending update, generator, history), as one
   callback across the fits does; another rule must say `takeover=True`;
3. layers whose weights do not train (`requires_grad_(False)`, fastai's `freeze`) keep their topology;
4. AccSET and BMSA can hold each layer's connection count (`hold_sparsity=True`) instead of growing θ·Δ;
5. `learn.summary()` and `n_parameters` count what a sparse model learns (connections and biases) on both backends;
6. a trained sparse model exports: `to_csr` (CSR weights a plain PyTorch model uses, traced by `torch.export`) and
   `to_dense` (ONNX, where onnx is installed);
9. a percentage accuracy is refused before epoch 0 trains; `paper_learner(path=)` is fastai's `Learner.path`;
   `torch.nn.utils.prune` on top is counted by the summary, refused by the rules, and absorbed on request;
10. a `torch.compile`d sparse model trains as the eager one does, through topology updates, on both backends, and the
   compressed layers run uncompiled (Python objects rebuilt at each topology change), so nothing recompiles.

Small synthetic models: `pytest tests/test_workflows.py -q` takes seconds.
"""
import copy, logging, math
import pytest
import torch
from torch import nn
from bmsa.masked import sparsify
from bmsa.sparse import is_sparse, sparse_layers, layer_connections, format_sparsity_summary, sparsity_summary
from bmsa.set import SET
from bmsa.accset import AccSET
from bmsa.bmsa import BMSA
from bmsa.rigl import RigL
from bmsa.test_utils import synthetic_learner

def mlp(hidden=64, seed=0):
    "The synthetic problem's MLP, its weights drawn from `seed` (identical starts)."
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(20, hidden), nn.ReLU(), nn.Linear(hidden, 4))

def fit(learn, n, cbs=None, **kwargs):
    with learn.no_bar(), learn.no_logging(): learn.fit(n, cbs=cbs, **kwargs)

def masks(model): return [l.dense_mask().clone() for l in sparse_layers(model)]
def weights(model): return [l.dense_weight().clone() for l in sparse_layers(model)]

# --- 1. existing weights are masked, not re-drawn ------------------------------------------------------------------

@pytest.mark.parametrize('make_cb', [lambda: SET(sparsity=0.9, seed=0), lambda: AccSET(sparsity=0.9, seed=0),
                                     lambda: BMSA(sparsity=0.9, seed=0), lambda: RigL(sparsity=0.9, seed=0, delta_t=1000)],
                         ids=['SET', 'AccSET', 'BMSA', 'RigL'])
def test_callbacks_keep_existing_weights_by_default(make_cb):
    "fit(1, lr=0) with a callback on a 'pretrained' model: every layer keeps its weights on its connections."
    model = mlp()
    before = [m.weight.detach().clone() for m in model if isinstance(m, nn.Linear)]
    learn = synthetic_learner(model=model)
    fit(learn, 1, cbs=make_cb(), lr=0.)
    for layer, w in zip(sparse_layers(learn.model), before):
        assert torch.equal(layer.dense_weight(), w * layer.dense_mask()), "the weights were re-drawn"

def test_sparse_convolutions_keep_existing_weights_by_default():
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 16, 4))
    before = [m.weight.detach().clone() for m in cnn if isinstance(m, (nn.Conv2d, nn.Linear))]
    sparsify(cnn, sparsity=0.8, conv=True)
    layers = sparse_layers(cnn)
    assert len(layers) == 3
    for layer, w in zip(layers, before): assert torch.equal(layer.dense_weight(), w * layer.dense_mask())

def he_std(layer): return math.sqrt(2 / (layer.density * layer.weight_shape[1]))

def test_model_declares_its_sparse_initialisation():
    "`sparse_init` on a model (or on one of its layers, which wins) chooses the initialisation when the call gives none."
    model = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 200))
    model.sparse_init = 'kaiming'
    model[2].sparse_init = 'keep'
    kept = model[2].weight.detach().clone()
    sparsify(model, sparsity=0.9, generator=torch.Generator().manual_seed(0))
    first, second = sparse_layers(model)
    assert abs(float(first.weight.detach()[first.mask].std()) / he_std(first) - 1) < 0.05     # re-drawn: He on the sparse fan-in
    assert torch.equal(second.weight.detach(), kept * second.mask)                  # the layer's own choice: kept
    # an explicit init= wins over the model's wish, both ways
    asks = nn.Sequential(nn.Linear(400, 300)); asks.sparse_init = 'kaiming'
    w = asks[0].weight.detach().clone()
    sparsify(asks, sparsity=0.9, init='keep')
    assert torch.equal(asks[0].weight.detach(), w * asks[0].mask)
    plain = sparsify(nn.Sequential(nn.Linear(400, 300)), sparsity=0.9, init='lecun')[0]
    assert abs(float(plain.weight.detach()[plain.mask].std()) / math.sqrt(1 / (plain.density * 400)) - 1) < 0.05

def test_callback_follows_the_model_sparse_init():
    model = nn.Sequential(nn.Linear(20, 300), nn.ReLU(), nn.Linear(300, 4)); model.sparse_init = 'kaiming'
    learn = synthetic_learner(model=model, cbs=SET(sparsity=0.9, seed=0))
    layer = sparse_layers(learn.model)[0]
    assert abs(float(layer.weight.detach()[layer.mask].std()) / he_std(layer) - 1) < 0.1

def test_bad_sparse_init_attribute_is_a_clear_error():
    model = mlp(); model[0].sparse_init = 'xavier'
    with pytest.raises(ValueError, match=r"sparse_init.*'xavier'"): sparsify(model, sparsity=0.9)
    assert not is_sparse(model)

def test_paper_mlp_asks_for_he_initialisation():
    "The paper's experiments keep their initialisation: the paper's MLP declares He's on the sparse fan-in."
    from bmsa.models import paper_mlp
    model = paper_mlp('fashion_mnist')
    sparsify(model, epsilon=20, generator=torch.Generator().manual_seed(0))
    for layer in sparse_layers(model)[:2]:
        assert abs(float(layer.weight.detach()[layer.mask].std()) / he_std(layer) - 1) < 0.1

# --- 2. a new callback of the same rule continues ---------------------------------------------------------------

@pytest.mark.parametrize('rule', [SET, AccSET, BMSA], ids=['SET', 'AccSET', 'BMSA'])
def test_new_callback_each_fit_continues_like_one_fit(rule):
    "Three fit(1), each with a new callback, give the masks and weights of one fit(3), from identical starts."
    one = synthetic_learner(model=mlp())
    fit(one, 3, cbs=rule(sparsity=0.9, seed=0))
    many = synthetic_learner(model=mlp())
    fit(many, 1, cbs=rule(sparsity=0.9, seed=0))
    for _ in range(2): fit(many, 1, cbs=rule(seed=0))
    for a, b in zip(masks(one.model), masks(many.model)): assert torch.equal(a, b)
    for a, b in zip(weights(one.model), weights(many.model)): assert torch.equal(a, b)

def test_new_callback_continues_the_history():
    "fit(3, cbs=BMSA()) then fit(3, cbs=BMSA()) makes 5 updates, like fit(6); the second callback holds all of them."
    learn = synthetic_learner(model=mlp())
    fit(learn, 3, cbs=BMSA(sparsity=0.9, seed=0))
    second = BMSA(seed=0)
    fit(learn, 3, cbs=second)
    assert [h['epoch'] for h in second.history] == [0, 1, 2, 3, 4]
    assert second.epochs_trained == 6

def test_rigl_new_callback_continues_its_step_count():
    one = synthetic_learner(model=mlp())
    fit(one, 2, cbs=RigL(sparsity=0.9, seed=0, delta_t=3, end_step=16))
    many = synthetic_learner(model=mlp())
    fit(many, 1, cbs=RigL(sparsity=0.9, seed=0, delta_t=3, end_step=16))
    cb = RigL(seed=0, delta_t=3, end_step=16)
    fit(many, 1, cbs=cb)
    assert cb.step == 16 and [h['step'] for h in cb.history] == [3, 6, 9, 12, 15]
    for a, b in zip(masks(one.model), masks(many.model)): assert torch.equal(a, b)

def test_another_rule_must_take_over_explicitly():
    "A model that carries SET's pending update and memory refuses BMSA unless `takeover=True`, which starts BMSA afresh."
    learn = synthetic_learner(model=mlp())
    fit(learn, 2, cbs=SET(sparsity=0.9, seed=0))
    before = masks(learn.model)
    with pytest.raises(ValueError, match='takeover=True'): fit(learn, 1, cbs=BMSA(seed=0))
    for a, b in zip(before, masks(learn.model)): assert torch.equal(a, b)
    cb = BMSA(seed=0, takeover=True)
    fit(learn, 2, cbs=cb)
    assert [h['epoch'] for h in cb.history] == [0]       # SET's pending update was dropped: BMSA's own first one
    fit(learn, 1, cbs=BMSA(seed=0))                       # and now the model carries BMSA's memory

# --- 3. frozen layers keep their topology -----------------------------------------------------------------------

@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_frozen_layers_do_not_evolve(backend):
    model = sparsify(mlp(), sparsity=0.8, generator=torch.Generator().manual_seed(0), backend=backend)
    model[0].requires_grad_(False)
    frozen_mask, frozen_weight = sparse_layers(model)[0].dense_mask().clone(), sparse_layers(model)[0].dense_weight().clone()
    other = sparse_layers(model)[1].dense_mask().clone()
    learn = synthetic_learner(model=model)
    cb = SET(seed=0)
    fit(learn, 3, cbs=cb)
    first, second = sparse_layers(learn.model)
    assert torch.equal(first.dense_mask(), frozen_mask) and torch.equal(first.dense_weight(), frozen_weight)
    assert not torch.equal(second.dense_mask(), other)                        # the trainable layer still evolves
    assert [l['name'] for h in cb.history for l in h['layers']] == ['2', '2']
    assert [r['frozen'] for r in sparsity_summary(learn.model)] == [True, False]
    lines = format_sparsity_summary(learn.model).splitlines()
    assert 'frozen' in lines[1] and 'frozen' not in lines[2]

def test_fastai_freeze_keeps_the_frozen_groups_topology():
    "`learn.freeze()` (two parameter groups: the first frozen) stops the first layer's evolution; `unfreeze` restarts it."
    from fastai.torch_core import params
    learn = synthetic_learner(model=mlp(), cbs=(cb := SET(sparsity=0.8, seed=0)))
    learn.splitter = lambda m: [params(m[0]), params(m[2])]
    learn.freeze()
    frozen = sparse_layers(learn.model)[0].dense_mask().clone()
    fit(learn, 3)
    assert torch.equal(sparse_layers(learn.model)[0].dense_mask(), frozen)
    assert [[l['name'] for l in h['layers']] for h in cb.history] == [['2'], ['2']]
    learn.unfreeze()
    fit(learn, 1)
    assert [l['name'] for l in cb.history[-1]['layers']] == ['0', '2']

# --- 4. AccSET and BMSA can hold the sparsity ---------------------------------------------------------------------

@pytest.mark.parametrize('rule', [AccSET, BMSA], ids=['AccSET', 'BMSA'])
def test_hold_sparsity(rule):
    "With `hold_sparsity=True` each layer keeps its starting number of connections; the paper's θ·Δ growth adds some."
    cb = rule(sparsity=0.95, seed=0, hold_sparsity=True)
    held = synthetic_learner(model=mlp(), cbs=cb)
    start = layer_connections(held.model)
    fit(held, 5)
    assert layer_connections(held.model) == start
    assert sum(l['removed'] for h in cb.history for l in h['layers']) > 0    # it did prune and regrow
    grown = synthetic_learner(model=mlp(), cbs=rule(sparsity=0.95, seed=0))
    fit(grown, 5)
    assert sum(layer_connections(grown.model)) > sum(start)

# --- 5. summary and parameter counts -------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_summary_counts_connections_and_biases(backend):
    from bmsa.sparse import connections, n_parameters
    learn = synthetic_learner(model=mlp(), cbs=SET(sparsity=0.8, seed=0, backend=backend))
    fit(learn, 2)
    learned = connections(learn.model) + 64 + 4                                  # the weights kept, and the biases
    assert n_parameters(learn.model) == learned < 20 * 64 + 64 * 4 + 64 + 4
    with learn.no_bar(): text = learn.summary()
    assert f'Total params: {learned:,}' in text and f'Total trainable params: {learned:,}' in text, text
    sparse_layers(learn.model)[0].requires_grad_(False)
    with learn.no_bar(): text = learn.summary()
    first = sparse_layers(learn.model)[0].n_connections + 64
    assert f'Total non-trainable params: {first:,}' in text and n_parameters(learn.model, trainable=True) == learned - first

# --- 6. export and sparse inference --------------------------------------------------------------------------------

@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_trained_model_exports_with_csr_weights(backend, tmp_path):
    from bmsa.compressed import to_csr
    learn = synthetic_learner(model=mlp(), cbs=SET(sparsity=0.8, seed=0, backend=backend))
    fit(learn, 2)
    model, x = learn.model.eval(), torch.randn(16, 20)
    expected = model(x).detach()
    sparse_copy = to_csr(model)
    assert [l.weight.layout for l in sparse_copy if isinstance(l, nn.Linear)] == [torch.sparse_csr] * 2
    assert sparse_copy[0].weight._nnz() <= sparse_layers(model)[0].n_connections
    torch.testing.assert_close(sparse_copy(x), expected)
    torch.save(sparse_copy.state_dict(), tmp_path / 'weights.pt')
    plain = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4)).eval()    # no bmsa class in sight
    plain.load_state_dict(torch.load(tmp_path / 'weights.pt', weights_only=True), assign=True)
    torch.testing.assert_close(plain(x), expected)
    program = torch.export.export(sparse_copy, (x,))
    torch.testing.assert_close(program.module()(x), expected)

def test_trained_model_exports_to_onnx(tmp_path):
    pytest.importorskip('onnx')
    from bmsa.compressed import to_dense
    learn = synthetic_learner(model=mlp(), cbs=SET(sparsity=0.8, seed=0, backend='sparse'))
    fit(learn, 1)
    from onnx.reference import ReferenceEvaluator
    model, x = learn.model.eval(), torch.randn(2, 20)
    torch.onnx.export(to_dense(model), (x,), tmp_path / 'model.onnx', dynamo=False, input_names=['x'])
    (onnx_out,) = ReferenceEvaluator(str(tmp_path / 'model.onnx')).run(None, {'x': x.numpy()})
    torch.testing.assert_close(torch.from_numpy(onnx_out), model(x).detach(), rtol=1e-4, atol=1e-5)

# --- 9. smaller surprises ------------------------------------------------------------------------------------------

def test_percentage_accuracy_is_refused_before_training():
    from fastai.metrics import accuracy as share
    def accuracy(inp, targ): return 100 * share(inp, targ)
    learn = synthetic_learner(model=mlp(), metrics=accuracy, cbs=AccSET(sparsity=0.8, seed=0))
    before = copy.deepcopy(learn.model.state_dict())
    with pytest.raises(ValueError, match='0.83, not 83'): fit(learn, 1)
    assert not learn.recorder.values
    assert all(torch.equal(before[k], v) for k, v in learn.model.state_dict().items())

def test_paper_learner_path_is_fastai_path(tmp_path):
    from bmsa.models import paper_learner
    from bmsa.test_utils import synthetic_dls
    learn = paper_learner('fashion_mnist', dls=synthetic_dls(seed=0), path=tmp_path)
    assert learn.path == tmp_path
    with pytest.raises(ValueError, match='`data`'): paper_learner('fashion_mnist', dls=synthetic_dls(seed=0), data=tmp_path)

@pytest.mark.parametrize('backend, name', [('masked', 'weight'), ('sparse', 'values')])
def test_torch_pruning_on_top_is_counted_refused_and_absorbed(backend, name):
    from torch.nn.utils import prune
    from bmsa.sparse import absorb_torch_pruning, connections, check_sparse_invariants
    learn = synthetic_learner(model=mlp(), cbs=SET(sparsity=0.5, seed=0, backend=backend))
    fit(learn, 1)
    layer = sparse_layers(learn.model)[0]
    prune.l1_unstructured(layer, name, amount=0.9)
    kept = int((layer.dense_weight() != 0).sum())
    x = torch.randn(8, 20); before = learn.model.eval()(x).detach()
    assert kept < layer.n_connections and sparsity_summary(learn.model)[0]['connections'] == kept
    assert 'torch-pruned' in format_sparsity_summary(learn.model).splitlines()[1]
    with pytest.raises(ValueError, match='absorb_torch_pruning'): fit(learn, 1)
    absorb_torch_pruning(learn.model, learn.opt)
    assert layer.n_connections == kept and not hasattr(layer, f'{name}_orig')
    torch.testing.assert_close(learn.model(x), before)                              # the same function, now as topology
    check_sparse_invariants(learn.model, learn.opt)
    fit(learn, 2)
    assert connections(learn.model) == kept + sparse_layers(learn.model)[1].n_connections    # SET keeps the counts

def test_a_rigl_checkpoint_from_before_the_step_schedule_resumes():
    "RigL's state from before the schedule moved to the base carries a pending epoch update; the step schedule ignores it."
    from bmsa.rigl import RigL
    from bmsa.sparse import connections
    from bmsa.test_utils import synthetic_learner
    learn = synthetic_learner()
    first = RigL(delta_t=2, seed=0)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=first)
    state = dict(first.state_dict(), pending=dict(epoch=0, accuracy=0.5))     # what the old RigL's after_epoch left
    learn.model._bmsa_rule_memory = dict(owner='an older run', state=state)   # as a resumed run finds it
    later = RigL(delta_t=2, seed=0)
    n = connections(learn.model)
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=later)
    assert later.step > first.step and connections(learn.model) == n and later.pending is None


@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_compiled_model_trains_like_the_eager_one(backend):
    "`torch.compile` (its `aot_eager` backend: Dynamo and AOT autograd, no C++ compiler) changes neither the training nor the topology."
    def run(compiled):
        model = sparsify(mlp(), epsilon=3, backend=backend, generator=torch.Generator().manual_seed(0))
        learn = synthetic_learner(model=torch.compile(model, backend='aot_eager') if compiled else model)
        fit(learn, 3, cbs=SET(seed=0))
        return model, learn
    torch._dynamo.reset()
    records, handler = [], logging.Handler()
    handler.emit = records.append
    dynamo_log = logging.getLogger('torch._dynamo')
    dynamo_log.addHandler(handler)
    try: (eager, eager_learn), (compiled, compiled_learn) = run(False), run(True)
    finally: dynamo_log.removeHandler(handler); torch._dynamo.reset()
    assert all(torch.equal(a, b) for a, b in zip(masks(eager), masks(compiled)))
    start = masks(sparsify(mlp(), epsilon=3, backend=backend, generator=torch.Generator().manual_seed(0)))
    assert not all(torch.equal(a, b) for a, b in zip(masks(eager), start))      # the topology did change
    for a, b in zip(weights(eager), weights(compiled)): torch.testing.assert_close(a, b)
    torch.testing.assert_close(torch.tensor(eager_learn.recorder.values), torch.tensor(compiled_learn.recorder.values))
    recompiled = [r.getMessage() for r in records if 'recompil' in r.getMessage().lower()]
    assert not recompiled, recompiled[0]
