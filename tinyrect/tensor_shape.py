"""The Tensor's reductions and shape ops, each with its hand-derived backward beside the forward.

`ShapeOps` is a base class of `tinyrect.tensor.Tensor` (so `x.sum()`, `x.reshape(...)`,
`x[idx]`, `x.T` are Tensor methods). These ops move, select or add up elements; the arithmetic
ops (+, -, *, /, **, @, exp, log) are in tensor.py. Each output is built with `self._from_op`,
which always makes a plain Tensor (never a Parameter).
"""
from __future__ import annotations

import numbers

import numpy as np


def normalize_axes(axis, ndim: int) -> tuple:
    """`axis` (None, an int or a sequence, negatives allowed) as a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(ax % max(ndim, 1) for ax in axes))


class ShapeOps:
    """Reductions (sum, mean, max) and shape ops (reshape, view, flatten, transpose, T, [])."""

    __slots__ = ()

    # ---- reductions
    def sum(self, axis=None, keepdims: bool = False):
        shape = self.shape
        axes = normalize_axes(axis, self.ndim)

        def backward(dout):
            """y = sum(a over axes):  da = dout broadcast back over the summed axes."""
            if not keepdims:
                dout = np.expand_dims(dout, axes)
            return (np.broadcast_to(dout, shape).copy(),)

        return self._from_op(self.data.sum(axis=axes, keepdims=keepdims), (self,), backward, "sum")

    def mean(self, axis=None, keepdims: bool = False):
        """y = mean(a over axes) = sum / count:  da = dout / count, broadcast back."""
        axes = normalize_axes(axis, self.ndim)
        count = int(np.prod([self.shape[i] for i in axes])) if axes else 1
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / max(count, 1))

    def max(self, axis=None, keepdims: bool = False):
        a = self.data
        axes = normalize_axes(axis, self.ndim)
        y = a.max(axis=axes, keepdims=True)

        def backward(dout):
            """y = max(a):  da = dout at the arg-max (shared equally between ties), 0 elsewhere."""
            mask = (a == y).astype(a.dtype)
            mask /= mask.sum(axis=axes, keepdims=True)
            d = dout if keepdims else np.expand_dims(dout, axes)
            return (mask * d,)

        out = y if keepdims else np.squeeze(y, axis=axes)
        return self._from_op(out, (self,), backward, "max")

    # ---- shape ops
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        old = self.shape
        try:
            out = self.data.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {old} ({self.size} elements) into {shape}"
            ) from None

        def backward(dout):
            """y = reshape(a):  da = reshape(dout, a.shape)."""
            return (dout.reshape(old),)

        return self._from_op(out, (self,), backward, "reshape")

    def view(self, *shape):
        return self.reshape(*shape)

    def flatten(self, start_dim: int = 0):
        return self.reshape(*self.shape[:start_dim], -1)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = axes or tuple(range(self.ndim))[::-1]
        if len(axes) == 2 and self.ndim != 2:  # torch-style transpose(dim0, dim1)
            perm = list(range(self.ndim))
            perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
            axes = tuple(perm)
        inverse = tuple(np.argsort(axes))

        def backward(dout):
            """y = transpose(a, axes):  da = transpose(dout, inverse permutation)."""
            return (dout.transpose(inverse),)

        return self._from_op(self.data.transpose(axes), (self,), backward, "transpose")

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, index):
        if isinstance(index, ShapeOps):
            index = index.data
        shape, dtype = self.shape, self.dtype

        def backward(dout):
            """y = a[idx]:  da = zeros, then da[idx] += dout (np.add.at: repeated indices add up)."""
            da = np.zeros(shape, dtype=dtype)
            np.add.at(da, index, dout)
            return (da,)

        return self._from_op(self.data[index], (self,), backward, "getitem")
