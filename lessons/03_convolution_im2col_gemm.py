# %% [markdown]
# # 03 · Convolution as im2col + GEMM, a direct path, and why numba
#
# A convolution layer (a cross-correlation, as in every deep-learning library) computes
#
#     y[n, f, ho, wo] = b[f] + Σ_c Σ_i Σ_j  W[f, c, i, j] · x_pad[n, c, ho·s + i, wo·s + j]
#
# Seven nested loops, obviously right and hopelessly slow in Python. The standard trick,
# *im2col*, copies every k×k×C input patch into one column of a matrix X_col of shape
# (C·k·k, N·Ho·Wo). The four inner sums become one matrix product (a GEMM, which BLAS runs near
# the CPU's peak speed):
#
#     Y_col = W_col · X_col,     W_col = W.reshape(F, C·k·k),   Y_col of shape (F, N·Ho·Wo)
#
# Backward, by hand, from the matrix product (lesson 02, section 2) and the copy:
#
#     dW_col = dY_col · X_colᵀ      dX_col = W_colᵀ · dY_col      dX = col2im(dX_col)
#
# col2im is the *adjoint* of im2col: im2col copies each input pixel into up to k·k columns, so
# col2im adds those k·k entries back into that pixel.
#
# The copies are the part Python cannot do fast. This lesson checks and times three versions of
# im2col and of col2im: the plain-loop references (tinyrect/kernels/reference.py), the numba
# kernels (tinyrect/kernels/im2col.py) and NumPy baselines (im2col from strides:
# sliding_window_view + one copy; col2im as k·k strided slice-adds). Section 7: conv2d's direct
# path, which never builds X_col and keeps a tile of sums in CPU registers.
#
# Run: `python lessons/03_convolution_im2col_gemm.py [--quick] [--show] [--out DIR]`

# %%
import time
import timeit

import _lesson

args = _lesson.setup("03")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

import tinyrect as tr  # noqa: E402
import tinyrect.functional as F  # noqa: E402
from tinyrect.kernels import direct, im2col as fast, microkernel as mk, reference as ref  # noqa: E402

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. im2col on a picture you can read
#
# One 4×4 image whose pixels are numbered 0..15, a 3×3 kernel, stride 1, no padding: 2×2 output
# pixels, so X_col has 9 rows (one per kernel weight) and 4 columns (one per window).

# %%
tiny = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
cols_tiny = ref.im2col_reference(tiny, (3, 3))
print(f"x =\n{tiny[0, 0]}\nX_col (rows: kernel position (i, j); columns: window (ho, wo)) =\n{cols_tiny}")

# %% [markdown]
# ## 2. The numba kernel and a NumPy baseline
#
# `tinyrect.kernels.im2col.im2col` fills a preallocated X_col in place (and `col2im` a
# preallocated dX); their geometry arguments are spelled out (kernel, stride, padding, dilation
# per axis, output size). The NumPy im2col pads, takes a strided *view* of every window (no copy
# yet), and makes one contiguous copy in X_col's order.

# %%
out_hw = lambda shape, k, s, p: (ref.output_size(shape[2], k, s, p), ref.output_size(shape[3], k, s, p))  # noqa: E731


def im2col_numba(x, k, stride=1, pad=0):
    Ho, Wo = out_hw(x.shape, k, stride, pad)
    cols = np.empty((x.shape[1] * k * k, x.shape[0] * Ho * Wo), dtype=x.dtype)
    fast.im2col(x, k, k, stride, stride, pad, pad, 1, 1, Ho, Wo, cols)
    return cols


def im2col_numpy(x, k, stride=1, pad=0):
    N, C = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # a view
    Ho, Wo = windows.shape[2:4]
    # (N, C, Ho, Wo, k, k) -> (C, k, k, N, Ho, Wo): rows (c, i, j), columns (n, ho, wo); one copy
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * k * k, N * Ho * Wo)


def col2im_numba(cols, x_shape, k, stride=1, pad=0):
    dx = np.empty(x_shape, dtype=cols.dtype)
    fast.col2im(cols, k, k, stride, stride, pad, pad, 1, 1, *out_hw(x_shape, k, stride, pad), dx)
    return dx


