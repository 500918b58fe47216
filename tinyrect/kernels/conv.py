"""conv2d's im2col path: im2col + one GEMM per chunk of the batch, the chunks in parallel threads.

conv2d takes it for dX of strided convolutions and of layers with 1-3 input channels (a first
layer's); kernels/direct.py takes the rest (functional/conv.py picks; lesson 03 times both).

The math is in tinyrect/functional/conv.py (Y = W_col·X_col + b, dW = dY·X_colᵀ,
dX = col2im(W_colᵀ·dY), db = Σ dY); this module computes exactly that, laid out for speed (each
choice was measured faster; the slow, obvious twins are in kernels/reference.py and
tests/test_kernels.py compares them):
  * the bias is one more weight, on an input that is always 1: X̃_col = [X_col; 1ᵀ] gets a row
    of ones and W̃ = [W_col | b] a column, so Y = W̃·X̃_col adds b inside the GEMM (no extra pass
    over y), and the backward's X̃_col·dYᵀ = [dW_colᵀ; dbᵀ] sums dY into db in the same GEMM;
  * Y is computed one sample at a time straight into y's (F, Ho·Wo) planes (no transposed copy
    of the product); dX_col = W_colᵀ·dY instead is one GEMM on a copy of the chunk's dY laid out
    as (F, m·Ho·Wo): with only F = 16-32 rows to sum over, one GEMM per sample took 1.1-1.4x as
    long as the copy plus one GEMM per chunk on the benchmark's 16-32-channel shapes (measured
    when they still took this path);
  * dW is computed transposed, dW_colᵀ = X_col·dYᵀ: BLAS reads X_colᵀ across its rows in the
    textbook order dY·X_colᵀ and ran that about half as fast.

Why chunks: X_col is kh·kw times bigger than x (75 MB for a batch of 64 32×32×32 images with
3×3 kernels). Processing a few samples at a time keeps it in cache and reuses a small scratch
buffer instead of paying page faults on a fresh 75 MB array every call. The backward builds
X̃_col again, chunk by chunk, rather than keeping the forward's: a kept X_col is cold by the
time the backward reads it, and writing it out to memory cost more than the recompute into a
cache-resident buffer (measured on the 30-layer training step of `tinyrect bench`, one thread:
kept 1.6x slower than recomputed). The chunks run in parallel threads, each doing its own
im2col (numba), GEMM (BLAS, one thread) and col2im; see tinyrect/_threads.py for why this beats
parallelizing each step.

`geometry` below is a tinyrect.functional.geometry.ConvGeometry (kh, kw, sh, sw, ph, pw, dh, dw,
Ho, Wo), in the order the numba kernels take their arguments.
"""
from __future__ import annotations

import threading

import numpy as np

from tinyrect._threads import get_num_threads, parallel_map
from tinyrect.kernels import im2col as _k

CHUNK_BYTES = 2 << 20      # largest X_col of one chunk (1-8 MB measured alike; 2 MB a bit best)
MIN_CHUNK_BYTES = 1 << 20  # smallest chunk worth handing to another thread (see chunks)
PER_SAMPLE_DW_PIXELS = 512  # maps at least this big get dW per sample (see backward)
_scratch = threading.local()


def buffer(name: str, size: int, dtype) -> np.ndarray:
    """A reusable flat scratch array (per thread), so big temporaries are allocated once."""
    key = (name, np.dtype(dtype).str)
    buf = getattr(_scratch, "bufs", {}).get(key)
    if buf is None or buf.size < size:
        buf = np.empty(size, dtype=dtype)
        _scratch.__dict__.setdefault("bufs", {})[key] = buf
    return buf[:size]


def chunks(N: int, bytes_per_sample: int) -> list:
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


