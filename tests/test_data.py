"""Tests of `bmsa.data` on files on disk: small synthetic datasets in `tmp_path`, plus the real shared data if
`BMSA_DATA` points at it (e.g. `BMSA_DATA=/work/shared/data`)."""
import gzip, hashlib, io, os, pickle, shutil, struct, tarfile, warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import bmsa.data as data
from bmsa.data import (DatasetError, DatasetNotFoundError, LossyDatasetWarning, IDX_FILES, CIFAR_FILES,
                       load_dataset, dataset_dls, file_md5)


real_fetch = data._fetch   # the module's own downloader, captured before the autouse fixture replaces it


# ---------------------------------------------------------------- helpers

def write_idx(fn, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 8, arr.ndim]) + b''.join(struct.pack('>I', d) for d in arr.shape)
    with gzip.open(fn, 'wb') as f: f.write(header + arr.tobytes())


def md5_of(fn): return hashlib.md5(Path(fn).read_bytes()).hexdigest()


def make_mnist(folder, n_train=30, n_test=20, seed=0):
    "Write a tiny MNIST-style dataset to `folder`; return its arrays."
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = dict(train_x=rng.integers(0, 256, (n_train, 28, 28)), train_y=np.arange(n_train) % 10,
                  t10k_x=rng.integers(0, 256, (n_test, 28, 28)), t10k_y=(np.arange(n_test)*3) % 10)
    for split in ('train', 't10k'):
        write_idx(folder/f'{split}-images-idx3-ubyte.gz', arrays[f'{split}_x'])
        write_idx(folder/f'{split}-labels-idx1-ubyte.gz', arrays[f'{split}_y'])
    return arrays


def make_cifar(folder, n=10, seed=0):
    "Write a tiny CIFAR-10 python-format dataset (n images per batch) to `folder`; return (x_train, y_train)."
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for f in CIFAR_FILES[:-1]:
        x, y = rng.integers(0, 256, (n, 3072), dtype=np.uint8), list(rng.integers(0, 10, n))
        with open(folder/f, 'wb') as fh:
            pickle.dump({b'batch_label': f.encode(), b'labels': [int(v) for v in y], b'data': x}, fh, protocol=2)
        if f != 'test_batch': xs.append(x); ys += y
    with open(folder/'batches.meta', 'wb') as fh:
        pickle.dump({b'label_names': [c.encode() for c in data.CLASS_NAMES['cifar10']]}, fh, protocol=2)
    return np.concatenate(xs).reshape(-1, 3, 32, 32), np.array(ys)


def known(monkeypatch, name, folder, files, variant='synthetic'):
    "Register the md5s of `files` in `folder` as variant `variant` of dataset `name`."
    md5s = {f: md5_of(folder/f) for f in files}
    monkeypatch.setitem(data.KNOWN_MD5S, name, {variant: md5s})
    return md5s


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    "No test touches the network or ~/.fastai: downloads fail and the cache is a temporary folder."
    def no_network(url, dest): raise OSError(f'network disabled in tests ({url})')
    monkeypatch.setattr(data, '_fetch', no_network)
    monkeypatch.setattr(data, 'data_cache_dir', lambda name: tmp_path/'cache'/name)


# ---------------------------------------------------------------- parsing and checking local files

def test_idx_parse(tmp_path, monkeypatch):
    arrays = make_mnist(tmp_path/'ds')
    known(monkeypatch, 'fashion_mnist', tmp_path/'ds', IDX_FILES)
    x_train, y_train, x_test, y_test = load_dataset('fashion_mnist', path=tmp_path/'ds')
    assert x_train.dtype == y_train.dtype == torch.uint8
    assert x_train.shape == (30, 28, 28) and x_test.shape == (20, 28, 28)
    assert torch.equal(x_train, torch.tensor(arrays['train_x'], dtype=torch.uint8))
    assert y_test.tolist() == arrays['t10k_y'].tolist()


