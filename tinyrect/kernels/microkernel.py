"""The register-blocked micro-kernel under tinyrect's direct convolution (kernels/direct.py).

One call computes a small tile of a matrix product whose left operand is GATHERED from x:

    out[p, f] (+)= Σ_i  x[xbase + rows[i] + cols[p]] · a[abase + i·astride + f]
                   for p < PB pixels (or taps) and f < FB output channels

For the forward convolution, i runs over the taps (c, ki, kj) of a filter, rows[i] is the tap's
offset in a zero-padded sample, cols[p] is the offset of output pixel p's patch corner and a is
the packed weight matrix Wᵀ (taps × channels): the tile is FB output channels of PB pixels, the
paper's y = W x (Eq. 5) for PB patches at once, without ever building X_col (im2col). The
weight-gradient uses the same tile with the roles swapped (i over pixels, p over taps).

Why it is fast (the idea behind every BLAS): the PB·FB partial sums stay in CPU registers for the
whole sum over i. Per step i it loads FB weights (one or two vector loads), PB input values
(broadcast, each to all lanes of a vector) and does PB·FB multiply-adds: with PB = 8, FB = 16 that
is 128 multiply-adds for 9 loads, while a plain loop that keeps its sums in memory does one load
and one store per multiply-add.

Why it is written in LLVM IR: numba's loops cannot hold an array of sums in registers (a local
array lives in memory; numba leaves LLVM's SLP vectorizer off), so this one function builds its
loop directly with llvmlite, through numba's `@intrinsic`: `<16 x float>` vectors, `llvm.fma`,
one alloca per accumulator that LLVM promotes to a register. The drivers that call it are plain
numba (kernels/direct.py). `tile_reference` below is the same tile as three lines of NumPy;
tests compare the two, and with NUMBA_DISABLE_JIT=1 the drivers call the reference instead.
"""
from __future__ import annotations

import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

PB = 8              # pixels (forward) or taps (weight gradient) per tile
VECTOR_BYTES = 64   # one AVX-512 register; LLVM splits the vectors on narrower CPUs


def lanes(dtype) -> int:
    """Channels in one vector: 16 float32 or 8 float64."""
    return VECTOR_BYTES // np.dtype(dtype).itemsize


def tile_reference(x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv, mode,
                   nf):
    """The tile in NumPy: gather the (n, PB) patch matrix, one product with the (n, FB) slab of a.

        S[p, f] = Σ_i x[xbase + rows[i] + cols[p]] · a[abase + i·astride + f]   (p < PB, f < FB)

    mode 0: out[obase + p·ostride + f] = S[p, f]     mode 2: out[obase + f·ostride + p] = S[p, f]
    mode 1: out[obase + p·ostride + f] += S[p, f]    mode 3: the same as 2 with max(0, S[p, f])
    (modes 2-3 write the tile transposed, only the channels f < nf: an output (F, pixels) block).
    """
    fb = nv * lanes(a.dtype)
    patches = x[xbase + rows[:n, None] + cols[None, :PB]]                      # (n, PB)
    slab = a[abase + np.arange(n)[:, None] * astride + np.arange(fb)[None, :]]  # (n, FB)
    S = patches.T @ slab
    if mode < 2:
        idx = obase + np.arange(PB)[:, None] * ostride + np.arange(fb)[None, :]
        out[idx] = out[idx] + S if mode == 1 else S
    else:
        idx = obase + np.arange(nf)[:, None] * ostride + np.arange(PB)[None, :]
        out[idx] = np.maximum(S[:, :nf].T, 0) if mode == 3 else S[:, :nf].T


def _make_tile(nv: int):
    """The tile of PB × (nv vectors) as a numba intrinsic, for float32 or float64 arrays."""

    @intrinsic
    def tile(typingctx, x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv_,
             mode, nf):
        if not (isinstance(x, types.Array) and x.dtype == a.dtype == out.dtype
                and x.dtype in (types.float32, types.float64)):
            return None
        sig = types.void(x, a, out, rows, n, xbase, cols, astride, abase, obase, ostride, nv_,
                         mode, nf)
        return sig, lambda context, builder, s, args: _codegen(context, builder, s, args, nv)

    return tile