def forward(x, w_aug, geometry, epilogue=None, relu=False):
    """y[n0:n1] = W̃ · X̃_col of each chunk (with the bias column, if any), chunks in parallel.

    w_aug is W_col (F, K), or W̃ = [W_col | b] (F, K + 1) when there is a bias; then X̃_col gets
    its row of ones. relu: y⁺ instead of y (functional.conv2d_relu). epilogue(y_chunk, n0, n1),
    if given, runs on each chunk's (n, F, Ho·Wo) block right after its GEMM, in the same thread,
    while the block is still in the cache (the fused PReLU of functional.conv2d_prelu).
    """
    N = x.shape[0]
    F, Ka = w_aug.shape
    Ho, Wo = geometry[-2:]
    P = Ho * Wo
    y = np.empty((N, F, P), dtype=x.dtype)

    def chunk(bounds):
        n0, n1 = bounds
        m = (n1 - n0) * P
        cols = buffer("cols", Ka * m, x.dtype).reshape(Ka, m)
        _im2col_aug(x[n0:n1], geometry, cols)                             # X̃_col
        # Ỹ = W̃ · X̃_col, one GEMM per sample straight into y's (F, P) planes: the columns
        # of one sample are a strided view, which BLAS takes as is, so no (F, n, P) -> (n, F, P)
        # transposed copy of the product is needed (measured 1.2-1.9x faster on small maps)
        np.matmul(w_aug, cols.reshape(Ka, n1 - n0, P).transpose(1, 0, 2), out=y[n0:n1])
        if relu:
            np.maximum(y[n0:n1], 0, out=y[n0:n1])                             # Y⁺
        if epilogue is not None:
            epilogue(y[n0:n1], n0, n1)

    parallel_map(chunk, chunks(N, Ka * P * x.itemsize))
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


def backward(x, w_col, dout, geometry, need_dx=True, need_dw=True, has_bias=False,
             relu_out=None):
    """(dx, dW_col, db), chunk by chunk in parallel threads, with X̃_col built again.

    relu_out: the output of a fused ReLU (conv2d_relu); then dY = dout · 1[out > 0] (= 1[Y > 0],
    0 at Y = 0), made chunk by chunk in the threads."""
    N = x.shape[0]
    F, K = w_col.shape
    Ka = K + has_bias
    Ho, Wo = geometry[-2:]
    P = Ho * Wo
    dout = np.ascontiguousarray(dout).reshape(N, F, P)
    relu_out = None if relu_out is None else relu_out.reshape(N, F, P)
    dx = np.empty_like(x) if need_dx else None

    def chunk(bounds):
        n0, n1 = bounds
        n, m = n1 - n0, (n1 - n0) * P
        g = dout[n0:n1]                                                    # dY of the chunk
        if relu_out is not None:
            mask = relu_out[n0:n1] > 0
            g = np.multiply(g, mask, out=buffer("dy_relu", g.size, g.dtype).reshape(g.shape))
        dw_t = None
        if need_dw:
            cols = buffer("cols", Ka * m, x.dtype).reshape(Ka, m)
            _im2col_aug(x[n0:n1], geometry, cols)                          # X̃_col again
            # [dWᵀ; dbᵀ] = X̃_col · dYᵀ (K̃, F): the ones row of X̃_col sums dY into db. Both
            # ways below avoid the slow product dY · X_colᵀ, whose X_colᵀ BLAS reads across
            # rows (measured 37-47 against 74-89 GFLOP/s on the benchmark's chunks).
            if P >= PER_SAMPLE_DW_PIXELS:   # per sample, dYᵀ as a transposed view: no copy
                dw_t = np.matmul(cols.reshape(Ka, n, P).transpose(1, 0, 2),
                                 g.transpose(0, 2, 1)).sum(axis=0)
            else:                           # small maps: one GEMM with dYᵀ copied (m·P, F)
                dy_t = buffer("dy_t", m * F, x.dtype).reshape(m, F)
                dy_t.reshape(n, P, F)[...] = g.transpose(0, 2, 1)
                dw_t = cols @ dy_t
        if need_dx:
            dcols = buffer("cols", K * m, x.dtype).reshape(K, m)
            dy = buffer("dy", F * m, x.dtype).reshape(F, m)               # dY as (F, m·P)
            dy.reshape(F, n, P)[...] = g.transpose(1, 0, 2)
            np.matmul(w_col.T, dy, out=dcols)                              # dX_col = W_colᵀ·dY
            _col2im(dcols, geometry, dx[n0:n1])                            # dX = col2im(dX_col)
        if dw_t is not None and has_bias:
            return dw_t[:K], dw_t[K]
        return dw_t, (g.sum(axis=(0, 2)) if has_bias else None)            # db = Σ dY

    parts = (parallel_map(chunk, chunks(N, Ka * P * x.itemsize))
             or [(np.zeros((K, F), x.dtype), np.zeros(F, x.dtype))])        # an empty batch
    dw = sum((p[0] for p in parts[1:]), parts[0][0]).T if need_dw else None   # dWᵀ -> dW
    db = sum((p[1] for p in parts[1:]), parts[0][1]) if has_bias else None
    return dx, dw, db
