"""Data sets, file formats (written here in tiny versions, including corrupt ones), the restricted
unpickler, the batch iterator and the CLI spec parser."""
import gzip
import os
import pickle

import numpy as np
import pytest

from tinyrect.data import (DataFileError, DataLoader, Dataset, cifar10, digits, fashion_mnist, gaussian,
                           load_dataset, mnist, read_idx, safe_unpickle, shapes, standardize, write_idx)

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


# ----------------------------------------------------------------------------- digits, shapes, gaussian
def test_digits_split_shapes_and_standardization():
    ds = digits()
    assert ds.x_train.shape == (1437, 1, 8, 8) and ds.x_test.shape == (360, 1, 8, 8)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert abs(ds.x_train.mean()) < 1e-5 and abs(ds.x_train.std() - 1) < 1e-5
    counts = np.bincount(ds.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # stratified: 10% of the test set per class
    again = digits()
    np.testing.assert_array_equal(ds.x_test, again.x_test)
    assert not np.array_equal(digits(seed=1).y_test, ds.y_test)
    raw = digits(normalize=False)
    assert raw.x_train.min() == 0 and raw.x_train.max() == 16


def test_shapes_reproducible_balanced_and_named():
    a, b = shapes(n=120, size=12, classes=4, seed=3), shapes(n=120, size=12, classes=4, seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (96, 1, 12, 12) and a.x_test.shape == (24, 1, 12, 12)
    assert np.bincount(a.y_train).tolist() == [24] * 4 and np.bincount(a.y_test).tolist() == [6] * 4
    assert not np.array_equal(shapes(n=120, size=12, classes=4, seed=4).x_train, a.x_train)
    named = shapes(n=40, size=10, classes=("ring", "plus"))
    assert named.classes == ("ring", "plus")
    with pytest.raises(ValueError, match="classes"):
        shapes(n=40, classes=("ring", "hexagon"))


def test_shapes_is_not_linearly_trivial():
    ds = shapes(n=900, size=16, classes=6, seed=0)
    # A linear classifier on pixels: ridge regression onto one-hot targets, closed form.
    x = np.c_[ds.x_train.reshape(len(ds.x_train), -1), np.ones(len(ds.x_train))]
    w = np.linalg.solve(x.T @ x + np.eye(x.shape[1]), x.T @ np.eye(6)[ds.y_train])
    xt = np.c_[ds.x_test.reshape(len(ds.x_test), -1), np.ones(len(ds.x_test))]
    test_acc = np.mean(np.argmax(xt @ w, axis=1) == ds.y_test)
    assert 1 / 6 + 0.05 < test_acc < 0.7  # measured 0.33: above chance, far from solved


def test_gaussian_inputs():
    x = gaussian(4000, (2, 5, 5), seed=1)
    assert x.shape == (4000, 2, 5, 5) and x.dtype == np.float32
    assert abs(x.mean()) < 0.02 and abs(x.var() - 1) < 0.02
    np.testing.assert_array_equal(x, gaussian(4000, (2, 5, 5), seed=1))
    np.testing.assert_allclose(gaussian(10, 3, dtype=np.float64), gaussian(10, 3), rtol=1e-6)


def test_standardize_uses_train_statistics():
    rng = np.random.default_rng(0)
    train = (rng.normal(2, 3, (9000, 3, 2, 2)) * [[[1]], [[10]], [[0.1]]]).astype(np.float32)
    test = train[:5] + 1
    a, b, stats = standardize(train, test, per_channel=True)
    np.testing.assert_allclose(stats["std"], train.std(axis=(0, 2, 3), dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(a.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(a.std(axis=(0, 2, 3)), 1, rtol=1e-5)
    np.testing.assert_allclose(b, a[:5] + 1 / np.array(stats["std"], np.float32).reshape(3, 1, 1), rtol=1e-5)
    assert a.dtype == b.dtype == np.float32 and train.mean() > 1  # the input was not modified
    c, _, _ = standardize(train, test, inplace=True)
    assert c is train and abs(train.mean()) < 1e-5


def test_dataset_rejects_nan_and_bad_labels():
    x, y = np.zeros((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1])
    bad = x.copy()
    bad[2, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite.*\(2, 0, 1, 1\)"):
        Dataset(bad, y, x, y, ("a", "b"), "t")
    with pytest.raises(ValueError, match="out of range"):
        Dataset(x, np.array([0, 1, 2, 1]), x, y, ("a", "b"), "t")
    with pytest.raises(ValueError, match="shape"):
        Dataset(x, y[:3], x, y, ("a", "b"), "t")
    small = Dataset(x, y, x, y, ("a", "b"), "t").subset(n_train=2)
    assert len(small.y_train) == 2 and len(small.y_test) == 4


# ----------------------------------------------------------------------------- IDX (MNIST, Fashion-MNIST)
def _write_mnist(folder, n_train=6, n_test=3, gz=(True, True, False, False), size=5):
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, (n_train, size, size), dtype=np.uint8),
              rng.integers(0, 10, n_train).astype(np.uint8),
              rng.integers(0, 256, (n_test, size, size), dtype=np.uint8),
              rng.integers(0, 10, n_test).astype(np.uint8))
    folder.mkdir(parents=True, exist_ok=True)
    for name, array, z in zip(IDX_NAMES, arrays, gz):
        write_idx(folder / (name + (".gz" if z else "")), array)
    return arrays


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_idx_roundtrip(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a.idx", a)), a)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a.idx.gz", a)), a)
    assert gzip.decompress((tmp_path / "a.idx.gz").read_bytes())[:3] == (tmp_path / "a.idx").read_bytes()[:3]


def test_mnist_loads_gz_and_plain_files(tmp_path):
    xtr, ytr, xte, yte = _write_mnist(tmp_path)
    ds = mnist(tmp_path, normalize=False)
    assert ds.x_train.shape == (6, 1, 5, 5) and ds.x_test.shape == (3, 1, 5, 5)
    np.testing.assert_array_equal(ds.x_train[:, 0], xtr.astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, yte)
    normed = mnist(tmp_path)
    assert abs(normed.x_train.mean()) < 1e-5 and normed.name == "mnist"
    fashion = fashion_mnist(tmp_path)
    assert fashion.classes[0] == "T-shirt/top" and fashion.name == "fashion_mnist"


def test_mnist_finds_torchvision_layout_and_dotted_names(tmp_path):
    _write_mnist(tmp_path / "MNIST" / "raw")
    assert len(mnist(tmp_path).y_train) == 6
    other = tmp_path / "dotted"
    other.mkdir()
    write_idx(other / "train-images.idx3-ubyte", np.zeros((2, 4, 4), np.uint8))
    write_idx(other / "train-labels.idx1-ubyte", np.zeros(2, np.uint8))
    write_idx(other / "t10k-images.idx3-ubyte", np.zeros((1, 4, 4), np.uint8))
    write_idx(other / "t10k-labels.idx1-ubyte", np.zeros(1, np.uint8))
    assert mnist(other).x_train.shape == (2, 1, 4, 4)


def test_mnist_missing_file_says_which_where_and_how_to_get_it(tmp_path):
    _write_mnist(tmp_path)
    os.remove(tmp_path / "t10k-labels-idx1-ubyte")
    with pytest.raises(FileNotFoundError) as err:
        mnist(tmp_path)
    message = str(err.value)
    assert "t10k-labels-idx1-ubyte" in message and str(tmp_path) in message
    assert "https://" in message
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fashion_mnist(tmp_path / "nowhere")


def _corrupt(path, how):
    raw = path.read_bytes()
    if how == "magic":
        path.write_bytes(b"\x12\x34" + raw[2:])
    elif how == "truncated":
        path.write_bytes(raw[:-7])
    elif how == "too_long":
        path.write_bytes(raw + b"\x00")
    elif how == "bad_gzip":
        path.write_bytes(b"\x1f\x8b" + b"not really gzip data at all")
    elif how == "truncated_gzip":
        path.write_bytes(gzip.compress(raw)[:-10])


@pytest.mark.parametrize("how, name, match", [
    ("magic", "t10k-images-idx3-ubyte", "magic number"),
    ("truncated", "t10k-images-idx3-ubyte", "truncated"),
    ("too_long", "t10k-labels-idx1-ubyte", "too long"),
    ("bad_gzip", "train-images-idx3-ubyte.gz", "gzip"),
    ("truncated_gzip", "t10k-images-idx3-ubyte", "gzip"),
])
def test_corrupt_idx_files_are_reported_by_name(tmp_path, how, name, match):
    _write_mnist(tmp_path)
    path = tmp_path / name
    _corrupt(path, how)
    if how == "truncated_gzip":  # the gzipped version replaces the plain file
        path.rename(tmp_path / (name + ".gz"))
        path = tmp_path / (name + ".gz")
    with pytest.raises(DataFileError, match=match) as err:
        mnist(tmp_path)
    assert str(path) in str(err.value)


def test_idx_label_count_must_match_images(tmp_path):
    _write_mnist(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataFileError, match="expected 3 labels"):
        mnist(tmp_path)


# ----------------------------------------------------------------------------- CIFAR-10 and the unpickler
def _write_cifar(folder, n=2, protocol=2, byte_keys=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        key = (lambda k: k.encode()) if byte_keys else (lambda k: k)
        batch = {key("data"): data, key("labels"): labels, key("batch_label"): key(name)}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        batches[name] = (data, labels)
    return batches


@pytest.mark.parametrize("protocol, byte_keys", [(2, True), (4, False), (5, False), (0, True)])
def test_cifar10_loads_batches(tmp_path, protocol, byte_keys):
    batches = _write_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol, byte_keys=byte_keys)
    ds = cifar10(tmp_path, normalize=False)  # finds the cifar-10-batches-py subfolder
    assert ds.x_train.shape == (10, 3, 32, 32) and ds.x_test.shape == (2, 3, 32, 32)
    data, labels = batches["test_batch"]
    np.testing.assert_array_equal(ds.x_test[1, 0].ravel(), data[1, :1024])  # red plane first
    np.testing.assert_array_equal(ds.x_test[1, 2].ravel(), data[1, 2048:])
    assert ds.y_test.tolist() == labels and ds.classes[0] == "airplane"
    normed = cifar10(tmp_path / "cifar-10-batches-py")
    assert np.allclose(normed.x_train.mean(axis=(0, 2, 3)), 0, atol=1e-4)  # per channel


def test_cifar10_missing_and_corrupt_files(tmp_path):
    _write_cifar(tmp_path)
    os.remove(tmp_path / "data_batch_3")
    with pytest.raises(FileNotFoundError) as err:
        cifar10(tmp_path)
    assert "data_batch_3" in str(err.value) and "https://www.cs.toronto.edu/~kriz/" in str(err.value)
    _write_cifar(tmp_path)
    raw = (tmp_path / "test_batch").read_bytes()
    (tmp_path / "test_batch").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFileError, match="truncated or corrupt") as err:
        cifar10(tmp_path)
    assert str(tmp_path / "test_batch") in str(err.value)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}))
    with pytest.raises(DataFileError, match="N×3072"):
        cifar10(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        cifar10(tmp_path / "empty")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_restricted_unpickler_refuses_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"data": _Evil(marker), "labels": [0]}, protocol=2)
    (tmp_path / "test_batch").write_bytes(payload)
    with pytest.raises(DataFileError, match=r"refusing to load the global (posix|os|nt)\.system"):
        safe_unpickle(tmp_path / "test_batch")
    assert not marker.exists()
    _write_cifar(tmp_path / "c")
    (tmp_path / "c" / "data_batch_2").write_bytes(payload)
    with pytest.raises(DataFileError, match="data_batch_2: refusing"):
        cifar10(tmp_path / "c")
    assert not marker.exists()
    (tmp_path / "custom").write_bytes(pickle.dumps(_Evil("x")))
    with pytest.raises(DataFileError, match="refusing"):
        safe_unpickle(tmp_path / "custom")
    plain = tmp_path / "plain"
    plain.write_bytes(pickle.dumps([1, b"x", {"a": 2.5}, np.arange(3)]))
    loaded = safe_unpickle(plain)
    assert loaded[:3] == [1, b"x", {"a": 2.5}] and loaded[3].tolist() == [0, 1, 2]
    # The payload is real: the ordinary unpickler runs the (harmless) command.
    pickle.loads(payload)
    assert marker.exists()


