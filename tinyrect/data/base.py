"""The `Dataset` record every loader returns, its validation, and the shared helpers
(train-statistics standardization, errors for missing and corrupt files)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np


class DataFileError(ValueError):
    """A data file exists but is not what it should be (bad magic number, truncated, corrupt)."""


def missing_file_error(what: str, looked: list, get_it: str) -> FileNotFoundError:
    """The error for a file we could not find: which file, every place we looked, where to get it."""
    places = "\n".join(f"  {p}" for p in looked)
    return FileNotFoundError(f"{what} not found. Looked for:\n{places}\n{get_it}")


@dataclasses.dataclass(eq=False)
class Dataset:
    """A classification data set with a fixed train/test split.

    x_train, x_test: float arrays N×C×H×W (float32 unless you built them otherwise).
    y_train, y_test: int64 class indices, shape (N,), each in [0, len(classes)).
    classes: the class names, in label order. name: a short label ("digits", "mnist", ...).
    info: free-form facts about how it was made (normalization statistics, seed, source files).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    name: str
    info: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.classes = tuple(self.classes)
        for part in ("train", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            x, y = check_arrays(x, y, f"{self.name} {part}", num_classes=len(self.classes))
            setattr(self, f"x_{part}", x)
            setattr(self, f"y_{part}", y)
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(
                f"{self.name}: train images have shape {self.x_train.shape[1:]} but test images "
                f"{self.x_test.shape[1:]}; both splits must hold images of the same shape"
            )

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def input_shape(self) -> tuple:
        """Shape of one example, e.g. (1, 8, 8)."""
        return tuple(self.x_train.shape[1:])

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> "Dataset":
        """A smaller copy: `n_train`/`n_test` examples drawn without replacement (None = all)."""
        rng = np.random.default_rng(seed)

        def pick(x, y, n):
            if n is None or n >= len(y):
                return x, y
            idx = np.sort(rng.choice(len(y), size=n, replace=False))
            return x[idx], y[idx]

        x_train, y_train = pick(self.x_train, self.y_train, n_train)
        x_test, y_test = pick(self.x_test, self.y_test, n_test)
        info = dict(self.info, subset=dict(n_train=len(y_train), n_test=len(y_test), seed=seed))
        return Dataset(x_train, y_train, x_test, y_test, self.classes, self.name, info)

    def __repr__(self):
        return (
            f"Dataset({self.name!r}: {len(self.y_train)} train / {len(self.y_test)} test, "
            f"input {self.input_shape} {self.x_train.dtype}, {self.num_classes} classes)"
        )


def check_arrays(x, y, where: str, num_classes: int | None = None):
    """Validate one split: x a finite float array, y integer labels of matching length.

    Returns (x, y) with y as int64. Raises ValueError naming the problem and the fix.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.dtype.kind != "f":
        raise TypeError(
            f"{where}: images must be floating point, got dtype {x.dtype}; convert with "
            "x.astype(np.float32) (and scale/standardize the pixel values)"
        )
    if x.ndim < 2:
        raise ValueError(f"{where}: images must have shape (N, ...), got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(
            f"{where}: labels must have shape ({len(x)},) to match {len(x)} images, got shape {y.shape}"
        )
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{where}: labels must be integers, got dtype {y.dtype}")
    y = y.astype(np.int64, copy=False)
    bad = ~np.isfinite(x)
    if bad.any():
        first = np.unravel_index(np.argmax(bad), x.shape)
        raise ValueError(
            f"{where}: images contain {int(bad.sum())} non-finite values (NaN or Inf), the first "
            f"at index {tuple(int(i) for i in first)}; remove or repair those examples first"
        )
    if y.size and y.min() < 0:
        raise ValueError(f"{where}: labels must be >= 0, got minimum {y.min()}")
    if num_classes is not None and y.size and y.max() >= num_classes:
        raise ValueError(
            f"{where}: label {y.max()} is out of range for {num_classes} classes (labels 0..{num_classes - 1})"
        )
    return x, y


def standardize(x_train: np.ndarray, x_test: np.ndarray, per_channel: bool = False, inplace: bool = False):
    """Subtract the train mean and divide by the train std (test uses the TRAIN statistics, so no
    information leaks from the test set). Global by default; `per_channel` uses one mean/std per
    channel (axis 1). Returns (x_train, x_test, stats dict). Statistics are computed in float64,
    the arithmetic in the data's dtype; `inplace` overwrites the given arrays (saves memory on
    MNIST/CIFAR-size sets, for arrays the caller owns).

    Why it matters for the paper: He init preserves the input's variance to the last layer, so
    un-normalized pixels (0..255) keep their scale through every layer and can overflow the
    softmax (end of Sec. 2.2, which names normalizing as one fix that "may impact other
    hyper-parameters", and a small factor on the weights as another).
    """
    mean, std = _mean_std(x_train, per_channel)
    stats = dict(mean=np.ravel(mean).tolist(), std=np.ravel(std).tolist(), per_channel=per_channel)
    mean, std = np.asarray(mean, x_train.dtype), np.asarray(std, x_train.dtype)
    if inplace:
        for x in (x_train, x_test):
            x -= mean
            x /= std
        return x_train, x_test, stats
    return (x_train - mean) / std, ((x_test - mean) / std).astype(x_train.dtype, copy=False), stats


def _mean_std(x: np.ndarray, per_channel: bool, rows: int = 4096):
    """Mean and std in float64, accumulated over chunks of `rows` examples, so a 60,000-image set
    never gets a float64 copy (the two-pass formula: no cancellation as in E[x²] - E[x]²)."""
    axes = (0,) + tuple(range(2, x.ndim)) if per_channel else None
    mean = x.mean(axis=axes, dtype=np.float64, keepdims=True)
    squares = 0.0
    for i in range(0, len(x), rows):
        diff = x[i:i + rows] - mean.astype(x.dtype)
        squares = squares + np.square(diff, dtype=np.float64).sum(axis=axes, keepdims=True)
    std = np.sqrt(squares / (x.size / (mean.size if per_channel else 1)))
    std = np.where(std > 0, std, 1.0)
    return (mean, std) if per_channel else (mean.reshape(()), std.reshape(()))


def as_folder(path) -> Path:
    """Turn a user-given path into a Path, with '~' expanded."""
    if path is None or str(path) == "":
        raise ValueError("give the folder that holds the data files, e.g. mnist('~/data/mnist')")
    return Path(path).expanduser()


def stratified_split(y: np.ndarray, test_fraction: float, seed: int):
    """Seeded stratified split -> (train_idx, test_idx): ceil(test_fraction·N) test examples, each
    class contributing its share (floor of n_test·n_c/N, the leftover places going to the classes
    with the largest remainders), every class shuffled with the same seeded generator."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    n_test = int(np.ceil(test_fraction * len(y)))
    exact = n_test * counts / len(y)
    quota = np.floor(exact).astype(int)
    leftover = n_test - quota.sum()
    order = np.lexsort((rng.random(len(classes)), -(exact - quota)))  # largest remainder first
    quota[order[:leftover]] += 1
    train_idx, test_idx = [], []
    for c, q in zip(classes, quota):
        idx = rng.permutation(np.flatnonzero(y == c))
        test_idx.append(idx[:q])
        train_idx.append(idx[q:])
    return rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(test_idx))
