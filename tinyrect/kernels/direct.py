"""conv2d's direct fast path: the convolution as tiles of a matrix product read straight from x.

The math is the same as the im2col path (tinyrect/functional/conv.py: Y = W_col·X_col + b,
dW = dY·X_colᵀ, dX = col2im(W_colᵀ·dY), db = Σ dY), but X_col is never built. Each sample is
copied once into a zero-padded buffer; a column of X_col is then a fixed pattern of offsets into
that buffer (one offset per tap (c, i, j), `taps`) shifted by the output pixel's own offset
(`pixels`): X_col[t, q] = x_padded[taps[t] + pixels[q]]. The register-blocked tile of
kernels/microkernel.py reads those entries where it needs them, in the cache:

  forward   Y[f, q]  = Σ_t Wᵀ[t, f] · x_padded[taps[t] + pixels[q]]        tiles of 8 pixels × FB f
  dW        dWᵀ[t, f] = Σ_q dYᵀ[q, f] · x_padded[pixels[q] + taps[t]]      tiles of 8 taps × FB f
  dX        (stride 1) the forward of dY, zero-padded by (k - 1)·d - p, with the filters turned
            by 180° and in and out channels swapped: the paper's Eq. (11), Δx = Ŵ Δy, where each
            input pixel collects the k×k output pixels in all F channels that it fed

FB (channels per tile) is one or two vectors (16 or 32 float32, 8 or 16 float64); channels are
padded with zeros to a multiple of FB, and the last pixels/taps of a row of tiles repeat the last
real one (computed, then dropped), so no tile reads outside its sample. The batch is split into
chunks on tinyrect's threads, as in kernels/conv.py; each chunk pads, multiplies and writes its
own samples, and sums its own part of dW.
The reference these must equal is kernels/reference.py (conv2d_reference and its backward).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit

from tinyrect._threads import parallel_map
from tinyrect.kernels import microkernel as _mk
from tinyrect.kernels.conv import buffer, chunks

PB = _mk.PB
if numba.config.DISABLE_JIT:        # plain Python: the NumPy twin of the tile
    _tile1 = _tile2 = _mk.tile_reference
else:
    _tile1, _tile2 = _mk.tile1, _mk.tile2


@njit(cache=True, nogil=True)
def _tile(nv, x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, accumulate):
    if nv == 1:
        _tile1(x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv, accumulate)
    else:
        _tile2(x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv, accumulate)


@njit(cache=True, nogil=True)
def pad_sample(x, n, pt, pl, xs):
    """xs[:, pt:pt+H, pl:pl+W] = x[n]; xs's border stays as it is (zero: see the callers)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    for c in range(C):
        for h in range(H):
            for w in range(W):
                xs[c, pt + h, pl + w] = x[n, c, h, w]


@njit(cache=True, nogil=True)
def forward_tiles(x, pt, pl, xs, wt, bias, y, taps, pixels, nv, fb):
    """y[n, f, q] = bias[f] + Σ_t wt[t, f] · xs.flat[taps[t] + pixels[q]] for each sample n of
    x (n, C, H, W), xs (C, Hb, Wb) being the sample zero-padded by pt rows, pl columns.

    wt (T, Fp) packed filters, Fp a multiple of fb; y (n, F, P); pixels: P rounded up to PB,
    repeating the last pixel."""
    F, P = y.shape[1], y.shape[2]
    T, Fp = wt.shape
    xs[...] = 0
    xf, wf, yf = xs.reshape(xs.size), wt.reshape(wt.size), y.reshape(y.size)
    acc = np.empty(PB * fb, dtype=xs.dtype)
    for n in range(x.shape[0]):
        pad_sample(x, n, pt, pl, xs)
        for q0 in range(0, P, PB):
            cols = pixels[q0:q0 + PB]
            m = min(PB, P - q0)
            for f0 in range(0, F, fb):
                _tile(nv, xf, wf, acc, taps, T, 0, cols, Fp, f0, 0, fb, 0)
                for f in range(f0, min(F, f0 + fb)):
                    b = bias[f]
                    out = (n * F + f) * P + q0
                    for p in range(m):
                        yf[out + p] = acc[p * fb + f - f0] + b


