"""Rectifiers: ReLU, Leaky ReLU and PReLU (the paper's Eq. 1-3).  [relu only so far]"""
from __future__ import annotations

import numpy as np

from tinyrect.tensor import Tensor, as_tensor


def relu(x) -> Tensor:
    """f(y) = max(0, y).  Backward: dy = dout · 1[y > 0]  (subgradient 0 at y = 0, as Eq. 1)."""
    x = as_tensor(x)
    positive = x.data > 0
    out = np.where(positive, x.data, x.data.dtype.type(0))

    def backward(dout):
        """dy = dout where y > 0, else 0."""
        return (dout * positive,)

    return Tensor._from_op(out, (x,), backward, "relu")


def leaky_relu(*a, **k): raise NotImplementedError  # PLACEHOLDER (rectifier issue)
def prelu(*a, **k): raise NotImplementedError  # PLACEHOLDER (rectifier issue)
