"""Run one reading of the paper's unstated settings (issue 11's study) as a bmsa-train run folder: a thin call of
`bmsa.train.run`, so that every study run is written, logged and resumed by the one writer the other experiments use.

    python scripts/study.py --dataset cifar10 --method bmsa --epochs 20 --out experiments/study/cifar10-bmsa-k0992 \
        --backend sparse --init lecun k=-0.992 growth=after_removal

Extra `name=value` arguments set the reading: a run setting of bmsa-train (k, target, layers, epsilon, zeta, ...)
becomes its option (`--k -0.992`), anything else goes to the method's callback as `--opt name=value` (checked
against its signature). Every other option is bmsa-train's own (see `bmsa-train --help`), e.g. --resume to continue.
"""
import sys
from bmsa.train import run, default_settings, parse_option

def bmsa_train_argv(argv):
    "`argv` with each `name=value` turned into bmsa-train's `--name value` (a run setting) or `--opt name=value`."
    out = []
    for a in argv:
        if a.startswith('-') or '=' not in a: out.append(a); continue
        name, value = parse_option(a)
        flag = f"--{name.replace('_', '-')}"
        if name in default_settings and isinstance(value, bool): out += [flag] if value else []   # --augment, --fast-dropout
        elif name in default_settings: out += [flag, str(value)]
        else: out += ['--opt', a]
    return out

if __name__ == '__main__': run(bmsa_train_argv(sys.argv[1:]))
