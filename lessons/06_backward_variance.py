# %% [markdown]
# # 06 · Backward variance, Eq. (11)-(14), and the c₂/d_L ratio
#
# Going back, a layer computes Δx_l = Ŵ_l Δy_l (Eq. 11), where Δy_l = f'(y_l) Δx_{l+1}. For ReLU,
# f'(y) is 0 or 1 with equal probability, independent of Δx_{l+1}, so Var[Δy_l] = ½ Var[Δx_{l+1}]
# and
#
#     Var[Δx_l] = ½ n̂_l Var[w_l] Var[Δx_{l+1}]            (Eq. 12, n̂_l = k²d: the fan-out)
#     Var[Δx_2] = Var[Δx_{L+1}] · Π_{l=2..L} ½ n̂_l Var[w_l] (Eq. 13)
#
# Eq. (14), Var[w] = 2/n̂_l ("fan_out"), makes every backward factor 1. The paper's remark: either
# condition alone is enough. With fan_out init the *forward* product becomes Π n_l/n̂_l = c₂/d_L,
# and with fan_in init the *backward* product becomes d_L/c₂: a ratio of two widths, not an
# exponential in depth. We measure all of it with probes, from a random Gaussian output gradient
# (the i.i.d. Δx_{L+1} the derivation assumes), on zero-padded 8×8 digits (so the padding term of
# lesson 05 [ours] shows up here too, through the transposed box filter).
#
# Paper or ours: the paper's statements cite their Sec., Eq., Table or Fig. (quoted where we
# use its words); **[ours]** marks what this project adds or measured.
#
# Run: `python lessons/06_backward_variance.py [--quick] [--show] [--out DIR]`

# %%
import _lesson

args = _lesson.setup("06")
import time  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tinyrect import init, variance  # noqa: E402
from tinyrect.variance import measure as V  # noqa: E402

t_start = time.perf_counter()
BATCH = 16 if args.quick else 32
DRAWS_BWD = 16 if args.quick else 32   # backward spread is small (sd ≈ 0.8 in log2 at width 32)
DRAWS_FWD = 64 if args.quick else 128  # forward spread is large (lesson 05, section 4)

# %% [markdown]
# ## 1. Inside one network: Var[Δy_l] = ½ Var[Δx_{l+1}]
#
# The probes record, for every layer, the variance of the gradient w.r.t. its output (Δy_l) and its
# input (Δx_l). For ReLU the ratio Var[Δy_l] / Var[Δx_{l+1}] should be ½: half the units pass the
# gradient. The table also shows the means (the derivation assumes zero), the dead units and the
# grad:data ratio std(∂L/∂w)/std(w). This is one draw: its curves may wander well away from the
# prediction (lesson 05, section 4); the backward usually wanders less than the forward.

# %%
x = V.digits_batch(BATCH)
net = V.plain_net(30, 32)
V.init_net(net, "he_fan_in", np.random.default_rng(0))
res = variance.record(net, x, seed=0)
print(res)
ratio = res.array("var_dy")[:-1] / res.array("var_dx")[1:]
print(f"Var[Δy_l]/Var[Δx_l+1] over layers 1..29: mean {ratio.mean():.3f}, min {ratio.min():.3f}, max {ratio.max():.3f}")
_lesson.check(abs(ratio.mean() - 0.5) < 0.05, f"ReLU passes half the gradient variance: mean "
              f"Var[Δy_l]/Var[Δx_l+1] = {ratio.mean():.3f} vs Eq. (12)'s ½", "within ±0.05")
fig = res.plot(prediction=variance.padded_predict(net, input_map=np.mean(x.astype(float) ** 2, axis=(0, 1))),
               title="one He net (fan_in), padding-aware prediction")
_lesson.savefig(fig, "one_net.png")

# %% [markdown]
# ## 2. Many draws: He, Xavier and the 0.01 Gaussian, backward
#
# Measured Var[Δx_2]/Var[Δx_30] (log2 of the mean over draws, with a bootstrap 95% interval) against
# the paper's Eq. (13) and the padding-aware prediction [ours]. For a constant width
# n_l = n̂_l (except the first layer), so fan_in and fan_out give the same nets here.

# %%
t0 = time.perf_counter()
const = V.measure(schemes=("he_fan_in", "xavier", "gaussian"), widths=(32,), draws=DRAWS_BWD, batch=BATCH,
                  backward=True, seed=3)
