"""Fully connected layers: linear (y = x Wᵀ + b) and flatten, each with a hand-derived backward.

linear is the paper's Eq. (5), y = W x + b, for a layer whose input is a vector (its fc layers;
conv2d in conv.py is the same equation applied at every pixel). flatten turns the last conv
layer's (N, C, H, W) maps into the (N, C·H·W) rows that linear takes.
"""
from __future__ import annotations

from tinyrect.kernels.gemm import matmul
from tinyrect.tensor import Tensor, as_tensor


def linear(x, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b with PyTorch's layout: x (..., in), weight (out, in), bias (out,).

    Backward (rows of x flattened to a matrix X):  dX = dY W,  dW = dYᵀ X,  db = Σ_rows dY.
    The products run on tinyrect's threads (kernels/gemm.py).
    """
    x, weight = as_tensor(x), as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got {weight.shape}")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input's last dimension must be in_features={weight.shape[1]} "
                         f"(weight shape {weight.shape}), got input shape {x.shape}; "
                         "flatten images first, e.g. flatten(x, 1)")
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    xd, wd = x.data, weight.data
    rows = xd.reshape(-1, xd.shape[-1])                          # X: one row per input vector
    y = matmul(rows, wd.T).reshape(*xd.shape[:-1], wd.shape[0])  # Y = X Wᵀ
    if bias is not None:
        y = y + bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(dout):
        """dX = dY W,  dW = dYᵀ X,  db = Σ dY over all leading axes."""
        d2 = dout.reshape(-1, dout.shape[-1])
        dx = matmul(d2, wd).reshape(xd.shape).astype(x.dtype, copy=False) \
            if x.requires_grad else None
        dw = matmul(d2.T, rows).astype(weight.dtype, copy=False) if weight.requires_grad else None
        if bias is None:
            return dx, dw
        return dx, dw, d2.sum(axis=0).astype(bias.dtype, copy=False)

    return Tensor._from_op(y, parents, backward, "linear")


def flatten(x, start_dim: int = 1) -> Tensor:
    """Merge dims start_dim..end into one: (N, C, H, W) -> (N, C·H·W). Backward: reshape back."""
    x = as_tensor(x)
    if not -x.ndim <= start_dim < max(x.ndim, 1):
        raise ValueError(f"flatten: start_dim {start_dim} is out of range for shape {x.shape}")
    start_dim %= max(x.ndim, 1)
    return x.reshape(*x.shape[:start_dim], -1)
