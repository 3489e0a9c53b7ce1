"""Train one method of the RigL comparison (nbs/06b_rigl_comparison.ipynb): a thin call of `bmsa-train`.

    python scripts/compare_methods.py --dataset fashion_mnist --method rigl --epochs 100 --copy-to experiments/compare-fashion_mnist-rigl
    python scripts/compare_methods.py --dataset cifar10 --model cnn --sparsity 0.9 --method bmsa_rigl --epochs 20 \
        --copy-to experiments/compare-cifar10-bmsa_rigl

Every option is bmsa-train's (`bmsa-train --help`): --method set, accset, bmsa (a topology update per epoch), rigl or
bmsa_rigl (every ΔT steps: `--opt delta_t=100`, `--opt end_fraction=0.75`; --zeta is RigL's α), --model mlp (the
paper's) or cnn (`bmsa.models.small_cnn`, every layer sparse), --epsilon or --sparsity for the starting budget. The run
trains into runs/<name of --copy-to> (checkpoints stay there, ignored by git; `--resume runs/<name>` continues it),
unless --out or --resume says where; its log has the columns `updates` and `update_seconds` (the topology updates
during each epoch and their wall time). When it ends, config.json, log.csv and summary.json are copied to --copy-to.
"""
import shutil, sys
from pathlib import Path
from bmsa.train import run

def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    copy_to = None
    if '--copy-to' in argv:
        i = argv.index('--copy-to'); copy_to = Path(argv[i + 1]); del argv[i:i + 2]
    if '--out' not in argv and '--resume' not in argv:
        if copy_to is None: raise SystemExit("compare_methods.py: give --copy-to (or --out / --resume), so the run is kept.")
        argv += ['--out', str(Path('runs') / copy_to.name)]
    if '--threads' not in argv: argv += ['--threads', '1']
    run(argv)
    folder = Path(argv[argv.index('--out' if '--out' in argv else '--resume') + 1])
    if copy_to is not None:
        copy_to.mkdir(parents=True, exist_ok=True)
        for name in ('config.json', 'log.csv', 'summary.json'):
            if (folder / name).exists(): shutil.copyfile(folder / name, copy_to / name)

if __name__ == '__main__': main()
