"""Time fastai training epochs of the paper's MLPs with dense nn.Linear, the masked and the compressed backend, side by side.

Usage: python scripts/bench_backends.py [--quick] [--device cpu|cuda] [--threads 1] [--batches 10] [--repeats 3]
                                        [--data synthetic|real] [--densities 0.05 0.1 0.2 0.3 0.4 0.5] [--sections 0 1 2 3 4 5 6 7 8]

Prints measured figures (it asserts nothing), in one run, so that every ratio compares rows measured under the same
machine load (printed with each section). Every row trains with the same `Learner` (SGD momentum 0.9, lr 0.01, batch
100, fastai's loop) and the same dropout; each section is printed once with `nn.Dropout` and once with `FastDropout`.

0. Kernels: one training step (forward and backward) of single layers with sparse and with dense kernels at several
   densities, and the density where dense kernels become faster (what `SparseLinear.dense_from` should be).
1. CIFAR-10 MLP 3072-4000-1000-4000-10 at ε = 20: dense nn.Linear, masked backend, compressed backend
   (density-adaptive kernels): epoch times and the speed-up over dense; the time the dropout draws alone take (the
   same on every row, so a floor under every epoch: the most any backend can gain over dense), fastai's loop alone
   (the same batches through a 3072-16-10 network, whose arithmetic is negligible: a second floor, added to the
   first), each at one thread and at all, and what these floors leave for the other cores to bring.
2. The same network at uniform densities up to 50 %: masked, compressed with adaptive kernels, and compressed forced
   to sparse and to dense kernels, and dense kernels on compact slots (the scatter and gather that dense order
   removes), against the dense network.
3. The Fashion-MNIST network 784-256-128-100-10 at ε = 20: dense, masked, compressed.
4. The topology update (SET, AccSET, BMSA's first update, on both backends) as a share of an epoch, at ε = 20 and
   (AccSET, BMSA, compressed) at the sweep's smallest density, 20 % and its largest; and a profile of BMSA's first
   update on the compressed backend.
5. A profile of the compressed ε = 20 epoch: torch's operators by their own time, and the time outside them.
6. Training steps of the CIFAR-10 network at uniform densities in many short turns, rows in a random order each turn:
   dense nn.Linear against dense kernels on compact slots (a scatter and a gather a step) and in dense order (a masked
   gradient, the optimizer over every position), and against the layout `SparseLinear.dense_order_from` chooses.
7. The loop's own cost: full CIFAR-10-shaped epochs (500 training and 100 validation batches of 100 images of 3,072
   features) of a network too small for its arithmetic to count (3072-16-10), in a plain PyTorch loop and in fastai's
   `Learner`, dense, with one callback that does nothing, and with BMSA on both backends: the time per batch that no
   kernel can remove, a floor under every epoch trained through that loop on this device (the GPU target of 0.5 s an
   epoch is 0.83 ms a batch). On CUDA it also runs the paper's CIFAR-10 MLP (dense, and compressed at ε = 20) in the
   plain loop: the epoch its kernels alone allow.
8. torch.compile: training steps of the CIFAR-10 MLP, dense and compressed at ε = 20, eager against compiled (on
   CUDA also `mode='reduce-overhead'`, CUDA graphs), and what the compilation took: whether compiling pays here.

An epoch is timed on `--batches` training batches and a fifth (CIFAR-10) or a sixth (Fashion-MNIST) as many
validation batches, as in the full datasets (50,000 + 10,000 and 60,000 + 10,000 images), after one warm-up epoch;
the full-epoch figure scales that time to the full dataset. Times are wall time with every core (`--threads`, default
all of them), as a user waits for them; section 1 prints this process's CPU time beside it (CPU time hides idle
threads, so it is no headline) and a thread-scaling row, dense and compressed at one thread and at all. On a shared
machine, pause other work while it runs, or read the load averages it prints. Rows
are measured in turns, `--repeats` times: each time printed is the row's fastest, and each ratio (× dense) the median
over turns of the row's time over the dense row's time in the same turn, so that a burst of load on the machine moves
both sides of a ratio. Data: random images of the datasets' shapes (`--data synthetic`, the default: the arithmetic does
not depend on the pixels), or the real datasets through `bmsa.data.dataset_dls` (`--data real`).
AccSET's and BMSA's updates depend on the epoch's validation accuracy; on random data that is 10 %, so section 4
gives them `--accuracy` (0.45, about CIFAR-10's after one epoch) instead.
"""
import argparse, contextlib, cProfile, io, math, os, pstats, random, statistics, sys, time, warnings
from functools import partial

