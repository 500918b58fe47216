"""The 8×8 handwritten digits that scikit-learn ships inside its package (1,797 images, 10 classes,
pixel values 0..16), so lessons and `tinyrect reproduce` run offline."""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from tinyrect.data.base import Dataset, standardize, stratified_split


@functools.lru_cache(maxsize=1)
def _load_raw() -> tuple[np.ndarray, np.ndarray]:
    """(pixels 1797×64 float32, labels int64), read once per process. The CSV that scikit-learn
    bundles is read directly (importing sklearn costs seconds); load_digits is the fallback."""
    spec = importlib.util.find_spec("sklearn")
    csv = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if csv is not None and csv.is_file():
        table = np.loadtxt(csv, delimiter=",", dtype=np.float32)
        pixels, labels = table[:, :-1], table[:, -1].astype(np.int64)
    else:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        pixels, labels = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    pixels.setflags(write=False)
    labels.setflags(write=False)
    return pixels, labels


def digits(seed: int = 0, test_fraction: float = 0.2, normalize: bool = True) -> Dataset:
    """The scikit-learn digits as N×1×8×8 float32, split train/test with a seeded stratified split
    (every class keeps its share in both splits). Defaults: 1,437 train / 360 test.

    normalize=True standardizes globally with the TRAIN mean and std (one number each);
    normalize=False keeps the raw pixel values 0..16 (for the "non-normalized input" lesson).
    """
    pixels, labels = _load_raw()
    train_idx, test_idx = stratified_split(labels, test_fraction, seed)
    x = pixels.reshape(-1, 1, 8, 8)
    x_train, x_test = x[train_idx], x[test_idx]
    info = dict(source="scikit-learn digits (load_digits)", seed=seed, test_fraction=test_fraction)
    if normalize:
        x_train, x_test, info["standardize"] = standardize(x_train, x_test)
    classes = tuple(str(c) for c in range(10))
    return Dataset(x_train, labels[train_idx], x_test, labels[test_idx], classes, "digits", info)