def col2im_numpy(cols, x_shape, k, stride=1, pad=0):
    """k·k strided slice-adds: window offset (i, j) adds its row of X_col onto the pixels it read."""
    (N, C, H, W), (Ho, Wo) = x_shape, out_hw(x_shape, k, stride, pad)
    dx = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    blocks = cols.reshape(C, k, k, N, Ho, Wo)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return dx[:, :, pad:pad + H, pad:pad + W]


N, C, H, K = (2, 3, 8, 3) if args.quick else (4, 8, 12, 3)    # the Python loops finish in well under a second
x = rng.standard_normal((N, C, H, H)).astype(np.float32)
first_call = _lesson.timeit(lambda: im2col_numba(x, K, 1, 1), repeat=1)  # compile or cache load
results = {"reference loops": ref.im2col_reference(x, (K, K), padding=(1, 1)),
           "numba": im2col_numba(x, K, 1, 1), "NumPy strided": im2col_numpy(x, K, 1, 1)}
_lesson.check(all(np.allclose(v, results["reference loops"], atol=1e-5) for v in results.values()), f"im2col (X_col "
              f"{results['numba'].shape}): reference loops, numba and NumPy strided compared", "agree to np.allclose, absolute 1e-5")

G_small = rng.standard_normal(results["numba"].shape).astype(np.float32)
back_ref = ref.col2im_reference(G_small, x.shape, (K, K), padding=(1, 1))
_lesson.check(all(np.allclose(f(G_small, x.shape, K, 1, 1), back_ref, atol=1e-5) for f in (col2im_numba, col2im_numpy)),
              "col2im: reference loops, numba and NumPy slice-adds compared", "agree to np.allclose, absolute 1e-5")
stride_ref = ref.im2col_reference(x, (K, K), stride=(2, 2), padding=(1, 1))
_lesson.check(all(np.allclose(f(x, K, 2, 1), stride_ref, atol=1e-5) for f in (im2col_numba, im2col_numpy)),
              "im2col with stride 2: numba and NumPy strided vs the reference loops", "agree to np.allclose, absolute 1e-5")

# %% [markdown]
# ## 3. Timings
#
# Best of many runs, on the small shape above (all three) and on a layer-sized shape (numba and
# NumPy; the loops' time there extrapolated). The numba kernel's first call compiles it, or loads
# it from numba's on-disk cache (`cache=True`): timed separately. The numba kernels are serial
# loops (`nogil=True`): `conv2d` runs each chunk of the batch (im2col, GEMM, col2im) on its own
# thread (tinyrect/_threads.py), so threads never wait at a barrier inside a kernel. The GEMM is
# timed with all BLAS threads and with one. Numbers vary from run to run (more on a shared
# machine); their orders of magnitude are the lesson.

# %%
stats = getattr(fast.im2col, "stats", None)  # None when NUMBA_DISABLE_JIT=1 (then time most things once)
repeat, threads = (1 if stats is None else 3 if args.quick else 5), tr.get_num_threads()
how = "JIT disabled" if stats is None else "loaded from the on-disk cache" if stats.cache_hits else "compiled"
print(f"numba im2col first call: {first_call * 1e3:.0f} ms ({how})")
NL, CL, HL = (4, 8, 16) if args.quick else (16, 16, 32)
xl, wl = (rng.standard_normal(s).astype(np.float32) for s in ((NL, CL, HL, HL), (16, CL, 3, 3)))
cols_l = im2col_numpy(xl, 3, 1, 1)
cols_sw, back_sw = np.empty_like(cols_l), np.empty_like(xl)
small = {"reference loops": _lesson.timeit(lambda: ref.im2col_reference(x, (K, K), padding=(1, 1)), repeat=1),
         "numba": _lesson.timeit(lambda: im2col_numba(x, K, 1, 1), repeat=30),
         "NumPy strided": _lesson.timeit(lambda: im2col_numpy(x, K, 1, 1), repeat=30)}
