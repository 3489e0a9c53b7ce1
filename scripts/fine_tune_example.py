"""Fine-tuning a pretrained network with a sparse-training callback keeps the pretrained weights (issue 24).

No pretrained weights can be downloaded here, so we make our own: a small CNN is trained densely on MNIST and saved;
`vision_learner` then loads it as a pretrained body for Fashion-MNIST and `fine_tune` trains it with `SET(conv=True)`
(the head first with the body frozen, then everything). Three runs from the same pretrained file, side by side:
dense fine-tuning, SET keeping the pretrained weights (the default: they are masked) and SET re-drawing them
(`init='kaiming'`, what the callbacks did before issue 24), plus SET on a body that was never pretrained.

    BMSA_DATA=../shared/data python scripts/fine_tune_example.py [--out experiments/fine-tune/result.md]
"""
import argparse, time, tempfile
from pathlib import Path
import torch
from torch import nn
from fastai.vision.all import (vision_learner, DataLoaders, TensorImage, TensorCategory, ConvLayer, accuracy, set_seed,
                               CrossEntropyLossFlat)
from bmsa.data import load_dataset
from bmsa.set import SET
from bmsa.sparse import sparse_layers, connections, n_parameters

def image_dls(name, n_train, n_valid, bs=128, seed=0):
    "Grayscale images as 3-channel tensors in [0, 1] (what a vision body expects), `n_train` and `n_valid` of them."
    x_train, y_train, x_valid, y_valid = load_dataset(name)
    def items(x, y, n):
        x = x[:n].float().div(255).view(-1, 1, 28, 28).expand(-1, 3, -1, -1).contiguous()
        return list(zip(TensorImage(x), TensorCategory(y[:n].long())))
    set_seed(seed)
    dls = DataLoaders.from_dsets(items(x_train, y_train, n_train), items(x_valid, y_valid, n_valid), bs=bs)
    dls.c = 10
    return dls

PRETRAINED = Path(tempfile.gettempdir()) / 'bmsa-mnist-cnn.pt'

def small_cnn(pretrained=False):
    "A small CNN body (32-64-128 channels, three stride-2 blocks); `pretrained` loads our MNIST weights."
    model = nn.Sequential(ConvLayer(3, 32, stride=2), ConvLayer(32, 64, stride=2), ConvLayer(64, 128, stride=2),
                          nn.AdaptiveAvgPool2d(1))
    if pretrained: model.load_state_dict(torch.load(PRETRAINED, weights_only=True))
    return model

def fine_tune(dls, cbs=None, pretrained=True, epochs=2, seed=0):
    "vision_learner + fine_tune(epochs, freeze_epochs=1); returns the learner, its final accuracy and the seconds."
    set_seed(seed)
    learn = vision_learner(dls, small_cnn, pretrained=pretrained, metrics=accuracy, loss_func=CrossEntropyLossFlat(), cbs=cbs)
    start = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fine_tune(epochs, base_lr=2e-3, freeze_epochs=1)
    return learn, float(learn.recorder.values[-1][2]), time.perf_counter() - start

def kept_layers(learn):
    "How many of the body's sparse layers still equal the pretrained weights times their mask (checked before training)."
    saved = torch.load(PRETRAINED, weights_only=True)
    body = dict(learn.model[0].named_modules())
    return sum(torch.equal(l.dense_weight(), saved[f'{name}.weight'] * l.dense_mask())
               for name, l in body.items() if l in sparse_layers(learn.model))

def main(out=None, n_train=20000, n_valid=5000):
    torch.set_num_threads(1)
    mnist, fashion = image_dls('mnist', n_train, n_valid), image_dls('fashion_mnist', n_train, n_valid)
    set_seed(0)
    pre = vision_learner(mnist, small_cnn, pretrained=False, metrics=accuracy, loss_func=CrossEntropyLossFlat())
    with pre.no_bar(), pre.no_logging(): pre.fit_one_cycle(2, 3e-3)
    torch.save(pre.model[0].state_dict(), PRETRAINED)
    lines = [f"Pretrained on MNIST ({n_train:,} images, 2 epochs): accuracy {pre.recorder.values[-1][2]:.4f}", "",
             "| Fashion-MNIST fine-tuning (fine_tune(2), 1 frozen epoch first) | body weights at the start | accuracy | parameters learned | seconds |",
             "|---|---|---|---|---|"]
    runs = [('dense', dict(), True), ('SET(conv=True, sparsity=0.8)', dict(sparsity=0.8, conv=True, seed=0), True),
            ("SET(conv=True, sparsity=0.8, init='kaiming')", dict(sparsity=0.8, conv=True, seed=0, init='kaiming'), True),
            ('SET(conv=True, sparsity=0.8), body never pretrained', dict(sparsity=0.8, conv=True, seed=0), False)]
    for label, options, pretrained in runs:
        cb = SET(**options) if options else None
        set_seed(0)
        probe = vision_learner(fashion, small_cnn, pretrained=pretrained, metrics=accuracy, loss_func=CrossEntropyLossFlat(), cbs=SET(**options) if options else None)
        n_body = len([m for m in probe.model[0].modules() if isinstance(m, nn.Conv2d) or m in sparse_layers(probe.model)])
        start = (f"{kept_layers(probe)} of {n_body} body layers keep the pretrained weights (masked)" if options and pretrained
                 else 'pretrained, dense' if pretrained else 'random (never pretrained)')
        learn, acc, seconds = fine_tune(fashion, cbs=cb, pretrained=pretrained)
        lines.append(f"| {label} | {start} | {acc:.4f} | {n_parameters(learn.model):,} | {seconds:.0f} |")
        print(lines[-1], flush=True)
    text = '\n'.join(lines) + '\n'
    print(text)
    if out: Path(out).write_text(text)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default=None)
    p.add_argument('--n-train', type=int, default=20000)
    p.add_argument('--n-valid', type=int, default=5000)
    a = p.parse_args()
    main(a.out, a.n_train, a.n_valid)