def test_truncated_gzip_names_file(tmp_path, monkeypatch):
    make_mnist(tmp_path/'ds')
    fn = tmp_path/'ds'/'train-images-idx3-ubyte.gz'
    fn.write_bytes(fn.read_bytes()[:-100])
    known(monkeypatch, 'mnist', tmp_path/'ds', IDX_FILES)   # md5s pass, so the parser must catch it
    with pytest.raises(DatasetError, match=r'train-images-idx3-ubyte\.gz: not a valid gzip file'):
        load_dataset('mnist', path=tmp_path/'ds')


def test_bad_idx_size_names_file(tmp_path, monkeypatch):
    make_mnist(tmp_path/'ds')
    with gzip.open(tmp_path/'ds'/'t10k-labels-idx1-ubyte.gz', 'wb') as f: f.write(bytes([0, 0, 8, 1, 0, 0, 0, 20]) + bytes(19))
    known(monkeypatch, 'mnist', tmp_path/'ds', IDX_FILES)
    with pytest.raises(DatasetError, match=r't10k-labels-idx1-ubyte\.gz: IDX data is truncated'):
        load_dataset('mnist', path=tmp_path/'ds')


def test_wrong_md5_names_file(tmp_path, monkeypatch):
    make_mnist(tmp_path/'ds')
    md5s = known(monkeypatch, 'mnist', tmp_path/'ds', IDX_FILES)
    fn = tmp_path/'ds'/'train-labels-idx1-ubyte.gz'
    write_idx(fn, np.zeros(30))
    with pytest.raises(DatasetError) as e: load_dataset('mnist', path=tmp_path/'ds')
    msg = str(e.value)
    assert str(fn) in msg and f'md5 {md5_of(fn)}, expected {md5s[fn.name]}' in msg


def test_official_md5s_reject_synthetic_files(tmp_path):
    make_mnist(tmp_path/'ds')
    with pytest.raises(DatasetError, match='expected f68b3c2dcbeaaa9fbdd348bbdeb94873 \\(official\\)'):
        load_dataset('mnist', path=tmp_path/'ds')


def test_md5_is_cached_per_path_size_mtime(tmp_path):
    fn = tmp_path/'f'
    fn.write_bytes(b'one')
    assert file_md5(fn) == md5_of(fn)
    n = len(data._md5_cache)
    assert file_md5(fn) == md5_of(fn) and len(data._md5_cache) == n   # second call: a cache hit
    fn.write_bytes(b'two!')
    assert file_md5(fn) == md5_of(fn)                                  # rewritten file: hashed again


def test_cifar_folder_layouts_and_variant_warning(tmp_path, monkeypatch):
    x_train, y_train = make_cifar(tmp_path/'ds'/'cifar-10-batches-py')
    known(monkeypatch, 'cifar10', tmp_path/'ds'/'cifar-10-batches-py', CIFAR_FILES, variant='lossy-test')
    monkeypatch.setitem(data.VARIANT_WARNINGS, 'lossy-test', 'a lossy test variant')
    with pytest.warns(LossyDatasetWarning, match='a lossy test variant'):
        xt, yt, xv, yv = load_dataset('cifar10', path=tmp_path/'ds')                          # in the subfolder
    assert xt.shape == (50, 3, 32, 32) and xv.shape == (10, 3, 32, 32) and xt.dtype == torch.uint8
    assert torch.equal(xt, torch.tensor(x_train)) and yt.tolist() == y_train.tolist()
    with pytest.warns(LossyDatasetWarning):
        xt2 = load_dataset('cifar10', path=tmp_path/'ds'/'cifar-10-batches-py')[0]           # directly in the folder
    assert torch.equal(xt, xt2)


def test_bad_pickle_names_file(tmp_path, monkeypatch):
    make_cifar(tmp_path/'ds')
    fn = tmp_path/'ds'/'data_batch_3'
    fn.write_bytes(fn.read_bytes()[:500])
    known(monkeypatch, 'cifar10', tmp_path/'ds', CIFAR_FILES)
    with pytest.raises(DatasetError, match='data_batch_3: not a readable pickle'): load_dataset('cifar10', path=tmp_path/'ds')


