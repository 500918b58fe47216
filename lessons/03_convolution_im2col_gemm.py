# %% [markdown]
# # 03 · Convolution as im2col + GEMM, and why numba
#
# A convolution layer (a cross-correlation, as in every deep-learning library) computes
#
#     y[n, f, ho, wo] = b[f] + Σ_c Σ_i Σ_j  W[f, c, i, j] · x_pad[n, c, ho·s + i, wo·s + j]
#
# Seven nested loops, obviously right and hopelessly slow in Python. The standard trick,
# *im2col*, copies every k×k×C input patch into one column of a matrix X_col of shape
# (C·k·k, N·Ho·Wo). The four inner sums become one matrix product (a GEMM, which BLAS runs at
# hundreds of GFLOP/s):
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
# sliding_window_view + one copy; col2im as k·k strided slice-adds).
#
# Run: `python lessons/03_convolution_im2col_gemm.py [--quick] [--show] [--out DIR]`

# %%
import time

import _lesson

args = _lesson.setup("03")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

import tinyrect as tr  # noqa: E402
import tinyrect.functional as F  # noqa: E402
from tinyrect.kernels import im2col as fast  # noqa: E402
from tinyrect.kernels import reference as ref  # noqa: E402

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. im2col on a picture you can read
#
# One 4×4 image whose pixels are numbered 0..15, a 3×3 kernel, stride 1, no padding: 2×2 output
# pixels, so X_col has 9 rows (one per kernel weight) and 4 columns (one per window).

# %%
tiny = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
cols_tiny = ref.im2col_reference(tiny, (3, 3))
print("x =\n", tiny[0, 0])
print("X_col (rows: kernel position (i, j); columns: window (ho, wo)) =\n", cols_tiny)

# %% [markdown]
# ## 2. The numba kernel and a NumPy baseline
#
# `tinyrect.kernels.im2col.im2col` fills a preallocated X_col in place (and `col2im` a
# preallocated dX); their geometry arguments are spelled out (kernel, stride, padding, dilation
# per axis, output size). The NumPy im2col pads, takes a strided *view* of every window (no copy
# yet), and makes one contiguous copy in X_col's order.

# %%
def im2col_numba(x, k, stride=1, pad=0):
    N, C, H, W = x.shape
    Ho, Wo = ref.output_size(H, k, stride, pad), ref.output_size(W, k, stride, pad)
    cols = np.empty((C * k * k, N * Ho * Wo), dtype=x.dtype)
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
    N, C, H, W = x_shape
    Ho, Wo = ref.output_size(H, k, stride, pad), ref.output_size(W, k, stride, pad)
    dx = np.empty(x_shape, dtype=cols.dtype)
    fast.col2im(cols, k, k, stride, stride, pad, pad, 1, 1, Ho, Wo, dx)
    return dx


def col2im_numpy(cols, x_shape, k, stride=1, pad=0):
    """k·k strided slice-adds: window offset (i, j) adds its row of X_col onto the pixels it read."""
    N, C, H, W = x_shape
    Ho, Wo = ref.output_size(H, k, stride, pad), ref.output_size(W, k, stride, pad)
    dx = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    blocks = cols.reshape(C, k, k, N, Ho, Wo)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return dx[:, :, pad:pad + H, pad:pad + W]


# Small enough for the Python loops to finish in well under a second.
N, C, H, K = (2, 3, 8, 3) if args.quick else (4, 8, 12, 3)
x = rng.standard_normal((N, C, H, H)).astype(np.float32)
first_call = _lesson.timeit(lambda: im2col_numba(x, K, 1, 1), repeat=1)  # compile or cache load
results = {"reference loops": ref.im2col_reference(x, (K, K), padding=(1, 1)),
           "numba": im2col_numba(x, K, 1, 1), "NumPy strided": im2col_numpy(x, K, 1, 1)}
agree = all(np.allclose(v, results["reference loops"], atol=1e-5) for v in results.values())
print(f"X_col shape {results['numba'].shape}; all three agree: {agree}")
_lesson.check(agree, "im2col: reference loops, numba and NumPy strided compared", "agree to np.allclose, absolute 1e-5")

