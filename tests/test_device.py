"Device handling of the sparse backends: dtype/device propagation on CPU, and (where CUDA is available) training on the GPU, CPU/GPU agreement, and checkpoints written on the GPU resumed on the CPU."
import copy, io
import pytest
import torch
from torch import nn
from bmsa.compressed import SparseLinear, set_kernel
from bmsa.models import FastDropout
from bmsa.sparse import sparse_layers, check_sparse_invariants
from bmsa.test_utils import synthetic_learner, CheckSparseInvariants
from bmsa.bmsa import BMSA

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')


def _train_step(layer, x):
    layer.zero_grad()
    y = layer(x)
    y.pow(2).sum().backward()
    return y.detach(), layer.values.grad.clone()


def test_dtype_change_rebuilds_what_depends_on_it():
    "A layer that computed in float32 with both kernels computes in float64 after `.double()`, like a fresh float64 layer."
    layer = SparseLinear.erdos_renyi(30, 20, 4, generator=torch.Generator().manual_seed(0))
    x = torch.randn(6, 30, dtype=torch.float64)
    for kernel in ('sparse', 'dense'):
        set_kernel(layer, kernel); _train_step(layer, x.float())
    layer = layer.double()
    for kernel in ('sparse', 'dense'):
        set_kernel(layer, kernel)
        y, grad = _train_step(layer, x)
        assert y.dtype == grad.dtype == torch.float64
        expected = x @ layer.dense_weight().t() + layer.bias.detach()
        torch.testing.assert_close(y, expected)


def test_state_dict_travels_across_devices_by_map_location():
    "A compressed layer's state saved anywhere loads into a layer of other shapes, on the device the loader maps it to."
    layer = SparseLinear.erdos_renyi(40, 10, 3, generator=torch.Generator().manual_seed(1))
    view = layer.connection_view()
    view.add(view.sample_empty(3, torch.Generator().manual_seed(2)), torch.ones(3))     # grows the capacity
    buffer = io.BytesIO(); torch.save(layer.state_dict(), buffer); buffer.seek(0)
    fresh = SparseLinear(40, 10)
    fresh.load_state_dict(torch.load(buffer, map_location='cpu'))
    assert fresh.n_connections == layer.n_connections and fresh.capacity == layer.capacity
    x = torch.randn(3, 40)
    torch.testing.assert_close(fresh(x), layer(x))


@cuda
def test_compressed_layer_on_cuda_matches_cpu():
    "Forward, gradients and topology changes (same CPU generator) agree between a CPU layer and its CUDA copy."
    cpu = SparseLinear.erdos_renyi(300, 200, 20, generator=torch.Generator().manual_seed(0))
    gpu = copy.deepcopy(cpu).cuda()
    x = torch.randn(16, 300)
    for kernel in ('sparse', 'dense'):
        set_kernel(cpu, kernel); set_kernel(gpu, kernel)
        (y_cpu, g_cpu), (y_gpu, g_gpu) = _train_step(cpu, x), _train_step(gpu, x.cuda())
        torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(g_gpu.cpu(), g_cpu, rtol=1e-4, atol=1e-3)
    for layer in (cpu, gpu):
        view, g = layer.connection_view(), torch.Generator().manual_seed(3)
        view.remove(view.positions()[::7]); view.add(view.sample_empty(2000, g), torch.full((2000,), 0.01))
        view.set_strikes(view.positions()[:5], torch.tensor([1, 2, 3, 4, 5])); view.add_removals(view.positions()[:3])
        layer.check_invariants()
    assert torch.equal(gpu.connection_positions().cpu(), cpu.connection_positions())
    assert gpu.values.is_cuda and gpu.rows.is_cuda and gpu.removed_positions.is_cuda
    torch.testing.assert_close(gpu.dense_removals().cpu(), cpu.dense_removals())
    torch.testing.assert_close(gpu.to_dense_module()(x.cuda()).cpu(), cpu.to_dense_module()(x), rtol=1e-4, atol=1e-4)
    drop = FastDropout(0.3).cuda()
    kept = (drop(torch.ones(1000, 100, device='cuda')) != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.02


@cuda
@pytest.mark.parametrize('backend', ['masked', 'sparse'])
def test_fit_on_cuda_then_resume_on_cpu(backend, tmp_path):
    "BMSA trains on the GPU on both backends (sparse invariants after every step); its checkpoint resumes on the CPU."
    learn = synthetic_learner(cbs=[BMSA(epsilon=3, seed=0, backend=backend)], n=512, bs=64)
    learn.dls.to(torch.device('cuda'))
    with learn.no_bar(), learn.no_logging(): learn.fit(3, cbs=CheckSparseInvariants())
    assert all(p.is_cuda for p in learn.model.parameters())
    learn.path = tmp_path; learn.save('gpu')
    cpu = synthetic_learner(cbs=[BMSA(epsilon=3, seed=5, backend=backend)], n=512, bs=64)
    cpu.dls.to(torch.device('cpu')); cpu.path = tmp_path
    cpu.load('gpu', device='cpu')
    for a, b in zip(sparse_layers(learn.model), sparse_layers(cpu.model)):
        for name, t in a.state_dict().items(): assert torch.equal(b.state_dict()[name], t.cpu()), name
    with cpu.no_bar(), cpu.no_logging(): cpu.fit(1, cbs=CheckSparseInvariants())
    check_sparse_invariants(cpu.model, cpu.opt)
    assert not any(p.is_cuda for p in cpu.model.parameters())