import torch
from torch import nn
from fastai.learner import Learner
from fastai.callback.core import Callback
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy
from fastai.optimizer import SGD
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader

from bmsa.models import paper_mlp, paper_architectures
from bmsa.masked import sparsify
from bmsa.sparse import connections, sparse_layers
from bmsa.compressed import SparseLinear, set_kernel
from bmsa.models import use_fast_dropout
from bmsa.set import SET
from bmsa.accset import AccSET
from bmsa.bmsa import BMSA

FULL = {'cifar10': (500, 100), 'fashion_mnist': (600, 100)}     # training and validation batches of 100 per epoch


def load():
    "The 1-minute load average, and the number of CPUs, as text."
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def device_of(model): return next(model.parameters()).device


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


CLOCK = {'cpu': time.process_time, 'wall': time.perf_counter}
clock = time.perf_counter     # set in main from --clock: wall time by default


class BatchDL(DataLoader):
    "A fastai DataLoader that cuts batches of uint8 images out of one tensor and normalises them, like the real loaders."
    def __init__(self, x, y, bs=100, shuffle=False, device=None):
        super().__init__(list(range(len(x))), bs=bs, shuffle=shuffle, device=device)
        self.x, self.y = x, y
    def create_batches(self, samps):
        idxs = torch.tensor(list(samps), dtype=torch.long, device=self.x.device)
        for i in range(0, len(idxs), self.bs):
            b = idxs[i:i + self.bs]
            yield self.x[b].float().mul_(1 / 255).sub_(0.5), self.y[b]


def synthetic_dls(name, n_train_batches, device, seed=0):
    "DataLoaders of random images of dataset `name`'s shape (and random labels), in its training/validation proportion."
    g = torch.Generator().manual_seed(seed)
    n_in = paper_architectures[name][0]
    full_train, full_valid = FULL[name]
    n_valid_batches = max(1, round(n_train_batches * full_valid / full_train))
    def part(batches):
        x = torch.randint(0, 256, (100 * batches, n_in), dtype=torch.uint8, generator=g).to(device)
        return x, torch.randint(0, 10, (100 * batches,), generator=g).to(device)
    return DataLoaders(BatchDL(*part(n_train_batches), shuffle=True, device=device), BatchDL(*part(n_valid_batches), device=device),
                       device=device)


def real_dls(name, n_train_batches, device):
    "The real dataset (stratified subsets of the same sizes as `synthetic_dls`) through `bmsa.data.dataset_dls`."
    from bmsa.data import dataset_dls
    full_train, full_valid = FULL[name]
    return dataset_dls(name, bs=100, n_train=100 * n_train_batches, n_valid=100 * max(1, round(n_train_batches * full_valid / full_train)),
                       download=False, device=device)


class EpochTimer(Callback):
    "Time of each epoch (training and validation) on `clock`, and this process's CPU time beside it, synchronised with the device."
    order = -100
    def before_fit(self): self.times, self.cpu_times = [], []
    def before_epoch(self): sync(self.dls.device); self.start, self.cpu_start = clock(), time.process_time()
    def after_epoch(self):
        sync(self.dls.device)
        self.times.append(clock() - self.start); self.cpu_times.append(time.process_time() - self.cpu_start)


def learner(dls, model):
    return Learner(dls, model, opt_func=partial(SGD, mom=0.9), lr=0.01, loss_func=CrossEntropyLossFlat(), metrics=accuracy)


LAYOUTS = {'auto': None, 'compact': math.inf, 'dense order': 0.}    # each sparse layer's `dense_order_from` (None: the default)


def make_model(name, backend=None, epsilon=None, density=None, fast=False, kernel='auto', device='cpu', seed=0, layout='auto'):
    "The paper's MLP for `name`: dense (backend None), or sparse at ε or at a uniform density, on a backend, its slots in `layout`."
    torch.manual_seed(seed)
    model = paper_mlp(name)
    if backend is not None:
        target = dict(epsilon=epsilon) if density is None else dict(sparsity=1 - density, distribution='uniform')
        model = sparsify(model, generator=torch.Generator().manual_seed(seed), backend=backend, **target)
        if LAYOUTS[layout] is not None:
            for layer in sparse_layers(model): layer.dense_order_from = {'cpu': LAYOUTS[layout], 'cuda': LAYOUTS[layout]}
        set_kernel(model, kernel)
    if fast: use_fast_dropout(model)
    return model.to(device)


