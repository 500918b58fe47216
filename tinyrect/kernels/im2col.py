"""numba kernels for convolution as a matrix product: im2col (gather) and col2im (scatter-add).

Layout (one chunk of samples n0 <= n < n1, m = n1 - n0, P = Ho·Wo output pixels per sample):

    cols[(c·kh + i)·kw + j,  (n - n0)·P + ho·Wo + wo]  =  x[n, c, ho·sh - ph + i·dh, wo·sw - pw + j·dw]

(0 where the index falls into the zero padding). So cols is X_col with shape (C·kh·kw, m·P): one
row per weight of a filter (the same order as weight.reshape(F, -1)), one column per output
pixel. Then the whole chunk is ONE matrix product, Y_col = W_col · X_col of shape (F, m·P), with
both operands contiguous: BLAS gets a large GEMM and nobody makes a transposed copy of cols.

Optimizations these kernels must keep (check them if you edit):
  * the main loop is `prange` over the m·C independent (sample, channel) planes: each task
    writes its own rows of cols (im2col) or its own plane of dx (col2im), so col2im's
    scatter-add needs no atomics and has no races;
  * the range of output columns wo whose input column lies inside the image is computed once
    per (i, j), so the innermost loop has no bounds test and, for stride 1, reads and writes
    consecutive memory (LLVM vectorizes it);
  * constants have the array's dtype (`x.dtype.type(0)`): float32 stays float32.
The slow, obvious twins are in kernels/reference.py; tests compare the two.
"""
from __future__ import annotations

from numba import njit, prange


@njit(cache=True)
def valid_columns(Wo, W, sw, off):
    """Output columns wo in [lo, hi) whose input column wo·sw + off lies in [0, W)."""
    lo = 0
    if off < 0:
        lo = min(Wo, (-off + sw - 1) // sw)
    hi = 0
    if W - off > 0:
        hi = min(Wo, (W - off + sw - 1) // sw)
    return lo, max(lo, hi)


@njit(cache=True, parallel=True)
def im2col(x, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, cols):
    """Fill cols (C·kh·kw, (n1-n0)·Ho·Wo) from x[n0:n1] (N, C, H, W); layout in the module doc."""
    N, C, H, W = x.shape
    P = Ho * Wo
    zero = x.dtype.type(0)
    for task in prange((n1 - n0) * C):
        n = task // C
        c = task % C
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                off = j * dw - pw                      # input column = wo·sw + off
                lo, hi = valid_columns(Wo, W, sw, off)
                for ho in range(Ho):
                    h = ho * sh - ph + i * dh
                    dst = n * P + ho * Wo
                    if h < 0 or h >= H:                # the whole output row reads padding
                        for wo in range(Wo):
                            cols[row, dst + wo] = zero
                        continue
                    for wo in range(lo):
                        cols[row, dst + wo] = zero
                    if sw == 1:                        # contiguous copy: vectorized
                        for wo in range(lo, hi):
                            cols[row, dst + wo] = x[n0 + n, c, h, wo + off]
                    else:
                        for wo in range(lo, hi):
                            cols[row, dst + wo] = x[n0 + n, c, h, wo * sw + off]
                    for wo in range(hi, Wo):
                        cols[row, dst + wo] = zero


@njit(cache=True, parallel=True)
def col2im(cols, n0, n1, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, dx):
    """dx[n0:n1] = scatter-add of cols (the adjoint of im2col); padding positions are dropped.

    Every input pixel that several windows read receives the sum of their column entries.
    """
    N, C, H, W = dx.shape
    P = Ho * Wo
    zero = dx.dtype.type(0)
    for task in prange((n1 - n0) * C):
        n = task // C
        c = task % C
        for h in range(H):
            for w in range(W):
                dx[n0 + n, c, h, w] = zero
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                off = j * dw - pw
                lo, hi = valid_columns(Wo, W, sw, off)
                for ho in range(Ho):
                    h = ho * sh - ph + i * dh
                    if h < 0 or h >= H:
                        continue
                    src = n * P + ho * Wo
                    if sw == 1:
                        for wo in range(lo, hi):
                            dx[n0 + n, c, h, wo + off] += cols[row, src + wo]
                    else:
                        for wo in range(lo, hi):
                            dx[n0 + n, c, h, wo * sw + off] += cols[row, src + wo]
