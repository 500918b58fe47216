# %% [markdown]
# # 02 · Deriving backward by hand, checked by finite differences
#
# Every op in tinyrect has a backward written by hand. The recipe is always the same:
#
# 1. on paper, write the output y as a function of each input and differentiate: given
#    dout = ∂L/∂y (same shape as y), what is ∂L/∂x = Σ_y ∂L/∂y · ∂y/∂x (same shape as x)?
# 2. in code, `Tensor._from_op(out, parents, backward, name)` with `backward(dout)` returning
#    one gradient per parent, the formula in its docstring;
# 3. check it with `tinyrect.gradcheck`, which compares your gradient with the central
#    difference (L(x+ε) - L(x-ε)) / 2ε for every element, in float64.
#
# How worried to be (CS231n's thresholds, printed by the report): relative error > 1e-2 the
# backward is wrong; 1e-4 .. 1e-2 suspicious (or a kink); < 1e-7 correct.
#
# Run: `python lessons/02_backward_by_hand_and_gradcheck.py [--quick] [--show] [--out DIR]`

# %%
import _lesson

args = _lesson.setup("02")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinyrect as tr  # noqa: E402
from tinyrect.tensor import Tensor, as_tensor, unbroadcast  # noqa: E402

rng = np.random.default_rng(0)
N, D, K = (3, 4, 2) if args.quick else (6, 5, 3)
reports = {}  # name -> gradcheck report, for the figure


# %% [markdown]
# ## 1. Softplus: y = log(1 + eˣ)
#
# Paper: dy/dx = eˣ / (1 + eˣ) = σ(x), elementwise, so dx = dout · σ(x).
# (Written as max(x, 0) + log(1 + e^-|x|) so that exp never overflows.)

# %%
def softplus(x):
    x = as_tensor(x)
    out = np.maximum(x.data, 0) + np.log1p(np.exp(-np.abs(x.data)))

    def backward(dout):
        """y = log(1 + exp(x)):  dx = dout · σ(x),  σ(x) = 1 / (1 + exp(-x))."""
        return (dout / (1 + np.exp(-x.data)),)

    return Tensor._from_op(out, (x,), backward, "softplus")


x = Tensor(rng.standard_normal((N, D)), requires_grad=True)
reports["softplus"] = tr.gradcheck(softplus, [x], names=["x"])
print(reports["softplus"], "\n")

# %% [markdown]
# ## 2. Linear layer: Y = X W + b
#
# Y_nk = Σ_d X_nd W_dk + b_k. Differentiating element by element and collecting terms:
# ∂L/∂X_nd = Σ_k dY_nk W_dk, i.e. dX = dY Wᵀ;  ∂L/∂W_dk = Σ_n X_nd dY_nk, i.e. dW = Xᵀ dY;
# ∂L/∂b_k = Σ_n dY_nk (b was broadcast over the N rows, so its uses add up).
# A shape check catches most mistakes here: dX must be N×D, dW D×K, db K.

# %%
def linear(x, w, b):
    x, w, b = as_tensor(x), as_tensor(w), as_tensor(b)

    def backward(dout):
        """Y = X W + b:  dX = dY Wᵀ,  dW = Xᵀ dY,  db = Σ_rows dY."""
        return dout @ w.data.T, x.data.T @ dout, dout.sum(axis=0)

    return Tensor._from_op(x.data @ w.data + b.data, (x, w, b), backward, "linear")


X = Tensor(rng.standard_normal((N, D)), requires_grad=True)
W = Tensor(rng.standard_normal((D, K)), requires_grad=True)
b = Tensor(rng.standard_normal(K), requires_grad=True)
reports["linear"] = tr.gradcheck(linear, [X, W, b], names=["X", "W", "b"])
print(reports["linear"], "\n")


# %% [markdown]
# ## 3. A rectifier with a learnable slope (a preview of lesson 04)
#
# The paper's PReLU, Eq. (1): f(y) = max(0, y) + a · min(0, y), here with one shared a.
# ∂f/∂y = 1 if y > 0, a otherwise, so dy = dout · (1 or a).
# ∂f/∂a = 0 if y > 0, y otherwise, i.e. min(0, y) (Eq. (3)), and a is used at every position,
# so da = Σ_all dout · min(0, y) (Eq. (2)).

# %%
def rectifier(y, a):
    y, a = as_tensor(y), as_tensor(a)
    positive = y.data > 0
    negative_part = np.minimum(y.data, 0)
    out = np.maximum(y.data, 0) + a.data * negative_part

    def backward(dout):
        """f = max(0,y) + a·min(0,y):  dy = dout·(1 if y > 0 else a),  da = Σ dout·min(0,y)  (Eq. 2-3)."""
        dy = dout * np.where(positive, 1, a.data)
        da = unbroadcast(dout * negative_part, a.shape)
        return dy, da

    return Tensor._from_op(out, (y, a), backward, "rectifier")