def epoch_time(dls, model, name, cbs=(), excluded=lambda: 0.):
    "Seconds for one full epoch of dataset `name`, scaled from a warm epoch on `dls` less `excluded()` seconds; and the learner."
    timer = EpochTimer()
    learn = learner(dls, model)
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter('ignore')
        learn.fit(2, cbs=[timer, *cbs])
    scale = sum(FULL[name]) / (len(dls.train) + len(dls.valid))
    learn.cpu_seconds = timer.cpu_times[-1] * scale
    return (timer.times[-1] - excluded()) * scale, learn


def measure(rows, dls, name, repeats, rounds=None, cpu=None):
    "The fastest of `repeats` full-epoch times of each row (label → model factory), measured in turns (each turn's times into `rounds`)."
    best = {label: math.inf for label in rows}
    for _ in range(repeats):
        times = {}
        for label, factory in rows.items():
            times[label], learn = epoch_time(dls, factory(), name)
            if cpu is not None: cpu[label] = min(cpu.get(label, math.inf), learn.cpu_seconds)
        best = {label: min(best[label], t) for label, t in times.items()}
        if rounds is not None: rounds.append(times)
    return best


@contextlib.contextmanager
def threads(n):
    "Run the block with `n` torch threads."
    old = torch.get_num_threads(); torch.set_num_threads(n)
    try: yield
    finally: torch.set_num_threads(old)


def paired_ratio(rounds, label, base):
    "The median over turns of `label`'s time over `base`'s time in the same turn: the ratio least moved by other processes' load."
    return statistics.median(r[label] / r[base] for r in rounds)


def kernel_section(args, device):
    print(f"0. Kernels: one training step (forward + backward, batch 100) of one layer, sparse vs dense kernels ({load()})")
    densities = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5] if not args.quick else [0.02, 0.1, 0.3, 0.5]
    for n_in, n_out in [(3072, 4000), (4000, 1000), (784, 256), (128, 100)]:
        times = {}
        for d in densities:
            n = round(d * n_in * n_out)
            layer = SparseLinear(n_in, n_out, positions=torch.randperm(n_in * n_out)[:n], values=torch.randn(n) * 0.01, device=device)
            x = torch.randn(100, n_in, device=device)
            for kernel in ('sparse', 'dense'):
                layer.kernel = kernel
                def step():
                    layer.values.grad = None; layer(x).sum().backward()
                step(); sync(device)
                reps = 3 if args.quick else 5
                start = clock()
                for _ in range(reps): step()
                sync(device)
                times[d, kernel] = 1e3 * (clock() - start) / reps
        crossing = next((d for d in densities if times[d, 'dense'] < times[d, 'sparse']), None)
        print(f"  {n_in}→{n_out}: " + "  ".join(f"{d:.0%} {times[d, 'sparse']:.2f}/{times[d, 'dense']:.2f}" for d in densities)
              + " ms (sparse/dense); dense kernels faster from "
              + (f"{crossing:.0%}" if crossing is not None else f"above {densities[-1]:.0%}"))
    print(f"  SparseLinear.dense_from = {SparseLinear.dense_from} (this run: {device.type})")
    print()


def dropout_seconds(model, dls, name, reps=20):
    "Seconds per full epoch that the model's dropout modules alone take in their forward draws, at its activations' shapes."
    shapes, hooks = [], [m.register_forward_hook(lambda m, inp, out: shapes.append((m, inp[0].shape)))
                         for m in model.modules() if 'Dropout' in type(m).__name__]
    with torch.no_grad(): model.eval()(dls.one_batch()[0])
    for h in hooks: h.remove()
    model.train()
    device = device_of(model)
    inputs = [(m, torch.ones(shape, device=device)) for m, shape in shapes]   # made once: only the draws are timed
    def draws():
        with torch.no_grad():
            for m, x in inputs: m(x)
    draws(); sync(device); start = clock()
    for _ in range(reps): draws()
    sync(device)
    return (clock() - start) / reps * FULL[name][0]