# conv2d's im2col path uses the stride-1 "same width" kernels for 3×3, padding 1: a row of X_col is
# then the input plane shifted by a constant, copied in one long loop (tinyrect/kernels/im2col.py)
large = {"numba": lambda: im2col_numba(xl, 3, 1, 1),
         "numba same-width": lambda: fast.im2col_same_width(xl, 3, 3, 1, 1, 1, 1, HL, cols_sw),
         "NumPy strided": lambda: im2col_numpy(xl, 3, 1, 1)}
back = {"numba": lambda: col2im_numba(cols_l, xl.shape, 3, 1, 1),  # same-width zeroes cols_l's padding: already 0
        "numba same-width": lambda: fast.col2im_same_width(cols_l, 3, 3, 1, 1, 1, 1, HL, back_sw),
        "NumPy slice-adds": lambda: col2im_numpy(cols_l, xl.shape, 3, 1, 1)}
large, back = ({name: _lesson.timeit(f, repeat=repeat) for name, f in d.items()} for d in (large, back))
_lesson.check(np.array_equal(cols_sw, cols_l) and np.allclose(back_sw, col2im_numba(cols_l, xl.shape, 3, 1, 1), atol=1e-4),
              "the same-width kernels vs the general ones", "X_col identical, col2im to absolute 1e-4")
gemm = {}
for n_threads in sorted({threads, 1}, reverse=True):
    tr.set_num_threads(n_threads)  # BLAS follows set_num_threads too
    gemm[f"GEMM, {n_threads} thread{'s' * (n_threads > 1)}"] = _lesson.timeit(lambda: wl.reshape(16, -1) @ cols_l, repeat=repeat)
tr.set_num_threads(threads)
rows = lambda d, note=lambda name, t: "": "\n".join(f"  {n:<18}{t * 1e3:10.3f} ms{note(n, t)}" for n, t in d.items())  # noqa
speedup = lambda n, t: "" if n == "reference loops" else f"   ({small['reference loops'] / t:.0f}× faster than the loops)"  # noqa
print(f"im2col of x {x.shape}, {K}×{K}, padding 1:\n{rows(small, speedup)}")
_lesson.check(small["numba"] < small["reference loops"], f"numba im2col vs the Python loops: "
              f"{small['reference loops'] / small['numba']:.0f}× faster", "numba is faster (best of repeated timings)")
loops_estimate = small["reference loops"] * cols_l.size / results["numba"].size
print(f"im2col of x {xl.shape}, 3×3, padding 1 (X_col {cols_l.shape}, {cols_l.nbytes / 2**20:.1f} MiB):\n"
      f"  {'reference loops':<18}{loops_estimate * 1e3:10.0f} ms   (estimated from the small shape)\n{rows(large)}")
print(f"then the GEMM W_col · X_col (16×{cols_l.shape[0]} · {cols_l.shape[0]}×{cols_l.shape[1]}):\n{rows(gemm)}")
print(f"col2im back to x {xl.shape} (the backward's scatter-add):\n{rows(back)}")
print("fastest here: " + ", ".join(f"{what} {min(d, key=d.get)}" for what, d in (("im2col", large), ("col2im", back))))
fig, axes = plt.subplots(1, 3, figsize=(16, 3.8), layout="constrained")
panels = ((small, f"im2col, x {x.shape}", "log"), ({**large, **gemm}, f"im2col, x {xl.shape}, then 16 filters 3×3",
          "linear"), (back, f"col2im to x {xl.shape}", "linear"))
for ax, (d, title, scale) in zip(axes, panels):
    ax.barh(list(d), [t * 1e3 for t in d.values()], color=["tab:gray" if k.startswith("reference") else "tab:orange"
            if k.startswith("NumPy") else "tab:green" if k.startswith("GEMM") else "tab:blue" for k in d])
    ax.set(xscale=scale, xlabel="ms (log scale)" if scale == "log" else "ms", title=title)
    ax.invert_yaxis()
_lesson.savefig(fig, "im2col_timings.png")

