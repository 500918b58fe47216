"""Convolution (im2col + GEMM), padding, linear and flatten; each with a hand-derived backward.

conv2d as a matrix product (shapes for one chunk of m samples; P = Ho·Wo output pixels each):

    X_col = im2col(x)        (C·kh·kw, m·P)   column = one input patch (kernels/im2col.py)
    W_col = w.reshape(F, -1) (F, C·kh·kw)     row = one filter
    Y     = W_col · X_col + b                 (F, m·P)  -> y (m, F, Ho, Wo)

This is the paper's Eq. (5), y = W x + b, for every pixel at once: one column of X_col is the
paper's x (k²c × 1, so n = k²c: the fan-in of He init, Eq. 10), W_col is its W (d × n).

and its backward, from dY = dL/dY (the same matrix layout):

    dW_col = dY · X_colᵀ          (every weight met every patch: sum over all output pixels)
    dX     = col2im(W_colᵀ · dY)  (each patch entry goes back, added, to the pixel it came from)
    db     = Σ dY over samples and pixels

W_col, dY and col2im together are the paper's Eq. (11), Δx = Ŵ Δy: each input pixel collects
the gradients of the k×k output pixels in d = F channels that it fed (n̂ = k²d, Eq. 14).

How the code lays this out (the math is the same; each choice was measured faster):
  * the bias is one more weight, on an input that is always 1: X̃_col = [X_col; 1ᵀ] gets a row
    of ones and W̃ = [W_col | b] a column, so Y = W̃·X̃_col adds b inside the GEMM (no extra pass
    over y), and the backward's X̃_col·dYᵀ = [dW_colᵀ; dbᵀ] sums dY into db in the same GEMM;
  * Y is computed one sample at a time straight into y's (F, Ho·Wo) planes (no transposed copy),
    and dX_col likewise from dY's planes;
  * dW is computed transposed, dW_colᵀ = X_col·dYᵀ: BLAS reads X_colᵀ across its rows in the
    textbook order dY·X_colᵀ and ran that about half as fast.

Why chunks: X_col is kh·kw times bigger than x (75 MB for a batch of 64 32×32×32 images with
3×3 kernels). Processing a few samples at a time keeps it in cache and reuses a small scratch
buffer instead of paying page faults on a fresh 75 MB array every call. The backward builds
X̃_col again, chunk by chunk, rather than keeping the forward's: a kept X_col is cold by the
time the backward reads it, and writing it out to memory cost more than the recompute into a
cache-resident buffer (measured on the 30-layer training step of `tinyrect bench`, one thread:
76 ms per step with X_col kept, 47 ms with it recomputed). The chunks run in parallel threads,
each doing its own im2col (numba), GEMM (BLAS, one thread) and col2im; see
tinyrect/_threads.py for why this beats parallelizing each step. The paper's conv layers
(Sec. 2.2) are exactly this op; their weights get He init (Eq. 10) in tinyrect.nn.Conv2d.
"""
from __future__ import annotations

import numbers
import threading

import numpy as np

from tinyrect._threads import get_num_threads, parallel_map
from tinyrect.kernels import im2col as _k
from tinyrect.tensor import Tensor, as_tensor

CHUNK_BYTES = 2 << 20      # largest X_col of one chunk (1-8 MB measured alike; 2 MB a bit best)
MIN_CHUNK_BYTES = 1 << 20  # smallest chunk worth handing to another thread (see _chunks)
PER_SAMPLE_DW_PIXELS = 512  # maps at least this big get dW per sample (see _backward)
_scratch = threading.local()


def _buffer(name: str, size: int, dtype) -> np.ndarray:
    """A reusable flat scratch array (per thread), so big temporaries are allocated once."""
    key = (name, np.dtype(dtype).str)
    buf = getattr(_scratch, "bufs", {}).get(key)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        _scratch.__dict__.setdefault("bufs", {})[key] = buf
    return buf[:size]


def _pair(value, name: str, op: str, minimum: int) -> tuple:
    if isinstance(value, numbers.Integral):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
        if not all(isinstance(v, numbers.Integral) for v in value):
            raise TypeError
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if a < minimum or b < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return a, b


def _float_pair(x: Tensor, w: Tensor, op: str):
    """Compute in a common float dtype (float32, or float64 if either is float64)."""
    for t, name in ((x, "input"), (w, "weight")):
        if t.dtype not in (np.float32, np.float64):
            raise TypeError(f"{op}: {name} must be float32 or float64, got {t.dtype}; "
                            f"convert it first, e.g. x.astype(np.float32)")
    return np.result_type(x.dtype, w.dtype)


