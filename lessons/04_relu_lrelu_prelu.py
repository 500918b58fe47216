# %% [markdown]
# # 04 · ReLU, Leaky ReLU, PReLU and the gradient of a
#
# The paper's first contribution is one line, Eq. (1):
#
#     f(y_i) = max(0, y_i) + a_i · min(0, y_i)
#
# a_i = 0 is ReLU; a small fixed a_i = 0.01 is Leaky ReLU (Sec. 2.1 cites Maas et al.: "LReLU has
# negligible impact on accuracy compared with ReLU", an accuracy result of that work); a *learned*
# a_i is PReLU. The index i is the channel: channel-wise PReLU learns one a per channel,
# channel-shared PReLU one a per layer.
#
# Backward, by hand:
#
# - ∂f/∂y_i = 1 if y_i > 0, a_i otherwise;
# - ∂f/∂a_i = 0 if y_i > 0, y_i otherwise, i.e. min(0, y_i)   — Eq. (3);
# - a_i is used at every position of channel i, so its gradient sums over them:
#   ∂E/∂a_i = Σ_{positions of channel i} ∂E/∂f(y_i) · ∂f(y_i)/∂a_i   — Eq. (2);
# - channel-shared: one a for all channels, so the sum runs over the channels too. The shared
#   gradient is therefore the sum over channels of the channel-wise gradients (same a values).
#
# Paper or ours: the paper's statements cite their Sec., Eq., Table or Fig. (quoted where we
# use its words); **[ours]** marks what this project adds or measured.
#
# Run: `python lessons/04_relu_lrelu_prelu.py [--quick] [--show] [--out DIR]`

# %%
import _lesson

args = _lesson.setup("04")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinyrect as tr  # noqa: E402
import tinyrect.functional as F  # noqa: E402

rng = np.random.default_rng(0)
N, C, H, W = (2, 3, 4, 4) if args.quick else (8, 6, 8, 8)

# %% [markdown]
# ## 1. Forward: three rectifiers, one formula

# %%
y = tr.Tensor(np.array([-2.0, -0.5, 0.0, 0.5, 2.0]))
relu_out = F.relu(y).data
lrelu_out = F.leaky_relu(y, 0.01).data
prelu_out = F.prelu(y, tr.Tensor(np.array([0.25]))).data
eq1 = lambda v, a: np.maximum(0, v) + a * np.minimum(0, v)  # noqa: E731  (Eq. 1)
print("y          ", y.data)
print("ReLU       ", relu_out)
print("LReLU 0.01 ", lrelu_out)
print("PReLU 0.25 ", prelu_out)
_lesson.check(np.allclose(relu_out, eq1(y.data, 0)) and np.allclose(lrelu_out, eq1(y.data, 0.01))
              and np.allclose(prelu_out, eq1(y.data, 0.25)),
              "relu, leaky_relu and prelu vs Eq. (1) with a = 0, 0.01, 0.25",
              "equal to np.allclose (relative 1e-5, absolute 1e-8)")

# %% [markdown]
# ## 2. The three functions and their derivatives
#
# The derivative with respect to y is a step from a to 1; the derivative with respect to a is
# min(0, y): a learns only from negative inputs. To read ∂f/∂a at every point from the tape, the
# 601 sample points are laid out as 601 "channels" of one row, each with its own a.

# %%
ys = np.linspace(-3, 3, 601)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
for a, name, color in ((0.0, "ReLU (a = 0)", "tab:blue"), (0.01, "LReLU (a = 0.01)", "tab:orange"),
                       (0.25, "PReLU (a = 0.25, learned)", "tab:green")):
    t = tr.Tensor(ys[None, :].copy(), requires_grad=True)          # shape (1, 601): 601 channels
    weight = tr.Tensor(np.full(ys.size, a), requires_grad=True)   # one a per channel
    out = F.prelu(t, weight)
    out.backward(np.ones_like(t.data))  # dE/df = 1, so .grad holds ∂f/∂y and ∂f/∂a
    axes[0].plot(ys, out.data[0], color=color, label=name)
    axes[1].plot(ys, t.grad[0], color=color, label=name)
    if a == 0.25:   # only PReLU learns a; ReLU and LReLU have no ∂f/∂a to draw
        axes[2].plot(ys, weight.grad, color=color, label="PReLU, any a")