def tiny_model(backend=None, device='cpu'):
    "A 3072-16-10 network (dense, or sparse on `backend`): CIFAR-10's batches, too little arithmetic to count."
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3072, 16), nn.ReLU(), nn.Linear(16, 10))
    if backend is not None: model = sparsify(model, epsilon=1, backend=backend, generator=torch.Generator().manual_seed(0))
    return model.to(device)


def loop_seconds(dls, device, repeats):
    "Seconds per full CIFAR-10 epoch that fastai's loop takes on `dls` with a network whose arithmetic is negligible."
    return min(epoch_time(dls, tiny_model(device=device), 'cifar10')[0] for _ in range(repeats))


def cifar_section(args, device, dls, fast):
    drop = 'FastDropout' if fast else 'nn.Dropout'
    print(f"1. CIFAR-10 MLP 3072-4000-1000-4000-10 at ε = 20, {drop} on every row ({load()})")
    rows = {'dense nn.Linear': lambda: make_model('cifar10', fast=fast, device=device),
            'masked backend': lambda: make_model('cifar10', 'masked', epsilon=20, fast=fast, device=device),
            'compressed backend (adaptive kernels)': lambda: make_model('cifar10', 'sparse', epsilon=20, fast=fast, device=device)}
    rounds, cpu = [], {}
    best = measure(rows, dls, 'cifar10', args.repeats, rounds, cpu)
    n = torch.get_num_threads()
    for label, t in best.items():
        print(f"  {label:<40} {t:7.2f} s per epoch ({args.clock}, {n} threads; CPU time {cpu[label]:7.2f} s)   "
              f"{1 / paired_ratio(rounds, label, 'dense nn.Linear'):5.1f}× dense")
    def floors(): return dropout_seconds(rows['dense nn.Linear'](), dls, 'cifar10'), loop_seconds(dls, device, args.repeats)
    draws, loop = floors()
    floor = draws + loop
    print(f"  the dropout draws alone ({drop}, the same on every row): {draws:.2f} s per epoch, so no backend's epoch can be "
          f"more than {best['dense nn.Linear'] / draws:.1f}× faster than dense here")
    print(f"  fastai's loop alone (the same batches, a 3072-16-10 network): {loop:.2f} s per epoch; with the draws "
          f"{floor:.2f} s, so no backend's epoch can be more than {best['dense nn.Linear'] / floor:.1f}× faster than dense here")
    if n > 1 and device.type == 'cpu':   # thread scaling: what the other cores bring, in the same clock
        one = {}
        for label in ('dense nn.Linear', 'compressed backend (adaptive kernels)'):
            with threads(1): one[label] = measure({label: rows[label]}, dls, 'cifar10', args.repeats)[label]
            print(f"  {label:<40} 1 thread {one[label]:7.2f} s, {n} threads {best[label]:7.2f} s: "
                  f"{one[label] / best[label]:4.2f}× from the other cores")
        with threads(1): draws_one, loop_one = floors()
        compressed = one['compressed backend (adaptive kernels)']
        print(f"  the dropout draws: 1 thread {draws_one:.2f} s, {n} threads {draws:.2f} s per epoch; were everything else in the "
              f"compressed epoch to divide perfectly over {n} threads, it would be "
              f"{compressed / (draws + (compressed - draws_one) / n):.2f}× faster than at one thread")
        floor_one = draws_one + loop_one
        print(f"  fastai's loop: 1 thread {loop_one:.2f} s, {n} threads {loop:.2f} s per epoch; with the draws, were everything "
              f"else to divide perfectly over {n} threads, {compressed / (floor + (compressed - floor_one) / n):.2f}× at most")
    print(f"  ({load()} after)")
    print()
    return best


