"""The 8×8 handwritten digits that scikit-learn ships inside its package (1,797 images, 10 classes,
pixel values 0..16), so lessons and `tinyrect reproduce` run offline."""
from __future__ import annotations

import numpy as np

from tinyrect.data.base import Dataset, standardize


def digits(seed: int = 0, test_fraction: float = 0.2, normalize: bool = True) -> Dataset:
    """The scikit-learn digits as N×1×8×8 float32, split train/test with a seeded stratified split
    (every class keeps its share in both splits). Defaults: 1,437 train / 360 test.

    normalize=True standardizes globally with the TRAIN mean and std (one number each);
    normalize=False keeps the raw pixel values 0..16 (for the "non-normalized input" lesson).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"digits: test_fraction must be in (0, 1), got {test_fraction}")
    bunch = load_digits()
    x = bunch.data.astype(np.float32).reshape(-1, 1, 8, 8)
    y = bunch.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    info = dict(source="sklearn.datasets.load_digits", seed=seed, test_fraction=test_fraction)
    if normalize:
        x_train, x_test, info["standardize"] = standardize(x_train, x_test)
    classes = tuple(str(c) for c in range(10))
    return Dataset(x_train, y_train, x_test, y_test, classes, "digits", info)