@njit(cache=True, nogil=True)
def weight_grad_tiles(x, pt, pl, xs, g, gt, dwt, taps, pixels, nv, fb):
    """dwt[t, f] += Σ_n Σ_q g[n, f, q] · xs.flat[pixels[q] + taps[t]] (dWᵀ of the chunk), xs being
    sample n of x zero-padded as in forward_tiles.

    gt (P, Fp) is scratch for dYᵀ of one sample (channels beyond F stay zero); dwt (T rounded up
    to PB, Fp); taps rounded up to PB like dwt (repeating the last tap); pixels: exactly P."""
    F, P = g.shape[1], g.shape[2]
    Tp, Fp = dwt.shape
    xs[...] = 0
    gt[...] = 0
    xf, gf, df = xs.reshape(xs.size), gt.reshape(gt.size), dwt.reshape(dwt.size)
    for n in range(x.shape[0]):
        pad_sample(x, n, pt, pl, xs)
        for f in range(F):
            for q in range(P):
                gt[q, f] = g[n, f, q]
        for t0 in range(0, Tp, PB):
            rows = taps[t0:t0 + PB]
            for f0 in range(0, Fp, fb):
                _tile(nv, xf, gf, df, pixels, P, 0, rows, Fp, f0, t0 * Fp + f0, Fp, 1)


_offsets_cache: dict = {}


def offsets(C, Hb, Wb, kh, kw, sh, sw, dh, dw, Ho, Wo):
    """(taps, pixels): where each tap (c, i, j) and each output pixel's patch start in a padded
    (C, Hb, Wb) sample, as int64 offsets (X_col[t, q] = sample.flat[taps[t] + pixels[q]]), both
    extended to a multiple of PB entries by repeating the last one. Kept per geometry."""
    key = (C, Hb, Wb, kh, kw, sh, sw, dh, dw, Ho, Wo)
    if key not in _offsets_cache:
        c, i, j = np.meshgrid(np.arange(C), np.arange(kh), np.arange(kw), indexing="ij")
        taps = ((c * Hb + i * dh) * Wb + j * dw).reshape(-1)
        ho, wo = np.meshgrid(np.arange(Ho), np.arange(Wo), indexing="ij")
        pixels = (ho * sh * Wb + wo * sw).reshape(-1)
        _offsets_cache[key] = (_rounded(taps.astype(np.int64)), _rounded(pixels.astype(np.int64)))
    return _offsets_cache[key]


def _rounded(index: np.ndarray) -> np.ndarray:
    """index extended to a multiple of PB entries by repeating its last entry."""
    extra = -len(index) % PB
    return np.concatenate([index, np.repeat(index[-1:], extra)]) if extra else index


def block(F: int, dtype) -> tuple:
    """(nv, fb): vectors per tile and channels per tile for F output channels."""
    nv = 1 if F <= _mk.lanes(dtype) else 2
    return nv, nv * _mk.lanes(dtype)