def sweep_section(args, device, dls, fast):
    drop = 'FastDropout' if fast else 'nn.Dropout'
    print(f"2. CIFAR-10 MLP at uniform densities, {drop}; each time also relative to the dense network measured beside it ({load()})")
    print(f"  {'density':>8} {'dense':>8} {'masked':>14} {'adaptive':>14} {'forced sparse':>14} {'forced dense':>14} "
          f"{'dense, compact':>14}   adaptive kernels per layer")
    for d in args.densities:
        rows = {kernel: (lambda kernel=kernel: make_model('cifar10', 'sparse', density=d, fast=fast, kernel=kernel, device=device))
                for kernel in ('auto', 'sparse', 'dense')}
        rows['compact'] = lambda: make_model('cifar10', 'sparse', density=d, fast=fast, kernel='dense', device=device, layout='compact')
        rows['masked'] = lambda: make_model('cifar10', 'masked', density=d, fast=fast, device=device)
        rows['nn.Linear'] = lambda: make_model('cifar10', fast=fast, device=device)
        rounds = []
        best = measure(rows, dls, 'cifar10', args.repeats, rounds)
        chosen = ''.join('D' if l.uses_dense_kernels() else 'S' for l in sparse_layers(rows['auto']()))
        cell = lambda label: f"{best[label]:6.2f} s {paired_ratio(rounds, label, 'nn.Linear'):4.2f}×"
        spread = [r['auto'] / r['nn.Linear'] for r in rounds]
        print(f"  {d:>8.0%} {best['nn.Linear']:6.2f} s {cell('masked'):>14} {cell('auto'):>14} {cell('sparse'):>14} "
              f"{cell('dense'):>14} {cell('compact'):>14}   {chosen}   adaptive × dense turn by turn: {min(spread):.2f}–{max(spread):.2f}")
    print(f"  ({load()} after; times: the fastest of {args.repeats}; ×: the median over turns of the time over the dense "
          f"network's in the same turn; S = sparse kernels, D = dense kernels; 'dense, compact': dense kernels on compact slots "
          f"(scatter and gather every step, as before dense order); the turn-by-turn range shows how much the "
          f"machine's load moves one turn's ratio)")
    print()


def fashion_section(args, device, fast):
    drop = 'FastDropout' if fast else 'nn.Dropout'
    dls = make_dls(args, 'fashion_mnist', device)
    print(f"3. Fashion-MNIST MLP 784-256-128-100-10 at ε = 20, {drop} ({load()})")
    rows = {'dense nn.Linear': lambda: make_model('fashion_mnist', fast=fast, device=device),
            'masked backend': lambda: make_model('fashion_mnist', 'masked', epsilon=20, fast=fast, device=device),
            'compressed backend (adaptive kernels)': lambda: make_model('fashion_mnist', 'sparse', epsilon=20, fast=fast, device=device),
            'compressed backend, forced sparse kernels': lambda: make_model('fashion_mnist', 'sparse', epsilon=20, fast=fast, kernel='sparse', device=device)}
    rounds = []
    best = measure(rows, dls, 'fashion_mnist', args.repeats, rounds)
    for label, t in best.items(): print(f"  {label:<42} {t:6.2f} s per epoch   {1 / paired_ratio(rounds, label, 'dense nn.Linear'):5.2f}× dense")
    print()


def timed(method, accuracy):
    "`method` recording the wall time of each topology update, and reading `accuracy` as every epoch's accuracy."
    class Timed(method):
        def epoch_accuracy(self): return accuracy
        def update_topology(self, *args, **kwargs):
            sync(device_of(self.learn.model))
            start = clock()
            if getattr(self, 'profile', False) and not hasattr(self, 'profiled'):
                self.profiled = cProfile.Profile(); self.profiled.enable()
                try: super().update_topology(*args, **kwargs)
                finally: self.profiled.disable()
            else: super().update_topology(*args, **kwargs)
            sync(device_of(self.learn.model))
            self.update_times = getattr(self, 'update_times', []) + [clock() - start]
    Timed.__name__ = method.__name__
    return Timed


def update_section(args, device, dls):
    print(f"4. Topology update after the first epoch, CIFAR-10 MLP at ε = 20, nn.Dropout, accuracy {args.accuracy} ({load()})")
    print("   shares of the epoch before the update (SET's, whose topology keeps its size) and of the epoch after it")
    profile = None
    def row(backend, method, before_epoch=None, profiled=False, **target):
        "Time `method`'s first update on a fresh model; print it as shares of the epoch before (`before_epoch`, or its own) and after."
        cb = timed(method, args.accuracy)(seed=0)
        cb.profile = profiled
        model = make_model('cifar10', backend, device=device, **target)
        before = connections(model)
        epoch, learn = epoch_time(dls, model, 'cifar10', cbs=[cb], excluded=lambda: cb.update_times[0])   # the update runs in epoch 2
        before_epoch, update = before_epoch or epoch, cb.update_times[0]
        where = ('compressed' if backend == 'sparse' else 'masked') + (f" {target['density']:.0%}" if 'density' in target else '')
        print(f"  {where:<14} {method.__name__:<6} update {update:6.3f} s = {100 * update / before_epoch:5.2f} % of {before_epoch:6.2f} s, "
              f"{100 * update / epoch:5.2f} % of {epoch:6.2f} s; connections {before:,} → {connections(learn.model):,}")
        return epoch, cb
    for backend in ('sparse', 'masked'):
        before_epoch = None
        for method in (SET, AccSET, BMSA):
            epoch, cb = row(backend, method, before_epoch, profiled=backend == 'sparse' and method is BMSA, epsilon=20)
            before_epoch = before_epoch or epoch
            if cb.profile: profile = cb.profiled
    print(f"  At uniform densities (compressed, adaptive kernels): shares of the epoch after the update")
    for d in sorted({min(args.densities), 0.2, max(args.densities)}):
        for method in (AccSET, BMSA): row('sparse', method, density=d)
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats('cumulative').print_stats(14)
        lines = [l for l in out.getvalue().splitlines() if l.strip()]
        start = next(i for i, l in enumerate(lines) if 'ncalls' in l)
        print("  Profile of BMSA's first update on the compressed backend (cumulative seconds):")
        for l in lines[start:start + 15]: print("   " + l[:150])
    print()


