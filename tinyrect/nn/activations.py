"""Rectifier layers: ReLU, LeakyReLU and PReLU (the paper's Eq. 1), plus Identity."""
from __future__ import annotations

import math
import numbers

import numpy as np

from tinyrect import functional as F
from tinyrect.nn.module import Module, Parameter


def _finite(layer: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{layer}: {name} must be a finite number (the negative slope), "
                         f"got {value!r}")
    return float(value)


class ReLU(Module):
    """f(y) = max(0, y). (`inplace` is accepted for PyTorch compatibility and ignored.)"""

    def __init__(self, inplace: bool = False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """f(y) = y if y > 0 else s·y with a fixed slope s (default 0.01, the paper's LReLU)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = _finite("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """Parametric ReLU, Eq. (1): f(y) = max(0, y) + a·min(0, y) with learned coefficients a.

    num_parameters=1 is channel-shared (one a per layer); num_parameters=C is channel-wise (one
    a per channel, on dim 1). Every a starts at `init` = 0.25, the paper's choice (Sec. 2.1).
    Train a without weight decay (see tinyrect.optim.param_groups_no_decay): decay pulls a toward
    0, i.e. toward ReLU.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        if (isinstance(num_parameters, bool) or not isinstance(num_parameters, numbers.Integral)
                or num_parameters < 1):
            raise ValueError(f"PReLU: num_parameters must be a positive integer (1 = channel-shared, "
                             f"C = channel-wise), got {num_parameters!r}")
        dtype = np.dtype(dtype or np.float32)
        if dtype.kind != "f":
            raise TypeError(f"PReLU: the coefficients must be floating point, got dtype {dtype}")
        self.num_parameters = int(num_parameters)
        self.init = _finite("PReLU", "init", init)
        self.weight = Parameter(np.full(self.num_parameters, self.init, dtype=dtype))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Identity(Module):
    """f(y) = y: a placeholder layer (e.g. 'no activation' in a configurable network)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