_lesson.check(np.array_equal(weight.grad, np.minimum(0, ys)), "the tape's ∂f/∂a vs min(0, y), Eq. (3)",
              "exactly equal")
axes[2].text(0.55, 0.72, "ReLU, LReLU: no\nlearnable a.\nPReLU: min(0, y),\nthe same curve\nfor every a",
             transform=axes[2].transAxes, fontsize=8, va="top")
for ax, title in zip(axes, ("f(y), Eq. (1)", "∂f/∂y", "∂f/∂a = min(0, y), Eq. (3)")):
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_title(title)
    ax.set_xlabel("y")
    ax.legend(fontsize=8, loc="lower right" if ax is axes[2] else "best")
axes[1].set_ylim(-0.1, 1.15)
_lesson.savefig(fig, "rectifiers.png")

# %% [markdown]
# ## 3. The gradient of a: channel-wise vs channel-shared, Eq. (2)
#
# Take a conv-layer-shaped input y of shape (N, C, H, W), a loss E = Σ f(y)·R with a fixed random
# R (so ∂E/∂f = R), and the same a = 0.25 in every channel. Channel-wise PReLU has C coefficients
# (`nn.PReLU(C)`); channel-shared has one (`nn.PReLU()`).

# %%
Y = rng.standard_normal((N, C, H, W))
R = rng.standard_normal((N, C, H, W))

wise = tr.nn.PReLU(num_parameters=C, dtype=np.float64)
shared = tr.nn.PReLU(num_parameters=1, dtype=np.float64)
(wise(tr.Tensor(Y)) * tr.Tensor(R)).sum().backward()
(shared(tr.Tensor(Y)) * tr.Tensor(R)).sum().backward()
da_wise, da_shared = wise.weight.grad, shared.weight.grad
da_hand = (R * np.minimum(0, Y)).sum(axis=(0, 2, 3))  # Eq. (2) with Eq. (3), one sum per channel
print(f"channel-wise a: {wise.weight.data} -> dE/da_c =", np.array2string(da_wise, precision=4))
print(f"by hand, Σ_(n,h,w) R·min(0, y) per channel   =", np.array2string(da_hand, precision=4))
print(f"channel-shared a: {shared.weight.data} -> dE/da = {da_shared[0]:.6f};  "
      f"Σ_c dE/da_c = {da_wise.sum():.6f}")
err_hand = np.abs(da_wise - da_hand).max() / np.abs(da_hand).max()
err_sum = abs(da_shared[0] - da_wise.sum()) / abs(da_wise.sum())
_lesson.check(err_hand < 1e-12, f"channel-wise dE/da_c vs Eq. (2) computed by hand: rel. error {err_hand:.1e}",
              "below 1e-12 (float64)")
_lesson.check(err_sum < 1e-12, f"channel-shared dE/da vs Σ_c channel-wise dE/da_c: rel. error {err_sum:.1e}",
              "below 1e-12 (float64)")

# The same in float32, the dtype networks train in (tinyrect sums Eq. (2) in float64 inside).
wise32, shared32 = tr.nn.PReLU(C), tr.nn.PReLU(1)
(wise32(tr.Tensor(Y.astype(np.float32))) * tr.Tensor(R.astype(np.float32))).sum().backward()
(shared32(tr.Tensor(Y.astype(np.float32))) * tr.Tensor(R.astype(np.float32))).sum().backward()
err32 = abs(float(shared32.weight.grad[0]) - float(wise32.weight.grad.sum())) / abs(da_wise.sum())
print(f"float32: shared {shared32.weight.grad[0]:.6f} vs Σ_c channel-wise "
      f"{wise32.weight.grad.sum(dtype=np.float64):.6f} (rel. difference {err32:.1e})")
