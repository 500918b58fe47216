# %% [markdown]
# # 08 · Deep plain nets, Xavier vs He (Figs. 2 and 3)
#
# The paper's Figures 2 and 3 train deep *plain* ReLU nets (no batch normalization, no
# shortcuts) from two initializations:
#
# - **Xavier** (Glorot & Bengio): n_l Var[w_l] = 1, derived for linear activations;
# - **He** (Eq. 10): ½ n_l Var[w_l] = 1, derived for rectifiers.
#
# With ReLU each layer multiplies the variance by ½ n_l Var[w_l] (Eq. 8), so after L layers
# (Eq. 9) Xavier's signal has shrunk by 2^-L in variance and the backward signal by the same
# product (Eq. 13). Fig. 2 is "a 22-layer large model" (model B, Table 3): "Both our
# initialization (red) and 'Xavier' (blue) lead to convergence, but ours starts reducing error
# earlier." Fig. 3 is a different, "30-layer small model" (27 conv + 3 fc layers): He converges,
# Xavier "completely stalls". Here **[ours]**: one family of plain nets on the 8×8 digits at those
# two depths, `depth` weight layers = (depth-1) conv 3×3 + one fc, everything else identical (data
# order, learning rate, momentum, weight decay, seed).
#
# Paper or ours: the paper's statements cite their Sec., Eq., Table or Fig. (quoted where we
# use its words); **[ours]** marks what this project adds or measured.
#
# Run: `python lessons/08_deep_plain_nets.py [--quick] [--show] [--out DIR]`

# %%
import _lesson

args = _lesson.setup("08")
import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tinyrect as tr  # noqa: E402
import tinyrect.functional as F  # noqa: E402
from tinyrect import nn  # noqa: E402
from tinyrect.data import digits  # noqa: E402
from tinyrect.reproduce.depth import classify  # noqa: E402
from tinyrect.reproduce.models import plain_net  # noqa: E402
from tinyrect.reproduce.recipe import train_run  # noqa: E402

DEPTHS = (22, 30)
TRAIN_DEPTHS = (22,) if args.quick else (22, 30)   # --quick: a 30-layer run needs ~100+ steps to start
WIDTH = 16
EPOCHS = 3 if args.quick else 8       # 23 steps per epoch (1,437 training digits, batch 64)
SEEDS = (0,) if args.quick else (0, 1)
tr.set_num_threads(1)                 # small GEMMs: one thread is as fast, and safe on a busy machine
LR = 0.002                            # [ours] measured: 30 plain layers here train at 0.002, not at 0.01
# the paper's recipe (Sec. 3), run by tinyrect.train.train: SGD momentum 0.9, weight decay on weights
RECIPE = dict(epochs=EPOCHS, lr=LR, momentum=0.9, weight_decay=5e-4, batch_size=64)
data = digits()
ln_k = math.log(data.num_classes)
print(data)

# %% [markdown]
# ## 1. Before training: how much signal reaches the end, and how much gradient the start
#
# One batch through freshly initialized nets. We print the std of the logits and of the
# gradient of the loss with respect to the first layer's weights.
#
# The Xavier/He ratio of the logits' std has an exact prediction. Both nets use the same draws
# (same seed), and every one of the L weight layers, the first conv and the fc included, has a
# std √2 smaller under Xavier (1/n_l vs 2/n_l); biases are 0, and ReLU and zero padding commute
# with a positive scale. So the Xavier logits are the He logits times (1/√2)^L = 2^(-L/2).
# Eq. (9)'s product alone, (1/2)^(L-1) in variance, would give (1/√2)^(L-1), √2 too large: it
# starts from Var[y_1], and the first layer's own factor 2 differs too.

# %%
x = data.x_train[:64]
y = data.y_train[:64]
at_init = {}
for depth in DEPTHS:
    for init in ("he", "xavier"):
        net = plain_net(depth, WIDTH, data.input_shape, data.num_classes, "relu", init, seed=0)
        logits = net(tr.Tensor(x))
        F.cross_entropy(logits, y).backward()
        g = net.weights[0].weight.grad
        at_init[depth, init] = (float(logits.data.std()), float(np.abs(g).mean()))
        print(f"{depth} layers, {init:6s}: logits std {at_init[depth, init][0]:.2e}, "
              f"mean |dL/dW1| {at_init[depth, init][1]:.2e}")
for depth in DEPTHS:
    r = at_init[depth, "xavier"][0] / at_init[depth, "he"][0]
    predicted = 2.0 ** (-depth / 2)
    print(f"{depth} layers: Xavier/He logits std {r:.4e}; predicted 2^(-L/2) = {predicted:.4e}")
    _lesson.check(abs(r / predicted - 1) < 1e-4,
                  f"{depth} layers: Xavier/He logits std {r:.4e} vs 2^(-{depth}/2) = {predicted:.4e}, "
                  f"relative difference {abs(r / predicted - 1):.1e}", "within 1e-4 (float32 rounding)")

# %% [markdown]
# ## 2. Training: the same recipe for both inits
#
# SGD, momentum 0.9, weight decay 5e-4 on the weights (not the biases), batch 64, a constant
# learning rate of 0.002 **[ours]**: the rate we measured to train 30 plain layers at this scale
# (0.01 and 0.03 failed there); the paper's ImageNet runs started at 0.01 (Sec. 3). "start" is
# the first step whose loss is below 0.9·ln 10 (the loss of a uniform guess is ln 10 = 2.30);
# "final" is the mean loss of the last 20 steps.