def test_mixed_variants_rejected(tmp_path, monkeypatch):
    make_cifar(tmp_path/'ds')
    md5s = {f: md5_of(tmp_path/'ds'/f) for f in CIFAR_FILES}
    # test_batch matches only variant 'b', every other file only variant 'a'
    monkeypatch.setitem(data.KNOWN_MD5S, 'cifar10', {'a': {**md5s, 'test_batch': '0'*32},
                                                      'b': {f: ('1'*32 if f != 'test_batch' else m) for f, m in md5s.items()}})
    with pytest.raises(DatasetError, match='different variants'): load_dataset('cifar10', path=tmp_path/'ds')


# ---------------------------------------------------------------- finding and downloading

def test_missing_everywhere_lists_places(tmp_path, monkeypatch):
    monkeypatch.setenv('BMSA_DATA', str(tmp_path/'shared'))
    (tmp_path/'shared'/'mnist').mkdir(parents=True)
    (tmp_path/'shared'/'mnist'/'train-images-idx3-ubyte.gz').write_bytes(b'')
    with pytest.raises(DatasetNotFoundError) as e: load_dataset('mnist')
    msg = str(e.value)
    assert f"{tmp_path/'shared'/'mnist'} (missing train-labels-idx1-ubyte.gz" in msg
    assert f"{tmp_path/'cache'/'mnist'} (does not exist)" in msg
    assert 'network disabled in tests' in msg and 'path=' in msg and 'BMSA_DATA' in msg
    assert not any((tmp_path/'cache'/'mnist').glob('*'))


def test_missing_path_does_not_download(tmp_path, monkeypatch):
    def fail(url, dest): raise AssertionError('must not download when path= is given')
    monkeypatch.setattr(data, '_fetch', fail)
    with pytest.raises(DatasetNotFoundError, match='nowhere \\(does not exist\\)'): load_dataset('mnist', path=tmp_path/'nowhere')


def test_cifar10_env_falls_back_to_jpeg_folder(tmp_path, monkeypatch):
    monkeypatch.setenv('BMSA_DATA', str(tmp_path))
    assert data.search_dirs('cifar10')[:4] == [tmp_path/'cifar10'/'cifar-10-batches-py', tmp_path/'cifar10',
                                               tmp_path/'cifar10-jpeg'/'cifar-10-batches-py', tmp_path/'cifar10-jpeg']


def serve(monkeypatch, sources, log):
    "Make `_fetch` copy from the dict `sources` (url -> bytes or an exception), logging urls."
    def fetch(url, dest):
        log.append((url, Path(dest)))
        src = sources.get(url, OSError(f'404 {url}'))
        if isinstance(src, Exception):
            Path(dest).write_bytes(b'partial')   # a download that dies half way
            raise src
        Path(dest).write_bytes(src)
    monkeypatch.setattr(data, '_fetch', fetch)


def test_download_verifies_and_renames_atomically(tmp_path, monkeypatch):
    monkeypatch.delenv('BMSA_DATA', raising=False)
    arrays = make_mnist(tmp_path/'src')
    md5s = known(monkeypatch, 'mnist', tmp_path/'src', IDX_FILES, variant='official')
    first, second = data.FILE_MIRRORS['mnist']
    sources = {second + f: (tmp_path/'src'/f).read_bytes() for f in IDX_FILES}   # the first mirror is down
    log = []
    serve(monkeypatch, sources, log)
    x_train, y_train, x_test, y_test = load_dataset('mnist')
    assert y_train.tolist() == arrays['train_y'].tolist()
    cache = tmp_path/'cache'/'mnist'
    assert sorted(p.name for p in cache.iterdir()) == sorted(IDX_FILES)        # no temporary files left
    assert {md5_of(cache/f) for f in IDX_FILES} == set(md5s.values())
    for url, dest in log:                                                       # written under a temporary name
        assert dest.parent == cache and dest.name not in IDX_FILES
    assert [u for u, _ in log][:2] == [first + IDX_FILES[0], second + IDX_FILES[0]]
    log.clear()
    load_dataset('mnist')                                                       # second time: from the cache
    assert log == []


