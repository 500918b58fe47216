# %% [markdown]
# # 01 · Tensors and the tape
#
# A `tinyrect.Tensor` is a NumPy array (`.data`) that remembers how it was computed. Every
# operation on tensors that require gradients records one node on a *tape* (a graph): the
# output, its parents, and a small hand-written `backward(dout)` that turns dL/d(output) into
# dL/d(parent). `loss.backward()` walks that graph from the loss back to the leaves, in reverse
# topological order, and **adds** what reaches each leaf into its `.grad`. The ops and their
# backwards are in tinyrect/tensor.py; the walk itself, about 30 lines, is tinyrect/autograd.py.
#
# This lesson builds a tiny graph, prints it, checks `.grad` against gradients computed by hand,
# and shows four details that trip everyone up once: gradients accumulate, broadcasting is
# undone by summing, `no_grad()` records nothing, and float32 is not float64.
#
# Run: `python lessons/01_tensors_and_the_tape.py [--quick] [--show] [--out DIR]`

# %%
import _lesson

args = _lesson.setup("01")
import matplotlib.pyplot as plt  # noqa: E402  (after setup: the backend is chosen there)
import numpy as np  # noqa: E402

import tinyrect as tr  # noqa: E402

# %% [markdown]
# ## 1. Scalars: a graph you can check on paper
#
# L = (a·b + c)·f with a = 2, b = -3, c = 10, f = -2. With e = a·b and d = e + c:
# dL/dd = f, dL/dc = f, dL/de = f, dL/da = f·b, dL/db = f·a, dL/df = d.

# %%
a = tr.Tensor(2.0, requires_grad=True)
b = tr.Tensor(-3.0, requires_grad=True)
c = tr.Tensor(10.0, requires_grad=True)
f = tr.Tensor(-2.0, requires_grad=True)
e = a * b
d = e + c
L = d * f
print(f"L = {L.item()}")

# The tape: each non-leaf remembers its op and its parents.
order = L._topological_order()  # the order backward() visits nodes: the loss first
names = {id(a): "a", id(b): "b", id(c): "c", id(f): "f", id(e): "e", id(d): "d", id(L): "L"}
print("backward visits:", " -> ".join(f"{names[id(n)]}({n._op})" for n in order))

L.backward()
hand = {"a": f.item() * b.item(), "b": f.item() * a.item(), "c": f.item(), "f": d.item()}
for name, t in [("a", a), ("b", b), ("c", c), ("f", f)]:
    print(f"dL/d{name}: tape {t.grad.item():+.1f}   by hand {hand[name]:+.1f}")
_lesson.check(all(np.isclose(t.grad.item(), hand[n]) for n, t in [("a", a), ("b", b), ("c", c), ("f", f)]),
              "scalar graph: .grad of a, b, c, f vs the hand-computed f·b, f·a, f, d",
              "equal to np.isclose (relative 1e-5, absolute 1e-8)")


# %% [markdown]
# ## 2. Drawing the tape
#
# Leaves (inputs, parameters) on the left, the loss on the right; the arrows are the forward
# pass, and backward runs them in reverse, right to left.