def profile_section(args, device, dls):
    "Where the compressed backend's ε = 20 epoch goes: torch's operators by their own time, and what is left (Python, fastai)."
    from torch.profiler import profile, ProfilerActivity
    for fast in (False, True):
        learn = learner(dls, make_model('cifar10', 'sparse', epsilon=20, fast=fast, device=device))
        with learn.no_bar(), learn.no_logging(), contextlib.redirect_stdout(io.StringIO()):
            learn.fit(1)
            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == 'cuda' else [])
            with profile(activities=activities) as prof:
                start = time.perf_counter(); learn.fit(1); sync(device); wall = time.perf_counter() - start   # the profiler's clock
        ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
        total = sum(e.self_cpu_time_total for e in ops) / 1e6
        print(f"5. Where a compressed ε = 20 epoch goes ({'FastDropout' if fast else 'nn.Dropout'}; {len(dls.train)} + {len(dls.valid)} "
              f"batches, {wall:.2f} s wall time under the profiler; {load()})")
        for e in ops[:10]:
            print(f"  {e.key[:44]:<44} {e.self_cpu_time_total / 1e6:7.3f} s  {100 * e.self_cpu_time_total / 1e6 / wall:5.1f} %  "
                  f"({e.count} calls)")
        print(f"  {'all other operators':<44} {total - sum(e.self_cpu_time_total for e in ops[:10]) / 1e6:7.3f} s")
        print(f"  {'outside operators (Python, fastai, autograd)':<44} {max(0., wall - total):7.3f} s  {100 * max(0., wall - total) / wall:5.1f} %")
        print()


STEPS = 4   # training steps a turn, in sections 6 and 8


def step_runner(model, device):
    "A function that trains `model` for `STEPS` steps (batch 100, SGD momentum) on one random CIFAR-10-shaped batch; it records its first call's time."
    x = torch.randn(100, paper_architectures['cifar10'][0], device=device)
    y = torch.randint(0, 10, (100,), device=device)
    loss_func, opt = nn.CrossEntropyLoss(), SGD(list(model.parameters()), 0.01, mom=0.9)
    def run():
        for _ in range(STEPS): loss_func(model(x), y).backward(); opt.step(); opt.zero_grad()
    sync(device); start = clock(); run(); sync(device)
    run.first = clock() - start    # with a compiled model, the compilation
    run(); return run


def step_turns(rows, turns, device, order):
    "Times per step of each row (label → runner), in `turns` turns with the rows in a random order each turn."
    rounds = []
    for _ in range(turns):
        times = {}
        for label, run in order.sample(list(rows.items()), len(rows)):
            sync(device); start = clock(); run(); sync(device); times[label] = (clock() - start) / STEPS
        rounds.append(times)
    return rounds


