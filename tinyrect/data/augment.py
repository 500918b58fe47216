"""On-the-fly augmentation of training images, seeded: the small-image analogue of the paper's
random crops (Sec. 3: 224×224 crops sampled from a rescaled image, plus scale jitter).

  ShiftLoader(x, y, batch_size, seed=0, shift=1)     random shifts of up to ±`shift` pixels
  shift_images(x, dy, dx)                            the shift itself, one offset per image

Every epoch each training image is moved by its own (dy, dx), drawn uniformly from
{-shift, ..., shift}², so the net never sees exactly the same batch twice. The border that opens
up is filled by repeating the image's edge row/column (for digits: the blank background), not by
zeros: after standardization a zero is the mean pixel, a grey stripe the raw images never have.
Only the training batches are augmented; evaluate the test set on the untouched images.
The offsets come from a generator seeded with (seed, epoch, 1): the same on every run, for any
number of worker processes, and independent of the shuffling order's generator (seed, epoch).
"""
from __future__ import annotations

import numpy as np

from tinyrect.data.loader import DataLoader


def shift_images(x: np.ndarray, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Shift every image x[i] (C×H×W) by (dy[i], dx[i]) pixels (positive: down / right), filling
    the uncovered border with the nearest edge pixels. Returns a new array of x's dtype."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"shift_images: expected N×C×H×W images, got shape {x.shape}")
    dy, dx = np.asarray(dy, dtype=np.int64), np.asarray(dx, dtype=np.int64)
    if dy.shape != (len(x),) or dx.shape != (len(x),):
        raise ValueError(f"shift_images: need one (dy, dx) per image: {len(x)} images, "
                         f"dy {dy.shape}, dx {dx.shape}")
    s = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    h, w = x.shape[2:]
    if s >= min(h, w):
        raise ValueError(f"shift_images: a shift of {s} pixels is not smaller than the {h}×{w} image")
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)), mode="edge")
    out = np.empty_like(x)
    for i in range(len(x)):       # output pixel (r, c) reads input (r - dy, c - dx)
        top, left = s - dy[i], s - dx[i]
        out[i] = padded[i, :, top:top + h, left:left + w]
    return out


class ShiftLoader(DataLoader):
    """A DataLoader whose batches are randomly shifted by up to ±`shift` pixels (see the module
    docstring). shift=0 gives exactly the plain DataLoader's batches.

        loader = ShiftLoader(ds.x_train, ds.y_train, batch_size=64, seed=0, shift=1)
    """

    def __init__(self, x, y, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, shift: int = 1):
        super().__init__(x, y, batch_size, shuffle, seed, drop_last)
        if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or shift < 0:
            raise ValueError(f"ShiftLoader: shift must be a non-negative integer number of pixels, "
                             f"got {shift!r}")
        if self.x.ndim != 4:
            raise ValueError(f"ShiftLoader: expected N×C×H×W images, got shape {self.x.shape}")
        self.shift = int(shift)

    def __iter__(self):
        epoch = self.epoch
        offsets = np.random.default_rng([self.seed, epoch, 1]).integers(
            -self.shift, self.shift + 1, size=(len(self.y), 2))
        order = self.order(epoch)
        for k, (xb, yb) in enumerate(super().__iter__()):
            idx = order[k * self.batch_size:(k + 1) * self.batch_size]
            if self.shift:
                xb = shift_images(xb, offsets[idx, 0], offsets[idx, 1])
            yield xb, yb

    def __repr__(self):
        return super().__repr__()[:-1] + f", shift={self.shift})"
