"""numba kernels for PReLU on 4-D (N, C, H, W) inputs, each beside its plain-loop reference.

PReLU, the paper's Eq. (1):  f(y) = max(0, y) + a_c · min(0, y), one a per channel c (or one for
all channels: then `a` has one element and every channel reads a[0]). Its derivatives:

    ∂f/∂y = 1 if y > 0 else a_c          (Eq. 1; at y = 0 the slope a, as PyTorch)
    ∂E/∂a_c = Σ ∂E/∂f · min(0, y)          (Eq. 2-3: over every n, i, j of channel c)

How the fast kernels are laid out, and why (each choice measured faster than the simpler one
on the shapes of the `tinyrect bench` training step, e.g. (16-64, 32, 8, 8) and (16-64, 64, 4, 4)):
  * one pass over memory: the backward takes one (n, c) plane of y and dout at a time, sums
    its part of da and writes its dx while the plane is in the cache (NumPy needs a compare, a
    multiply, a select, a product and a reduction, each a pass over all of memory);
  * each plane of H·W pixels is a flat, contiguous inner loop; looping i and j separately with
    channels outermost (a stride of C·H·W between samples) ran 3-6x slower in the forward, and
    in the backward 1.2x slower on data in the cache, 3x inside the training step;
  * the sum of Eq. (2) runs in float64 whatever the input's dtype (N·H·W float32 terms would
    lose digits); `da` of `prelu_backward_4d_into` stays float64 until the caller has added up
    every part of it;
  * in the backward the plane's sum is a loop of its own, compiled with `fastmath={"reassoc"}`:
    that lets the compiler split the float64 sum over vector lanes (otherwise each addition
    waits for the one before), about 3x faster on 8×8 planes. Only the order of the float64
    additions changes (the same order on every call of the compiled kernel); NaN and inf keep
    their IEEE meaning ("reassoc" assumes nothing about them).
  * an input with one pixel per plane, (N, C, 1, 1) as F.prelu passes the (N, C) output of a
    linear layer, loops along the channels instead (each a[c] and da[c] in turn): on a (64, 128)
    batch (forward and backward) 8x faster than the plane loop, 5x faster than NumPy;
  * serial, with the GIL released (`nogil`): conv2d_prelu (functional/conv.py) runs the forward
    right after Y is computed (`prelu_forward_4d_into`; on the im2col path chunk by chunk in
    conv2d's threads, on the direct path once for the batch). Cutting a backward into chunks on tinyrect's threads
    (`_threads.parallel_map`, each chunk with its own float64 da) did not pay on the benchmark's
    inputs: inside the training step it took 3x as long as the serial kernel (the hand-off to
    the other thread costs more than the kernel's half of a 0.5 MB input); on its own it lost
    up to 2 MB, tied at 8 MB, and won only at 32 MB, where the first touch of a fresh dx costs
    more than the arithmetic.

The `*_reference` twins are plain Python loops, obviously right and slow: tests compare the fast
kernels against them on small shapes. `NUMBA_DISABLE_JIT=1` turns the fast kernels into plain
Python too.
"""
from __future__ import annotations

import numpy as np
from numba import njit


# ----------------------------------------------------------------------------- fast (numba)
@njit(cache=True, nogil=True)
def prelu_forward_4d_into(x, a, out):
    """out[n,c,i,j] = x if x > 0 else a_c · x   (Eq. 1), into `out` (x's shape, C-contiguous)."""
    N, C, H, W = x.shape
    P = H * W
    xf = x.reshape(N * C, P)
    of = out.reshape(N * C, P)
    zero = x.dtype.type(0)
    shared = a.shape[0] == 1
    if P == 1:                  # (N, C) after a linear layer: the inner loop runs along c
        for n in range(N):
            for c in range(C):
                v = xf[n * C + c, 0]
                of[n * C + c, 0] = v if v > zero else (a[0] if shared else a[c]) * v
        return
    for nc in range(N * C):
        slope = a[0] if shared else a[nc % C]
        for p in range(P):
            v = xf[nc, p]
            of[nc, p] = v if v > zero else slope * v


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def prelu_backward_4d_into(x, a, dout, dx, da):
    """dx = dout · (1 if x > 0 else a_c)    (Eq. 1: ∂f/∂y; at y = 0 the slope a), into `dx`;
    da[c] += Σ_{n,i,j} dout · min(0, x)      (Eq. 2-3), into a float64 `da` of C elements.

    x, dout and dx C-contiguous, of one shape; `dx` may be `dout` itself (each element is read
    before it is written). The caller sums da over channels when a is shared, and over chunks
    when it cuts the batch. Per (n, c) plane: one loop for the plane's sum, then one for dx
    (module docstring: why two loops and `reassoc`)."""
    N, C, H, W = x.shape
    P = H * W
    xf = x.reshape(N * C, P)
    gf = dout.reshape(N * C, P)
    df = dx.reshape(N * C, P)
    zero = x.dtype.type(0)
    shared = a.shape[0] == 1
    if P == 1:                  # (N, C) after a linear layer: the inner loop runs along c
        for n in range(N):
            for c in range(C):
                v, g = xf[n * C + c, 0], gf[n * C + c, 0]
                da[c] += min(v, zero) * g
                df[n * C + c, 0] = g if v > zero else (a[0] if shared else a[c]) * g
        return
    for nc in range(N * C):
        c = nc % C
        slope = a[0] if shared else a[c]
        acc = 0.0  # float64 accumulator for Eq. (2), read before dx overwrites dout
        for p in range(P):
            acc += min(xf[nc, p], zero) * gf[nc, p]
        for p in range(P):
            g = gf[nc, p]
            df[nc, p] = g if xf[nc, p] > zero else slope * g
        da[c] += acc


@njit(cache=True, nogil=True)
def prelu_forward_4d(x, a):
    """Eq. (1) into a new array (prelu_forward_4d_into)."""
    out = np.empty_like(x)
    prelu_forward_4d_into(x, a, out)
    return out


@njit(cache=True, nogil=True)
def prelu_backward_4d(x, a, dout):
    """(dx, da) of prelu_backward_4d_into in new arrays, both in x's dtype; da has C elements
    (the caller sums them when a is shared)."""
    dx = np.empty_like(x)
    da = np.zeros(x.shape[1], dtype=np.float64)
    prelu_backward_4d_into(x, a, dout, dx, da)
    return dx, da.astype(x.dtype)


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