def test_corrupt_download_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.delenv('BMSA_DATA', raising=False)
    make_mnist(tmp_path/'src')
    known(monkeypatch, 'fashion_mnist', tmp_path/'src', IDX_FILES, variant='official')
    mirror = data.FILE_MIRRORS['fashion_mnist'][0]
    sources = {mirror + f: (tmp_path/'src'/f).read_bytes() for f in IDX_FILES}
    bad = 't10k-images-idx3-ubyte.gz'
    sources[mirror + bad] = sources[mirror + bad][:-50]                          # truncated in transit
    sources[mirror + 't10k-labels-idx1-ubyte.gz'] = ConnectionResetError('connection reset')
    serve(monkeypatch, sources, [])
    with pytest.raises(DatasetNotFoundError) as e: load_dataset('fashion_mnist')
    assert f'{mirror + bad}: md5' in str(e.value)
    cache = tmp_path/'cache'/'fashion_mnist'
    assert sorted(p.name for p in cache.iterdir()) == ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']
    # a later run with a good connection completes the download
    sources[mirror + bad] = (tmp_path/'src'/bad).read_bytes()
    sources[mirror + 't10k-labels-idx1-ubyte.gz'] = (tmp_path/'src'/'t10k-labels-idx1-ubyte.gz').read_bytes()
    assert load_dataset('fashion_mnist')[2].shape == (20, 28, 28)


def test_cifar_archive_download_via_file_url(tmp_path, monkeypatch):
    monkeypatch.delenv('BMSA_DATA', raising=False)
    monkeypatch.setattr(data, '_fetch', real_fetch)                             # file:// URLs work offline
    x_train, _ = make_cifar(tmp_path/'src'/'cifar-10-batches-py')
    known(monkeypatch, 'cifar10', tmp_path/'src'/'cifar-10-batches-py', CIFAR_FILES, variant='official')
    archive = tmp_path/'arch'/'cifar-10-python.tar.gz'
    archive.parent.mkdir()
    with tarfile.open(archive, 'w:gz') as t: t.add(tmp_path/'src'/'cifar-10-batches-py', arcname='cifar-10-batches-py')
    monkeypatch.setitem(data.ARCHIVES, 'cifar10', dict(url=archive.as_uri(), md5=md5_of(archive), folder='cifar-10-batches-py'))
    xt = load_dataset('cifar10')[0]
    assert torch.equal(xt, torch.tensor(x_train))
    cache = tmp_path/'cache'/'cifar10'
    assert [p.name for p in cache.iterdir()] == ['cifar-10-batches-py']        # archive and staging folder removed


def test_cifar_archive_wrong_md5_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv('BMSA_DATA', raising=False)
    monkeypatch.setattr(data, '_fetch', real_fetch)
    archive = tmp_path/'cifar-10-python.tar.gz'
    archive.write_bytes(b'not an archive')
    monkeypatch.setitem(data.ARCHIVES, 'cifar10', dict(url=archive.as_uri(), md5='0'*32, folder='cifar-10-batches-py'))
    with pytest.raises(DatasetNotFoundError, match='md5 .*, expected 0{32}'): load_dataset('cifar10')
    assert list((tmp_path/'cache'/'cifar10').iterdir()) == []


# ---------------------------------------------------------------- DataLoaders

def test_dataset_dls_on_synthetic_data(tmp_path, monkeypatch):
    make_mnist(tmp_path/'ds', n_train=200, n_test=100)
    known(monkeypatch, 'mnist', tmp_path/'ds', IDX_FILES)
    dls = dataset_dls('mnist', path=tmp_path/'ds', bs=32, n_train=50, n_valid=20, device='cpu')
    xb, yb = dls.train.one_batch()
    assert xb.shape == (32, 784) and xb.dtype == torch.float32 and yb.dtype == torch.int64
    assert (len(dls.train), len(dls.valid)) == (2, 1)
    assert torch.bincount(dls.train.dataset.y).tolist() == [5]*10
    xs = torch.cat([b[0] for b in dls.train])
    assert abs(float(xs.mean())) < 0.1 and abs(float(xs.std()) - 1) < 0.1
    def two_epochs():
        dl = dataset_dls('mnist', path=tmp_path/'ds', bs=32, n_train=50, n_valid=20, device='cpu').train
        return [[b[1].tolist() for b in dl] for _ in range(2)]
    first, again = two_epochs(), two_epochs()
    assert first == again and first[0] != first[1]                              # seeded shuffling, new order each epoch


