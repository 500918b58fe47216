"""Data sets and mini-batches.

  digits()                 scikit-learn's 8×8 digits, offline, 1,437 train / 360 test (default)
  shapes(n, size, classes) procedural shapes (NumPy only, seeded, any size and count)
  gaussian(n, shape)       i.i.d. N(0, 1) inputs for the variance lessons
  mnist(path), fashion_mnist(path), cifar10(path)   real data from a folder you downloaded
  DataLoader(x, y, batch_size, shuffle, seed, drop_last)
  ShiftLoader(x, y, ..., shift=1)   training batches randomly shifted by ±1 pixel (augmentation)
  load_dataset("digits" | "shapes:n=4000" | "mnist:PATH" | ...)   the CLI's spec strings
Every loader returns a `Dataset(x_train, y_train, x_test, y_test, classes, name, info)` with
images as float32 N×C×H×W and labels as int64.
"""
from tinyrect.data.base import DataFileError, Dataset, standardize, stratified_split  # noqa: F401
from tinyrect.data.digits import digits  # noqa: F401
from tinyrect.data.shapes import SHAPE_NAMES, gaussian, shapes  # noqa: F401
from tinyrect.data.idx import fashion_mnist, mnist, read_idx, write_idx  # noqa: F401
from tinyrect.data.cifar import RestrictedUnpickler, cifar10, safe_unpickle  # noqa: F401
from tinyrect.data.loader import DataLoader, load_dataset  # noqa: F401
from tinyrect.data.augment import ShiftLoader, shift_images  # noqa: F401
