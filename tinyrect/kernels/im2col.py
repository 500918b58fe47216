"""numba kernels for convolution as a matrix product: im2col (gather) and col2im (scatter-add).

Layout (x is one chunk of m samples, P = Ho·Wo output pixels per sample):

    cols[(c·kh + i)·kw + j,  n·P + ho·Wo + wo]  =  x[n, c, ho·sh - ph + i·dh, wo·sw - pw + j·dw]

(0 where the index falls into the zero padding). So cols is X_col with shape (C·kh·kw, m·P): one
row per weight of a filter (the same order as weight.reshape(F, -1)), one column per output
pixel. Then the whole chunk is ONE matrix product, Y_col = W_col · X_col of shape (F, m·P), with
both operands contiguous: BLAS gets a large GEMM and nobody makes a transposed copy of cols.

Optimizations these kernels must keep (check them if you edit):
  * `nogil=True` and no parallel loop inside: tinyrect runs the kernels of different chunks of
    the batch in parallel threads (tinyrect/_threads.py), each chunk followed by its own
    single-threaded GEMM. Each chunk writes only its own columns of its own cols buffer, and
    col2im only its own samples' planes of dx, so the scatter-add needs no atomics, has no
    races, and no thread ever waits at a barrier between the kernel and the GEMM;
  * the range of output columns wo whose input column lies inside the image is computed once
    per (i, j), so the innermost loop has no bounds test and, for stride 1, reads and writes
    consecutive memory;
  * the arrays are indexed through flat views with unsigned (np.uint64) offsets: numba checks
    every signed index for Python's negative wrap-around (a[-1]), and that check stopped LLVM
    from vectorizing the copy loops; without it the kernels ran 2.3-4.3x faster (measured on
    chunks of the benchmark shapes);
  * constants have the array's dtype (`x.dtype.type(0)`): float32 stays float32.
  * the common case of the paper's nets, stride 1 with 'same' width (Wo == W, e.g. 3x3 with
    padding 1), has kernels of its own (`im2col_same_width`, `col2im_same_width`; conv2d picks
    them by `is_same_width`, so only the pair a net uses is ever compiled): one row of X_col for one
    sample, read row after row, is the input plane shifted by a constant, so it is copied in
    ONE long contiguous loop and only the few padding entries are zeroed afterwards. The
    general path copies one output row (Wo values) at a time; for 8x8 maps such short loops
    never reach LLVM's vectorized body (measured: 3.3 GB/s against ~10 GB/s for long copies).
The slow, obvious twins are in kernels/reference.py; tests compare the two.
"""
from __future__ import annotations

import numpy as np
from numba import njit


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


@njit(cache=True, nogil=True)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, cols):
    """Fill cols (C·kh·kw, N·Ho·Wo) from x (N, C, H, W); layout in the module doc.

    Works on flat views (x and cols must be C-contiguous) with unsigned offsets `u(...)`.
    """
    N, C, H, W = x.shape
    M = cols.shape[1]
    xf, cf = x.reshape(x.size), cols.reshape(cols.size)
    zero = x.dtype.type(0)
    u = np.uint64
    for n in range(N):
        for c in range(C):
            for i in range(kh):
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    off = j * dw - pw                    # input column = wo·sw + off
                    lo, hi = valid_columns(Wo, W, sw, off)
                    for ho in range(Ho):
                        h = ho * sh - ph + i * dh        # input row
                        dst = u(row * M + (n * Ho + ho) * Wo)
                        if h < 0 or h >= H:              # the whole output row reads padding
                            for k in range(u(Wo)):
                                cf[dst + k] = zero
                            continue
                        for k in range(u(lo)):           # left padding
                            cf[dst + k] = zero
                        src = u(((n * C + c) * H + h) * W + lo * sw + off)  # x at wo = lo
                        d0 = dst + u(lo)
                        if sw == 1:                      # a contiguous copy: vectorized
                            for k in range(u(hi - lo)):
                                cf[d0 + k] = xf[src + k]
                        else:
                            for k in range(u(hi - lo)):
                                cf[d0 + k] = xf[src + k * u(sw)]
                        for k in range(u(hi), u(Wo)):    # right padding
                            cf[dst + k] = zero


@njit(cache=True, nogil=True)
def col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo, dx):
    """dx = scatter-add of cols (the adjoint of im2col); entries from the padding are dropped.

    Every input pixel that several windows read receives the sum of their column entries.
    Same flat views and unsigned offsets as im2col (dx and cols must be C-contiguous).
    """
    N, C, H, W = dx.shape
    M = cols.shape[1]
    cf, df = cols.reshape(cols.size), dx.reshape(dx.size)
    zero = dx.dtype.type(0)
    u = np.uint64
    for n in range(N):
        for c in range(C):
            plane = u((n * C + c) * H * W)
            for k in range(u(H * W)):
                df[plane + k] = zero
            for i in range(kh):
                for j in range(kw):
                    row = (c * kh + i) * kw + j
                    off = j * dw - pw
                    lo, hi = valid_columns(Wo, W, sw, off)
                    for ho in range(Ho):
                        h = ho * sh - ph + i * dh
                        if h < 0 or h >= H:              # this row of windows reads padding
                            continue
                        s0 = u(row * M + (n * Ho + ho) * Wo + lo)
                        d0 = plane + u(h * W + lo * sw + off)
                        if sw == 1:
                            for k in range(u(hi - lo)):
                                df[d0 + k] += cf[s0 + k]
                        else:
                            for k in range(u(hi - lo)):
                                df[d0 + k * u(sw)] += cf[s0 + k]


