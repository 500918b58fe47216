"""Pooling: max, average, adaptive average and global average; each with its hand-derived backward.

Max and average pooling run numba kernels (tinyrect/kernels/pooling.py, whose slow twins are in
kernels/reference.py). Geometry follows PyTorch (ceil_mode=False): window k, stride s (default
s = k), padding p <= k/2, Ho = floor((H + 2p - k) / s) + 1. Windows may overlap (s < k) or
skip pixels (s > k); the backward handles both.
"""
from __future__ import annotations

import numpy as np

from tinyrect._threads import get_num_threads, parallel_map
from tinyrect.functional.geometry import pair
from tinyrect.kernels import pooling as _k
from tinyrect.tensor import Tensor, as_tensor


def _geometry(x: Tensor, kernel_size, stride, padding, op: str):
    if x.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W), got shape {x.shape}; "
                         "for one image use x.reshape(1, C, H, W)")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: input must be float32 or float64, got {x.dtype}")
    kh, kw = pair(kernel_size, "kernel_size", op, 1)
    sh, sw = (kh, kw) if stride is None or stride == () else pair(stride, "stride", op, 1)
    ph, pw = pair(padding, "padding", op, 0)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"{op}: padding ({ph}, {pw}) must be at most half the kernel size "
                         f"({kh}, {kw}), as in PyTorch")
    H, W = x.shape[2:]
    if kh > H + 2 * ph or kw > W + 2 * pw:
        raise ValueError(f"{op}: kernel {kh}x{kw} is larger than the padded input "
                         f"{H + 2 * ph}x{W + 2 * pw} (input {H}x{W}, padding {ph},{pw})")
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    return kh, kw, sh, sw, ph, pw, Ho, Wo


def _by_planes(kernel, *arrays):
    """Run kernel(*chunks) over chunks of the N·C planes (each array viewed as (N·C, 1, h, w)),
    the chunks in parallel threads: every (sample, channel) plane is pooled independently."""
    planes = [a.reshape(-1, 1, *a.shape[2:]) for a in arrays]
    M = planes[0].shape[0]
    pixels = max(a[0].size for a in planes) if M else 1
    step = max(1, -(-M // (4 * get_num_threads())), 16384 // pixels)  # not too many tiny chunks
    parallel_map(lambda m0: kernel(*(a[m0:m0 + step] for a in planes)), range(0, M, step))


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """y[n,c,ho,wo] = max of x over the window (padding = -inf, so it never wins).

    Backward: the gradient goes to the arg-max of each window:
    dx[n, c, argmax(window)] += dy[n, c, ho, wo]; every other pixel gets 0. (Overlapping windows
    that share a maximum add their gradients there.)
    """
    x = as_tensor(x)
    kh, kw, sh, sw, ph, pw, Ho, Wo = _geometry(x, kernel_size, stride, padding, "max_pool2d")
    xd = np.ascontiguousarray(x.data)
    out = np.empty(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    argmax = np.empty(out.shape, dtype=np.int64)
    _by_planes(lambda *a: _k.max_pool_forward(a[0], kh, kw, sh, sw, ph, pw, Ho, Wo, *a[1:]),
               xd, out, argmax)

    def backward(dout):
        """dx = scatter-add of dy to the saved arg-max positions."""
        dx = np.empty(x.shape, dtype=x.dtype)
        _by_planes(_k.max_pool_backward, np.ascontiguousarray(dout, dtype=x.dtype), argmax, dx)
        return (dx,)

    return Tensor._from_op(out, (x,), backward, "max_pool2d")


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """y[n,c,ho,wo] = (1 / (kh·kw)) · Σ_window x, padding counted as zeros (count_include_pad).

    Backward: each pixel receives dy / (kh·kw) from every window that contains it.
    """
    x = as_tensor(x)
    kh, kw, sh, sw, ph, pw, Ho, Wo = _geometry(x, kernel_size, stride, padding, "avg_pool2d")
    out = np.empty(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    _by_planes(lambda a, o: _k.avg_pool_forward(a, kh, kw, sh, sw, ph, pw, Ho, Wo, o),
               np.ascontiguousarray(x.data), out)

    def backward(dout):
        """dx[h, w] = Σ over windows containing (h, w) of dy / (kh·kw)."""
        dx = np.empty(x.shape, dtype=x.dtype)
        _by_planes(lambda d, g: _k.avg_pool_backward(d, kh, kw, sh, sw, ph, pw, g),
                   np.ascontiguousarray(dout, dtype=x.dtype), dx)
        return (dx,)

    return Tensor._from_op(out, (x,), backward, "avg_pool2d")


def _bins(size: int, out: int):
    """PyTorch's adaptive bins: bin i covers [floor(i·size/out), ceil((i+1)·size/out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool2d(x, output_size) -> Tensor:
    """Average over an (Ho, Wo) grid of bins that cover the input (bins may overlap by a pixel
    when the sizes do not divide). output_size: int or pair; None in a pair keeps that size.

    Backward: each pixel receives dy / (bin area) from every bin that contains it.
    """
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: input must be 4-D (N, C, H, W), got shape {x.shape}")
    H, W = x.shape[2:]
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(s if s is not None else d for s, d in zip(output_size, (H, W)))
    Ho, Wo = pair(output_size, "output_size", "adaptive_avg_pool2d", 1)
    if H % Ho == 0 and W % Wo == 0:  # equal, non-overlapping bins: plain average pooling
        return avg_pool2d(x, (H // Ho, W // Wo))
    rows, cols = _bins(H, Ho), _bins(W, Wo)
    xd = x.data
    out = np.empty(x.shape[:2] + (Ho, Wo), dtype=x.dtype)
    for i, (h0, h1) in enumerate(rows):
        for j, (w0, w1) in enumerate(cols):
            out[:, :, i, j] = xd[:, :, h0:h1, w0:w1].mean(axis=(2, 3))

    def backward(dout):
        """dx[bin] += dy[i, j] / area(bin), for every bin (i, j)."""
        dx = np.zeros(x.shape, dtype=x.dtype)
        for i, (h0, h1) in enumerate(rows):
            for j, (w0, w1) in enumerate(cols):
                area = x.dtype.type((h1 - h0) * (w1 - w0))
                dx[:, :, h0:h1, w0:w1] += (dout[:, :, i, j] / area)[:, :, None, None]
        return (dx,)

    return Tensor._from_op(out, (x,), backward, "adaptive_avg_pool2d")


def global_avg_pool2d(x) -> Tensor:
    """(N, C, H, W) -> (N, C): the mean of each channel.  Backward: dx = dy / (H·W), broadcast."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d: input must be 4-D (N, C, H, W), got shape {x.shape}")
    H, W = x.shape[2:]
    scale = x.dtype.type(1.0 / (H * W))

    def backward(dout):
        """dx[n, c, h, w] = dy[n, c] / (H·W)."""
        return (np.broadcast_to((dout * scale)[:, :, None, None], x.shape).astype(x.dtype),)

    return Tensor._from_op(x.data.mean(axis=(2, 3)), (x,), backward, "global_avg_pool2d")
