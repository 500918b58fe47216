"""conv2d's direct fast path: the convolution as tiles of a matrix product read straight from x.

The math is the same as the im2col path (tinyrect/functional/conv.py: Y = W_col·X_col + b,
dW = dY·X_colᵀ, dX = col2im(W_colᵀ·dY), db = Σ dY), but X_col is never built. Each sample is
copied once into a zero-padded buffer (kernels/padded.py); an entry of X_col is then one read
from it: X_col[t, q] = x_padded[taps[t] + pixels[q]], tap t = (c, i, j), output pixel q. The
register-blocked kernels of kernels/microkernel.py read those entries where they need them:

  forward   Y[f, q]  = Σ_t Wᵀ[t, f] · x_padded[taps[t] + pixels[q]]   strips of 2 (4) vectors of
            pixels × 8 (4) f when output rows fill whole vectors at stride 1 along the row
            (`cover`); else tiles of 8 pixels × FB f
  dW        dWᵀ[t, f] = Σ_q dYᵀ[q, f] · x_padded[pixels[q] + taps[t]]      tiles of 8 taps × FB f
  dX        (stride 1) the forward of dY, zero-padded by (k - 1)·d - p, with the filters turned
            by 180° and in and out channels swapped: the paper's Eq. (11), Δx = Ŵ Δy, where each
            input pixel collects the k×k output pixels in all F channels that it fed (strided
            layers, and 1-3 input channels without strips: col2im(W_colᵀ·dY), kernels/conv.py)

FB (channels per tile) is one or two vectors (16 or 32 float32, 8 or 16 float64); channels are
padded with zeros to a multiple of FB (of a strip's channels), and the last pixels/taps of a row
of tiles repeat the last real one (computed, then dropped), so no tile reads outside its sample.
The batch is split into chunks; each chunk pads, multiplies and writes its own samples, and sums
its own part of dW. A chunk is numba code from end to end (forward_tiles, forward_strips,
weight_grad_tiles), so numba's own threads can run the chunks (`forward_chunks`,
`backward_chunks`: one `prange` region): handing work to them is much cheaper than waking a
Python thread (the README's speed section). tinyrect._threads.run_chunks falls back to Python
threads while the machine is oversubscribed (it says why).

The bias is one more weight on an input that is always 1, as in the im2col path: the padded
sample gets a plane of ones and the filters one more tap reading it, so Y gets + b inside the
tiles and the weight-gradient tile of that tap sums dY into db. A fused ReLU (conv2d_relu) is
applied as the tiles and strips store their outputs, and its derivative 1[out > 0] is folded
into the copies of dY that the backward reads.
The reference these must equal is kernels/reference.py (conv2d_reference and its backward).
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from tinyrect._threads import get_num_threads, run_chunks
from tinyrect.kernels import conv as _im2col
from tinyrect.kernels import microkernel as _mk
from tinyrect.kernels.conv import buffer, chunks
from tinyrect.kernels.padded import clear_planes, offsets, pad_sample, padded_size  # noqa: F401

PB = _mk.PB
_NO_MASK = {np.dtype(t).char: np.zeros((0, 1), t) for t in (np.float32, np.float64)}
if numba.config.DISABLE_JIT:        # plain Python: the NumPy twins of the tile and the strip
    _tile1 = _tile2 = _mk.tile_reference
    _strip2, _strip2_rows2, _strip4, _strip4_rows2 = (_mk.strip_reference,) * 4
else:
    _tile1, _tile2 = _mk.tile1, _mk.tile2
    _strip2, _strip2_rows2 = _mk.strip_2x8, _mk.strip_2x8_rows2
    _strip4, _strip4_rows2 = _mk.strip_4x4, _mk.strip_4x4_rows2


@njit(cache=True, nogil=True)
def _tile(nv, x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, mode, nf):
    """The tile of microkernel.py with nv vectors of channels (arguments: tile_reference)."""
    if nv == 1:
        _tile1(x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv, mode, nf)
    else:
        _tile2(x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv, mode, nf)


@njit(cache=True, nogil=True)
def _strip(pv, r, x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride, mode,
           nf):
    """The strip of microkernel.py: pv = 2 vectors of pixels × 8 channels or 4 × 4, a vector
    being r = 1 or 2 rows of pixels (arguments: strip_reference)."""
    fc = 16 // pv
    if pv == 2 and r == 1:
        _strip2(x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride, pv, fc, r,
                mode, nf)
    elif pv == 2:
        _strip2_rows2(x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride, pv,
                      fc, r, mode, nf)
    elif r == 1:
        _strip4(x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride, pv, fc, r,
                mode, nf)
    else:
        _strip4_rows2(x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride, pv,
                      fc, r, mode, nf)


@njit(cache=True, nogil=True)
def forward_tiles(x, pt, pl, xs, wt, y, taps, pixels, nv, fb, relu, mask):
    """y[n, f, q] = Σ_t wt[t, f] · xs.flat[taps[t] + pixels[q]] (then max(0, ·) if relu) for each
    sample n of x (n, C, H, W), xs[0] (C or C + 1, Hb, Wb) being the sample zero-padded by pt
    rows and pl columns, and, if it has one more plane, a plane of ones for the bias tap.

    wt (T, Fp) packed filters (the bias as one more row), Fp a multiple of fb; y (n, F, P);
    pixels: P rounded up to PB, repeating the last pixel; mask: see pad_sample."""
    F, P = y.shape[1], y.shape[2]
    T, Fp = wt.shape
    clear_planes(xs, x.shape[1])
    xf, wf, yf = xs.reshape(xs.size), wt.reshape(wt.size), y.reshape(y.size)
    acc = np.empty(PB * fb, dtype=xs.dtype)
    u = np.uint64
    for n in range(x.shape[0]):
        pad_sample(x, n, pt, pl, xs[0], mask)
        for q0 in range(0, P, PB):
            cols = pixels[q0:q0 + PB]
            m = min(PB, P - q0)
            for f0 in range(0, F, fb):
                nf = min(fb, F - f0)
                # stored transposed (channel by channel), ReLU applied: a full tile straight
                # into y, the last, partial one into acc first
                full = m == PB
                _tile(nv, xf, wf, yf if full else acc, taps, T, 0, cols, Fp, f0,
                      (n * F + f0) * P + q0 if full else 0, P if full else PB, 3 if relu else 2,
                      nf)
                if not full:
                    for f in range(nf):
                        out = u((n * F + f0 + f) * P + q0)
                        for p in range(u(m)):
                            yf[out + p] = acc[u(f * PB) + p]


@njit(cache=True, nogil=True)
def forward_strips(x, pt, pl, xs, wt, y, taps, starts, seg, pv, r, relu, mask):
    """forward_tiles' y with strips instead of tiles, for output rows whose pixels fill whole
    vectors (16 float32 or 8 float64: a row, part of one, or r = 2 rows) at stride 1 along the
    row: a vector of consecutive outputs then reads consecutive inputs, x_padded[taps[t] +
    starts[j] + lane], and the strip's sums, vectors of pixels of one channel, go straight into
    y. starts[j]: where run j of the output's vectors starts in the padded sample (its second
    row seg further on); wt (T, Fp), Fp a multiple of the strip's 16 / pv channels."""
    F, P = y.shape[1], y.shape[2]
    T, Fp = wt.shape
    fc, L = 16 // pv, P // max(len(starts), 1)
    clear_planes(xs, x.shape[1])
    xf, wf, yf = xs.reshape(xs.size), wt.reshape(wt.size), y.reshape(y.size)
    for n in range(x.shape[0]):
        pad_sample(x, n, pt, pl, xs[0], mask)
        for j0 in range(0, len(starts), pv):
            cols = starts[j0:j0 + pv]
            for f0 in range(0, F, fc):
                _strip(pv, r, xf, wf, yf, taps, T, 0, cols, seg, Fp, f0,
                       (n * F + f0) * P + j0 * L, P, 3 if relu else 0, min(fc, F - f0))