_lesson.check(err32 < 1e-5, f"the same in float32: shared dE/da vs Σ_c channel-wise, rel. difference {err32:.1e}",
              "below 1e-5")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.bar([f"c={c}" for c in range(C)], da_wise, color="tab:green", label="channel-wise dE/da_c")
ax.bar(["shared"], da_shared, color="tab:purple", label="channel-shared dE/da")
ax.bar(["Σ_c"], [da_wise.sum()], color="none", edgecolor="black", hatch="//",
       label="Σ_c channel-wise")
ax.axhline(0, color="0.5", lw=0.8)
ax.set_ylabel("gradient of E w.r.t. a")
ax.set_title("Eq. (2): the shared gradient is the sum of the channel-wise ones")
ax.legend(fontsize=8)
_lesson.savefig(fig, "grad_of_a.png")

# %% [markdown]
# ## 4. gradcheck of prelu
#
# Finite differences in float64, at inputs kept away from the kink at 0 (lesson 02, section 4),
# for both y and a, channel-wise and channel-shared.
#
# A detail worth seeing: f is *piecewise linear* in y and linear in a, so as long as y ± ε does
# not cross 0 the central difference has no truncation error at all, only rounding error, which
# shrinks as ε grows (lesson 01, section 6). With |y| >= 0.05 we can use ε = 1e-3 instead of the
# default 1e-6 and gain about three digits on the elements whose gradient is tiny.

# %%
n, c, h, w = (1, 2, 2, 2) if args.quick else (2, 3, 2, 2)  # 2 forwards per element
Yc = rng.standard_normal((n, c, h, w))
Yc = np.where(np.abs(Yc) < 0.05, 0.05 + np.abs(Yc), Yc)  # |y| >= 0.05 > ε: no kink crossed
reports = {}
for name, k in (("channel-wise", c), ("channel-shared", 1)):
    a = tr.Tensor(rng.uniform(0.1, 0.4, size=k), requires_grad=True)
    inputs = [tr.Tensor(Yc, requires_grad=True), a]
    small = tr.gradcheck(F.prelu, inputs, names=["y", "a"], raise_on_failure=False)
    reports[name] = tr.gradcheck(F.prelu, inputs, names=["y", "a"], eps=1e-3)
    print(f"{name}: max relative error {small.max_rel_error:.1e} with ε = 1e-6 (rounding), "
          f"{reports[name].max_rel_error:.1e} with ε = 1e-3")
    print(reports[name])
for name, report in reports.items():
    _lesson.check(report.passed and report.max_rel_error < 1e-7,
                  f"gradcheck of prelu ({name}, ε = 1e-3): max relative error "
                  f"{report.max_rel_error:.1e} < 1e-7")

# %% [markdown]
# ## 5. How many parameters?
#
# The paper's 14-layer model has 13 PReLU layers: channel-shared adds 13 parameters in total,
# channel-wise adds as many as there are channels — both negligible next to the weights.

# %%
print(f"nn.PReLU():  {sum(p.size for p in shared.parameters())} parameter; "
      f"nn.PReLU({C}): {sum(p.size for p in wise.parameters())} parameters; init a = {wise.init}")
_lesson.finish()

# %% [markdown]
# ## Exercises
#
# Graded exercises for this lesson (lessons/exercises/, see its README): `tinyrect check relu`,
# `tinyrect check prelu` and `tinyrect check questions04`.
#
# Open questions:
# 1. Set a = 1 in section 2. What is f? Which layer does a PReLU with a = 1 reduce to, and why
#    does Eq. (15) (lesson 07) then give back Xavier's initialization?
# 2. In section 3, make R positive everywhere. Predict the sign of every dE/da_c, then check.
# 3. Why does the float32 backward accumulate Eq. (2) in float64? Sum 10⁶ float32 numbers near
#    0.1 in float32 and in float64 and compare.
# 4. The paper's a is not range-constrained: f can be non-monotonic when a < 0. Plot f for
#    a = -0.5. Is it still a "rectifier"?
# 5. Weight decay adds λ·a to dE/da. Where does repeated decay push a, and why does the paper
#    train a without it?