# %% [markdown]
# Reading the numbers: the Python loops are hundreds to thousands of times slower than the
# compiled or vectorized versions; they exist to be read and to test against. For im2col, NumPy's
# strides already give a fast copy without a compiler. col2im is a scatter-*add* (a pixel read by
# several windows collects several contributions): in NumPy, k·k slice-adds over the whole array
# (or `np.add.at`); numba runs the reference's loops, compiled, in one pass. Threads (for BLAS, or
# for conv2d's chunks) help only when each call has enough work, and only when the cores are free.
#
# ## 4. The forward: one GEMM, checked against the seven loops
#
# From here on the arrays are tiny: numba (and BLAS) run on one thread (see section 3's timings).
#
# The bias is just one more weight, on an input that is always 1. Append a row of ones to X_col
# and the column b to W_col, and the single GEMM [W_col | b] · [X_col; 1ᵀ] adds b for free.
# `tinyrect.functional.conv2d` does this, and in the backward the same row of ones turns
# [X_col; 1ᵀ] · dY_colᵀ into [dW_colᵀ; dbᵀ]: db = Σ dY comes out of the dW product.

# %%
tr.set_num_threads(1)
Fo, Ho = 4, ref.output_size(H, K, 1, 1)
w, b = rng.standard_normal((Fo, C, K, K)).astype(np.float32), rng.standard_normal(Fo).astype(np.float32)
y_col = w.reshape(Fo, -1) @ results["numba"] + b[:, None]              # (F, N·Ho·Wo)
y_gemm = y_col.reshape(Fo, N, Ho, Ho).transpose(1, 0, 2, 3)            # back to (N, F, Ho, Wo)
t_loops, y_loops = time.perf_counter(), ref.conv2d_reference(x, w, b, padding=(1, 1))
t_loops = time.perf_counter() - t_loops
t_gemm = _lesson.timeit(lambda: w.reshape(Fo, -1) @ im2col_numba(x, K, 1, 1), repeat=repeat, number=10)
err_fwd = np.abs(y_gemm - y_loops).max()
print(f"conv forward {x.shape} * {w.shape}: seven loops {t_loops * 1e3:.1f} ms, "
      f"im2col + GEMM {t_gemm * 1e3:.3f} ms; max |difference| {err_fwd:.1e}")
_lesson.check(err_fwd < 1e-4, f"im2col + GEMM vs the seven-loop definition: max difference {err_fwd:.1e}", "below 1e-4 (float32)")
cols_aug = np.vstack([results["numba"], np.ones((1, results["numba"].shape[1]), np.float32)])
w_aug = np.hstack([w.reshape(Fo, -1), b[:, None]])
err_aug = np.abs(w_aug @ cols_aug - y_col).max()
print(f"[W_col | b] · [X_col; 1] vs W_col · X_col + b: max |difference| {err_aug:.1e}")
_lesson.check(err_aug < 1e-4, f"the bias as a weight on a row of ones vs W_col·X_col + b: max difference {err_aug:.1e}",
              "below 1e-4 (float32)")

# %% [markdown]
# ## 5. The backward, by the formulas, against the tape
#
# With a random upstream gradient dY: dW = dY_col · X_colᵀ, db = Σ dY, dX = col2im(W_colᵀ · dY_col).
# `tinyrect.functional.conv2d` computes the same (mostly by section 7's direct path, dX of few
# channels by these products): its `.grad`s must match ours. And col2im must be the adjoint of im2col:
# ⟨im2col(x), G⟩ = ⟨x, col2im(G)⟩ for every x and G (what makes dX right: a copy's backward is a sum).

# %%
x64, w64, b64, dy = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), rng.standard_normal((N, Fo, Ho, Ho))
dy_col = dy.transpose(1, 0, 2, 3).reshape(Fo, -1)                        # (F, N·Ho·Wo)
cols64 = im2col_numba(x64, K, 1, 1)
dW, db = (dy_col @ cols64.T).reshape(w.shape), dy.sum(axis=(0, 2, 3))
dX = col2im_numba(w64.reshape(Fo, -1).T @ dy_col, x64.shape, K, 1, 1)

