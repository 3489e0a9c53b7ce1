"""Time full fastai training epochs of the paper's CIFAR-10 MLP with dense nn.Linear, the masked and the sparse backend.

Usage: python scripts/bench_backends.py [--data cifar10|random] [--n-train 10000] [--n-valid 2000] [--threads 2]
                                        [--epsilons 5 10 20 40] [--skip-dense] [--scale] [--scale-neurons 100000]

Prints measured figures; it asserts nothing. What it measures:

1. one epoch (training and validation, through `Learner.fit`) of 3072-4000-1000-4000-10 at ε = 20 with plain
   `nn.Linear` layers (no sparsity), with BMSA on the masked backend and with BMSA on the sparse backend, side by
   side, with ratios; the sparse backend also swaps `nn.Dropout` for `FastDropout`, so a dense run with
   `FastDropout` is shown too, to separate the two effects;
2. the time of BMSA's and SET's topology update after that epoch, as a share of the epoch;
3. the epoch time of the sparse backend at several ε: time should grow with the number of connections;
4. with `--scale`: BMSA on the sparse backend with target='initial' on a 3072-N-N-N-10 MLP (N = 100,000 by
   default) on random inputs, a few steps and one topology update, with the peak resident memory.

Data: the CIFAR-10 JPEG stand-in (or official CIFAR-10) found by `bmsa.data.dataset_dls` (`$BMSA_DATA`, else the
shared data folder next to the repository), or `--data random` (random images and labels of the same shape).
`--n-train`/`--n-valid` take stratified subsets (the defaults are the full 50,000/10,000).
"""
import argparse, os, resource, subprocess, sys, time, warnings
from functools import partial
from pathlib import Path

import torch
from torch import nn
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy
from fastai.optimizer import SGD
from fastai.data.core import DataLoaders
from fastai.torch_core import set_seed

from bmsa.models import paper_mlp
from bmsa.data import dataset_dls, TensorImages, TensorBatchDL, NormalizeFlat, CLASS_NAMES
from bmsa.sparse import connections, layer_connections
from bmsa.set import SET
from bmsa.bmsa import BMSA
from bmsa.compressed import FastDropout, sparse_mlp, to_sparse_backend

CIFAR = (3072, 4000, 1000, 4000, 10)