def step_section(args, device):
    "Training steps of the CIFAR-10 network, dense against the layouts of the dense path, in many short paired turns."
    print(f"6. Training steps (batch 100, SGD momentum, FastDropout, a plain loop) of the CIFAR-10 MLP at uniform densities: "
          f"dense nn.Linear against the compressed network, its layers on dense kernels, with compact slots and in dense "
          f"order, and as `dense_order_from` chooses ({load()})")
    turns, runner = 10 * args.repeats, partial(step_runner, device=device)
    print(f"  {'density':>8} {'dense':>9} {'compact slots':>16} {'dense order':>16} {'auto':>16}   ({turns} turns of {STEPS} steps, "
          f"rows in a random order each turn; ×: median over turns of the time over dense's)")
    order = random.Random(0)
    for d in args.densities:
        rows = {'dense': runner(make_model('cifar10', fast=True, device=device))}
        for layout in ('compact', 'dense order', 'auto'):
            rows[layout] = runner(make_model('cifar10', 'sparse', density=d, fast=True, kernel='dense' if layout != 'auto' else 'auto',
                                             device=device, layout=layout))
        rounds = step_turns(rows, turns, device, order)
        ms = lambda label: 1e3 * statistics.median(r[label] for r in rounds)
        cell = lambda label: f"{ms(label):6.1f} ms {paired_ratio(rounds, label, 'dense'):4.2f}×"
        print(f"  {d:>8.0%} {ms('dense'):6.1f} ms {cell('compact'):>16} {cell('dense order'):>16} {cell('auto'):>16}")
    print(f"  ({load()} after)")
    print()


def loop_section(args, device):
    "Full epochs of a tiny network with CIFAR-10's batches: a plain loop, fastai's `Learner`, and `Learner` with BMSA."
    train, valid = FULL['cifar10']
    print(f"7. The loop's own cost: full epochs ({train} + {valid} batches of 100 CIFAR-10-shaped images, on {device.type}) of "
          f"a 3072-16-10 network, whose arithmetic is small: the plain loop's time bounds it ({load()})")
    dls = synthetic_dls('cifar10', train, device)
    tiny = partial(tiny_model, device=device)
    def plain(model):
        "A hand-written loop over the same uint8 tensors: shuffle, slice, normalise, step; then validation without gradients."
        opt, loss_func = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), nn.CrossEntropyLoss()
        (x, y), (xv, yv) = (dls.train.x, dls.train.y), (dls.valid.x, dls.valid.y)
        def epoch():
            sync(device); start = clock()
            model.train()
            order = torch.randperm(len(x), device=device)
            for i in range(0, len(x), 100):
                b = order[i:i + 100]
                loss_func(model(x[b].float().mul_(1 / 255).sub_(0.5)), y[b]).backward(); opt.step(); opt.zero_grad()
            model.eval()
            with torch.no_grad():
                for i in range(0, len(xv), 100): model(xv[i:i + 100].float().mul_(1 / 255).sub_(0.5))
            sync(device)
            return clock() - start
        epoch()
        return epoch()
    rows = {'plain PyTorch loop, dense': lambda: plain(tiny()),
            'fastai Learner, dense': lambda: loop_seconds(dls, device, 1),
            'fastai Learner, dense, an empty callback': lambda: epoch_time(dls, tiny(), 'cifar10', cbs=[Callback()])[0],
            'fastai Learner + BMSA, masked': lambda: epoch_time(dls, tiny('masked'), 'cifar10', cbs=[BMSA(seed=0)])[0],
            'fastai Learner + BMSA, compressed': lambda: epoch_time(dls, tiny('sparse'), 'cifar10', cbs=[BMSA(seed=0)])[0]}
    if device.type == 'cuda':   # the paper's network in the plain loop: what its kernels take (on a CPU, minutes of arithmetic)
        rows.update({'plain PyTorch loop, CIFAR-10 MLP, dense': lambda: plain(make_model('cifar10', device=device)),
                     'plain PyTorch loop, CIFAR-10 MLP, ε = 20': lambda: plain(make_model('cifar10', 'sparse', epsilon=20, device=device))})
    rounds = []
    for _ in range(args.repeats): rounds.append({label: row() for label, row in rows.items()})
    for label in rows:
        t = min(r[label] for r in rounds)
        print(f"  {label:<42} {t:6.2f} s per epoch  {1e3 * t / (train + valid):5.2f} ms per batch  "
              f"{paired_ratio(rounds, label, 'plain PyTorch loop, dense'):5.2f}× the plain loop")
    print(f"  ({load()} after)")
    print()