def is_same_width(sh, sw, Wo, W) -> bool:
    """Whether the *_same_width kernels apply: stride 1 both ways and as many output columns as
    input columns (2·pw = dw·(kw - 1), e.g. 3x3 with padding 1)."""
    return sh == 1 and sw == 1 and Wo == W


# ----------------------------------------------------------------------------- stride 1, Wo == W
# Row (c, i, j) of X_col for sample n, as one vector over q = ho·W + wo, reads
#     x_plane[(ho + i·dh - ph)·W + wo + j·dw - pw]  =  x_plane[q + shift],
# a constant shift: one long copy (im2col) or add (col2im) for all the rows ho that lie inside
# the image. Where wo + j·dw - pw falls outside [0, W) that formula wraps into the neighbouring
# input row, so those padding entries are fixed afterwards (im2col: set to 0) or made harmless
# beforehand (col2im: the cols entry set to 0, so adding it changes nothing). The copy is also
# clipped to the sample's own plane, so no thread ever touches another chunk's memory.
# The samples are the innermost loop: everything that depends only on (c, i, j) is worked out
# once per chunk, which matters on small maps (8x8: 63 against 95-131 µs per 32-sample chunk).

@njit(cache=True, nogil=True, inline="always")
def _same_width_geometry(H, W, Ho, i, j, ph, pw, dh, dw):
    """For the rows (c, i, j) of X_col: output rows [r0, r1) that read inside the image, columns
    [lo, hi) that do, the shift of the plane index, and the range [a, b) of q copied in one go
    (clipped to the plane)."""
    r0, r1 = valid_columns(Ho, H, 1, i * dh - ph)
    off = j * dw - pw
    lo, hi = valid_columns(W, W, 1, off)
    shift = (i * dh - ph) * W + off
    return r0, r1, lo, hi, shift, max(r0 * W, -shift), min(r1 * W, H * W - shift)


@njit(cache=True, nogil=True, inline="always")
def _zero_padding_columns(cf, start, r0, r1, lo, hi, W):
    """cf[start + ho·W + wo] = 0 for the rows ho in [r0, r1) and columns wo outside [lo, hi):
    one strided loop per padding column."""
    u = np.uint64
    zero = cf.dtype.type(0)
    for k in range(u(lo)):
        for ho in range(u(r0), u(r1)):
            cf[start + k + ho * u(W)] = zero
    for k in range(u(hi), u(W)):
        for ho in range(u(r0), u(r1)):
            cf[start + k + ho * u(W)] = zero


@njit(cache=True, nogil=True)
def im2col_same_width(x, kh, kw, ph, pw, dh, dw, Ho, cols):
    """im2col for stride 1 and Wo == W (is_same_width): the same cols, by shifted plane copies."""
    N, C, H, W = x.shape
    M = cols.shape[1]
    P = Ho * W
    xf, cf = x.reshape(x.size), cols.reshape(cols.size)
    zero = x.dtype.type(0)
    u = np.uint64
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * M
                r0, r1, lo, hi, shift, a, b = _same_width_geometry(H, W, Ho, i, j, ph, pw, dh, dw)
                for n in range(N):                              # innermost: the set-up
                    dst = u(row + n * P)                        # above is done once for all
                    for k in range(u(r0 * W)):                  # rows above the image
                        cf[dst + k] = zero
                    for k in range(u(r1 * W), u(P)):            # rows below it
                        cf[dst + k] = zero
                    if b > a:                                   # x index = plane + q + shift
                        s0, d0 = u((n * C + c) * H * W + shift + a), dst + u(a)
                        for k in range(u(b - a)):               # the one long copy
                            cf[d0 + k] = xf[s0 + k]
                    _zero_padding_columns(cf, dst, r0, r1, lo, hi, W)


@njit(cache=True, nogil=True)
def col2im_same_width(cols, kh, kw, ph, pw, dh, dw, Ho, dx):
    """col2im for stride 1 and Wo == W (is_same_width), by shifted plane adds. The entries of
    cols that come from the padding are set to 0 first (they are dropped anyway; conv2d passes
    a scratch buffer)."""
    N, C, H, W = dx.shape
    M = cols.shape[1]
    P = Ho * W
    cf, df = cols.reshape(cols.size), dx.reshape(dx.size)
    zero = dx.dtype.type(0)
    u = np.uint64
    for k in range(u(dx.size)):
        df[k] = zero
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * M
                r0, r1, lo, hi, shift, a, b = _same_width_geometry(H, W, Ho, i, j, ph, pw, dh, dw)
                for n in range(N):
                    src = u(row + n * P)
                    _zero_padding_columns(cf, src, r0, r1, lo, hi, W)   # they add nothing
                    if b > a:
                        s0, d0 = src + u(a), u((n * C + c) * H * W + shift + a)
                        for k in range(u(b - a)):               # the one long add
                            df[d0 + k] += cf[s0 + k]
