"""Data-parallel sparse training on two CPU processes (gloo), launched with torchrun (issue 13).

Run as a test, this file launches itself under `torchrun --nproc_per_node 2`; each rank trains SET, AccSET and BMSA on
both storage backends and saves what it ended with. The test then checks that both ranks hold exactly the same
topology, counters, weights and update history, and that they equal a one-process run with the same batch."""
import os, subprocess, sys, types
from pathlib import Path
import pytest
import torch

CASES = [(m, b) for m in ('set', 'accset', 'bmsa') for b in ('masked', 'sparse')]
EPOCHS, BATCH = 4, 32            # 4 epochs: 3 topology updates, so BMSA's three-strike removals happen too


def callback(method, backend):
    "The method's callback, without a seed: rank 0 draws one and shares it (`DynamicSparseTraining` calls bmsa.distributed)."
    from bmsa.set import SET
    from bmsa.accset import AccSET
    from bmsa.bmsa import BMSA
    kwargs = dict(epsilon=3, backend=backend)
    if method != 'set': kwargs['k'] = -0.87
    return dict(set=SET, accset=AccSET, bmsa=BMSA)[method](**kwargs)


def fastai_distrib_ctx(learn):
    "fastai's own `learn.distrib_ctx()`, made to run on CPUs by replacing only `DistributedDL`'s CUDA broadcast (test only)."
    from fastai.distributed import DistributedDL
    from bmsa.distributed import ShardedDL
    DistributedDL._broadcast = ShardedDL._broadcast
    return learn.distrib_ctx(cpu=True, sync_bn=False)


def train_case(method, backend, fastai_context=False):
    "Train one case (data-parallel when launched by torchrun); return the sparse layers' state, history and DDP rebuilds."
    from bmsa.test_utils import synthetic_learner
    from bmsa.sparse import sparse_layers
    from bmsa.distributed import data_parallel, RebuildDataParallel
    cb = callback(method, backend)
    learn = synthetic_learner(cbs=cb, bs=BATCH // 2 if fastai_context else BATCH, n=256, lr=0.1)   # fastai: per process
    rebuild = RebuildDataParallel()
    with fastai_distrib_ctx(learn) if fastai_context else data_parallel(learn):
        with learn.no_bar(), learn.no_logging(): learn.fit(EPOCHS, cbs=rebuild if fastai_context else None)
        rebuilds = getattr(learn, 'data_parallel_rebuilds', 0)      # by the callback after an update, or by RebuildDataParallel
    layers = [dict(mask=l.dense_mask(), strikes=l.dense_strikes(), removals=l.dense_removals(),
                   weight=l.dense_weight().detach()) for l in sparse_layers(learn.model)]
    history = [dict(h, layers=[{k: v for k, v in l.items() if k != 'name'} for l in h['layers']]) for h in cb.history]
    return dict(layers=layers, history=history, rebuilds=rebuilds)


def diverged_training():
    "Train with a custom rule that draws from PyTorch's global generator, which differs per rank: the check must stop it."
    from bmsa.set import SET
    from bmsa.test_utils import synthetic_learner
    from bmsa.distributed import data_parallel, rank
    class GlobalRandomGrowth(SET):
        def choose_growth(self, connections, n, accuracy):
            empty = connections.empty_positions()
            return empty[torch.randperm(len(empty))[:n]]          # a bug: not self.generator
    learn = synthetic_learner(cbs=GlobalRandomGrowth(epsilon=3), bs=BATCH, n=256, lr=0.1)
    torch.manual_seed(rank())                                     # (synthetic_learner seeds it the same on every rank)
    try:
        with data_parallel(learn), learn.no_bar(), learn.no_logging(): learn.fit(2)
    except RuntimeError as e: return str(e)
    return 'not caught'


def worker(out):
    "One rank: every case, then the checks that need two ranks."
    from bmsa.distributed import init_distributed, rank, shared_seed, global_accuracy, assert_same_topology
    from bmsa.masked import sparsify
    assert init_distributed(), "the test worker must be launched by torchrun with 2 processes"
    results = {f'{m}-{b}': train_case(m, b) for m, b in CASES}
    results['fastai-bmsa-sparse'] = train_case('bmsa', 'sparse', fastai_context=True)
    torch.manual_seed(rank())                                   # different global generators...
    results['seed'] = shared_seed(None)                         # ...the same shared seed
    learn = types.SimpleNamespace(recorder=types.SimpleNamespace(loss=types.SimpleNamespace(count=(30, 10)[rank()])))
    results['accuracy'] = global_accuracy(learn, (0.5, 1.0)[rank()])
    model = sparsify(torch.nn.Sequential(torch.nn.Linear(8, 6)), epsilon=2, generator=torch.Generator().manual_seed(rank()))
    try: assert_same_topology(model); results['divergence'] = 'not caught'
    except RuntimeError as e: results['divergence'] = str(e)
    results['diverged_training'] = diverged_training()
    torch.save(results, Path(out) / f'rank{rank()}.pt')
    from bmsa.train import run                                  # bmsa-train, as `torchrun ... bmsa-train ...` runs it
    run(['--method', 'bmsa', '--backend', 'sparse', '--epochs', '2', '--n-train', '600', '--n-valid', '200',
         '--bs', '100', '--out', str(Path(out) / 'run')])
    print(f"rank {rank()}: {len(CASES)} cases trained, DDP rebuilds {[results[f'{m}-{b}']['rebuilds'] for m, b in CASES]}")


def torchrun(*args, nproc=2, timeout=300, env=None):
    "Run `python -m torch.distributed.run --standalone --nproc_per_node nproc *args`; return its output."
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}', *map(str, args)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})}
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert p.returncode == 0, f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-6000:]}"
    return p.stdout


