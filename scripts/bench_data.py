"""Time loading a full dataset into tensors with `bmsa.data`, building its DataLoaders, one epoch of batching, and one
training epoch of the paper's MLP; with `--before REV`, the same for `bmsa/data.py` as it was at git revision REV,
side by side in the same run (interleaved repeats, so that both see the same machine load).

Usage: python scripts/bench_data.py [--name fashion_mnist] [--path FOLDER] [--repeats 3] [--before REV] [--device cpu]

The data folder is `--path`, else `$BMSA_DATA/<name>/`, else the shared data folder next to the repository,
else the fastai cache (see `bmsa.data.load_dataset`). Prints measured times; it asserts nothing.
"""
import argparse, importlib.util, os, statistics, subprocess, tempfile, time, warnings
from pathlib import Path

import torch

from bmsa import data
from bmsa.data import load_dataset
from bmsa.models import paper_learner

root = Path(__file__).resolve().parents[1]


def timed(f, repeats):
    "Run `f` `repeats` times; return (result of the last run, list of wall times in seconds)."
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        res = f()
        times.append(time.perf_counter() - start)
    return res, times


def summary(times): return f'median {statistics.median(times)*1000:8.1f} ms   min {min(times)*1000:8.1f} ms'


def show(label, times): print(f'{label:<50} {summary(times)}   (n={len(times)})')


def data_module_at(rev):
    "`bmsa/data.py` as it was at git revision `rev` (or the file `rev`, where there is no git history), imported as a module of its own."
    if Path(rev).is_file(): text = Path(rev).read_text()
    else:
        src = subprocess.run(['git', 'show', f'{rev}:bmsa/data.py'], cwd=root, capture_output=True, text=True)
        if src.returncode: raise SystemExit(f'--before {rev}: not a file, and git cannot show bmsa/data.py there: {src.stderr.strip()}')
        text = src.stdout
    fn = Path(tempfile.mkdtemp(prefix='bench-data-')) / 'data_before.py'
    fn.write_text(text)
    spec = importlib.util.spec_from_file_location('data_before', fn)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count_items(dl):
    "Iterate over `dl` once; return how many items it served."
    n = 0
    for xb, *_ in dl: n += len(xb)
    return n


def fit_one_epoch(name, dls):
    "Train the paper's MLP for one epoch (training and validation) on `dls`."
    learn = paper_learner(name, dls=dls)
    with learn.no_bar(), learn.no_logging(): learn.fit(1)


def compare(args, versions):
    "Build the DataLoaders, serve one epoch and train one epoch with each version in turn (alternating), `args.repeats` times."
    times = {}
    def record(what, label, f):
        cpu_start = time.process_time()
        res, t = timed(f, 1)
        cpu = time.process_time() - cpu_start
        times.setdefault(what, {}).setdefault(label, []).append((t[0], cpu))
        return res
    for r in range(args.repeats):
        for label, module in (versions if r % 2 == 0 else versions[::-1]):     # alternate which goes first
            dls = record('dataset_dls (load + stats + loaders)', label,
                         lambda: module.dataset_dls(args.name, args.path, bs=args.bs, device=args.device))
            record('one shuffled train epoch, batches only', label, lambda: count_items(dls.train))
            record('fit(1): paper MLP, train + validation', label, lambda: fit_one_epoch(args.name, dls))
    print(f'\nWall time, and CPU time of this process (less sensitive to other load on a shared machine), {args.repeats} runs each:')
    print(f'{"":<45} ' + '   '.join(f'{label:<40}' for label, _ in versions))
    for what, by_label in times.items():
        for i, kind in enumerate(('wall', 'CPU')):
            print(f'{what if i == 0 else "":<40} {kind:>4} ' +
                  '   '.join(f'{summary([t[i] for t in by_label[label]]):<40}' for label, _ in versions))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--name', default='fashion_mnist', choices=list(data.DATASET_FILES))
    p.add_argument('--path', default=None, help="the dataset's own folder")
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--bs', type=int, default=100)
    p.add_argument('--threads', type=int, default=2, help='torch threads (the machines are small)')
    p.add_argument('--device', default='cpu', help="where the data and the model live: 'cpu' or 'cuda'")
    p.add_argument('--before', default=None, metavar='REV', help='also time bmsa/data.py of git revision REV (or a copy of it at path REV), side by side')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter('ignore', data.LossyDatasetWarning)
    shared = Path(__file__).resolve().parents[2]/'shared'/'data'
    if 'BMSA_DATA' not in os.environ and args.path is None and shared.exists(): os.environ['BMSA_DATA'] = str(shared)
    versions = ([(f'before ({args.before})', data_module_at(args.before))] if args.before else []) + [('now (working tree)', data)]

    folder, variant = data.locate_dataset(args.name, args.path)
    print(f'{args.name}: {folder} (variant: {variant}), torch {torch.__version__}, {args.threads} threads, device {args.device}')
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
    compare(args, versions)


if __name__ == '__main__': main()