@njit(cache=True, nogil=True)
def weight_grad_tiles(x, pt, pl, xs, g, gt, dwt, taps, rows, nv, fb, mask):
    """dwt[t, f] += Σ_n Σ_q dY[n, f, q] · xs_n.flat[pixels[q] + taps[t]] (dWᵀ of the chunk; the
    bias tap reads the plane of ones, so its row is db), xs_n being sample n of x padded as in
    forward_tiles; dY = g, times 1[mask > 0] when mask has entries (ReLU's derivative).

    The samples go S at a time (S = len(xs)): xs (S, C + bias, Hb, Wb) holds S padded samples
    and gt (S·P, Fp) their dYᵀ (channels beyond F zero), so one tile sums over S·P pixels:
    rows = pixels + s·(C + bias)·Hb·Wb for s < S. dwt (taps rounded up to PB, Fp); taps
    rounded up to PB like dwt (repeating the last tap)."""
    F, P = g.shape[1], g.shape[2]
    Tp, Fp = dwt.shape
    S = xs.shape[0]
    clear_planes(xs, x.shape[1])
    gt[...] = 0
    xf, gf, df = xs.reshape(xs.size), gt.reshape(gt.size), dwt.reshape(dwt.size)
    mf = mask.reshape(mask.size)
    gf_in = g.reshape(g.size)
    zero = x.dtype.type(0)
    u = np.uint64
    for n0 in range(0, x.shape[0], S):
        m = min(S, x.shape[0] - n0)
        for s in range(m):
            pad_sample(x, n0 + s, pt, pl, xs[s], mask[:0])
            for f in range(F):                           # gt[s·P + q, f] = dY[n0 + s, f, q]
                src, dst = u(((n0 + s) * F + f) * P), u(s * P * Fp + f)
                if mask.size:
                    for q in range(u(P)):
                        gf[dst + q * u(Fp)] = gf_in[src + q] * x.dtype.type(mf[src + q] > zero)
                else:
                    for q in range(u(P)):
                        gf[dst + q * u(Fp)] = gf_in[src + q]
        for t0 in range(0, Tp, PB):
            cols = taps[t0:t0 + PB]
            for f0 in range(0, Fp, fb):
                _tile(nv, xf, gf, df, rows, m * P, 0, cols, Fp, f0, t0 * Fp + f0, Fp, 1, fb)