def random_dls(n_train, n_valid, bs=100, n_in=3072, seed=0):
    "DataLoaders of random uint8 'images' with random labels, served like `dataset_dls`."
    g = torch.Generator().manual_seed(seed)
    def part(n):
        x = torch.randint(0, 256, (n, n_in), dtype=torch.uint8, generator=g)
        return TensorImages(x, torch.randint(0, 10, (n,), generator=g), CLASS_NAMES['cifar10'])
    train, valid = part(n_train), part(n_valid)
    norm = NormalizeFlat([0.5] * 3, [0.29] * 3, (3, 1, n_in // 3))
    train_dl = TensorBatchDL(train, bs=bs, shuffle=True, device='cpu', after_batch=norm)
    return DataLoaders(train_dl, TensorBatchDL(valid, bs=bs, shuffle=False, device='cpu', after_batch=norm), device='cpu')


def cifar_dls(args):
    "The CIFAR-10 DataLoaders (and a description), or None if the data cannot be found."
    if 'BMSA_DATA' not in os.environ:
        shared = Path(__file__).resolve().parents[2] / 'shared' / 'data'
        if shared.exists(): os.environ['BMSA_DATA'] = str(shared)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            dls = dataset_dls('cifar10', bs=100, n_train=args.n_train, n_valid=args.n_valid, download=False, device='cpu')
        lossy = any('LOSSY' in str(w.message) or 'lossy' in str(w.message).lower() for w in caught)
        return dls, 'CIFAR-10' + (' (lossy JPEG q75 stand-in)' if lossy else '')
    except Exception as e:
        print(f"CIFAR-10 not available ({type(e).__name__}: {str(e).splitlines()[0]}); using random data.")
        return None


class EpochTimer(Callback):
    "Wall time of each epoch, training and validation, before the topology update runs."
    order = 49          # before the Recorder (50) and the sparse-training callbacks (51) in after_epoch
    def before_fit(self): self.times = []
    def before_epoch(self): self.start = time.perf_counter()
    def after_epoch(self): self.times.append(time.perf_counter() - self.start)


def timed(method):
    "`method` (a DynamicSparseTraining subclass) that records the wall time of each topology update."
    class Timed(method):
        def update_topology(self, *args, **kwargs):
            start = time.perf_counter()
            super().update_topology(*args, **kwargs)
            self.update_times = getattr(self, 'update_times', []) + [time.perf_counter() - start]
    Timed.__name__ = method.__name__
    return Timed


def learner(dls, model, cbs=None):
    return Learner(dls, model, opt_func=partial(SGD, mom=0.9), lr=0.01, loss_func=CrossEntropyLossFlat(),
                   metrics=accuracy, cbs=cbs)


def fast_dropout(model):
    for name, m in model.named_children():
        if type(m) is nn.Dropout: setattr(model, name, FastDropout(m.p))
    return model


def run(dls, label, model, cb=None, epochs=1):
    "Fit `epochs` epochs; return (epoch times, the callback, connections per epoch, final accuracy)."
    set_seed(0)
    timer = EpochTimer()
    learn = learner(dls, model)
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, cbs=[timer] + ([cb] if cb else []))
    counts = [row[3] for row in learn.recorder.values] if cb else [sum(p.numel() for n, p in model.named_parameters() if 'weight' in n)] * epochs
    acc = learn.recorder.values[-1][2]
    print(f"  {label:<44} epoch " + ", ".join(f"{t:6.2f} s" for t in timer.times)
          + f"   connections {', '.join(f'{c:,}' for c in counts)}   accuracy {acc:.3f}", flush=True)
    return timer.times, cb, counts, learn


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', choices=['cifar10', 'random'], default='cifar10')
    p.add_argument('--n-train', type=int, default=None, help='stratified training subset (default: all 50,000)')
    p.add_argument('--n-valid', type=int, default=None, help='stratified validation subset (default: all 10,000)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--epsilons', type=float, nargs='*', default=[5, 10, 20, 40])
    p.add_argument('--skip-dense', action='store_true', help='skip the dense and masked runs (the slow ones)')
    p.add_argument('--scale', action='store_true', help='also run BMSA on a 3072-N-N-N-10 sparse MLP (in a fresh process)')
    p.add_argument('--scale-only', action='store_true', help='only the scale run, in this process')
    p.add_argument('--scale-neurons', type=int, default=100_000)
    p.add_argument('--scale-steps', type=int, default=3, help='training batches of 100 per epoch in the scale run')
    p.add_argument('--scale-epochs', type=int, default=4, help='epochs of the scale run (BMSA removes on the third update)')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings('ignore', category=UserWarning)
    if args.scale_only: return scale_run(args)

    got = cifar_dls(args) if args.data == 'cifar10' else None
    if got is None:
        n_train, n_valid = args.n_train or 50_000, args.n_valid or 10_000
        dls, data = random_dls(n_train, n_valid), 'random data (uniform uint8 pixels, random labels)'
    else: dls, data = got
    n_train, n_valid = len(dls.train.dataset), len(dls.valid.dataset)
    print(f"Data: {data}, {n_train:,} training and {n_valid:,} validation images, batch 100 "
          f"({len(dls.train)} + {len(dls.valid)} batches per epoch)")
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"load average before {load:.2f}")
    if torch.get_num_threads() > 1 and load + torch.get_num_threads() > (os.cpu_count() or 1) + 0.5:
        print("  Warning: the machine is busy. With more threads than free cores, OpenMP's spin-waiting can make every "
              "variant several times slower (we measured 20 ms → 570 ms per sparse step); use --threads 1, or set "
              "OMP_WAIT_POLICY=PASSIVE before starting Python.")
    print()

    print(f"1. One epoch of {'-'.join(map(str, CIFAR))} (training + validation), ε = 20, SGD momentum 0.9, dropout 0.3")
    results = {}
    if not args.skip_dense:
        results['dense'] = run(dls, 'dense nn.Linear, nn.Dropout', paper_mlp('cifar10'))[0][0]
        results['dense_fast'] = run(dls, 'dense nn.Linear, FastDropout', fast_dropout(paper_mlp('cifar10')))[0][0]
        times, cb, counts, _ = run(dls, 'masked backend, BMSA', paper_mlp('cifar10'), timed(BMSA)(seed=0), epochs=2)
        results['masked'], results['masked_update'] = times[0], cb.update_times[0]
    times, cb, counts, learn = run(dls, 'sparse backend, BMSA', paper_mlp('cifar10'), timed(BMSA)(seed=0, backend='sparse'), epochs=2)
    results['sparse'], results['sparse_update'], results['sparse_2'] = times[0], cb.update_times[0], times[1]
    bmsa_counts = counts
    times, cb, counts, _ = run(dls, 'sparse backend, SET', paper_mlp('cifar10'), timed(SET)(seed=0, backend='sparse'), epochs=2)
    results['set_update'], results['set_epoch'] = cb.update_times[0], times[0]
    print()
    if 'dense' in results:
        print(f"  per-epoch speed-up of the sparse backend: {results['dense'] / results['sparse']:.1f}× over dense nn.Linear, "
              f"{results['dense_fast'] / results['sparse']:.1f}× over dense with FastDropout, "
              f"{results['masked'] / results['sparse']:.1f}× over the masked backend "
              f"(masked is {results['masked'] / results['dense']:.2f}× dense)")
    print(f"  topology update after epoch 1, sparse backend: BMSA {results['sparse_update']:.3f} s = "
          f"{100 * results['sparse_update'] / results['sparse']:.2f} % of its epoch "
          f"(grows {bmsa_counts[0]:,} → {bmsa_counts[1]:,} connections, target='dense'); "
          f"SET {results['set_update']:.3f} s = {100 * results['set_update'] / results['set_epoch']:.2f} % of its epoch")
    if 'masked_update' in results:
        print(f"  topology update after epoch 1, masked backend: BMSA {results['masked_update']:.3f} s = "
              f"{100 * results['masked_update'] / results['masked']:.2f} % of its epoch")
    print(f"  sparse backend, epoch 2 with {bmsa_counts[1]:,} connections: {results['sparse_2']:.2f} s")
    print()

    print("2. Sparse backend (BMSA), one epoch at several ε: time follows the number of connections")
    rows = []
    for eps in args.epsilons:
        eps = int(eps) if eps == int(eps) else eps
        times, cb, counts, _ = run(dls, f'ε = {eps}', paper_mlp('cifar10'), BMSA(epsilon=eps, seed=0, backend='sparse'))
        rows.append((eps, counts[0], times[0]))
    print()
    print(f"  {'ε':>4} {'connections':>12} {'epoch (s)':>10} {'µs per connection per epoch':>28}")
    for eps, n, t in rows: print(f"  {eps:>4} {n:>12,} {t:>10.2f} {1e6 * t / n:>28.2f}")
    print()

    if args.scale:      # a fresh process, so that its peak memory is its own
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, '--scale-only', '--threads', str(args.threads), '--scale-neurons',
                        str(args.scale_neurons), '--scale-steps', str(args.scale_steps), '--scale-epochs', str(args.scale_epochs)])
    print(f"load average after {os.getloadavg()[0]:.2f}")


