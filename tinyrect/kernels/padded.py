"""Where the direct convolution's taps read: a sample copied into a zero-padded buffer, and the
offsets of each tap and each output pixel in it (kernels/direct.py multiplies them).

A tap (c, i, j) of a filter at output pixel (ho, wo) reads x_padded[c, ho·sh + i·dh, wo·sw + j·dw],
that is x_padded.flat[taps[t] + pixels[q]] with taps[t] = (c·Hb + i·dh)·Wb + j·dw and
pixels[q] = ho·sh·Wb + wo·sw: X_col (im2col's matrix) as a sum of two offsets, never built.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from tinyrect.kernels.microkernel import PB


@njit(cache=True, nogil=True)
def pad_sample(x, n, pt, pl, xs, mask):
    """xs[:C, pt:pt+H, pl:pl+W] = x[n] (times 1[mask[n] > 0] when mask has entries: ReLU's
    derivative, folded into the copy); xs's border stays as it is (zero: see the callers).
    Flat views and unsigned offsets, as in kernels/im2col.py (it lets LLVM vectorize)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    Hb, Wb = xs.shape[1], xs.shape[2]
    xf, sf, mf = x.reshape(x.size), xs.reshape(xs.size), mask.reshape(mask.size)
    zero = x.dtype.type(0)
    u = np.uint64
    for c in range(C):
        for h in range(H):
            src = u(((n * C + c) * H + h) * W)
            dst = u((c * Hb + pt + h) * Wb + pl)
            if mask.size:        # times 0 or 1, no branch: ReLU's mask is unpredictable
                for w in range(u(W)):
                    sf[dst + w] = xf[src + w] * x.dtype.type(mf[src + w] > zero)
            else:
                for w in range(u(W)):
                    sf[dst + w] = xf[src + w]


@njit(cache=True, nogil=True)
def clear_planes(xs, C):
    """Zero planes [0, C) of the padded sample(s), and fill the rest (the plane of ones that
    the bias tap reads) with 1."""
    planes, plane = xs.shape[-3], xs.shape[-2] * xs.shape[-1]
    flat = xs.reshape(xs.size)
    for k in range(xs.size // plane):
        flat[k * plane:(k + 1) * plane] = 0 if k % planes < C else 1


_offsets_cache: dict = {}


def offsets(C, Hb, Wb, kh, kw, sh, sw, dh, dw, Ho, Wo, bias=False):
    """(taps, pixels): where each tap (c, i, j) and each output pixel's patch start in a padded
    (C, Hb, Wb) sample, as int64 offsets (X_col[t, q] = sample.flat[taps[t] + pixels[q]]), both
    extended to a multiple of PB entries by repeating the last one. With bias, one more tap
    at the start of the plane of ones after the C planes (the im2col path's row of ones).
    Kept per geometry."""
    key = (C, Hb, Wb, kh, kw, sh, sw, dh, dw, Ho, Wo, bias)
    if key not in _offsets_cache:
        if len(_offsets_cache) > 256:       # many geometries (a sweep): start afresh
            _offsets_cache.clear()
        c, i, j = np.meshgrid(np.arange(C), np.arange(kh), np.arange(kw), indexing="ij")
        taps = ((c * Hb + i * dh) * Wb + j * dw).reshape(-1)
        if bias:
            taps = np.append(taps, C * Hb * Wb)
        ho, wo = np.meshgrid(np.arange(Ho), np.arange(Wo), indexing="ij")
        pixels = (ho * sh * Wb + wo * sw).reshape(-1)
        _offsets_cache[key] = (_rounded(taps.astype(np.int64)), _rounded(pixels.astype(np.int64)))
    return _offsets_cache[key]


def _rounded(index: np.ndarray) -> np.ndarray:
    """index extended to a multiple of PB entries by repeating its last entry."""
    extra = -len(index) % PB
    return np.concatenate([index, np.repeat(index[-1:], extra)]) if extra else index


def padded_size(H, W, geometry) -> tuple:
    """(Hb, Wb): a sample's planes with the top/left padding and every row/column a tap reads."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    return (max(ph + H, (Ho - 1) * sh + (kh - 1) * dh + 1),
            max(pw + W, (Wo - 1) * sw + (kw - 1) * dw + 1))