def block(F: int, dtype) -> tuple:
    """(nv, fb): vectors per tile and channels per tile for F output channels."""
    nv = 1 if F <= _mk.lanes(dtype) else 2
    return nv, nv * _mk.lanes(dtype)


def strip_shape(F, Ho, Wo, sw, dtype) -> tuple:
    """(pv, r) of the strips that cover an (F, Ho, Wo) output, or (0, 0) for tiles.

    Strips (pv = 2 or 4 vectors of pixels, r rows per vector) when USE_STRIPS, the stride along
    a row is 1, a row of Wo pixels is a whole number of vectors (r = 1) or half of one (r = 2:
    8×8 maps in float32) and the Ho·Wo pixels a whole number of strips; pv = 4 (× 4 channels)
    for up to 4 channels (the dX of a 1-3 channel layer), else 2 (× 8)."""
    L = _mk.lanes(dtype)
    r = 1 if Wo % L == 0 else 2 if 2 * Wo == L else 0
    for pv in ((4, 2) if F <= 4 else (2,)):
        if USE_STRIPS and sw == 1 and r and Ho * Wo and (Ho * Wo) % (pv * L) == 0:
            return pv, r
    return 0, 0


def cover(F, Ho, Wo, sw, pixels, dtype) -> tuple:
    """How the forward covers an (F, Ho, Wo) output: (fb, nv, pv, r, starts, seg). Strips
    (`strip_shape`; forward_strips) start at starts[j] = pixels[j·L] (L lanes), their second row
    seg further on; else the tiles (nv vectors of channels; forward_tiles), and pv = 0. fb: the
    channel block the filters are packed to."""
    pv, r = strip_shape(F, Ho, Wo, sw, dtype)
    if pv:
        seg = int(pixels[Wo] - pixels[0]) if r == 2 else 0
        return 16 // pv, 0, pv, r, np.ascontiguousarray(pixels[:Ho * Wo:_mk.lanes(dtype)]), seg
    nv, fb = block(F, dtype)
    return fb, nv, 0, 1, pixels[:0], 0