G_small = rng.standard_normal(results["numba"].shape).astype(np.float32)
back_ref = ref.col2im_reference(G_small, x.shape, (K, K), padding=(1, 1))
_lesson.check(all(np.allclose(f(G_small, x.shape, K, 1, 1), back_ref, atol=1e-5)
                  for f in (col2im_numba, col2im_numpy)),
              "col2im: reference loops, numba and NumPy slice-adds compared",
              "agree to np.allclose, absolute 1e-5")

stride_cols = {"numba": im2col_numba(x, K, 2, 1), "NumPy strided": im2col_numpy(x, K, 2, 1)}
stride_ref = ref.im2col_reference(x, (K, K), stride=(2, 2), padding=(1, 1))
_lesson.check(all(np.allclose(v, stride_ref, atol=1e-5) for v in stride_cols.values()),
              "im2col with stride 2: numba and NumPy strided vs the reference loops",
              "agree to np.allclose, absolute 1e-5")

# %% [markdown]
# ## 3. Timings
#
# Best of many runs, on the small shape above (all three) and on a layer-sized shape (numba and
# NumPy only; the loops' time there is extrapolated from the small shape). The numba kernel's
# first call compiles it, or loads it from numba's on-disk cache (`cache=True`): timed separately.
#
# The numba kernels themselves are serial loops (`nogil=True`): `conv2d` splits the batch into
# chunks and runs each chunk's im2col, GEMM and col2im on its own thread (tinyrect/_threads.py),
# so threads never wait for each other at a barrier inside a kernel. Here we time one kernel
# call; the GEMM is timed with all BLAS threads and with one. Expect the numbers to vary from run
# to run (more so on a shared machine); their orders of magnitude are the lesson.

# %%
repeat = 3 if args.quick else 5
threads = tr.get_num_threads()
stats = getattr(fast.im2col, "stats", None)  # None when NUMBA_DISABLE_JIT=1
how = "JIT disabled" if stats is None else "loaded from the on-disk cache" if stats.cache_hits else "compiled"
print(f"numba im2col first call: {first_call * 1e3:.0f} ms ({how})")

NL, CL, HL = (4, 8, 16) if args.quick else (16, 16, 32)
xl = rng.standard_normal((NL, CL, HL, HL)).astype(np.float32)
wl = rng.standard_normal((16, CL, 3, 3)).astype(np.float32)
small = {"reference loops": _lesson.timeit(lambda: ref.im2col_reference(x, (K, K), padding=(1, 1)), repeat=1)}
large, back, gemm = {}, {}, {}
cols_l = im2col_numpy(xl, 3, 1, 1)
small["numba"] = _lesson.timeit(lambda: im2col_numba(x, K, 1, 1), repeat=30)
large["numba"] = _lesson.timeit(lambda: im2col_numba(xl, 3, 1, 1), repeat=repeat)
back["numba"] = _lesson.timeit(lambda: col2im_numba(cols_l, xl.shape, 3, 1, 1), repeat=repeat)
# conv2d itself uses the stride-1 "same width" kernels here (3×3, padding 1): a row of X_col is
# then the input plane shifted by a constant, copied in one long loop (tinyrect/kernels/im2col.py)
cols_sw, back_sw = np.empty_like(cols_l), np.empty_like(xl)
large["numba same-width"] = _lesson.timeit(
    lambda: fast.im2col_same_width(xl, 3, 3, 1, 1, 1, 1, HL, cols_sw), repeat=repeat)
back["numba same-width"] = _lesson.timeit(   # zeroes cols_l's padding entries: already 0
    lambda: fast.col2im_same_width(cols_l, 3, 3, 1, 1, 1, 1, HL, back_sw), repeat=repeat)
_lesson.check(np.array_equal(cols_sw, cols_l)
              and np.allclose(back_sw, col2im_numba(cols_l, xl.shape, 3, 1, 1), atol=1e-4),
              "the same-width kernels vs the general ones", "X_col identical, col2im to absolute 1e-4")
for n_threads in sorted({threads, 1}, reverse=True):
    tr.set_num_threads(n_threads)  # BLAS follows set_num_threads too
    gemm[f"GEMM, {n_threads} thread{'s' if n_threads > 1 else ''}"] = _lesson.timeit(
        lambda: wl.reshape(16, -1) @ cols_l, repeat=repeat)
tr.set_num_threads(threads)
small["NumPy strided"] = _lesson.timeit(lambda: im2col_numpy(x, K, 1, 1), repeat=30)
large["NumPy strided"] = _lesson.timeit(lambda: im2col_numpy(xl, 3, 1, 1), repeat=repeat)
back["NumPy slice-adds"] = _lesson.timeit(lambda: col2im_numpy(cols_l, xl.shape, 3, 1, 1), repeat=repeat)