# ----------------------------------------------------------------------------- conv2d
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros") -> Tensor:
    """2-D convolution (cross-correlation) of x (N, C, H, W) with weight (F, C, kh, kw) + bias (F,).

    stride, padding, dilation: int or (height, width) pair; padding may also be 'valid' (0) or
    'same' (stride 1 only; output as large as the input). padding_mode 'zeros' or 'circular'
    (wrap around, as torch.nn.Conv2d(padding_mode='circular')). Output (N, F, Ho, Wo) with
    Ho = floor((H + 2·ph - dh·(kh - 1) - 1) / sh) + 1.  Forward and backward: module docstring
    (Y = W_col·X_col + b;  dW = dY·X_colᵀ;  dX = col2im(W_colᵀ·dY);  db = Σ dY).
    """
    x, weight = as_tensor(x), as_tensor(weight)
    if x.ndim != 4:
        raise ValueError(f"conv2d: input must be 4-D (N, C, H, W), got shape {x.shape}; "
                         "for one image use x.reshape(1, C, H, W)")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got "
                         f"shape {weight.shape}")
    N, C, H, W = x.shape
    F, Cw, kh, kw = weight.shape
    if Cw != C:
        raise ValueError(f"conv2d: input has {C} channels (shape {x.shape}) but the weight expects "
                         f"{Cw} (weight shape {weight.shape} = (out, in, kH, kW)); make "
                         f"weight.shape[1] equal x.shape[1]")
    dtype = _float_pair(x, weight, "conv2d")
    sh, sw = _pair(stride, "stride", "conv2d", 1)
    dh, dw = _pair(dilation, "dilation", "conv2d", 1)
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1      # kernel extent with dilation
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if padding == "valid":
        padding = 0
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("conv2d: padding='same' needs stride 1 (as in PyTorch)")
        padding = ((ekh - 1) // 2, (ekw - 1) // 2)       # top/left; bottom/right get the rest
        extra = ((ekh - 1) - 2 * padding[0], (ekw - 1) - 2 * padding[1])
    else:
        padding = _pair(padding, "padding", "conv2d", 0)
        extra = (0, 0)
    ph, pw = padding
    if bias is not None:
        bias = as_tensor(bias)
        if bias.shape != (F,):
            raise ValueError(f"conv2d: bias must have shape ({F},) (one per output channel), got "
                             f"{bias.shape}")
    if padding_mode not in ("zeros", "circular"):
        raise ValueError(f"conv2d: padding_mode must be 'zeros' or 'circular', got {padding_mode!r}")
    if padding_mode == "circular" and (ph or pw or any(extra)):
        x = pad(x, (pw, pw + extra[1], ph, ph + extra[0]), mode="circular")
        N, C, H, W = x.shape
        ph = pw = 0
        extra = (0, 0)
    Hp, Wp = H + 2 * ph + extra[0], W + 2 * pw + extra[1]
    if ekh > Hp or ekw > Wp:
        raise ValueError(f"conv2d: kernel {kh}x{kw} (extent {ekh}x{ekw} with dilation) is larger "
                         f"than the padded input {Hp}x{Wp} (input {H}x{W}, padding {ph},{pw}); "
                         "use a smaller kernel or more padding")
    Ho, Wo = (Hp - ekh) // sh + 1, (Wp - ekw) // sw + 1
    geometry = (kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo)

    xd = np.ascontiguousarray(x.data, dtype=dtype)
    w_col = np.ascontiguousarray(weight.data, dtype=dtype).reshape(F, -1)
    # the bias rides along as one more weight on a constant input 1 (module docstring)
    w_aug = w_col if bias is None else np.hstack([w_col, bias.data.astype(dtype)[:, None]])
    y = _forward(xd, w_aug, geometry)
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(dout):
        """dW = dY·X_colᵀ,  dX = col2im(W_colᵀ·dY),  db = Σ dY (over n, ho, wo)."""
        dx, dwt, db = _backward(xd, w_col, np.asarray(dout, dtype=dtype), geometry,
                                need_dx=x.requires_grad, need_dw=weight.requires_grad,
                                has_bias=bias is not None)
        dx = None if dx is None else dx.astype(x.dtype, copy=False)
        dwt = None if dwt is None else dwt.reshape(weight.shape).astype(weight.dtype, copy=False)
        if bias is None:
            return dx, dwt
        return dx, dwt, db.astype(bias.dtype, copy=False)

    return Tensor._from_op(y, parents, backward, "conv2d")


def _chunks(N: int, bytes_per_sample: int) -> list:
    """Split the batch into equal chunks (sizes differ by at most one sample), as many as a
    multiple of the thread count so that every thread gets the same work: about 4 per thread
    (so a thread that the OS pauses does not hold up the others for long) unless that makes
    chunks smaller than MIN_CHUNK_BYTES, and never with an X_col larger than CHUNK_BYTES (but at
    least one sample per chunk). Each chunk costs a thread hand-off (a pool.map of 8 no-op items
    took 98 µs, of 2 items 47 µs, measured); for the 8×8 maps of the train-step benchmark
    (2.4 MB of X_col per call) 2 chunks of 32 samples beat 8 of 8 and an uneven 56 + 8."""
    T = get_num_threads()
    bytes_per_sample = max(bytes_per_sample, 1)
    per_chunk = max(1, CHUNK_BYTES // bytes_per_sample)            # most samples in one chunk
    n = max(-(-N // per_chunk), min(4 * T, N * bytes_per_sample // MIN_CHUNK_BYTES), 1)
    n = min(N, -(-n // T) * T) if N else 0                         # a multiple of T, <= N
    return [(N * i // n, N * (i + 1) // n) for i in range(n)]


def _forward(x, w_aug, geometry):
    """y[n0:n1] = W̃ · X̃_col of each chunk (with the bias column, if any), chunks in parallel.

    w_aug is W_col (F, K), or W̃ = [W_col | b] (F, K + 1) when there is a bias; then X̃_col gets
    its row of ones.
    """
    N = x.shape[0]
    F, Ka = w_aug.shape
    Ho, Wo = geometry[-2:]
    P = Ho * Wo
    y = np.empty((N, F, P), dtype=x.dtype)

    def chunk(bounds):
        n0, n1 = bounds
        m = (n1 - n0) * P
        cols = _buffer("cols", Ka * m, x.dtype).reshape(Ka, m)
        _im2col_aug(x[n0:n1], geometry, cols)                             # X̃_col
        # Ỹ = W̃ · X̃_col, one GEMM per sample straight into y's (F, P) planes: the columns
        # of one sample are a strided view, which BLAS takes as is, so no (F, n, P) -> (n, F, P)
        # transposed copy of the product is needed (measured 1.2-1.9x faster on small maps)
        np.matmul(w_aug, cols.reshape(Ka, n1 - n0, P).transpose(1, 0, 2), out=y[n0:n1])

    parallel_map(chunk, _chunks(N, Ka * P * x.itemsize))
    return y.reshape(N, F, Ho, Wo)


def _kernel(general, same_width, geometry, W):
    """(kernel, its geometry arguments): the stride-1 same-width kernel when it applies (faster,
    kernels/im2col.py), else the general one."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    if _k.is_same_width(sh, sw, Wo, W):
        return same_width, (kh, kw, ph, pw, dh, dw, Ho)
    return general, geometry


def _im2col_aug(x, geometry, cols):
    """X_col into the first rows of cols, and the row of ones for the bias if cols has one."""
    kernel, args = _kernel(_k.im2col, _k.im2col_same_width, geometry, x.shape[3])
    kernel(x, *args, cols)
    K = x.shape[1] * geometry[0] * geometry[1]
    if cols.shape[0] > K:
        cols[K] = 1


def _col2im(dcols, geometry, dx):
    """dx = col2im(dcols); dcols is scratch (the same-width kernel zeroes its padding entries)."""
    kernel, args = _kernel(_k.col2im, _k.col2im_same_width, geometry, dx.shape[3])
    kernel(dcols, *args, dx)


def _backward(x, w_col, dout, geometry, need_dx=True, need_dw=True, has_bias=False):
    """(dx, dW_col, db), chunk by chunk in parallel threads, with X̃_col built again."""
    N = x.shape[0]
    F, K = w_col.shape
    Ka = K + has_bias
    Ho, Wo = geometry[-2:]
    P = Ho * Wo
    dout = np.ascontiguousarray(dout).reshape(N, F, P)
    dx = np.empty_like(x) if need_dx else None

    def chunk(bounds):
        n0, n1 = bounds
        n, m = n1 - n0, (n1 - n0) * P
        dw_t = None
        if need_dw:
            cols = _buffer("cols", Ka * m, x.dtype).reshape(Ka, m)
            _im2col_aug(x[n0:n1], geometry, cols)                          # X̃_col again
            # [dWᵀ; dbᵀ] = X̃_col · dYᵀ (K̃, F): the ones row of X̃_col sums dY into db. Both
            # ways below avoid the slow product dY · X_colᵀ, whose X_colᵀ BLAS reads across
            # rows (measured 37-47 against 74-89 GFLOP/s on the benchmark's chunks).
            if P >= PER_SAMPLE_DW_PIXELS:   # per sample, dYᵀ as a transposed view: no copy
                dw_t = np.matmul(cols.reshape(Ka, n, P).transpose(1, 0, 2),
                                 dout[n0:n1].transpose(0, 2, 1)).sum(axis=0)
            else:                           # small maps: one GEMM with dYᵀ copied (m·P, F)
                dy_t = _buffer("dy_t", m * F, x.dtype).reshape(m, F)
                dy_t.reshape(n, P, F)[...] = dout[n0:n1].transpose(0, 2, 1)
                dw_t = cols @ dy_t
        if need_dx:
            dcols = _buffer("cols", K * m, x.dtype).reshape(K, m)
            # dX_col = W_colᵀ · dY, one GEMM per sample from dY's (F, P) plane into its columns
            np.matmul(w_col.T, dout[n0:n1], out=dcols.reshape(K, n, P).transpose(1, 0, 2))
            _col2im(dcols, geometry, dx[n0:n1])                            # dX = col2im(dX_col)
        if dw_t is not None and has_bias:
            return dw_t[:K], dw_t[K]
        return dw_t, (dout[n0:n1].sum(axis=(0, 2)) if has_bias else None)  # db = Σ dY

    parts = (parallel_map(chunk, _chunks(N, Ka * P * x.itemsize))
             or [(np.zeros((K, F), x.dtype), np.zeros(F, x.dtype))])        # an empty batch
    dw = sum((p[0] for p in parts[1:]), parts[0][0]).T if need_dw else None   # dWᵀ -> dW
    db = sum((p[1] for p in parts[1:]), parts[0][1]) if has_bias else None
    return dx, dw, db


# ----------------------------------------------------------------------------- pad
def _pad_widths(pad, op="pad") -> tuple:
    """(left, right, top, bottom) from an int or torch's flat tuple (last dim first)."""
    if isinstance(pad, numbers.Integral):
        pad = (int(pad),) * 4
    pad = tuple(pad)
    if len(pad) == 2:
        pad = pad + (0, 0)
    if len(pad) != 4 or not all(isinstance(p, numbers.Integral) for p in pad):
        raise ValueError(f"{op}: pad must be an int, (left, right) or (left, right, top, bottom) "
                         f"as in torch.nn.functional.pad, got {pad!r}")
    if min(pad) < 0:
        raise ValueError(f"{op}: negative padding {pad} is not supported; crop with slicing instead")
    return tuple(int(p) for p in pad)


def pad(x, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last two dimensions of x (any ndim >= 2), with PyTorch's convention:

    pad = p (all four sides) | (left, right) (last dim only) | (left, right, top, bottom).
    mode 'constant' fills with `value`; mode 'circular' wraps around (the right padding copies
    the first columns, and so on), needing each pad <= the size of its dimension.
    Backward: constant: dx = dout[..., top:top+H, left:left+W] (the padding gets no gradient);
    circular: the same crop, plus every padded strip added back to the pixels it copied.
    """
    x = as_tensor(x)
    left, right, top, bottom = _pad_widths(pad)
    if x.ndim < 2:
        raise ValueError(f"pad: input must have at least 2 dimensions, got shape {x.shape}")
    H, W = x.shape[-2:]
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        out = np.pad(x.data, widths, mode="constant", constant_values=x.dtype.type(value))
    elif mode == "circular":
        if max(top, bottom) > H or max(left, right) > W:
            raise ValueError(f"pad: circular padding {(left, right, top, bottom)} is larger than the "
                             f"input's last two dimensions {H}x{W}; pad at most the size per side")
        out = np.pad(x.data, widths, mode="wrap")
    else:
        raise ValueError(f"pad: mode must be 'constant' or 'circular', got {mode!r}")

    def backward(dout):
        """constant: crop;  circular: crop, then add each wrapped strip to the pixels it copied."""
        if mode == "constant":
            return (np.ascontiguousarray(dout[..., top:top + H, left:left + W]),)
        cols = dout[..., left:left + W].copy()             # fold the columns first ...
        if left:
            cols[..., W - left:] += dout[..., :left]          # left strip copied the last columns
        if right:
            cols[..., :right] += dout[..., left + W:]         # right strip copied the first ones
        dx = cols[..., top:top + H, :].copy()               # ... then the rows
        if top:
            dx[..., H - top:, :] += cols[..., :top, :]
        if bottom:
            dx[..., :bottom, :] += cols[..., top + H:, :]
        return (dx,)

    return Tensor._from_op(out, (x,), backward, "pad")


# ----------------------------------------------------------------------------- linear, flatten
def linear(x, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b with PyTorch's layout: x (..., in), weight (out, in), bias (out,).

    Backward (rows of x flattened to a matrix X):  dX = dY W,  dW = dYᵀ X,  db = Σ_rows dY.
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
    y = xd @ wd.T
    if bias is not None:
        y = y + bias.data
    parents = (x, weight) if bias is None else (x, weight, bias)

    def backward(dout):
        """dX = dY W,  dW = dYᵀ X,  db = Σ dY over all leading axes."""
        d2 = dout.reshape(-1, dout.shape[-1])
        dx = (dout @ wd).astype(x.dtype, copy=False) if x.requires_grad else None
        dw = (d2.T @ xd.reshape(-1, xd.shape[-1])).astype(weight.dtype, copy=False) \
            if weight.requires_grad else None
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
