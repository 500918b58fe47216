"""CIFAR-10 from its "python version" batches (data_batch_1..5, test_batch), read WITHOUT running
any code from the file.

Why: `pickle.load` will call any function a pickle names (a pickle can say "call os.system with
this string"). A downloaded file should not be able to do that, so `safe_unpickle` uses a
`pickle.Unpickler` whose `find_class` allows only the few names NumPy needs to rebuild an array
and refuses every other global with a clear error. Dicts, lists, ints, strings and bytes need no
global at all.
"""
from __future__ import annotations

import importlib
import io
import pickle
from pathlib import Path

import numpy as np

from tinyrect.data.base import DataFileError, Dataset, as_folder, missing_file_error, standardize

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
GET_IT = ("Get cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz "
          "(page: https://www.cs.toronto.edu/~kriz/cifar.html), extract it with "
          "`tar xzf cifar-10-python.tar.gz`, and pass the folder that holds cifar-10-batches-py/ "
          "(or that folder itself).")


def _latin1_encode(text, encoding="latin1"):
    """What protocol-2 pickles written by Python 3 use for bytes: _codecs.encode(str, 'latin1')."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise RefusedGlobalError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _numpy(*candidates):
    """Resolve the first importable 'module:name' (NumPy 2 moved numpy.core to numpy._core)."""
    def resolve():
        for candidate in candidates:
            module, name = candidate.split(":")
            try:
                return getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                continue
        raise pickle.UnpicklingError(f"this NumPy has none of {candidates}")
    return resolve


_RECONSTRUCT = _numpy("numpy._core.multiarray:_reconstruct", "numpy.core.multiarray:_reconstruct")
_FROMBUFFER = _numpy("numpy._core.numeric:_frombuffer", "numpy.core.numeric:_frombuffer")
_SCALAR = _numpy("numpy._core.multiarray:scalar", "numpy.core.multiarray:scalar")
ALLOWED = {  # (module, name) as written in the pickle -> how to get the real object
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
    ("_codecs", "encode"): lambda: _latin1_encode,
}


class RefusedGlobalError(pickle.UnpicklingError):
    """The pickle asked for a global (a class or function) that is not on the allow-list."""


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that can rebuild plain data and NumPy arrays, and nothing else."""

    def find_class(self, module, name):
        resolve = ALLOWED.get((module, name))
        if resolve is None:
            raise RefusedGlobalError(
                f"refusing to load the global {module}.{name}: a data file may only contain arrays, "
                "dicts, lists, numbers, strings and bytes (this file asks to import or call "
                "something else; it is not a CIFAR batch, or it is malicious)"
            )
        return resolve()


def safe_unpickle(path) -> object:
    """Unpickle `path` with `RestrictedUnpickler` (Python 2 pickles: str is read as bytes).
    Raises DataFileError naming the file for anything that is not a clean pickle of plain data."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        return RestrictedUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except RefusedGlobalError as err:
        raise DataFileError(f"{path}: {err}") from None
    except Exception as err:  # noqa: BLE001 - truncated/corrupt pickles raise many kinds of errors
        raise DataFileError(
            f"{path}: not a readable pickle ({type(err).__name__}: {err}); the file is truncated "
            "or corrupt: download it again"
        ) from None


def _key(batch: dict, name: str, path: Path):
    for key in (name, name.encode()):
        if key in batch:
            return batch[key]
    raise DataFileError(f"{path}: a CIFAR batch must be a dict with {name!r}, found keys "
                        f"{sorted(map(repr, batch))[:6]}")


def read_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file -> (images uint8 N×3×32×32, labels int64 N), checked."""
    path = Path(path)
    batch = safe_unpickle(path)
    if not isinstance(batch, dict):
        raise DataFileError(f"{path}: a CIFAR batch must unpickle to a dict, got {type(batch).__name__}")
    data, labels = _key(batch, "data", path), _key(batch, "labels", path)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        shape = getattr(data, "shape", None)
        raise DataFileError(f"{path}: 'data' must be a uint8 array N×3072 (32×32 RGB planes), got "
                            f"{type(data).__name__} {getattr(data, 'dtype', '')} {shape}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataFileError(f"{path}: 'labels' must be a list of integers") from None
    if labels.shape != (len(data),):
        raise DataFileError(f"{path}: expected {len(data)} labels (one per image), got shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFileError(f"{path}: labels must lie in 0..9, got {labels.min()}..{labels.max()}")
    return data.reshape(-1, 3, 32, 32), labels  # each row: 1024 red, 1024 green, 1024 blue values


def find_batches(path) -> Path:
    """The folder holding the batch files: `path` itself or `path`/cifar-10-batches-py."""
    folder = as_folder(path)
    candidates = [folder, folder / "cifar-10-batches-py"]
    for c in candidates:
        if (c / TEST_FILE).is_file() or (c / TRAIN_FILES[0]).is_file():
            return c
    hint = GET_IT
    if (folder / "cifar-10-python.tar.gz").is_file():
        hint = f"{folder / 'cifar-10-python.tar.gz'} is there but not extracted: run `tar xzf` on it. " + GET_IT
    if not folder.is_dir():
        raise missing_file_error("CIFAR-10 folder", [f"{folder}  (does not exist or is not a folder)"], hint)
    raise missing_file_error("CIFAR-10 batches (data_batch_1..5, test_batch)",
                             [str(c) for c in candidates], hint)


def cifar10(path, normalize: bool = True) -> Dataset:
    """CIFAR-10 from folder `path`: 50,000 train / 10,000 test, N×3×32×32 float32.
    normalize=True standardizes each channel with the train mean/std; normalize=False keeps the
    raw pixel values 0..255."""
    folder = find_batches(path)
    parts = {}
    for part, names in (("train", TRAIN_FILES), ("test", (TEST_FILE,))):
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            raise missing_file_error(f"CIFAR-10 file(s) {', '.join(missing)}",
                                     [str(folder / n) for n in missing], GET_IT)
        batches = [read_batch(folder / n) for n in names]
        parts[part] = (np.concatenate([b[0] for b in batches]).astype(np.float32),
                       np.concatenate([b[1] for b in batches]))
    (x_train, y_train), (x_test, y_test) = parts["train"], parts["test"]
    info = dict(source="cifar10", folder=str(folder))
    if normalize:
        x_train, x_test, info["standardize"] = standardize(x_train, x_test, per_channel=True, inplace=True)
    return Dataset(x_train, y_train, x_test, y_test, CLASSES, "cifar10", info)