def pack(w_col: np.ndarray, fb: int) -> np.ndarray:
    """Wᵀ (T, Fp): the filters as columns, channels zero-padded to a multiple of fb."""
    F, T = w_col.shape
    wt = np.zeros((T, -(-F // fb) * fb), dtype=w_col.dtype)
    wt[:, :F] = w_col.T
    return wt


def padded_size(H, W, geometry) -> tuple:
    """(Hb, Wb): a sample's planes with the top/left padding and every row/column a tap reads."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    return (max(ph + H, (Ho - 1) * sh + (kh - 1) * dh + 1),
            max(pw + W, (Wo - 1) * sw + (kw - 1) * dw + 1))


MIN_TAPS = 64   # fewer taps per filter (C·kh·kw) than this: the im2col path is faster


def suits(C: int, geometry) -> bool:
    """Whether conv2d takes this path: filters with at least MIN_TAPS taps (with fewer, each tile
    does little arithmetic per output it writes, and im2col + GEMM measured faster)."""
    return C * geometry.kh * geometry.kw >= MIN_TAPS


def supports_backward(geometry) -> bool:
    """dX as a forward convolution of dY needs stride 1 and padding <= (k - 1)·d."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    return sh == sw == 1 and ph <= (kh - 1) * dh and pw <= (kw - 1) * dw


def _split(N: int) -> list:
    """Chunks of the batch for the threads (a sample's work here fits in the cache)."""
    return chunks(N, 1 << 16)


def forward(x, w_aug, geometry, epilogue=None):
    """y = conv2d(x) + b as (N, F, Ho, Wo), chunks of the batch in parallel (kernels/conv.py's
    forward, same arguments: w_aug is W_col, or [W_col | b] when there is a bias)."""
    N, C, H, W = x.shape
    F = w_aug.shape[0]
    K = C * geometry.kh * geometry.kw
    bias = w_aug[:, K].copy() if w_aug.shape[1] > K else np.zeros(F, x.dtype)
    nv, fb = block(F, x.dtype)
    wt = pack(w_aug[:, :K], fb)
    Hb, Wb = padded_size(H, W, geometry)
    taps, pixels = offsets(C, Hb, Wb, *geometry[:4], *geometry[6:])
    y = np.empty((N, F, geometry.Ho * geometry.Wo), dtype=x.dtype)

    def chunk(bounds):
        n0, n1 = bounds
        xs = buffer("xpad", C * Hb * Wb, x.dtype).reshape(C, Hb, Wb)
        forward_tiles(x[n0:n1], geometry.ph, geometry.pw, xs, wt, bias, y[n0:n1], taps,
                      pixels, nv, fb)
        if epilogue is not None:
            epilogue(y[n0:n1], n0, n1)

    parallel_map(chunk, _split(N))
    return y.reshape(N, F, geometry.Ho, geometry.Wo)


def backward(x, w_col, dout, geometry, need_dx=True, need_dw=True, has_bias=False, prologue=None):
    """(dx, dW_col, db) with the same arguments and results as kernels/conv.py's backward
    (stride 1 only: `supports_backward`)."""
    N, C, H, W = x.shape
    F, K = w_col.shape
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    P = Ho * Wo
    dout = np.ascontiguousarray(dout).reshape(N, F, P)
    nv, fb = block(F, x.dtype)
    Fp = -(-F // fb) * fb
    Hb, Wb = padded_size(H, W, geometry)
    taps, pixels = offsets(C, Hb, Wb, kh, kw, sh, sw, dh, dw, Ho, Wo)
    pixels = pixels[:P]
    # dX: the forward of dY (padded by (k-1)·d - p) with the filters turned and transposed
    nvx, fbx = block(C, x.dtype)
    turned = w_col.reshape(F, C, kh, kw)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    wt_x = pack(turned.reshape(C, F * kh * kw), fbx)
    gt_, gl = (kh - 1) * dh - ph, (kw - 1) * dw - pw
    gH, gW = max(gt_ + Ho, H + (kh - 1) * dh), max(gl + Wo, W + (kw - 1) * dw)
    gtaps, gpixels = offsets(F, gH, gW, kh, kw, 1, 1, dh, dw, H, W)
    no_bias = np.zeros(C, x.dtype)
    dx = np.empty((N, C, H * W), dtype=x.dtype) if need_dx else None

    def chunk(bounds):
        n0, n1 = bounds
        g = dout[n0:n1] if prologue is None else prologue(dout[n0:n1], n0, n1)   # dY of the chunk
        dwt = None
        if need_dw:
            xs = buffer("xpad", C * Hb * Wb, x.dtype).reshape(C, Hb, Wb)
            gt = buffer("dy_t", P * Fp, x.dtype).reshape(P, Fp)
            dwt = np.zeros((len(taps), Fp), dtype=x.dtype)
            weight_grad_tiles(x[n0:n1], ph, pw, xs, g, gt, dwt, taps, pixels, nv, fb)
        if need_dx:
            gs = buffer("dypad", F * gH * gW, x.dtype).reshape(F, gH, gW)
            forward_tiles(g.reshape(n1 - n0, F, Ho, Wo), gt_, gl, gs, wt_x, no_bias, dx[n0:n1],
                          gtaps, gpixels, nvx, fbx)
        return dwt, (g.sum(axis=(0, 2)) if has_bias else None)

    parts = parallel_map(chunk, _split(N))
    if not parts:                                                          # an empty batch
        parts = [(np.zeros((len(taps), Fp), x.dtype), np.zeros(F, x.dtype))]
    dw = sum(p[0] for p in parts)[:K, :F].T if need_dw else None
    db = sum(p[1] for p in parts) if has_bias else None
    return (None if dx is None else dx.reshape(N, C, H, W)), dw, db
