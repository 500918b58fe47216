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

The strip (`strip_reference`, `strip_2x8`, ...) is the tile turned around, for output rows that
fill whole vectors: a vector holds L consecutive output pixels of ONE channel (L = 16 float32),
which read L consecutive inputs at stride 1, so per step i it loads pv vectors of x and
broadcasts fc weights into pv·fc sums (2 × 8 or 4 × 4). No transposition at the end (each sum is
a piece of a row of y), and a layer with 1-4 output channels (the dX of a first layer) wastes at
most 3 of 4 channels instead of 12-15 of a tile's 16 lanes.
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
    fma, splat, vector_at = _vector_ops(builder, vty)

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
            xs = splat(builder.load(builder.gep(xp, [builder.add(col[p], row)])))  # all lanes
            for v in range(nv):
                acc = accs[p][v]
                builder.store(fma(xs, slab[v], builder.load(acc)), acc)
    with builder.if_else(builder.icmp_signed("<", mode, ir.Constant(mode.type, 2))) as (plain, turned):
        with plain:                                        # modes 0, 1: vectors of channels
            for p in range(PB):
                for v in range(nv):
                    builder.store(builder.load(accs[p][v]), vector_at(op, out_at[p][v]), align=4)
        with turned:                                       # modes 2, 3: vectors of pixels
            _store_transposed(builder, accs, op, obase, ostride, mode, nf, L, fty)
    return context.get_dummy_value()


def _vector_ops(builder, vty):
    """(fma(a, b, c) = a·b + c on vectors, splat(scalar) = the scalar in every lane,
    vector_at(base, index) = a pointer to the vector at base[index]) for vectors of type vty."""
    from llvmlite import ir

    L = vty.count
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vty, [vty] * 3),
        f"llvm.fma.v{L}{'f32' if isinstance(vty.element, ir.FloatType) else 'f64'}")
    zeros, undef = ir.Constant(ir.VectorType(ir.IntType(32), L), [0] * L), ir.Constant(vty, ir.Undefined)

    def fma(a, b, c):
        return builder.call(fn, [a, b, c])

    def splat(value):
        first = builder.insert_element(undef, value, ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(first, undef, zeros)

    def vector_at(base, index):
        return builder.bitcast(builder.gep(base, [index]), vty.as_pointer())

    return fma, splat, vector_at


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


# The strip: the tile turned around, for output rows whose pixels fill whole vectors.
def strip_reference(x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride, pv, fc,
                    r, mode, nf):
    """The strip in NumPy: pv vectors of L consecutive output pixels × fc channels.

        S[f, v·L + l] = Σ_i a[abase + i·astride + f] · x[xbase + rows[i] + cols[v] + lane(l)]
        lane(l) = (l // M)·seg + l % M, M = L / r     (a vector = r rows of M pixels, seg apart)

    out[obase + f·ostride + v·L + l] = S[f, v·L + l] (max(0, ·) in mode 3) for f < nf."""
    L = lanes(x.dtype)
    M = L // r
    lane = (np.arange(L) // M) * seg + np.arange(L) % M
    patches = x[xbase + rows[:n, None, None] + cols[None, :pv, None] + lane]         # (n, pv, L)
    slab = a[abase + np.arange(n)[:, None] * astride + np.arange(fc)[None, :]]       # (n, fc)
    S = np.einsum("ivl,if->fvl", patches, slab).reshape(fc, pv * L)[:nf]
    idx = obase + np.arange(nf)[:, None] * ostride + np.arange(pv * L)[None, :]
    out[idx] = np.maximum(S, 0) if mode == 3 else S


def _make_strip(pv: int, fc: int, r: int):
    """The strip of pv vectors × fc channels, a vector being r rows, as a numba intrinsic."""

    @intrinsic
    def strip(typingctx, x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride,
              pv_, fc_, r_, mode, nf):
        if not (isinstance(x, types.Array) and x.dtype == a.dtype == out.dtype
                and x.dtype in (types.float32, types.float64)):
            return None
        sig = types.void(x, a, out, rows, n, xbase, cols, seg, astride, abase, obase, ostride,
                         pv_, fc_, r_, mode, nf)
        return sig, lambda context, builder, s, args: _strip_codegen(context, builder, s, args,
                                                                     pv, fc, r)

    return strip


def _strip_codegen(context, builder, sig, args, pv, fc, r):
    """Per step i: pv vector loads of x (each r pieces of L/r pixels), fc weights broadcast,
    pv·fc multiply-adds into sums that stay in registers; then each sum, a vector of consecutive
    pixels of one channel, is stored with one instruction (no transposition)."""
    from llvmlite import ir

    xa, aa, oa, ra, n, xbase, ca, seg, astride, abase, obase, ostride = args[:12]
    mode, nf = args[15], args[16]
    xp, ap, op, rp, cp = [context.make_array(sig.args[k])(context, builder, v).data
                          for k, v in ((0, xa), (1, aa), (2, oa), (3, ra), (6, ca))]
    fty = context.get_value_type(sig.args[0].dtype)
    L = lanes(np.float32 if isinstance(fty, ir.FloatType) else np.float64)
    M, i64 = L // r, ir.IntType(64)
    vty, piece = ir.VectorType(fty, L), ir.VectorType(fty, M)
    fma, splat, vector_at = _vector_ops(builder, vty)

    def const(k):
        return ir.Constant(i64, k)

    def load_vector(at):                             # r pieces of M pixels, seg apart
        parts = [builder.load(builder.bitcast(builder.gep(xp, [builder.add(at, const(0) if k == 0
                 else builder.mul(seg, const(k)))]), piece.as_pointer()), align=4)
                 for k in range(r)]
        while len(parts) > 1:                        # concatenate pairwise
            size = parts[0].type.count
            parts = [builder.shuffle_vector(parts[k], parts[k + 1], ir.Constant(
                ir.VectorType(ir.IntType(32), 2 * size), list(range(2 * size))))
                for k in range(0, len(parts), 2)]
        return parts[0]

    accs = [[cgutils.alloca_once_value(builder, ir.Constant(vty, None)) for _ in range(pv)]
            for _ in range(fc)]
    col = [builder.add(xbase, builder.load(builder.gep(cp, [const(v)]))) for v in range(pv)]
    with cgutils.for_range(builder, n) as loop:            # Σ over i
        i = loop.index
        row = builder.load(builder.gep(rp, [i]))
        a_i = builder.add(abase, builder.mul(i, astride))
        xv = [load_vector(builder.add(col[v], row)) for v in range(pv)]
        for f in range(fc):
            w = splat(builder.load(builder.gep(ap, [builder.add(a_i, const(f))])))
            for v in range(pv):
                builder.store(fma(xv[v], w, builder.load(accs[f][v])), accs[f][v])
    relu = builder.icmp_signed("==", mode, ir.Constant(mode.type, 3))
    zero = ir.Constant(vty, None)
    for f in range(fc):
        with builder.if_then(builder.icmp_signed("<", ir.Constant(nf.type, f), nf)):
            at = builder.add(obase, builder.mul(const(f), ostride))
            for v in range(pv):
                value = builder.load(accs[f][v])
                rectified = builder.select(builder.fcmp_ordered(">", value, zero), value, zero)
                builder.store(builder.select(relu, rectified, value),
                              vector_at(op, builder.add(at, const(v * L))), align=4)
    return context.get_dummy_value()


strip_2x8, strip_2x8_rows2 = _make_strip(2, 8, 1), _make_strip(2, 8, 2)
strip_4x4, strip_4x4_rows2 = _make_strip(4, 4, 1), _make_strip(4, 4, 2)
