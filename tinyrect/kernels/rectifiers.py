"""numba kernels for PReLU on 4-D (N, C, H, W) inputs, each beside its plain-loop reference.

PReLU, the paper's Eq. (1):  f(y) = max(0, y) + a_c · min(0, y), one a per channel c (or one for
all channels: then `a` has one element and every channel reads a[0]).

The fast kernels fuse what NumPy does in several passes over memory (a compare, a multiply, a
select; in the backward also a product and a reduction) into a single pass. The backward loops
over channels outermost: each channel owns its own da_c, so the reduction of Eq. (2) is one
running sum. That sum runs in a float64 scalar (N·H·W float32 terms lose digits otherwise);
every array keeps the input's dtype.

Serial on purpose: the work is memory-bound, so a second thread has little to win, and a
parallel (`prange`) launch costs milliseconds where the serial kernel takes microseconds on a
small input; when the cores are busy (BLAS, other processes) the parallel versions measured
several times slower than the serial ones, and slower than NumPy.

The `*_reference` twins are plain Python loops, obviously right and slow: tests compare the fast
kernels against them on small shapes. `NUMBA_DISABLE_JIT=1` turns the fast kernels into plain
Python too.
"""
from __future__ import annotations

import numpy as np
from numba import njit


# ----------------------------------------------------------------------------- fast (numba)
@njit(cache=True, nogil=True)
def prelu_forward_4d(x, a):
    """out[n,c,i,j] = x if x > 0 else a_c · x   (Eq. 1).  `a` has C elements or 1 (shared)."""
    out = np.empty_like(x)
    prelu_forward_4d_into(x, a, out)
    return out


@njit(cache=True, nogil=True)
def prelu_forward_4d_into(x, a, out):
    """prelu_forward_4d writing into `out` (x's shape); conv2d_prelu calls it on each chunk."""
    N, C, H, W = x.shape
    zero = x.dtype.type(0)
    shared = a.shape[0] == 1
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        slope = a[0] if shared else a[c]
        for i in range(H):
            for j in range(W):
                v = x[n, c, i, j]
                out[n, c, i, j] = v if v > zero else slope * v


@njit(cache=True, nogil=True)
def prelu_backward_4d(x, a, dout):
    """dx = dout · (1 if x > 0 else a_c)              (Eq. 1: df/dy; at y = 0 the slope a),
    da_c = Σ_{n,i,j} dout · min(0, x)                  (Eq. 2-3, one sum per channel).

    Returns (dx, da) with da of shape (C,); the caller sums da over channels when a is shared.
    """
    N, C, H, W = x.shape
    dx = np.empty_like(x)
    da = np.zeros(C, dtype=x.dtype)
    zero = x.dtype.type(0)
    shared = a.shape[0] == 1
    for c in range(C):
        slope = a[0] if shared else a[c]
        acc = 0.0  # float64 accumulator for Eq. (2)
        for n in range(N):
            for i in range(H):
                for j in range(W):
                    v = x[n, c, i, j]
                    g = dout[n, c, i, j]
                    dx[n, c, i, j] = g if v > zero else slope * g
                    acc += min(v, zero) * g
        da[c] = acc
    return dx, da


# ----------------------------------------------------------------------------- references
def prelu_forward_4d_reference(x, a):
    """Plain loops: the definition of Eq. (1), nothing clever."""
    N, C, H, W = x.shape
    out = np.empty_like(x)
    for n in range(N):
        for c in range(C):
            slope = a[0] if len(a) == 1 else a[c]
            for i in range(H):
                for j in range(W):
                    v = x[n, c, i, j]
                    out[n, c, i, j] = v if v > 0 else slope * v
    return out


def prelu_backward_4d_reference(x, a, dout):
    """Plain loops: dx by Eq. (1)'s derivative, da_c by Eq. (2)-(3) (per channel)."""
    N, C, H, W = x.shape
    dx = np.empty_like(x)
    da = np.zeros(C, dtype=np.float64)
    for n in range(N):
        for c in range(C):
            slope = a[0] if len(a) == 1 else a[c]
            for i in range(H):
                for j in range(W):
                    v, g = x[n, c, i, j], dout[n, c, i, j]
                    dx[n, c, i, j] = g if v > 0 else slope * g        # df/dy
                    da[c] += g * v if v <= 0 else 0.0                 # df/da = min(0, y)
    return dx, da.astype(x.dtype)