xt, wt, bt = (tr.Tensor(a, requires_grad=True) for a in (x64, w64, b64))
F.conv2d(xt, wt, bt, stride=1, padding=1).backward(dy)
errs = {name: np.abs(mine - t.grad).max() / np.abs(mine).max()
        for name, mine, t in (("dX", dX, xt), ("dW", dW, wt), ("db", db, bt))}
print("formulas vs tinyrect.functional.conv2d's backward, max relative difference:",
      ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
_lesson.check(max(errs.values()) < 1e-12, f"dW = dY·X_colᵀ, db = Σ dY, dX = col2im(W_colᵀ·dY) vs conv2d's backward: max relative "
              f"difference {max(errs.values()):.1e}", "below 1e-12 (float64)")
G = rng.standard_normal(cols64.shape)
col2im_G = col2im_numba(G, x64.shape, K, 1, 1)
lhs, rhs = float(np.sum(cols64 * G)), float(np.sum(x64 * col2im_G))
print(f"adjoint test: <im2col(x), G> = {lhs:.10f}, <x, col2im(G)> = {rhs:.10f}")
_lesson.check(abs(lhs - rhs) < 1e-9 * abs(lhs), f"col2im is the adjoint of im2col: <im2col(x), G> vs <x, col2im(G)>, relative difference "
              f"{abs(lhs - rhs) / abs(lhs):.1e}", "below 1e-9")
n_small = (1, 2, 4, 3) if args.quick else (2, 2, 5, 3)
report = tr.gradcheck(lambda a, b_, c: F.conv2d(a, b_, c, stride=1, padding=1), [
    tr.Tensor(rng.standard_normal(s), requires_grad=True) for s in (n_small[:2] + (n_small[2],) * 2, (2, n_small[1], 3, 3), 2)],
    names=["x", "W", "b"], raise_on_failure=False)
print(report)
_lesson.check(report.passed and report.max_rel_error < 1e-6,
              f"gradcheck of conv2d: max relative error {report.max_rel_error:.1e}", "below 1e-6")

# %% [markdown]
# ## 6. Making it fast: three choices `conv2d` makes beyond the textbook
#
# Timed on your machine on 8×8 maps with 16 channels, batch 64 (the layers of our 30-layer net for
# Fig. 3), each against the obvious alternative.
#
# **(a) dX_col = W_colᵀ · dY as one GEMM**, in the im2col path (kernels/conv.py: dX of layers with
# 1-3 input channels, like the first layer's, and of strided layers; section 7's direct path runs
# the rest), timed for a stride-2 layer of 16 channels onto 8×8 maps (144 taps). A sum over only F = 16
# filters: per sample, BLAS gets tiny products; copying dY into an (F, N·Ho·Wo) matrix first leaves
# ONE, which BLAS runs faster.
#
# **(b) A fused epilogue: `F.conv2d_relu`.** As two ops, the ReLU reads Y back from memory and the
# tape keeps Y, max(0, Y) and a mask. The fused op applies max(0, ·) as it writes Y (the direct path,
# which runs these 16-channel layers, as it writes each output of a tile or strip) and folds ReLU's
# derivative into copies of dY the backward makes anyway, dY = dout · 1[out > 0] (the direct path
# into the copies its dW tiles and dX strips read, the im2col path into (a)'s). Same numbers
# (tests/test_conv_fast.py), one node and one activation kept per layer. `nn.Sequential` uses it
# (and `F.conv2d_prelu`, Eq. 1-3) for every Conv2d followed by a ReLU (a PReLU) that no hook watches.
#
# **(c) BLAS on one thread.** `conv2d` runs each chunk of the batch on its own thread (im2col, GEMM,
# col2im: BLAS limited to one thread; the direct path: numba's threads; tinyrect/_threads.py): OpenBLAS's
# workers keep spinning after each multi-threaded call and take cores from threads that have work.
# Below, the CPU time (all threads) of a 2-thread BLAS product, of the fused layer, and of both.

# %%
NB = 64                                    # (one thread since section 4)
w_col_b, dy_b = (rng.standard_normal(s).astype(np.float32) for s in ((16, 144), (NB, 16, 64)))
dcols_b, dy_flat = np.empty((144, NB * 64), np.float32), np.empty((16, NB * 64), np.float32)
one_gemm = lambda: (np.copyto(dy_flat.reshape(16, NB, 64), dy_b.transpose(1, 0, 2)),  # noqa: E731
                    np.matmul(w_col_b.T, dy_flat, out=dcols_b))                       # the copy, then one GEMM
per_sample = lambda: np.matmul(w_col_b.T, dy_b, out=dcols_b.reshape(144, NB, 64).transpose(1, 0, 2))  # noqa
t_per, t_one = (_lesson.timeit(f, repeat=3 * repeat, number=5) for f in (per_sample, one_gemm))
print(f"(a) dX_col, stride-2 layer (144 taps), {NB} 8×8 maps: {NB} GEMMs {t_per * 1e3:.3f} ms, copy + one GEMM "
      f"{t_one * 1e3:.3f} ms (ratio {t_per / t_one:.2f})")
xf, wf = (tr.Tensor(a.astype(np.float32), requires_grad=True) for a in (
    rng.standard_normal((NB, 16, 8, 8)), rng.standard_normal((16, 16, 3, 3)) / 12))
bf, dyf = tr.Tensor(np.zeros(16, np.float32), requires_grad=True), rng.standard_normal((NB, 16, 8, 8))
two_ops = lambda: F.relu(F.conv2d(xf, wf, bf, padding=1))        # noqa: E731
fused = lambda: F.conv2d_relu(xf, wf, bf, padding=1)             # noqa: E731
t_two, t_fused = (_lesson.timeit(lambda: f().backward(dyf), repeat=3 * repeat, number=5) for f in (two_ops, fused))
print(f"(b) forward + backward, x {xf.shape}: relu(conv2d) {t_two * 1e3:.3f} ms, conv2d_relu "
      f"{t_fused * 1e3:.3f} ms (ratio {t_two / t_fused:.2f}); kept per layer: "
      f"{(2 * xf.data.nbytes + xf.data.size) / 2**10:.0f} KiB vs {xf.data.nbytes / 2**10:.0f} KiB")
_lesson.check(np.array_equal(two_ops().data, fused().data), "conv2d_relu gives relu(conv2d(...))", "bit for bit")
a_big = rng.standard_normal((256, 256)).astype(np.float32)
tr.set_num_threads(2)                      # BLAS follows: 2 threads outside conv2d's chunks
cpu_ms = lambda fn: 1e3 * min(timeit.repeat(fn, timer=time.process_time, repeat=3 * repeat, number=1))  # noqa: E731
layer = lambda: fused().backward(dyf)      # noqa: E731   (cpu_ms: best process_time, all threads' CPU time)
cpu = {"product": cpu_ms(lambda: a_big @ a_big), "layer": cpu_ms(layer), "both": cpu_ms(lambda: (a_big @ a_big, layer()))}
print(f"(c) CPU ms on 2 threads: product {cpu['product']:.2f}, layer {cpu['layer']:.2f}, both "
      f"{cpu['both']:.2f} ({_lesson.num(cpu['both'] - cpu['product'] - cpu['layer'])} more than the sum)")
tr.set_num_threads(threads)

# %% [markdown]
# ## 7. The direct path: no X_col, the sums kept in registers
#
# conv2d's forward and dW (and dX at stride 1, question 8) take a second path,
# tinyrect/kernels/direct.py, that never builds X_col. Each sample is copied into a zero-padded
# buffer x_pad; an entry of X_col is one read from it, at the offset of tap t = (c, i, j) plus that
# of output pixel q's patch: X_col[t, q] = x_pad.flat[taps[t] + pixels[q]] (an "indirect" GEMM).
#
# Faster, for two reasons. No X_col (k² times the input) is written to memory and read back. And
# register blocking (tinyrect/kernels/microkernel.py): a tile of 8 pixels × 16 output channels keeps
# its 128 sums in CPU vector registers for the whole sum over taps; per tap, one vector load of 16
# weights and 8 broadcast inputs feed 128 multiply-adds (a plain loop loads and stores a sum per
# multiply-add). numba's loops cannot keep an array of sums in registers, so the tile is LLVM IR
# built through numba's `@intrinsic` (`microkernel.tile_reference`: its NumPy twin). It also makes
# dW (8 taps × 16 channels, summed over pixels) and, at stride 1, dX: the forward of dY padded by (k
# - 1)·d - p, the filters turned 180° and in and out channels swapped, the paper's Eq. (11), Δx = Ŵ
# Δy. The bias is one more tap, reading a plane of ones.
#
# **Strips: the tile turned around.** A tile's vector holds 16 channels of one pixel: its sums must be
# transposed into y's (channel, pixel) layout, and a 3-channel output leaves 13 of 16 lanes idle. When
# output rows fill whole vectors (16 or 32 pixels, or two rows of 8) at stride 1, 16 consecutive
# outputs read 16 consecutive entries of x_pad: a *strip* loads them as one vector, broadcasts the
# weights, and keeps 2 vectors of pixels × 8 channels (4 × 4 for up to 4 channels) of sums, each a
# piece of a row of y (`microkernel.strip_reference`). Below, section 1's picture padded by 1 (a tile
# takes 8 of its 16 outputs), then the 16-channel layer on one thread by strips, tiles (with
# `direct.USE_STRIPS = False`) and im2col (`direct.MIN_TAPS` raised); `tinyrect bench` times the paths
# against PyTorch (its `path` column). A forward is 2·N·F·Ho·Wo·C·k² flops, the backward twice that.

# %%
xpad = np.pad(tiny[0, 0], 1).ravel()                                    # the padded 6×6 sample, flat
taps, pixels = (o[:n] for o, n in zip(direct.offsets(C=1, Hb=6, Wb=6, kh=3, kw=3, sh=1, sw=1, dh=1, dw=1, Ho=4, Wo=4), (9, mk.PB)))
patches = xpad[taps[:, None] + pixels[None, :]]                         # X_col[t, q]: 9 taps × 8 pixels
print(f"taps (entry (i, j) at i·6 + j): {taps}\npixels (output (ho, wo) at ho·6 + wo): {pixels}\npatches =\n{patches}")
w16 = rng.standard_normal((9, 16)).astype(np.float32)                   # Wᵀ: 16 filters 3×3 as columns
tile, twin = np.zeros((2, mk.PB * 16), np.float32)                      # out[p·16 + f] = Σ_t patches[t, p] · w16[t, f]
direct._tile(1, xpad, w16.ravel(), tile, taps, 9, 0, pixels, 16, 0, 0, 16, 0, 16)       # the compiled tile,
mk.tile_reference(xpad, w16.ravel(), twin, taps, 9, 0, pixels, 16, 0, 0, 16, 1, 0, 16)  # its NumPy twin,
loops = ref.conv2d_reference(tiny, w16.T.reshape(16, 1, 3, 3), None, padding=(1, 1))[0].reshape(16, 16)[:, :8].T
err_tile = max(np.abs(tile - twin).max(), np.abs(tile.reshape(8, 16) - loops).max())  # and the seven loops
_lesson.check(np.array_equal(patches, ref.im2col_reference(tiny, (3, 3), padding=(1, 1))[:, :8]) and err_tile < 1e-4, f"patches vs im2col's "
              f"first 8 columns; tile vs its NumPy twin and the seven loops: max difference {err_tile:.1e}", "patches equal, products below 1e-4")
conv, a_1k = lambda: F.conv2d(xf, wf, bf, padding=1), rng.standard_normal((1024, 1024)).astype(np.float32)
runs, keep = {}, (tr.get_num_threads(), direct.MIN_TAPS)
tr.set_num_threads(1)
try:
    for name, min_taps, strips in (("strips", keep[1], True), ("tiles", keep[1], False), ("im2col + GEMM", 10**9, True)):
        direct.MIN_TAPS, direct.USE_STRIPS = min_taps, strips           # im2col iff C·k² < MIN_TAPS
        [t.zero_grad() for t in (xf, wf, bf)]
        (y := conv()).backward(dyf)                                     # copies: .grad is added to in place
        runs[name] = ([y.data] + [t.grad.copy() for t in (xf, wf, bf)], _lesson.timeit(conv, repeat=3 * repeat, number=5),
                      _lesson.timeit(lambda: conv().backward(dyf), repeat=3 * repeat, number=5))
    t_1k = _lesson.timeit(lambda: a_1k @ a_1k, repeat=1)
finally:
    direct.MIN_TAPS, direct.USE_STRIPS = keep[1], True
    tr.set_num_threads(keep[0])
flops = 2 * NB * 16 * 64 * 16 * 9                                       # 2·N·F·Ho·Wo·C·k²
print(f"conv2d, x {xf.shape}, 16 filters 3×3, padding 1, 1 thread ({flops / 1e6:.1f} MFLOP per forward):")
for name, (_, t_f, t_fb) in runs.items():
    print(f"  {name:<14} forward {t_f * 1e3:7.3f} ms {flops / t_f / 1e9:6.1f} GFLOP/s   forward + backward "
          f"{t_fb * 1e3:7.3f} ms {3 * flops / t_fb / 1e9:6.1f} GFLOP/s")
print(f"  float32 GEMM 1024³ (np.matmul, 1 thread, the yardstick): {2 * 1024**3 / t_1k / 1e9:.1f} GFLOP/s")
pairs = list(zip(runs["strips"][0] + runs["tiles"][0], runs["im2col + GEMM"][0] * 2))
rel = max(np.abs(u - v).max() / np.abs(v).max() for u, v in pairs)
_lesson.check(all(np.allclose(u, v, rtol=1e-5, atol=1e-5 * np.abs(v).max()) for u, v in pairs), f"strips and tiles vs im2col + GEMM: y, "
              f"dX, dW, db (max difference {rel:.1e} of the largest |value|)", "agree to np.allclose, relative 1e-5, absolute 1e-5 × the largest |value|")
_lesson.finish()

# %% [markdown]
# ## Exercises
#
# Graded exercises for this lesson (lessons/exercises/, see its README): `tinyrect check conv`
# (im2col in this lesson's X_col layout), `tinyrect check maxpool` (ties) and
# `tinyrect check questions03`.
#
# Open questions:
# 1. Count the memory: X_col holds every input pixel up to k² times. How large is X_col for the
#    first layer of the paper's model A (224×224×3 input, 7×7 kernel, stride 2, batch 128) in
#    float32? Read the module docstring of tinyrect/kernels/conv.py: why does conv2d process
#    the batch in chunks?
# 2. Which im2col and which col2im were fastest on the layer-sized shape on your machine? Time
#    `tinyrect.functional.conv2d` on a batch of 64 after `tinyrect.set_num_threads(1)` and
#    `(2)`: when do the threads start to pay?
# 3. Run the lesson with `NUMBA_DISABLE_JIT=1 python lessons/03_convolution_im2col_gemm.py --quick`.
#    How does the numba kernel compare with the reference loops then, and why?
# 4. Prove the adjoint identity of section 5 from the definitions of im2col and col2im, and use
#    it to explain why dX = col2im(W_colᵀ · dY).
# 5. A 1×1 convolution needs no im2col at all: what is X_col then, and what does the layer
#    reduce to?
# 6. conv2d_relu keeps only max(0, Y) for its backward. Why is that not enough for conv2d_prelu,
#    whose dE/da needs min(0, Y) (Eq. 2-3), when a can be 0?
# 7. A tile keeps PB·FB partial sums in vector registers: how many 512-bit registers for 8 × 16
#    float32, and for FB = 32? A CPU with 16 registers of 256 bits: what happens there (spills)?
# 8. dX of a 1-channel layer: strips on 16×16 maps, im2col on 12×12 (`direct.takes_dx`). Count the
#    lanes of a tile's and of a strip's vectors that hold real channels; time that dX both ways.