# ----------------------------------------------------------------------------- DataLoader, load_dataset
def test_dataloader_batches_cover_every_example_once_per_epoch():
    x, y = np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10)
    loader = DataLoader(x, y, batch_size=4, seed=7)
    assert len(loader) == 3 and len(DataLoader(x, y, 4, drop_last=True)) == 2
    epoch1 = [yb for _, yb in loader]
    epoch2 = [yb for _, yb in loader]
    assert [len(b) for b in epoch1] == [4, 4, 2]
    assert sorted(np.concatenate(epoch1).tolist()) == list(range(10))
    assert not np.array_equal(np.concatenate(epoch1), np.concatenate(epoch2))
    for xb, yb in loader:
        np.testing.assert_array_equal(xb[:, 0], yb)  # x and y stay paired
    again = DataLoader(x, y, batch_size=4, seed=7)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in again]), np.concatenate(epoch1))
    again.set_epoch(1)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in again]), np.concatenate(epoch2))
    ordered = np.concatenate([yb for _, yb in DataLoader(x, y, 3, shuffle=False)])
    assert ordered.tolist() == list(range(10))


def test_dataloader_rejects_bad_input():
    x, y = np.zeros((5, 2), np.float32), np.zeros(5, np.int64)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(x, y, batch_size=0)
    with pytest.raises(ValueError, match="labels must have shape"):
        DataLoader(x, y[:4])
    x[3, 1] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        DataLoader(x, y)