def _codegen(context, builder, sig, args, nv):
    from llvmlite import ir

    xa, aa, oa, ra, n, xbase, ca, astride, abase, obase, ostride, _, mode, nf = args
    data = [context.make_array(sig.args[k])(context, builder, v).data
            for k, v in ((0, xa), (1, aa), (2, oa), (3, ra), (6, ca))]
    xp, ap, op, rp, cp = data
    fty = context.get_value_type(sig.args[0].dtype)
    L = lanes(np.float32 if isinstance(fty, ir.FloatType) else np.float64)
    vty, i64 = ir.VectorType(fty, L), ir.IntType(64)
    fma = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vty, [vty] * 3),
        f"llvm.fma.v{L}{'f32' if L == 16 else 'f64'}")
    splat = ir.Constant(ir.VectorType(ir.IntType(32), L), [0] * L)
    undef = ir.Constant(vty, ir.Undefined)

    def vector_at(base, index):                      # pointer to the vector at base[index]
        return builder.bitcast(builder.gep(base, [index]), vty.as_pointer())

    def const(k):
        return ir.Constant(i64, k)

    out_at = [[builder.add(obase, builder.add(builder.mul(const(p), ostride), const(v * L)))
               for v in range(nv)] for p in range(PB)]
    # the accumulators: zero, or the tile's current values when accumulating
    accs = [[cgutils.alloca_once_value(builder, ir.Constant(vty, None)) for _ in range(nv)]
            for _ in range(PB)]
    with builder.if_then(builder.icmp_signed("==", mode, ir.Constant(mode.type, 1))):
        for p in range(PB):
            for v in range(nv):
                builder.store(builder.load(vector_at(op, out_at[p][v]), align=4), accs[p][v])
    col = [builder.add(xbase, builder.load(builder.gep(cp, [const(p)]))) for p in range(PB)]
    with cgutils.for_range(builder, n) as loop:            # Σ over i
        i = loop.index
        row = builder.load(builder.gep(rp, [i]))
        a_i = builder.add(abase, builder.mul(i, astride))
        slab = [builder.load(vector_at(ap, builder.add(a_i, const(v * L))), align=4)
                for v in range(nv)]
        for p in range(PB):
            xv = builder.load(builder.gep(xp, [builder.add(col[p], row)]))
            xs = builder.shuffle_vector(builder.insert_element(undef, xv, ir.Constant(
                ir.IntType(32), 0)), undef, splat)          # x value in every lane
            for v in range(nv):
                acc = accs[p][v]
                builder.store(builder.call(fma, [xs, slab[v], builder.load(acc)]), acc)
    with builder.if_else(builder.icmp_signed("<", mode, ir.Constant(mode.type, 2))) as (plain, turned):
        with plain:                                        # modes 0, 1: vectors of channels
            for p in range(PB):
                for v in range(nv):
                    builder.store(builder.load(accs[p][v]), vector_at(op, out_at[p][v]), align=4)
        with turned:                                       # modes 2, 3: vectors of pixels
            _store_transposed(builder, accs, op, obase, ostride, mode, nf, L, fty)
    return context.get_dummy_value()


def _store_transposed(builder, accs, op, obase, ostride, mode, nf, L, fty):
    """out[obase + f·ostride + p] = S[p, f] (max(0, ·) in mode 3) for f < nf: the sums go to a
    PB × FB block on the stack, then the PB sums of each channel f are read back as one
    vector and stored with one instruction."""
    from llvmlite import ir

    i64 = ir.IntType(64)
    nv, fb = len(accs[0]), len(accs[0]) * L
    vty, pty = ir.VectorType(fty, L), ir.VectorType(fty, PB)
    block = cgutils.alloca_once(builder, fty, size=PB * fb)
    for p in range(PB):
        for v in range(nv):
            at = builder.gep(block, [ir.Constant(i64, p * fb + v * L)])
            builder.store(builder.load(accs[p][v]), builder.bitcast(at, vty.as_pointer()), align=4)
    relu = builder.icmp_signed("==", mode, ir.Constant(mode.type, 3))
    zero = ir.Constant(pty, None)
    with cgutils.for_range(builder, nf) as loop:
        f = loop.index
        vec = ir.Constant(pty, ir.Undefined)
        for p in range(PB):
            value = builder.load(builder.gep(block, [builder.add(f, ir.Constant(i64, p * fb))]))
            vec = builder.insert_element(vec, value, ir.Constant(ir.IntType(32), p))
        rectified = builder.select(builder.fcmp_ordered(">", vec, zero), vec, zero)
        vec = builder.select(relu, rectified, vec)
        at = builder.add(obase, builder.mul(f, ostride))
        builder.store(vec, builder.bitcast(builder.gep(op, [at]), pty.as_pointer()), align=4)


tile1 = _make_tile(1)   # FB = one vector: 16 float32 / 8 float64 channels
tile2 = _make_tile(2)   # FB = two vectors: 32 float32 / 16 float64 channels
