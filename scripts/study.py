"""Run one reading of the paper's unstated settings (issue 11's study) and write a run folder like bmsa-train's:
config.json, log.csv (one row per epoch, connections in total and per sparse layer) and summary.json.

    python scripts/study.py --dataset cifar10 --method bmsa --epochs 20 --out experiments/study/cifar10-bmsa-k0992 \
        --backend sparse --init lecun k=-0.992 growth=after_removal

Extra `name=value` arguments go to the method's callback (values parsed as Python literals). Not resumable: a study
run is short; an interrupted one is started again. The log is rewritten after every epoch, so it is never lost.
"""
import argparse, ast, csv, json, os, sys, time
from pathlib import Path

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--dataset', default='fashion_mnist', choices=['fashion_mnist', 'cifar10', 'mnist'])
    p.add_argument('--method', default='bmsa', choices=['set', 'accset', 'bmsa', 'dense'])
    p.add_argument('--epochs', type=int, default=100)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--backend', default='masked', choices=['masked', 'sparse'])
    p.add_argument('--init', default='kaiming', choices=['kaiming', 'lecun'])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--max-minutes', type=float, default=None, help='stop after the epoch that passes this wall-clock budget')
    p.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: fastai's choice)")
    p.add_argument('--out', required=True, help='run folder to write (must not hold a finished run)')
    p.add_argument('options', nargs='*', help='name=value settings of the callback, e.g. k=-0.992 layers=hidden')
    a = p.parse_args(argv)
    options = {}
    for o in a.options:
        name, _, value = o.partition('=')
        try: options[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError): options[name] = value
    out = Path(a.out)
    if (out / 'summary.json').exists(): sys.exit(f"{out} already holds a finished run; choose another --out.")
    out.mkdir(parents=True, exist_ok=True)

    import torch
    torch.set_num_threads(a.threads)
    from fastai.torch_core import set_seed
    from fastai.callback.core import Callback, CancelFitException
    from bmsa.models import paper_learner
    from bmsa.set import SET
    from bmsa.accset import AccSET
    from bmsa.bmsa import BMSA
    from bmsa.sparse import layer_connections, connections
    cls = dict(set=SET, accset=AccSET, bmsa=BMSA).get(a.method)
    cb = cls(seed=a.seed, backend=a.backend, init=a.init, **options) if cls else None
    config = dict(vars(a), options=options, device=str(torch.device('cuda' if torch.cuda.is_available() else 'cpu')),
                  torch=torch.__version__)
    config.pop('threads'); config.pop('max_minutes')
    (out / 'config.json').write_text(json.dumps(config, indent=2))

    class EpochLog(Callback):
        "Rewrite log.csv after every epoch: losses, accuracy, connections in total and per sparse layer, seconds."
        order = 60
        def before_fit(self): self.rows, self.start = [], time.time()
        def before_epoch(self): self.start = time.time()
        def after_epoch(self):
            train_loss, valid_loss, acc = self.recorder.values[-1][:3]
            per_layer = layer_connections(self.learn.model)
            self.rows.append(dict(epoch=self.epoch, train_loss=train_loss, valid_loss=valid_loss, accuracy=acc,
                                  connections=sum(per_layer), **{f'connections_{i}': n for i, n in enumerate(per_layer)},
                                  seconds=round(time.time() - self.start, 3)))
            tmp = out / 'log.csv.tmp'
            with open(tmp, 'w', newline='') as f:
                w = csv.DictWriter(f, fieldnames=list(self.rows[0])); w.writeheader(); w.writerows(self.rows)
            os.replace(tmp, out / 'log.csv')
            if a.max_minutes is not None and time.time() - started > 60 * a.max_minutes: raise CancelFitException()
            print(f"epoch {self.epoch}: acc {acc:.4f} loss {valid_loss:.4f} connections {sum(per_layer):,} ({self.rows[-1]['seconds']} s)", flush=True)

    set_seed(a.seed)
    learn = paper_learner(a.dataset, cbs=cb, seed=a.seed)
    if a.device: learn.dls.to(torch.device(a.device)); learn.model.to(torch.device(a.device))
    log = EpochLog()
    start = started = time.time()
    with learn.no_bar(), learn.no_logging(): learn.fit(a.epochs, cbs=log)
    rows = log.rows
    best = max(rows, key=lambda r: r['accuracy'])
    summary = dict(epochs=len(rows), epochs_asked=a.epochs, final_accuracy=rows[-1]['accuracy'], max_accuracy=best['accuracy'],
                   max_accuracy_epoch=best['epoch'], final_valid_loss=rows[-1]['valid_loss'],
                   final_train_loss=rows[-1]['train_loss'], final_connections=rows[-1]['connections'],
                   mean_connections=round(sum(r['connections'] for r in rows) / len(rows)), seconds=round(time.time() - start, 1))
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))

if __name__ == '__main__': main()
