"""numba kernels for 2-D max and average pooling, forward and backward.

Geometry (as PyTorch, ceil_mode=False): window (kh, kw), stride (sh, sw), padding (ph, pw), output
Ho = (H + 2·ph - kh) // sh + 1 (same for W). Output pixel (ho, wo) looks at input rows
ho·sh - ph .. ho·sh - ph + kh - 1 and the same for columns.
  * max pooling pads with -inf: padding never wins; the arg-max (flat index h·W + w within the
    plane, the first maximum in row-major order; a NaN wins, as in PyTorch) is saved for backward;
  * average pooling counts the padding (count_include_pad=True): always divides by kh·kw.

Every kernel loops over the N·C independent (sample, channel) planes and releases the GIL
(nogil=True): tinyrect calls it on separate chunks of planes from parallel threads
(tinyrect/_threads.py), and the backward's scatter-adds (overlapping windows, stride < kernel)
touch only their own plane, so there are no races.
The slow twins are in kernels/reference.py.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def max_pool_forward(x, kh, kw, sh, sw, ph, pw, Ho, Wo, out, argmax):
    """out[n,c,ho,wo] = max over the window; argmax[n,c,ho,wo] = its flat index h·W + w."""
    N, C, H, W = x.shape
    for task in range(N * C):
        n = task // C
        c = task % C
        for ho in range(Ho):
            h0 = ho * sh - ph
            for wo in range(Wo):
                w0 = wo * sw - pw
                best = x.dtype.type(-np.inf)           # padding is -inf: it never wins
                best_at = max(h0, 0) * W + max(w0, 0)  # PyTorch starts at the first pixel
                for h in range(max(h0, 0), min(h0 + kh, H)):
                    for w in range(max(w0, 0), min(w0 + kw, W)):
                        v = x[n, c, h, w]
                        if v > best or v != v:         # v != v: NaN propagates
                            best = v
                            best_at = h * W + w
                out[n, c, ho, wo] = best
                argmax[n, c, ho, wo] = best_at


@njit(cache=True, nogil=True)
def max_pool_backward(dout, argmax, dx):
    """dx = 0, then dx[n, c, argmax[n,c,ho,wo]] += dout[n,c,ho,wo] (the gradient routes to the max)."""
    N, C, H, W = dx.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    zero = dx.dtype.type(0)
    for task in range(N * C):
        n = task // C
        c = task % C
        for h in range(H):
            for w in range(W):
                dx[n, c, h, w] = zero
        for ho in range(Ho):
            for wo in range(Wo):
                k = argmax[n, c, ho, wo]
                dx[n, c, k // W, k % W] += dout[n, c, ho, wo]


@njit(cache=True, nogil=True)
def avg_pool_forward(x, kh, kw, sh, sw, ph, pw, Ho, Wo, out):
    """out = (sum of the window's input pixels) / (kh·kw); padding counts as zeros."""
    N, C, H, W = x.shape
    scale = x.dtype.type(1.0 / (kh * kw))
    for task in range(N * C):
        n = task // C
        c = task % C
        for ho in range(Ho):
            h0 = ho * sh - ph
            for wo in range(Wo):
                w0 = wo * sw - pw
                total = x.dtype.type(0)
                for h in range(max(h0, 0), min(h0 + kh, H)):
                    for w in range(max(w0, 0), min(w0 + kw, W)):
                        total += x[n, c, h, w]
                out[n, c, ho, wo] = total * scale


@njit(cache=True, nogil=True)
def avg_pool_backward(dout, kh, kw, sh, sw, ph, pw, dx):
    """dx[n,c,h,w] = sum over the windows containing (h, w) of dout / (kh·kw)."""
    N, C, H, W = dx.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    zero = dx.dtype.type(0)
    scale = dx.dtype.type(1.0 / (kh * kw))
    for task in range(N * C):
        n = task // C
        c = task % C
        for h in range(H):
            for w in range(W):
                dx[n, c, h, w] = zero
        for ho in range(Ho):
            h0 = ho * sh - ph
            for wo in range(Wo):
                w0 = wo * sw - pw
                g = dout[n, c, ho, wo] * scale
                for h in range(max(h0, 0), min(h0 + kh, H)):
                    for w in range(max(w0, 0), min(w0 + kw, W)):
                        dx[n, c, h, w] += g