def rectifier_wrong(y, a):
    """The same op with a classic bug: da = Σ dout · y (forgot that ∂f/∂a = 0 where y > 0)."""
    y, a = as_tensor(y), as_tensor(a)
    out = np.maximum(y.data, 0) + a.data * np.minimum(y.data, 0)

    def backward(dout):
        """WRONG on purpose: da = Σ dout·y instead of Σ dout·min(0, y)."""
        return dout * np.where(y.data > 0, 1, a.data), unbroadcast(dout * y.data, a.shape)

    return Tensor._from_op(out, (y, a), backward, "rectifier_wrong")


# Keep inputs away from the kink at 0 (see section 4): |y| >= 0.1.
Y = rng.standard_normal((N, D))
Y = np.where(np.abs(Y) < 0.1, 0.1 * np.sign(Y) + (Y == 0) * 0.1, Y)
Yt = Tensor(Y, requires_grad=True)
a = Tensor(np.array([0.25]), requires_grad=True)
reports["rectifier"] = tr.gradcheck(rectifier, [Yt, a], names=["y", "a"])
print(reports["rectifier"], "\n")

print("the wrong backward:")
try:
    tr.gradcheck(rectifier_wrong, [Yt, a], names=["y", "a"])
    caught = False
except tr.GradcheckError as err:
    caught = True
    print(f"GradcheckError: {str(err).splitlines()[0]}\n")
reports["rectifier (wrong da)"] = tr.gradcheck(rectifier_wrong, [Yt, a], names=["y", "a"],
                                               raise_on_failure=False)
print(reports["rectifier (wrong da)"], "\n")

# %% [markdown]
# Read the report row by row: the gradient with respect to y is still right (the bug is only in
# da), and the row for a says by how much it is off and at which element. A per-input report is
# what turns "the gradient is wrong" into "the gradient of a is wrong".
#
# ## 4. Kinks: when finite differences are the ones that are wrong
#
# max(0, y) has no derivative at 0. If an input sits closer to 0 than ε, the central difference
# straddles the kink and averages the two slopes, while the analytic backward picks one. Below,
# y = 3e-7 with ε = 1e-6: the numeric slope is (3e-7 + 1e-6 - 0) / 2e-6 = 0.65, the analytic
# one 1 (gradcheck weights each output by a random number, so the report shows both times it).

# %%
kink = tr.gradcheck(tr.functional.relu, [Tensor(np.array([3e-7, 0.5, -0.5]), requires_grad=True)],
                    names=["y"], raise_on_failure=False)
print(kink, "\n")
reports["relu at y = 3e-7"] = kink

# %% [markdown]
# So gradcheck a rectifier at points away from 0 (as in section 3), or accept a few
# "suspicious" elements and look at which ones they are.

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
labels = list(reports)
values = [max(reports[k].max_rel_error, 1e-17) for k in labels]
colors = ["tab:green" if v < 1e-7 else "tab:orange" if v < 1e-2 else "tab:red" for v in values]
ax.barh(labels, values, color=colors)
ax.set_xscale("log")
for edge, text in ((1e-7, "< 1e-7 correct"), (1e-2, "> 1e-2 wrong")):
    ax.axvline(edge, color="0.3", ls="--", lw=1)
    ax.text(edge, 1.01, text, fontsize=8, ha="center", va="bottom", transform=ax.get_xaxis_transform())
ax.invert_yaxis()
ax.set_xlabel("max relative error, analytic vs central differences (float64, ε = 1e-6)")
ax.set_title("gradcheck reports", pad=16)
_lesson.savefig(fig, "gradcheck_errors.png")

# %% [markdown]
# ## The checks

# %%
for name in ("softplus", "linear", "rectifier"):
    err = reports[name].max_rel_error
    _lesson.check(reports[name].passed and err < 1e-7, f"{name}: hand-derived backward passes, "
                  f"max relative error {err:.1e} < 1e-7")
wrong = reports["rectifier (wrong da)"]
_lesson.check(caught and not wrong.passed and wrong.max_rel_error > 1e-2,
              f"the wrong backward is caught: GradcheckError raised, relative error "
              f"{wrong.max_rel_error:.2f} > 1e-2, on input "
              f"'{next(r.name for r in wrong.inputs if not r.passed)}'")
_lesson.finish()

# %% [markdown]
# ## Exercises
#
# Graded exercises for this lesson (lessons/exercises/, see its README):
# `tinyrect check gradcheck` (your own finite differences), `tinyrect check linear` and
# `tinyrect check questions02`.
#
# Open questions:
# 1. Derive and implement `tanh` (dy/dx = 1 - y²) and `sigmoid`; gradcheck both. Why is it
#    cheaper to save y than x for these backwards?
# 2. Make the softplus backward return `dout * np.exp(x.data)` (a plausible slip). What relative
#    error does gradcheck report, and for which elements is it worst?
# 3. Give the rectifier one a per column (shape (D,)) instead of one shared a. What changes in
#    the backward? (Hint: `unbroadcast` already does it; say why.) This is channel-wise PReLU.
# 4. Rerun section 4 with ε = 1e-8. Does the kink element pass now? What is the price of a
#    small ε (lesson 01, section 6)?
# 5. Remove `.sum(axis=0)` from the linear backward's db. What does the error message say?