print(V.summary_table(const))
print(V.layer_table(const, "backward"))
print(f"({time.perf_counter() - t0:.1f} s)")
fig = V.plot_runs(const, direction="backward", title="backward, zero padding, width 32")
_lesson.savefig(fig, "backward_schemes.png")
for c in V.check_claims(const):
    if c["direction"] == "backward":
        _lesson.check(c["ok"], c["message"], c["criterion"])
        _lesson.check(c["paper_misses"], f"{c['scheme']}: the unmodified Eq. (13) on zero-padded 8×8 maps vs "
                      "the measured 95% CI", "outside the CI widened by ±0.5")

# %% [markdown]
# ## 3. When the width changes: c₂/d_L
#
# A net whose width doubles halfway: 15 layers of 32 channels, then 15 of 64 (c₂ = d₁ = 32,
# d_L = 64). With fan_in init (Eq. 10) the forward is flat, and the backward product is
# Π n̂_l/n_l = d_L/c₂ = 2 (log2 +1). With fan_out init (Eq. 14) the backward is flat and the forward
# product is c₂/d_L = ½ (log2 -1). Neither grows or shrinks with depth: the paper's point.

# %%
widths = [32] * 15 + [64] * 15
for scheme in ("he_fan_in", "he_fan_out"):
    p = variance.predict_specs(variance.plain_net_specs(30, None, widths=widths, scheme=scheme))
    print(f"{scheme}: paper forward log2 Var[y_30]/Var[y_1] = {p.forward_ratio_log2():+.2f}, "
          f"backward log2 Var[Δx_2]/Var[Δx_31] = {p.backward_ratio_log2():+.2f}")
print(f"variance.c2_over_dL([1] + widths) = {variance.c2_over_dL([1] + widths)}")
t0 = time.perf_counter()
wide_b = V.measure(schemes=("he_fan_in", "he_fan_out"), widths=(widths,), draws=DRAWS_BWD, batch=BATCH,
                   backward=True, seed=4)
wide_f = V.measure(schemes=("he_fan_out",), widths=(widths,), draws=DRAWS_FWD, batch=BATCH,
                   backward=False, seed=5)
print(V.summary_table(wide_b))
print(V.summary_table(wide_f))
print(f"({time.perf_counter() - t0:.1f} s)")
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
V.plot_runs(wide_b, direction="backward", ax=axes[0], title="backward, width 32 -> 64")
V.plot_runs(wide_f, direction="forward", ax=axes[1], title="forward with fan_out init: c2/dL")
_lesson.savefig(fig, "c2_over_dL.png")
for c in V.check_claims(wide_b):
    if c["direction"] == "backward":
        _lesson.check(c["ok"], c["message"], c["criterion"])
for c in V.check_claims(wide_f):
    _lesson.check(c["ok"], c["message"] + "  [c2/dL = 1/2 plus the padding term]", c["criterion"])
b_in = next(r for r in wide_b["runs"] if r["scheme"] == "he_fan_in")["backward"]
b_out = next(r for r in wide_b["runs"] if r["scheme"] == "he_fan_out")["backward"]
print(f"fan_in minus fan_out, backward log2 ratio: measured {b_in['log2_mean_ratio'] - b_out['log2_mean_ratio']:+.2f}, "
      f"log2(d_L/c_2) = +1 (the padding term cancels)")
_lesson.check(abs((b_in["log2_mean_ratio"] - b_out["log2_mean_ratio"]) - 1.0) < 0.5,
              "fan_in minus fan_out, backward log2 ratio: measured "
              f"{_lesson.num(b_in['log2_mean_ratio'] - b_out['log2_mean_ratio'])} vs log2(d_L/c_2) = 1", "within ±0.5")
print(f"lesson wall time: {time.perf_counter() - t_start:.1f} s")
_lesson.finish()

# %% [markdown]
# ## Exercises
#
# Graded exercises for this lesson (lessons/exercises/, see its README):
# `tinyrect check backward` (Eq. 13 with changing widths, c₂/d_L) and
# `tinyrect check questions06`.
#
# Open questions:
# 1. Replace the random output gradient by a real loss: `variance.record(net, x, loss="cross_entropy",
#    labels=...)` on a net ending in a Linear layer. Is Δx_{L+1} still i.i.d.? What changes?
# 2. Build a net whose width *halves* from 64 to 16. Predict the backward ratio under fan_in init
#    with `variance.dL_over_c2`, then measure it.
# 3. In section 1, the ratio Var[Δy_l]/Var[Δx_l+1] is not exactly ½ in every layer. Use the
#    probes' dead-unit fraction to explain the deviations in the last layers.
# 4. The backward spread across draws is much smaller than the forward one (compare sd/draw with
#    lesson 05). Why might an i.i.d. random output gradient average out better than the digits?
