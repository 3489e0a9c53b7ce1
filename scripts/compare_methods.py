"""Train one method of the RigL comparison (nbs/06b_rigl_comparison.ipynb) and log it per epoch.

Usage:
  python scripts/compare_methods.py --dataset fashion_mnist --method rigl --epochs 20 --out experiments/compare-fashion_mnist-rigl
  python scripts/compare_methods.py --dataset cifar10 --model cnn --method bmsa_rigl --epochs 3 --out experiments/compare-cifar10-bmsa_rigl

Methods: set, accset, bmsa (topology update once per epoch), rigl, bmsa_rigl (every --delta-t training steps, drop
fraction decayed by a cosine until 75 % of the planned steps). Every method starts from the same Erdős–Rényi
connection budget (ε, or --sparsity for the CNN) and the same seed.

Models: `--model mlp` is the paper's MLP with its hyperparameters (`paper_learner`); `--model cnn` is a small CNN
(three 3×3 convolutions and two linear layers, every one of them sparse) on the same flattened images, for CIFAR-10.

The run folder gets config.json, log.csv (one row per epoch: losses, accuracy, connections, per-layer connections,
`updates`: topology updates during the epoch, `update_seconds`: the time they took, `seconds`: the whole epoch) and
summary.json. Training runs in `--work` (default runs/<name>, ignored by git: checkpoints stay there); only the
three small files are copied to --out after every epoch. A run is not resumable: to continue, run again with more
--epochs (same seed: the first epochs repeat exactly, up to the T_end of RigL, which follows the planned steps).
"""
import argparse, json, os, shutil, subprocess, sys, time
from pathlib import Path
from functools import partial
import torch
from torch import nn
from fastai.callback.core import Callback
from fastai.learner import Learner, Metric
from fastai.optimizer import SGD
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy
from fastai.torch_core import set_seed
from bmsa.data import dataset_dls
from bmsa.models import paper_learner
from bmsa.set import SET
from bmsa.accset import AccSET
from bmsa.bmsa import BMSA
from bmsa.rigl import RigL, BMSARigL
from bmsa.runs import RunFolder

def timed(cls):
    "`cls` with each per-epoch topology update timed into its `history` entry (RigL times its own updates)."
    class Timed(cls):
        def update_topology(self, accuracy=None, epoch=None):
            start, n = time.perf_counter(), len(self.history)
            super().update_topology(accuracy, epoch)
            if len(self.history) > n: self.history[-1]['seconds'] = time.perf_counter() - start
    Timed.__name__ = cls.__name__
    return Timed

class UpdateCost(Metric):
    "A metric column: the number of topology updates (or their seconds) since the previous row."
    def __init__(self, dst, what): self.dst, self.what, self.counted = dst, what, 0
    def reset(self): pass
    def accumulate(self, learn): pass
    @property
    def value(self):
        new = self.dst.history[self.counted:]
        self.counted = len(self.dst.history)
        return round(sum(h.get('seconds', 0.) for h in new), 4) if self.what == 'update_seconds' else len(new)
    @property
    def name(self): return self.what

def small_cnn(n_classes=10):
    "A small CNN on flattened 3×32×32 images: three 3×3 convolutions (16, 32, 64 channels) with pooling, then 1024→128→10."
    return nn.Sequential(nn.Unflatten(1, (3, 32, 32)),
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, n_classes))

def make_callback(a):
    "The sparse-training callback of `a.method`."
    budget = dict(sparsity=a.sparsity) if a.sparsity is not None else dict(epsilon=a.epsilon)
    common = dict(seed=a.seed, backend=a.backend, conv=a.model == 'cnn', **budget)
    rigl = dict(alpha=a.alpha, delta_t=a.delta_t, end_fraction=a.end_fraction)
    return {'set': lambda: timed(SET)(zeta=a.zeta, **common),
            'accset': lambda: timed(AccSET)(zeta=a.zeta, k=a.k, **common),
            'bmsa': lambda: timed(BMSA)(zeta=a.zeta, k=a.k, **common),
            'rigl': lambda: RigL(**rigl, **common),
            'bmsa_rigl': lambda: BMSARigL(k=a.k, **rigl, **common)}[a.method]()

class CopySmallFiles(Callback):
    "After each epoch, copy config.json, log.csv and summary.json of the work folder to the output folder."
    order = RunFolder.order + 1
    def __init__(self, work, out): self.work, self.out = Path(work), Path(out)
    def after_epoch(self): self.copy()
    def after_fit(self): self.copy()
    def copy(self):
        self.out.mkdir(parents=True, exist_ok=True)
        for name in ('config.json', 'log.csv', 'summary.json'):
            if (self.work / name).exists(): shutil.copyfile(self.work / name, self.out / name)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--dataset', default='fashion_mnist', choices=['fashion_mnist', 'mnist', 'cifar10'])
    p.add_argument('--model', default='mlp', choices=['mlp', 'cnn'])
    p.add_argument('--method', required=True, choices=['set', 'accset', 'bmsa', 'rigl', 'bmsa_rigl'])
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--epsilon', type=float, default=20., help="Erdős–Rényi(-kernel) ε of the initial topology")
    p.add_argument('--sparsity', type=float, default=None, help="instead of ε: a global sparsity, spread over the layers by ER(K)")
    p.add_argument('--zeta', type=float, default=0.3)
    p.add_argument('--k', type=float, default=-0.87)
    p.add_argument('--alpha', type=float, default=0.3, help="RigL's initial drop fraction")
    p.add_argument('--delta-t', type=int, default=100, help="training steps between RigL updates")
    p.add_argument('--end-fraction', type=float, default=0.75, help="RigL stops updating after this share of the steps")
    p.add_argument('--backend', default='masked', choices=['masked', 'sparse'])
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--n-train', type=int, default=None)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--note', default=None, help="a note stored in config.json (e.g. which code the run used)")
    p.add_argument('--out', required=True, help="folder for the small files (config.json, log.csv, summary.json)")
    p.add_argument('--work', default=None, help="training folder with checkpoints (default runs/<out's name>)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = Path(a.out); work = Path(a.work or Path('runs') / out.name)
    if (work / 'config.json').exists() or (out / 'config.json').exists():
        raise SystemExit(f"{work} or {out} already holds a run; remove it (or choose another --out) to start again.")
    work.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    config = dict(vars(a), command=' '.join([Path(sys.argv[0]).name] + (argv or sys.argv[1:])), git_commit=commit,
                  data_note=("cifar10 is the lossy JPEG (q75) re-encoding stand-in, not the official files"
                             if a.dataset == 'cifar10' else None))
    (work / 'config.json').write_text(json.dumps(config, indent=2))
    set_seed(a.seed)
    cb = make_callback(a)
    if a.model == 'mlp': learn = paper_learner(a.dataset, n_train=a.n_train, seed=a.seed, lr=a.lr, cbs=cb)
    else:
        dls = dataset_dls(a.dataset, n_train=a.n_train, seed=a.seed)
        learn = Learner(dls, small_cnn(), opt_func=partial(SGD, mom=0.9), lr=a.lr, loss_func=CrossEntropyLossFlat(),
                        metrics=accuracy, cbs=cb)
    learn.metrics = list(learn.metrics) + [UpdateCost(cb, 'updates'), UpdateCost(cb, 'update_seconds')]
    with learn.no_bar():
        learn.fit(a.epochs, cbs=[RunFolder(work, checkpoint_every=max(1, a.epochs)), CopySmallFiles(work, out)])
    print(json.dumps(json.loads((out / 'summary.json').read_text())))

if __name__ == '__main__': main()