# %%
runs = {}
for depth in TRAIN_DEPTHS:
    for init in ("he", "xavier"):
        for seed in SEEDS:
            net = plain_net(depth, WIDTH, data.input_shape, data.num_classes, "relu", init, seed=seed)
            r = train_run(net, data, RECIPE, seed)
            r.update(classify(r["losses"], r["diverged_at"], data.num_classes))
            runs[depth, init, seed] = r
            print(f"{depth} layers, {init:6s}, seed {seed}: final loss {r['final']:.3f}, start "
                  f"{r['start']}, test error {r['test_error']:.3f} ({r['seconds']:.1f} s)")

fig, axes = plt.subplots(1, len(TRAIN_DEPTHS), figsize=(5 * len(TRAIN_DEPTHS), 3.4), sharey=True,
                         squeeze=False)
axes = axes[0]
for ax, depth in zip(axes, TRAIN_DEPTHS):
    for (d, init, seed), r in runs.items():
        if d == depth:
            ax.plot(r["losses"], color="tab:red" if init == "he" else "tab:blue", lw=1,
                    label=("He" if init == "he" else "Xavier") if seed == SEEDS[0] else None)
    ax.axhline(0.9 * ln_k, color="gray", ls=":", lw=0.8, label="0.9 ln 10 (started below it)")
    ax.set(title=f"{depth} layers (cf. Fig. {2 if depth == 22 else 3})", xlabel="iteration")
    ax.legend()
axes[0].set_ylabel("training loss")
fig.tight_layout()
_lesson.savefig(fig, "deep_plain_nets.png")

# %% [markdown]
# ## 3. The checks
#
# At this scale (8×8 inputs, 16 channels) Xavier already stalls at 22 layers, not only at 30:
# the small-scale analogue of Fig. 2 ("both converge, He sooner") appears at about 6 layers
# (`tinyrect reproduce` sweeps the depth). What must hold at both 22 and 30 layers: Xavier's
# signal and first-layer gradient are orders of magnitude smaller than He's, He's loss falls,
# and Xavier's does not. (--quick trains only the 22-layer nets: at lr 0.002 a 30-layer He net
# needs some 50-100 steps before its loss starts to fall; run without --quick for both.)
#
# He at 30 layers is trainable but fragile at this scale: in an earlier `tinyrect reproduce` (3
# seeds, 184 steps) one seed's loss fell to about 1.0, spiked above 2.6 and started over, and
# another had not started by the end. That is why the 30-layer check below uses the median over
# seeds.
#
# **[ours] At the paper's learning rate and for longer.** This lesson trains a few hundred steps
# at lr 0.002 so that it runs in minutes. The full `tinyrect reproduce` trains the same family of
# nets 40 epochs (920 steps) at the paper's lr 0.01 (Sec. 3) and at 0.002, on digits shifted by
# up to ±1 pixel. In our run on a 2-core machine: at 6 and 14 layers both inits converged and He
# started first (14 layers: first step below 0.9 ln 10 at step 38 for He, 200 for Xavier), which
# is Fig. 2's pattern; at 22 layers He converged (2 seeds of 2) and Xavier never started, which
# is Fig. 3's; at 30 layers Xavier never started, and at lr 0.01 He did not converge either
# (at lr 0.002 it did). Without the shifts, Xavier at 22 layers did start (step 363): how deep
# "too deep for Xavier" is depends on the data, the rate and the steps, and the report shows
# every run. Run `tinyrect reproduce --sections depth` for the numbers on your machine.

# %%
for depth in DEPTHS:
    ratio_g = at_init[depth, "xavier"][1] / at_init[depth, "he"][1]
    _lesson.check(ratio_g < 1e-2, f"{depth} layers: Xavier's first-layer gradient is {ratio_g:.1e} of He's (< 1e-2)")
for depth in TRAIN_DEPTHS:
    he_final = np.median([runs[depth, "he", s]["final"] for s in SEEDS])
    xa_final = np.median([runs[depth, "xavier", s]["final"] for s in SEEDS])
    _lesson.check(he_final < 0.9 * ln_k, f"{depth} layers: He trains (median final loss {he_final:.3f} < 0.9 ln 10)")
    _lesson.check(xa_final > 0.9 * ln_k, f"{depth} layers: Xavier stalls (median final loss {xa_final:.3f} > 0.9 ln 10)")
_lesson.finish()

# %% [markdown]
# ## Exercises
#
# Graded exercises for this lesson (lessons/exercises/, see its README): `tinyrect check deep`
# (make a 30-layer plain net train) and `tinyrect check questions08`.
#
# Open questions:
# 1. Sweep the depth (4, 6, 8, 10, 14) for Xavier. Where does it stop training at all? Where
#    does it train but start later than He (the paper's Fig. 2)?
# 2. Retrain the 30-layer He net with lr 0.01 and 0.03. What happens? (In our runs [ours] the
#    learning rate that works shrank with depth; the paper used 0.01, then 0.001 and 0.0001 on
#    plateaus, Sec. 3.) Does Xavier at 30 layers train with a larger lr?
# 3. Replace the flatten + fc head with global average pooling (`nn.AdaptiveAvgPool2d(1)`) and
#    train He at 22 layers. Measure the std of the logits *across inputs* at init: why can't it
#    learn?
# 4. Use He fan_out (Eq. 14, `init="he_fan_out"`). Does it train as well as fan_in at 30 layers?
#    Lesson 06 says either condition suffices; check the first and last layer's gradients.
# 5. Multiply Xavier's std by √2 in one layer out of two. How many such layers make a 30-layer
#    net train?