# %%
def draw_graph(root, names, ax):
    """Columns by distance from the loss (each input one column left of its first use)."""
    order = root._topological_order()  # the loss first, every node before its parents
    col = {id(root): 0}
    for node in order:
        for p in node._parents:
            col[id(p)] = min(col.get(id(p), 0), col[id(node)] - 1)
    rows, pos = {}, {}
    for node in order[::-1]:
        k = col[id(node)]
        pos[id(node)] = (k, -rows.get(k, 0))
        rows[k] = rows.get(k, 0) + 1
    for node in order:
        for p in node._parents:
            (x0, y0), (x1, y1) = pos[id(p)], pos[id(node)]
            ax.annotate("", xy=(x1 - 0.18, y1), xytext=(x0 + 0.18, y0),
                        arrowprops=dict(arrowstyle="->", color="0.4"))
    for node in order:
        x, y = pos[id(node)]
        label = f"{names.get(id(node), '?')}\n{node._op}\ngrad {node.grad.item():+g}" if node.grad is not None \
            else f"{names.get(id(node), '?')}\n{node._op}"
        ax.text(x, y, label, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round", fc="#dbe9f6" if node._op == "leaf" else "#fde2c4"))
    ax.set_xlim(min(col.values()) - 0.5, 0.5)
    ax.set_ylim(-max(rows.values()) + 0.4, 0.6)
    ax.axis("off")


a2 = tr.Tensor(2.0, requires_grad=True)
b2 = tr.Tensor(-3.0, requires_grad=True)
c2 = tr.Tensor(10.0, requires_grad=True)
f2 = tr.Tensor(-2.0, requires_grad=True)
e2 = a2 * b2
d2 = e2 + c2
L2 = d2 * f2
for t in (e2, d2, L2):
    t.retain_grad()  # keep .grad on non-leaves too, to print it in the figure
names2 = {id(a2): "a", id(b2): "b", id(c2): "c", id(f2): "f", id(e2): "e = a·b", id(d2): "d = e + c",
          id(L2): "L = d·f"}
fig, ax = plt.subplots(figsize=(7, 3))
L2.backward(retain_graph=True)
draw_graph(L2, names2, ax)
ax.set_title("the tape of L = (a·b + c)·f, with the gradients backward() stored")
_lesson.savefig(fig, "tape.png")

# %% [markdown]
# ## 3. Vectors: y = x W + b, L = Σ y²
#
# By hand: dL/dy = 2y, so dL/dW = xᵀ(2y) (matmul's backward), and dL/db = Σ over the rows of 2y:
# b (shape (3,)) was *broadcast* to every row of x W (shape (4, 3)), so each b_j was used 4 times
# and its gradient is the sum of the 4 uses. That is all `unbroadcast` does.

# %%
rng = np.random.default_rng(0)
x = tr.Tensor(rng.standard_normal((4, 5)))              # float64 in, float64 all the way
W = tr.Tensor(rng.standard_normal((5, 3)), requires_grad=True)
bias = tr.Tensor(rng.standard_normal(3), requires_grad=True)
y = x @ W + bias
loss = (y * y).sum()
loss.backward()
dy = 2 * y.data
dW_hand = x.data.T @ dy
db_hand = dy.sum(axis=0)
err_W = np.abs(W.grad - dW_hand).max()
err_b = np.abs(bias.grad - db_hand).max()
print(f"dtype {loss.dtype}; max |W.grad - xᵀ(2y)| = {err_W:.1e}; max |b.grad - Σ_rows 2y| = {err_b:.1e}")
print(f"b.grad shape {bias.grad.shape} (the shape of b, not of y {y.shape})")
_lesson.check(err_W < 1e-12 and err_b < 1e-12,
              f"W.grad vs xᵀ·2y and b.grad vs Σ_rows 2y: max errors {err_W:.1e}, {err_b:.1e}",
              "below 1e-12")

# %% [markdown]
# ## 4. Gradients accumulate
#
# `backward()` adds into `.grad`; it never overwrites. A second forward + backward without
# clearing doubles the gradient. That is why training loops call `zero_grad()` (or set
# `.grad = None`) every step. (Accumulation is a feature: it is how a tensor used twice in one
# graph gets both contributions, and how you sum gradients over several small batches.)

# %%
first = W.grad.copy()
loss = ((x @ W + bias) ** 2).sum()
loss.backward()
ratio = np.abs(W.grad).sum() / np.abs(first).sum()
print(f"after a second backward without zero_grad: |W.grad| grew by a factor {ratio:.3f}")
_lesson.check(np.allclose(W.grad, 2 * first), "a second backward adds: W.grad vs 2 × the first gradient",
              "equal to np.allclose (relative 1e-5, absolute 1e-8)")
W.grad = None

# A tensor used twice in one graph: L = x·x gets 2x from the two uses adding up.
u = tr.Tensor(3.0, requires_grad=True)
(u * u).backward()
print(f"d(u·u)/du at u = 3: {u.grad.item()}  (two uses, 3 + 3)")
_lesson.check(u.grad.item() == 6.0, f"a tensor used twice receives the sum of both gradients: u.grad {u.grad.item()} vs 3 + 3",
              "exactly equal")

# %% [markdown]
# ## 5. `no_grad()`: no tape
#
# Inside `with tr.no_grad():` nothing is recorded: the output does not require grad and keeps
# no parents. Use it for evaluation and for the weight update itself (`W -= lr * W.grad` must not
# become part of the next step's graph).

# %%
with tr.no_grad():
    y_eval = x @ W + bias
print(f"under no_grad: requires_grad={y_eval.requires_grad}, parents={len(y_eval._parents)}")
_lesson.check(not y_eval.requires_grad and y_eval._parents == (), "no_grad() records no graph: the result's requires_grad and parents",
              "exactly False and none")

# %% [markdown]
# ## 6. float32 vs float64
#
# Networks train in float32 (fast, half the memory), but in tinyrect float64 inputs stay
# float64 end to end, and a Python scalar never changes a tensor's dtype. Why keep float64 around? Checking a gradient by finite differences,
# (f(x+ε) - f(x-ε)) / 2ε, loses digits to rounding: the rounding error grows like
# machine-epsilon/ε while the truncation error shrinks like ε². In float32 (machine epsilon
# 1.2e-7) the best measured here is about 2e-6 relative; float64 (2.2e-16) reaches about 1e-11.
# The figure shows the V-shaped error of d/dx exp(x) at x = 1 against ε.

# %%
x32 = tr.Tensor(np.ones(2, dtype=np.float32))
x64 = tr.Tensor(np.ones(2, dtype=np.float64))
print(f"dtypes: Tensor([1.0, 2.0]) -> {tr.Tensor([1.0, 2.0]).dtype}; float32 array -> {x32.dtype}; "
      f"float64 array -> {x64.dtype}; float32 * 2.0 -> {(x32 * 2.0).dtype}; "
      f"float64 * 2.0 -> {(x64 * 2.0).dtype}; float32 + float64 -> {(x32 + x64).dtype}")
_lesson.check((x32 * 2.0).dtype == np.float32 and (x64 * 2.0).dtype == np.float64,
              "a Python scalar keeps a tensor's dtype: the dtype of x32 * 2.0 and x64 * 2.0",
              "exactly float32 and float64")
epsilons = np.logspace(-12, -1, 12 if args.quick else 45)
errors = {}
for dtype in (np.float32, np.float64):
    x0 = tr.Tensor(np.array(1.0, dtype=dtype))
    errs = []
    for eps in epsilons:
        h = dtype(eps)
        numeric = ((x0 + h).exp() - (x0 - h).exp()).item() / (2 * float(h)) if h > 0 else np.nan
        errs.append(abs(numeric - np.e) / np.e)
    errors[dtype] = np.array(errs)
best32, best64 = np.nanmin(errors[np.float32]), np.nanmin(errors[np.float64])
print(f"best finite-difference relative error: float32 {best32:.1e}, float64 {best64:.1e}")
_lesson.check(best64 < 1e-8 < best32,
              f"float64 finite differences reach < 1e-8 ({best64:.1e}), float32 cannot ({best32:.1e})")

fig, ax = plt.subplots(figsize=(6, 3.6))
for dtype, style in ((np.float32, "o-"), (np.float64, "s-")):
    ax.loglog(epsilons, np.maximum(errors[dtype], 1e-17), style, ms=3, label=np.dtype(dtype).name)
ax.set_xlabel("step ε")
ax.set_ylabel("relative error of (f(x+ε) - f(x-ε)) / 2ε")
ax.set_title("d/dx exp(x) at x = 1: rounding (left) vs truncation (right)")
ax.legend()
ax.grid(True, which="major", alpha=0.3)
_lesson.savefig(fig, "finite_difference_error.png")

_lesson.finish()

# %% [markdown]
# ## Exercises
#
# Graded exercises for this lesson (lessons/exercises/, see its README): `tinyrect check tape`
# (lessons/exercises/tape.py: a new op on the tape) and `tinyrect check questions01`.
#
# Open questions:
# 1. Add `L3 = (a * a + b).exp()` to section 1 and predict `a.grad` on paper before running it.
# 2. Give `bias` the shape (1, 3) instead of (3,): what shape does `bias.grad` have, and why does
#    `unbroadcast` sum with `keepdims` here?
# 3. Build a chain of 5,000 `x = x * 1.0001` steps and call `backward()`. Why would a recursive
#    topological sort fail here, and what does `_topological_order` do instead?
# 4. Call `loss.backward()` twice on the same graph. Read the error message; when would you pass
#    `retain_graph=True`?
# 5. In section 6, which ε gives the smallest error for float32 and for float64? Compare with
#    the rule of thumb ε ≈ (machine epsilon)^(1/3).