def test_load_dataset_specs(tmp_path):
    assert load_dataset("digits").x_train.shape == (1437, 1, 8, 8)
    ds = load_dataset("shapes:n=60,size=10,classes=3,seed=2")
    assert ds.input_shape == (1, 10, 10) and ds.num_classes == 3
    _write_mnist(tmp_path)
    assert load_dataset(f"mnist:{tmp_path}", normalize=False).x_train.max() > 1
    assert load_dataset(f"fashion-mnist:{tmp_path}").name == "fashion_mnist"
    with pytest.raises(ValueError, match="digits, shapes, mnist:PATH, fashion_mnist:PATH, cifar10:PATH"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="needs a folder"):
        load_dataset("cifar10")
    with pytest.raises(ValueError, match="key=value"):
        load_dataset("shapes:4000")


# ----------------------------------------------------------------------------- augmentation
def test_shift_images_moves_pixels_and_repeats_the_edge():
    from tinyrect.data import shift_images

    x = np.arange(2 * 16, dtype=np.float32).reshape(2, 1, 4, 4)
    out = shift_images(x, np.array([1, 0]), np.array([0, -1]))
    np.testing.assert_array_equal(out[0, 0, 1:], x[0, 0, :3])      # down by one row
    np.testing.assert_array_equal(out[0, 0, 0], x[0, 0, 0])        # the opened row repeats the edge
    np.testing.assert_array_equal(out[1, 0, :, :3], x[1, 0, :, 1:])  # left by one column
    np.testing.assert_array_equal(out[1, 0, :, 3], x[1, 0, :, 3])
    np.testing.assert_array_equal(shift_images(x, np.zeros(2), np.zeros(2)), x)
    with pytest.raises(ValueError, match="one \\(dy, dx\\) per image"):
        shift_images(x, np.zeros(3), np.zeros(3))