print(f"im2col of x {x.shape}, {K}×{K}, padding 1:")
for name, t in small.items():
    speedup = "" if name == "reference loops" else f"   ({small['reference loops'] / t:.0f}× faster than the loops)"
    print(f"  {name:<18}{t * 1e3:10.3f} ms{speedup}")
_lesson.check(small["numba"] < small["reference loops"],
              f"numba im2col vs the Python loops: {small['reference loops'] / small['numba']:.0f}× faster",
              "numba is faster (best of repeated timings)")

print(f"im2col of x {xl.shape}, 3×3, padding 1 (X_col {cols_l.shape}, {cols_l.nbytes / 2**20:.1f} MiB):")
loops_estimate = small["reference loops"] * cols_l.size / results["numba"].size
print(f"  {'reference loops':<18}{loops_estimate * 1e3:10.0f} ms   (estimated from the small shape)")
for name, t in large.items():
    print(f"  {name:<18}{t * 1e3:10.3f} ms")
print(f"then the GEMM W_col · X_col (16×{cols_l.shape[0]} · {cols_l.shape[0]}×{cols_l.shape[1]}):")
for name, t in gemm.items():
    print(f"  {name:<18}{t * 1e3:10.3f} ms")
print(f"col2im back to x {xl.shape} (the backward's scatter-add):")
for name, t in back.items():
    print(f"  {name:<18}{t * 1e3:10.3f} ms")
fastest = {what: min(d, key=d.get) for what, d in (("im2col", large), ("col2im", back))}
print(f"fastest here: im2col {fastest['im2col']}, col2im {fastest['col2im']}")

fig, axes = plt.subplots(1, 3, figsize=(16, 3.8), layout="constrained")
colors = {"reference loops": "tab:gray", "NumPy strided": "tab:orange"}
axes[0].barh(list(small), [t * 1e3 for t in small.values()],
             color=[colors.get(k, "tab:blue") for k in small])
axes[0].set_xscale("log")
axes[0].set_xlabel("ms (log scale)")
axes[0].set_title(f"im2col, x {x.shape}")
axes[1].barh(list(large) + list(gemm), [t * 1e3 for t in (*large.values(), *gemm.values())],
             color=[colors.get(k, "tab:blue") for k in large] + ["tab:green"] * len(gemm))
axes[1].set_xlabel("ms")
axes[1].set_title(f"im2col, x {xl.shape}, then 16 filters 3×3")
axes[2].barh(list(back), [t * 1e3 for t in back.values()],
             color=["tab:blue" if k.startswith("numba") else "tab:orange" for k in back])
axes[2].set_xlabel("ms")
axes[2].set_title(f"col2im to x {xl.shape}")
for ax in axes:
    ax.invert_yaxis()
_lesson.savefig(fig, "im2col_timings.png")

# %% [markdown]
# Reading the numbers: the Python loops are hundreds to thousands of times slower than the
# compiled or vectorized versions, which is why nobody trains with them; they exist to be read
# and to test against. For im2col, NumPy's strides already give a fast copy without a compiler.
# col2im is a scatter-*add* (a pixel read by several windows collects several contributions); in
# NumPy the natural way is k·k separate slice-adds over the whole array (or `np.add.at`), while
# numba runs the reference's loops, compiled, in one pass. Threads (for BLAS, or for conv2d's
# chunks) help only when each call has enough work, and only when the cores are free.
#
# ## 4. The forward: one GEMM, checked against the seven loops
#
# From here on the arrays are tiny, so the rest of the lesson runs numba (and BLAS) with one
# thread (compare the thread timings of section 3).

# %%
tr.set_num_threads(1)
Fo = 4
w = rng.standard_normal((Fo, C, K, K)).astype(np.float32)
b = rng.standard_normal(Fo).astype(np.float32)
Ho = ref.output_size(H, K, 1, 1)
y_col = w.reshape(Fo, -1) @ results["numba"] + b[:, None]              # (F, N·Ho·Wo)
y_gemm = y_col.reshape(Fo, N, Ho, Ho).transpose(1, 0, 2, 3)            # back to (N, F, Ho, Wo)
t_loops = time.perf_counter()
y_loops = ref.conv2d_reference(x, w, b, padding=(1, 1))
t_loops = time.perf_counter() - t_loops
t_gemm = _lesson.timeit(lambda: w.reshape(Fo, -1) @ im2col_numba(x, K, 1, 1), repeat=repeat, number=10)
err_fwd = np.abs(y_gemm - y_loops).max()
print(f"conv forward {x.shape} * {w.shape}: seven loops {t_loops * 1e3:.1f} ms, "
      f"im2col + GEMM {t_gemm * 1e3:.3f} ms; max |difference| {err_fwd:.1e}")
