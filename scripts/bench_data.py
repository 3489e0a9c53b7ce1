"""Time loading a full dataset into tensors with `bmsa.data`, and one epoch of batching.

Usage: python scripts/bench_data.py [--name fashion_mnist] [--path FOLDER] [--repeats 3]

The data folder is `--path`, else `$BMSA_DATA/<name>/`, else the shared data folder next to the repository,
else the fastai cache (see `bmsa.data.load_dataset`). Prints measured times; it asserts nothing.
"""
import argparse, os, statistics, time
from pathlib import Path

import torch

from bmsa import data
from bmsa.data import load_dataset, dataset_dls


def timed(f, repeats):
    "Run `f` `repeats` times; return (result of the last run, list of wall times in seconds)."
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        res = f()
        times.append(time.perf_counter() - start)
    return res, times


def show(label, times):
    print(f'{label:<50} median {statistics.median(times)*1000:8.1f} ms   min {min(times)*1000:8.1f} ms   (n={len(times)})')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--name', default='fashion_mnist', choices=list(data.DATASET_FILES))
    p.add_argument('--path', default=None, help="the dataset's own folder")
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--bs', type=int, default=100)
    p.add_argument('--threads', type=int, default=2, help='torch threads (the machines are small)')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    shared = Path(__file__).resolve().parents[2]/'shared'/'data'
    if 'BMSA_DATA' not in os.environ and args.path is None and shared.exists(): os.environ['BMSA_DATA'] = str(shared)

    folder, variant = data.locate_dataset(args.name, args.path)
    print(f'{args.name}: {folder} (variant: {variant}), torch {torch.__version__}, {args.threads} threads')
    size = sum((folder/f).stat().st_size for f in data.DATASET_FILES[args.name])
    print(f'files: {size/1e6:.1f} MB')

    def cold_load():
        data._md5_cache.clear()
        return load_dataset(args.name, args.path)

    def md5_only():
        data._md5_cache.clear()
        return data.check_files(args.name, folder)

    (x_train, y_train, x_test, y_test), t = timed(cold_load, args.repeats)
    show('load_dataset, md5s not cached', t)
    _, t = timed(lambda: load_dataset(args.name, args.path), args.repeats)
    show('load_dataset, md5s cached', t)
    _, t = timed(md5_only, args.repeats)
    show('md5 of all files', t)
    print(f'  -> x_train {tuple(x_train.shape)} {x_train.dtype}, x_test {tuple(x_test.shape)}')

    dls, t = timed(lambda: dataset_dls(args.name, args.path, bs=args.bs, device='cpu'), args.repeats)
    show('dataset_dls (load + stats + loaders)', t)

    def epoch(dl):
        n = 0
        for xb, yb in dl: n += len(xb)
        return n
    n, t = timed(lambda: epoch(dls.train), args.repeats)
    show(f'one shuffled train epoch ({n} items, bs {args.bs})', t)
    n, t = timed(lambda: epoch(dls.valid), args.repeats)
    show(f'one validation pass ({n} items)', t)


if __name__ == '__main__': main()