def test_shift_loader_is_seeded_keeps_labels_and_shift_zero_is_the_plain_loader():
    from tinyrect.data import DataLoader, ShiftLoader

    ds = digits()
    x, y = ds.x_train[:200], ds.y_train[:200]
    a = [b for b in ShiftLoader(x, y, 64, seed=3, shift=1)]
    b = [b for b in ShiftLoader(x, y, 64, seed=3, shift=1)]
    plain = [b for b in DataLoader(x, y, 64, seed=3)]
    for (xa, ya), (xb, yb), (xp, yp) in zip(a, b, plain):
        np.testing.assert_array_equal(xa, xb)                       # the same seed: the same shifts
        np.testing.assert_array_equal(ya, yp)                       # labels and order untouched
        moved = [not np.array_equal(xa[i], xp[i]) for i in range(len(ya))]
        assert 0.6 < np.mean(moved) < 1.0                           # 8 of 9 offsets move the image
    loader = ShiftLoader(x, y, 64, seed=3, shift=1)
    first, second = next(iter(loader))[0], next(iter(loader))[0]
    assert not np.array_equal(first, second)                        # new shifts every epoch
    for (xs, _), (xp, _) in zip(ShiftLoader(x, y, 64, seed=3, shift=0), plain):
        np.testing.assert_array_equal(xs, xp)
    with pytest.raises(ValueError, match="shift must be a non-negative integer"):
        ShiftLoader(x, y, 64, shift=-1)