@pytest.fixture(scope='module')
def launched(tmp_path_factory):
    "Launch the worker on two processes once for all the tests here; return its folder and what it printed."
    out = tmp_path_factory.mktemp('ranks')
    printed = torchrun(__file__, 'worker', out)
    print(printed)
    return out, printed

@pytest.fixture(scope='module')
def two_ranks(launched):
    return [torch.load(launched[0] / f'rank{r}.pt', weights_only=False) for r in range(2)]


@pytest.mark.parametrize('method,backend', CASES)
def test_ranks_identical_and_equal_to_one_process(two_ranks, method, backend):
    key = f'{method}-{backend}'
    rank0, rank1 = two_ranks[0][key], two_ranks[1][key]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                                    # as each rank had
    try: alone = train_case(method, backend)                    # one process, the same batch of 32 per step
    finally: torch.set_num_threads(threads)
    assert rank0['history'] == rank1['history'] == alone['history']
    assert sum(l['removed'] for h in alone['history'] for l in h['layers']) > 0
    assert sum(l['added'] for h in alone['history'] for l in h['layers']) > 0
    for a, b, c in zip(rank0['layers'], rank1['layers'], alone['layers']):
        for name in ('mask', 'strikes', 'removals', 'weight'):
            assert torch.equal(a[name], b[name]), f"{key}: {name} differs between the ranks"
        for name in ('mask', 'strikes', 'removals'): assert torch.equal(a[name], c[name]), f"{key}: {name} differs from one process"
        torch.testing.assert_close(a['weight'], c['weight'], rtol=1e-4, atol=1e-5)
    largest = max(float((a['weight'] - c['weight']).abs().max()) for a, c in zip(rank0['layers'], alone['layers']))
    print(f"{key}: 2 ranks identical; largest weight difference from one process {largest:.1e}")
    # DDP is rebuilt once when the fit starts, and again after every growth of the compressed backend's capacity
    if backend == 'masked': assert rank0['rebuilds'] == 1
    if key == 'bmsa-sparse': assert rank0['rebuilds'] > 1


def test_fastai_distrib_ctx(two_ranks):
    "fastai's own context (block shards, its per-process batch), with the compressed backend growing: the ranks agree."
    rank0, rank1 = two_ranks[0]['fastai-bmsa-sparse'], two_ranks[1]['fastai-bmsa-sparse']
    assert rank0['history'] == rank1['history'] and rank0['rebuilds'] > 1
    for a, b in zip(rank0['layers'], rank1['layers']):
        for name in ('mask', 'strikes', 'removals', 'weight'): assert torch.equal(a[name], b[name]), name


def test_shared_seed_accuracy_and_divergence(two_ranks):
    assert two_ranks[0]['seed'] == two_ranks[1]['seed']
    assert two_ranks[0]['accuracy'] == two_ranks[1]['accuracy'] == pytest.approx(25 / 40)   # not (0.5 + 1) / 2
    for r in two_ranks:
        assert 'sparse layer 0 on rank 1' in r['divergence'], r['divergence']
        assert 'differs between ranks' in r['diverged_training'], r['diverged_training']


def test_bmsa_train_writes_once_and_resumes_on_one_process(launched, capsys):
    out, printed = launched
    run_dir = out / 'run'
    assert printed.count(' epoch ') == 1                        # one table: only rank 0 prints
    assert printed.count('finished in') == 1
    from bmsa.runs import read_log, load_checkpoint
    assert [r['epoch'] for r in read_log(run_dir / 'log.csv')] == [0, 1]
    state = load_checkpoint(run_dir)
    assert state['epoch'] == 2 and not any(k.startswith('module.') for k in state['model'])
    from bmsa.train import run
    run(['--resume', str(run_dir), '--epochs', '3'])             # one process continues the two-process run
    rows = read_log(run_dir / 'log.csv')
    assert [r['epoch'] for r in rows] == [0, 1, 2] and load_checkpoint(run_dir)['epoch'] == 3
    assert rows[2]['accuracy'] > 0.5


if __name__ == '__main__' and sys.argv[1:2] == ['worker']: worker(sys.argv[2])