def pack(w_col: np.ndarray, fb: int) -> np.ndarray:
    """Wᵀ (T, Fp): the filters as columns, channels zero-padded to a multiple of fb."""
    F, T = w_col.shape
    wt = np.zeros((T, -(-F // fb) * fb), dtype=w_col.dtype)
    wt[:, :F] = w_col.T
    return wt


GROUP_PIXELS = 256  # a weight-gradient tile sums over this many output pixels (whole samples)
MIN_TAPS = 1        # filters with fewer taps (C·kh·kw) than this take the im2col path instead
MIN_DX_CHANNELS = 4  # dX of a layer with fewer input channels C: the im2col path (see takes_dx)
USE_STRIPS = True   # outputs whose rows fill whole vectors: strips (strip_shape); lesson 03 times both


def suits(C: int, geometry) -> bool:
    """Whether conv2d takes this path (its forward and dW): filters with at least MIN_TAPS taps,
    that is every filter; lesson 03 raises MIN_TAPS to time the im2col path against it."""
    return C * geometry.kh * geometry.kw >= MIN_TAPS


def takes_dx(C: int, geometry, H: int, W: int, dtype=np.float32) -> bool:
    """Whether the tiles or strips compute dX too (else backward uses col2im(W_colᵀ·dY)): dX as
    a forward convolution of dY needs stride 1 and padding <= (k - 1)·d, and pays from
    MIN_DX_CHANNELS input channels on, or with strips for the H×W input (`strip_shape`). That forward
    has C output channels, and a tile holds 16 (float32) of them: with C = 1-3 most of its lanes
    would be padding, and col2im measured faster; a strip of 4 vectors of pixels × 4 channels
    wastes 1-3 of 4 channels at most."""
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    return (sh == sw == 1 and ph <= (kh - 1) * dh and pw <= (kw - 1) * dw
            and (C >= MIN_DX_CHANNELS or strip_shape(C, H, W, 1, dtype)[0] > 0))


@njit(cache=True, nogil=True, parallel=True)
def forward_chunks(x, pt, pl, xs, wt, y, taps, pixels, fb, nv, pv, r, starts, seg, relu, mask,
                   bounds):
    """forward_tiles (forward_strips when pv > 0; the arguments after pixels are `cover`'s) on
    each chunk [bounds[k], bounds[k+1]) of the batch, the chunks in parallel (numba's prange);
    each thread pads into its own scratch xs[thread], which stays in its cache."""
    for k in prange(len(bounds) - 1):
        n0, n1 = bounds[k], bounds[k + 1]
        m = mask[n0:n1] if mask.shape[0] else mask[:0]
        t = numba.get_thread_id()
        if pv:
            forward_strips(x[n0:n1], pt, pl, xs[t], wt, y[n0:n1], taps, starts, seg, pv, r, relu,
                           m)
        else:
            forward_tiles(x[n0:n1], pt, pl, xs[t], wt, y[n0:n1], taps, pixels, nv, fb, relu, m)


@njit(cache=True, nogil=True, parallel=True)
def backward_chunks(x, ph, pw, xs, g, gt, dwt, taps, rows, nv, fb, mask, g4, gpt, gpl, gs,
                    wt_x, dx, gtaps, gpixels, fbx, nvx, pvx, rx, gstarts, gseg, bounds, need_dw,
                    need_dx):
    """For each chunk k of the batch, in parallel (numba's prange): its dWᵀ into dwt[k] (summed
    in chunk order afterwards: the same numbers whichever thread ran which chunk;
    weight_grad_tiles, scratch xs[thread], gt[thread]) and dX = the forward of dY (g4: dY as
    (N, F, Ho, Wo)) with the turned filters wt_x into dx (forward_tiles or forward_strips as
    `cover` says, scratch gs[thread])."""
    for k in prange(len(bounds) - 1):
        n0, n1 = bounds[k], bounds[k + 1]
        m = mask[n0:n1] if mask.shape[0] else mask[:0]
        t = numba.get_thread_id()
        if need_dw:
            weight_grad_tiles(x[n0:n1], ph, pw, xs[t], g[n0:n1], gt[t], dwt[k], taps, rows, nv,
                              fb, m)
        if need_dx and pvx:
            forward_strips(g4[n0:n1], gpt, gpl, gs[t], wt_x, dx[n0:n1], gtaps, gstarts, gseg,
                           pvx, rx, False, m)
        elif need_dx:
            forward_tiles(g4[n0:n1], gpt, gpl, gs[t], wt_x, dx[n0:n1], gtaps, gpixels, nvx, fbx,
                          False, m)


def _forward_chunk(k, slot, x, pt, pl, xs, wt, y, taps, pixels, fb, nv, pv, r, starts, seg,
                   relu, mask, bounds):
    """forward_chunks' work for chunk k alone, on the scratch of `slot` (tinyrect's threads;
    only the kernel it uses gets compiled)."""
    n0, n1 = bounds[k], bounds[k + 1]
    m = mask[n0:n1] if mask.shape[0] else mask[:0]
    if pv:
        forward_strips(x[n0:n1], pt, pl, xs[slot], wt, y[n0:n1], taps, starts, seg, pv, r, relu, m)
    else:
        forward_tiles(x[n0:n1], pt, pl, xs[slot], wt, y[n0:n1], taps, pixels, nv, fb, relu, m)


def _backward_chunk(k, slot, x, ph, pw, xs, g, gt, dwt, taps, rows, nv, fb, mask, g4, gpt, gpl,
                    gs, wt_x, dx, gtaps, gpixels, fbx, nvx, pvx, rx, gstarts, gseg, bounds,
                    need_dw, need_dx):
    """backward_chunks' work for chunk k alone, on the scratch of `slot` (tinyrect's threads)."""
    n0, n1 = bounds[k], bounds[k + 1]
    m = mask[n0:n1] if mask.shape[0] else mask[:0]
    if need_dw:
        weight_grad_tiles(x[n0:n1], ph, pw, xs[slot], g[n0:n1], gt[slot], dwt[k], taps, rows,
                          nv, fb, m)
    if need_dx:
        _forward_chunk(k, slot, g4, gpt, gpl, gs, wt_x, dx, gtaps, gpixels, fbx, nvx, pvx, rx,
                       gstarts, gseg, False, mask, bounds)


def _bounds(N: int) -> np.ndarray:
    """Chunk boundaries of the batch for the threads (a sample's work here fits in the cache)."""
    return np.array([0] + [n1 for _, n1 in chunks(N, 1 << 16)], dtype=np.int64)


def forward(x, w_aug, geometry, epilogue=None, relu=False):
    """y = conv2d(x) + b as (N, F, Ho, Wo), chunks of the batch in parallel (kernels/conv.py's
    forward, same arguments: w_aug is W_col, or [W_col | b] when there is a bias; relu: y⁺;
    the epilogue runs once, on the whole y)."""
    N, C, H, W = x.shape
    F = w_aug.shape[0]
    has_bias = w_aug.shape[1] > C * geometry.kh * geometry.kw
    Hb, Wb = padded_size(H, W, geometry)
    taps, pixels = offsets(C, Hb, Wb, *geometry[:4], *geometry[6:], bias=has_bias)
    plan = cover(F, geometry.Ho, geometry.Wo, geometry.sw, pixels, x.dtype)
    wt = pack(w_aug, plan[0])                              # the bias is the last row
    y = np.empty((N, F, geometry.Ho * geometry.Wo), dtype=x.dtype)
    planes = C + has_bias
    bounds = _bounds(N)
    n = get_num_threads()                                   # scratch: one per thread
    xs = buffer("xpad", n * planes * Hb * Wb, x.dtype).reshape(n, 1, planes, Hb, Wb)
    args = (x, geometry.ph, geometry.pw, xs, wt, y, taps, pixels, *plan, relu,
            _NO_MASK[x.dtype.char], bounds)
    run_chunks(forward_chunks, _forward_chunk, args, len(bounds) - 1)
    if epilogue is not None:
        epilogue(y, 0, N)
    return y.reshape(N, F, geometry.Ho, geometry.Wo)


def backward(x, w_col, dout, geometry, need_dx=True, need_dw=True, has_bias=False,
             relu_out=None):
    """(dx, dW_col, db) with the same arguments and results as kernels/conv.py's backward.
    dW and db by the tiles; dX by them too when `takes_dx`, else by the im2col path's
    col2im(W_colᵀ·dY). relu_out: the output of a fused ReLU, whose derivative 1[out > 0]
    multiplies dout on the way (in the copies the tiles read)."""
    N, C, H, W = x.shape
    F, K = w_col.shape
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = geometry
    P = Ho * Wo
    dout = np.ascontiguousarray(dout).reshape(N, F, P)
    mask = _NO_MASK[x.dtype.char] if relu_out is None else relu_out.reshape(N, F * P)
    tiles_dx = need_dx and takes_dx(C, geometry, H, W, x.dtype)
    nv, fb = block(F, x.dtype)
    Fp = -(-F // fb) * fb
    Hb, Wb = padded_size(H, W, geometry)
    planes = C + has_bias
    taps, pixels = offsets(C, Hb, Wb, kh, kw, sh, sw, dh, dw, Ho, Wo, bias=has_bias)
    S = max(1, min(N, GROUP_PIXELS // P))           # samples per weight-gradient tile
    rows = (pixels[:P][None, :] + planes * Hb * Wb * np.arange(S)[:, None]).reshape(-1)
    bounds = _bounds(N)
    n = get_num_threads()                                   # scratch: one per thread
    t = x.dtype
    xs = buffer("xpad", n * S * planes * Hb * Wb, t).reshape(n, S, planes, Hb, Wb)
    gt = buffer("dy_t", n * S * P * Fp, t).reshape(n, S * P, Fp)
    dwt = np.zeros((len(bounds) - 1, len(taps) if need_dw else 0, Fp), dtype=t)   # per chunk
    # dX: the forward of dY (padded by (k-1)·d - p) with the filters turned and transposed
    gpt = gpl = 0
    gtaps, gpixels, plan_x = taps[:0], pixels[:0], cover(C, 0, 0, 0, pixels[:0], t)
    wt_x, gs = np.zeros((0, plan_x[0]), t), np.zeros((n, 1, 0, 0, 0), t)
    if tiles_dx:
        turned = w_col.reshape(F, C, kh, kw)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
        gpt, gpl = (kh - 1) * dh - ph, (kw - 1) * dw - pw
        gH, gW = max(gpt + Ho, H + (kh - 1) * dh), max(gpl + Wo, W + (kw - 1) * dw)
        gtaps, gpixels = offsets(F, gH, gW, kh, kw, 1, 1, dh, dw, H, W)
        plan_x = cover(C, H, W, 1, gpixels, t)
        wt_x = pack(turned.reshape(C, F * kh * kw), plan_x[0])
        gs = buffer("dypad", n * F * gH * gW, t).reshape(n, 1, F, gH, gW)
    dx = np.empty((N, C, H * W) if tiles_dx else (0, C, H * W), dtype=t)
    args = (x, ph, pw, xs, dout, gt, dwt, taps, rows, nv, fb, mask, dout.reshape(N, F, Ho, Wo),
            gpt, gpl, gs, wt_x, dx, gtaps, gpixels, *plan_x, bounds, need_dw, tiles_dx)
    run_chunks(backward_chunks, _backward_chunk, args, len(bounds) - 1)
    dw = db = None
    if need_dw:
        dwt = dwt.sum(axis=0)
        dw, db = dwt[:K, :F].T, (dwt[K, :F].copy() if has_bias else None)
    elif has_bias:                                          # db = Σ dY without dW
        db = (dout if relu_out is None else dout * (mask.reshape(dout.shape) > 0)).sum(axis=(0, 2))
    if tiles_dx:
        return dx.reshape(N, C, H, W), dw, db
    if need_dx:                                             # dX = col2im(W_colᵀ·dY)
        dx = _im2col.backward(x, w_col, dout, geometry, need_dw=False, relu_out=relu_out)[0]
        return dx, dw, db
    return None, dw, db