def peak_rss_mb():
    "This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent process)."
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith('VmHWM:'): return int(line.split()[1]) / 1024
    except OSError: pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_run(args):
    n = args.scale_neurons
    sizes = (3072, n, n, n, 10)
    print(f"3. Scale: BMSA (target='initial'), sparse backend, {'-'.join(map(str, sizes))} MLP at ε = 20, random inputs")
    rss0 = peak_rss_mb()
    print(f"  threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    start = time.perf_counter()
    model = sparse_mlp(sizes, epsilon=20, generator=torch.Generator().manual_seed(0))
    built = time.perf_counter() - start
    total = sum(s1 * s2 for s1, s2 in zip(sizes[:-1], sizes[1:]))
    print(f"  built in {built:.1f} s: {connections(model):,} connections of {total:,} possible "
          f"({connections(model) / total:.5%}); per layer {', '.join(f'{c:,}' for c in layer_connections(model))}")
    dls = random_dls(100 * args.scale_steps, 100, n_in=3072, seed=1)
    timer, cb = EpochTimer(), timed(BMSA)(epsilon=20, seed=0, target='initial', backend='sparse')
    learn = learner(dls, model)
    with learn.no_bar(), learn.no_logging(): learn.fit(args.scale_epochs, cbs=[timer, cb])
    steps = len(dls.train)
    print(f"  {args.scale_epochs} epochs of {steps} training + {len(dls.valid)} validation batches of 100: "
          + ", ".join(f"{t:.1f} s" for t in timer.times)
          + f" (≈ {min(timer.times) / (steps + len(dls.valid)):.2f} s per batch)")
    for i, (h, t) in enumerate(zip(cb.history, cb.update_times)):
        layers = h['layers']
        print(f"  topology update {i + 1}: {t:.1f} s; removed {[l['removed'] for l in layers]}, "
              f"added {[l['added'] for l in layers]}, connections {[l['connections'] for l in layers]}")
    print(f"  peak RSS {peak_rss_mb():,.0f} MB (of which {rss0:,.0f} MB before building the model: Python, torch, fastai); "
          f"the dense float32 weights alone would take {4 * total / 2**30:,.0f} GB")
    print()


if __name__ == '__main__':
    main()
