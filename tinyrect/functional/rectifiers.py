"""Rectifiers: ReLU, Leaky ReLU and PReLU, the paper's Eq. (1)-(3).

All three are one formula, Eq. (1):   f(y) = max(0, y) + a · min(0, y)
  ReLU        a = 0                      (no parameter)
  Leaky ReLU  a = 0.01, a fixed constant (Sec. 2.1, citing Maas et al.: "LReLU has negligible
              impact on accuracy compared with ReLU")
  PReLU       a is learned: one a per channel (channel-wise) or one per layer (channel-shared)

Derivatives (hand-derived; at y = 0 we take the value from the negative side, as Eq. (1) puts
y = 0 in the "a·y" branch, which is also what PyTorch does):
  df/dy = 1 if y > 0 else a                                   (Eq. 1)
  df/da = 0 if y > 0 else y      = min(0, y)                   (Eq. 3)
  dE/da_i = Σ over every position that shares a_i of dE/df · min(0, y)   (Eq. 2)
For channel-wise PReLU "every position" is the batch and the spatial positions of channel i; for
channel-shared PReLU it is also every channel.
"""
from __future__ import annotations

import numpy as np

from tinyrect.kernels import rectifiers as _kernels
from tinyrect.tensor import Tensor, as_tensor


def relu(x) -> Tensor:
    """f(y) = max(0, y).  Backward: dy = dout · 1[y > 0]  (subgradient 0 at y = 0, as Eq. 1)."""
    x = as_tensor(x)
    positive = x.data > 0
    out = np.maximum(x.data, x.data.dtype.type(0))  # faster than np.where; NaN stays NaN, as in torch

    def backward(dout):
        """dy = dout where y > 0, else 0."""
        return (dout * positive,)

    return Tensor._from_op(out, (x,), backward, "relu")


Tensor.relu = relu  # x.relu(): attached here so tensor.py never imports this higher layer


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """f(y) = y if y > 0 else s·y, with a fixed slope s (Eq. 1 with a = s, not learned).

    Backward: dy = dout · (1 if y > 0 else s).
    """
    x = as_tensor(x)
    if not np.isscalar(negative_slope) or not np.isfinite(negative_slope):
        raise TypeError(
            f"leaky_relu: negative_slope must be a finite Python number, got {negative_slope!r}; "
            "for a learned slope use prelu(x, weight)"
        )
    if x.dtype.kind != "f":
        x = Tensor(x.data.astype(np.float32))
    s = x.dtype.type(negative_slope)
    positive = x.data > 0
    out = np.where(positive, x.data, s * x.data)

    def backward(dout):
        """dy = dout · (1 if y > 0 else s)."""
        return (np.where(positive, dout, s * dout),)

    return Tensor._from_op(out, (x,), backward, "leaky_relu")


def _prelu_slopes(x: Tensor, weight: Tensor) -> tuple[int, int]:
    """Check PReLU's weight against x; return (C, number of coefficients)."""
    channels = x.shape[1] if x.ndim >= 2 else 1
    k = weight.size
    if k != 1 and k != channels:
        where = (f"dim 1 of an input of shape {x.shape}" if x.ndim >= 2
                 else f"a {x.ndim}-D input, which has no channel dim (so 1 channel)")
        raise ValueError(
            f"prelu: weight has {k} elements but the input has {channels} channels ({where}); "
            f"use 1 coefficient (channel-shared, PReLU(num_parameters=1)) or {channels} "
            f"(channel-wise, PReLU(num_parameters={channels}))"
        )
    return channels, k


def prelu(x, weight) -> Tensor:
    """Parametric ReLU, Eq. (1):  f(y) = max(0, y) + a · min(0, y), with a learned `weight`.

    `weight` has 1 element (channel-shared: one a for the whole layer) or C elements, C =
    x.shape[1] (channel-wise: a_c for channel c, applied along dim 1, for inputs of any rank >= 2
    as in PyTorch, e.g. (N, C) after a linear layer or (N, C, H, W) after a convolution).

    Backward (hand-derived, Eq. 1-3):
      dx  = dout · (1 if y > 0 else a_c)                          (df/dy, a at y = 0)
      da_c = Σ_{positions of channel c} dout · min(0, y)          (Eq. 2 with Eq. 3)
      shared: da = Σ_c da_c                                       (Eq. 2, summed over channels too)
    Contiguous float32/float64 inputs of any rank use the one-pass numba kernels of
    tinyrect/kernels/rectifiers.py; others use the same formulas in NumPy.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    if x.dtype.kind != "f":
        raise TypeError(f"prelu: input must be floating point, got dtype {x.dtype}")
    channels, k = _prelu_slopes(x, weight)
    a = weight.data.reshape(k).astype(x.dtype, copy=False)
    # the kernels see any contiguous input as (N, C, rest, 1): dim 1 carries the channels
    use_kernel = (x.data.flags.c_contiguous and x.size > 0 and x.dtype in (np.float32, np.float64))
    if use_kernel:
        lead = x.shape[0] if x.ndim >= 2 else 1
        x4 = x.data.reshape(lead, channels, -1, 1)
        out = _kernels.prelu_forward_4d(x4, a).reshape(x.shape)
    else:
        shape = (1, k) + (1,) * (x.ndim - 2) if x.ndim >= 2 else (1,) * max(x.ndim, 0)
        a_b = a.reshape(shape) if x.ndim >= 1 else a.reshape(())
        out = np.where(x.data > 0, x.data, a_b * x.data)
    w_shape, w_dtype = weight.shape, weight.dtype

    def backward(dout):
        """dx = dout · (1 if y > 0 else a);  da_c = Σ dout · min(0, y) over channel c (Eq. 2-3)."""
        dout = np.ascontiguousarray(dout, dtype=x.dtype)
        if use_kernel:
            dx, da = _kernels.prelu_backward_4d(x4, a, dout.reshape(x4.shape))
            dx = dx.reshape(x.shape) if x.requires_grad else None
        else:
            y = x.data
            negative_part = np.minimum(y, 0)                    # df/da, Eq. (3)
            dx = np.where(y > 0, dout, a_b * dout) if x.requires_grad else None
            axes = tuple(i for i in range(y.ndim) if i != 1)    # all but the channel dim
            da = (dout * negative_part).sum(axis=axes) if y.ndim >= 2 else (
                np.atleast_1d((dout * negative_part).sum()))
        if not weight.requires_grad:
            return dx, None
        if k == 1:
            da = np.sum(da, dtype=np.float64)                   # channel-shared: Σ over c too
        return dx, np.asarray(da, dtype=w_dtype).reshape(w_shape)

    return Tensor._from_op(out, (x, weight), backward, "prelu")