@pytest.mark.parametrize('device', ['cpu', pytest.param('cuda', marks=pytest.mark.skipif(not torch.cuda.is_available(), reason='no GPU'))])
@pytest.mark.parametrize('name', ['mnist', 'cifar10'])
def test_fastai_workflow_on_synthetic_data(tmp_path, monkeypatch, name, device):
    "show_batch, show_results, predict, export + load_learner on loaders of both image shapes (issue 10, item 10)."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from fastai.learner import Learner, load_learner
    from fastai.losses import CrossEntropyLossFlat
    from bmsa.models import mlp
    if name == 'mnist': make_mnist(tmp_path/'ds', n_train=60, n_test=20); files, shape = IDX_FILES, (1, 28, 28)
    else: make_cifar(tmp_path/'ds', n=20); files, shape = CIFAR_FILES, (3, 32, 32)
    known(monkeypatch, name, tmp_path/'ds', files)
    dls = dataset_dls(name, path=tmp_path/'ds', bs=8, device=device)
    learn = Learner(dls, mlp((3*32*32 if name == 'cifar10' else 784, 16, 10)), loss_func=CrossEntropyLossFlat(), path=tmp_path)
    assert dls.train.dataset.x.device.type == dls.valid.dataset.x.device.type == device      # batches are cut where the data live
    x, y, samples = dls.valid.show_batch(max_n=3, show=False)
    assert type(x).__name__ == ('TensorImageBW' if shape[0] == 1 else 'TensorImage') and x.shape == (8, *shape)
    assert torch.allclose(x*255, dls.valid.dataset.x[:8].view(8, *shape).float().cpu(), atol=1e-3)
    assert [str(s[1]) for s in samples] == [data.CLASS_NAMES[name][int(i)] for i in dls.valid.dataset.y[:3]]
    dls.show_batch(max_n=4); plt.close('all')
    with learn.no_bar(): learn.show_results(max_n=4)
    assert [len(ax.get_title().split('\n')) for ax in plt.gcf().axes] == [2]*4    # target, then prediction
    plt.close('all')
    image = dls.valid.dataset.x[0].view(*shape)                                       # on `device`, like the data
    with learn.no_bar(): label, idx, probs = learn.predict(image)
    assert label == data.CLASS_NAMES[name][idx] and abs(float(probs.sum()) - 1) < 1e-5
    learn.export('export.pkl')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        inference = load_learner(tmp_path/'export.pkl')
    assert len(inference.dls.train_ds) == len(inference.dls.valid_ds) == 0                # saved without the data
    with inference.no_bar(): assert torch.allclose(inference.predict(image.cpu())[2], probs, atol=1e-5)   # on the CPU
    with pytest.raises(ValueError, match=r'expected a uint8 image of shape'): learn.predict(image.float())


# ---------------------------------------------------------------- the real shared data

def shared(sub):
    root = os.environ.get('BMSA_DATA')
    if not root or not (Path(root)/sub).is_dir():
        pytest.skip(f'needs {sub}/: set BMSA_DATA to the shared data folder (e.g. BMSA_DATA=/work/shared/data)')
    return Path(root)


def test_real_fashion_mnist():
    shared('fashion_mnist')
    x_train, y_train, x_test, y_test = load_dataset('fashion_mnist')
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == torch.uint8
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


def test_real_cifar10_jpeg_stand_in_warns():
    root = shared('cifar10-jpeg')
    if (root/'cifar10').is_dir(): pytest.skip('BMSA_DATA has a cifar10/ folder, which takes precedence over cifar10-jpeg/')
    with pytest.warns(LossyDatasetWarning, match='LOSSY JPEG'):
        x_train, y_train, x_test, y_test = load_dataset('cifar10')
    assert x_train.shape == (50000, 3, 32, 32) and x_test.shape == (10000, 3, 32, 32)
    assert x_train.dtype == torch.uint8
    assert torch.bincount(y_test.long()).tolist() == [1000]*10