def compile_section(args, device):
    "Training steps of the CIFAR-10 network, eager against `torch.compile`d, dense and compressed, in paired turns."
    modes = ['default'] + (['reduce-overhead'] if device.type == 'cuda' else [])   # CUDA graphs only exist on CUDA
    print(f"8. torch.compile: training steps (batch 100, SGD momentum, nn.Dropout, a plain loop) of the CIFAR-10 MLP, dense "
          f"and compressed at ε = 20, eager against compiled ({', '.join(modes)}) ({load()})")
    turns, runner, order = 10 * args.repeats, partial(step_runner, device=device), random.Random(0)
    for label, factory in [('dense nn.Linear', lambda: make_model('cifar10', device=device)),
                           ('compressed, ε = 20', lambda: make_model('cifar10', 'sparse', epsilon=20, device=device))]:
        torch._dynamo.reset()
        rows = {'eager': runner(factory())}
        for mode in modes:
            try: rows[mode] = runner(torch.compile(factory(), mode=mode))
            except Exception as e: print(f"  {label}: compiled ({mode}) failed: {type(e).__name__}: {str(e).strip().splitlines()[0]}")
        rounds = step_turns(rows, turns, device, order)
        ms = lambda name: 1e3 * statistics.median(r[name] for r in rounds)
        print(f"  {label:<20} eager {ms('eager'):7.2f} ms a step" + "".join(
              f";  compiled ({mode}) {ms(mode):7.2f} ms, {paired_ratio(rounds, mode, 'eager'):4.2f}× eager, "
              f"first {STEPS} steps {rows[mode].first:5.1f} s (compiling, or reading inductor's cache)" for mode in modes if mode in rows))
    print(f"  ({turns} turns of {STEPS} steps, rows in a random order each turn; ×: median over turns of the time over eager's; "
          f"{load()} after)")
    print()


def make_dls(args, name, device):
    if args.data == 'real':
        try: return real_dls(name, args.batches, device)
        except Exception as e: print(f"  {name}: real data not available ({type(e).__name__}: {str(e).splitlines()[0]}); random images instead")
    return synthetic_dls(name, args.batches, device)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--quick', action='store_true', help='fewer batches, densities and repeats (a few minutes)')
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    p.add_argument('--threads', type=int, default=os.cpu_count() or 1, help='CPU threads (default: every core, as users run)')
    p.add_argument('--batches', type=int, default=None, help='training batches per timed epoch (default 10, quick 5)')
    p.add_argument('--repeats', type=int, default=None, help='measurements per row, in turns: the fastest is printed, ratios are medians over turns (default 3, quick 1)')
    p.add_argument('--data', choices=['synthetic', 'real'], default='synthetic')
    p.add_argument('--densities', type=float, nargs='*', default=None, help='densities of the sweep (default 5 %% … 50 %%)')
    p.add_argument('--accuracy', type=float, default=0.45, help="the epoch accuracy AccSET and BMSA see in section 4")
    p.add_argument('--clock', choices=['cpu', 'wall'], default='wall',
                   help="'wall': wall time, what a user waits (default); 'cpu': this process's CPU time (hides idle threads)")
    p.add_argument('--sections', type=int, nargs='*', default=[0, 1, 2, 3, 4, 5, 6, 7, 8], help='which sections to run')
    args = p.parse_args()
    if args.threads < 1: p.error(f"--threads must be at least 1; got {args.threads}")
    args.batches = args.batches or (5 if args.quick else 10)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.densities = args.densities or ([0.1, 0.3, 0.5] if args.quick else [0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available(): p.error("--device cuda, but CUDA is not available")
    warnings.filterwarnings('ignore', category=UserWarning)
    global clock
    clock = CLOCK[args.clock]
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f"CPU, {torch.get_num_threads()} thread(s)"
    print(f"torch {torch.__version__} on {name}; {load()}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
          f"{args.batches} training batches per timed epoch, best of {args.repeats}; data: {args.data}; "
          f"times are {'CPU time of this process' if args.clock == 'cpu' else 'wall time'}")
    print()
    if 0 in args.sections: kernel_section(args, device)
    cifar = make_dls(args, 'cifar10', device)
    for fast in (False, True):
        if 1 in args.sections: cifar_section(args, device, cifar, fast)
        if 2 in args.sections: sweep_section(args, device, cifar, fast)
        if 3 in args.sections: fashion_section(args, device, fast)
    if 4 in args.sections: update_section(args, device, cifar)
    if 5 in args.sections: profile_section(args, device, cifar)
    if 6 in args.sections: step_section(args, device)
    if 7 in args.sections: loop_section(args, device)
    if 8 in args.sections: compile_section(args, device)
    print(f"done; {load()}")


if __name__ == '__main__':
    main()