_lesson.check(err_fwd < 1e-4, f"im2col + GEMM vs the seven-loop definition: max difference {err_fwd:.1e}",
              "below 1e-4 (float32)")

# %% [markdown]
# The bias is just one more weight, on an input that is always 1. Append a row of ones to X_col
# and the column b to W_col, and the single GEMM [W_col | b] · [X_col; 1ᵀ] adds b for free.
# `tinyrect.functional.conv2d` does this, and in the backward the same row of ones turns
# [X_col; 1ᵀ] · dY_colᵀ into [dW_colᵀ; dbᵀ]: db = Σ dY comes out of the dW product.

# %%
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
# `tinyrect.functional.conv2d` does exactly this; its `.grad`s must match ours. And col2im must be
# the adjoint of im2col: ⟨im2col(x), G⟩ = ⟨x, col2im(G)⟩ for every x and G (that is what makes
# dX right: the backward of a copy is a sum).

# %%
x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
dy = rng.standard_normal((N, Fo, Ho, Ho))
dy_col = dy.transpose(1, 0, 2, 3).reshape(Fo, -1)                        # (F, N·Ho·Wo)
cols64 = im2col_numba(x64, K, 1, 1)
dW = (dy_col @ cols64.T).reshape(w.shape)
db = dy.sum(axis=(0, 2, 3))
dX = np.zeros_like(x64)
fast.col2im(w64.reshape(Fo, -1).T @ dy_col, K, K, 1, 1, 1, 1, 1, 1, Ho, Ho, dX)

xt, wt, bt = (tr.Tensor(a, requires_grad=True) for a in (x64, w64, b64))
F.conv2d(xt, wt, bt, stride=1, padding=1).backward(dy)
errs = {name: np.abs(mine - t.grad).max() / np.abs(mine).max()
        for name, mine, t in (("dX", dX, xt), ("dW", dW, wt), ("db", db, bt))}
print("formulas vs tinyrect.functional.conv2d's backward, max relative difference:",
      ", ".join(f"{k} {v:.1e}" for k, v in errs.items()))
_lesson.check(max(errs.values()) < 1e-12, f"dW = dY·X_colᵀ, db = Σ dY, dX = col2im(W_colᵀ·dY) vs conv2d's backward: max relative "
              f"difference {max(errs.values()):.1e}", "below 1e-12 (float64)")

G = rng.standard_normal(cols64.shape)
col2im_G = np.zeros_like(x64)
fast.col2im(G, K, K, 1, 1, 1, 1, 1, 1, Ho, Ho, col2im_G)
lhs, rhs = float(np.sum(cols64 * G)), float(np.sum(x64 * col2im_G))
print(f"adjoint test: <im2col(x), G> = {lhs:.10f}, <x, col2im(G)> = {rhs:.10f}")
_lesson.check(abs(lhs - rhs) < 1e-9 * abs(lhs), f"col2im is the adjoint of im2col: <im2col(x), G> vs <x, col2im(G)>, relative difference "
              f"{abs(lhs - rhs) / abs(lhs):.1e}", "below 1e-9")

n_small = (1, 2, 4, 3) if args.quick else (2, 2, 5, 3)
report = tr.gradcheck(lambda a, b_, c: F.conv2d(a, b_, c, stride=1, padding=1),
                      [tr.Tensor(rng.standard_normal(n_small[:2] + (n_small[2],) * 2), requires_grad=True),
                       tr.Tensor(rng.standard_normal((2, n_small[1], 3, 3)), requires_grad=True),
                       tr.Tensor(rng.standard_normal(2), requires_grad=True)],
                      names=["x", "W", "b"], raise_on_failure=False)
print(report)
_lesson.check(report.passed and report.max_rel_error < 1e-6,
              f"gradcheck of conv2d: max relative error {report.max_rel_error:.1e}", "below 1e-6")
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
