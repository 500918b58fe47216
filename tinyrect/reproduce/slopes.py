"""Table 1 at small scale: the PReLU coefficients a net learns, layer by layer.

`models.slopes_net` keeps Table 1's layer names and count (conv1, conv21-24, pool, conv31-36,
pool, fc1, fc2, fc3: 13 rectifiers) in smaller shapes of ours for 8×8 inputs (3×3 convs, no SPP;
see its docstring). It is trained twice per seed, with
channel-shared PReLU (one a per layer) and channel-wise PReLU (one a per channel; we report the
layer mean), a_i = 0.25 at the start, no weight decay on a (Sec. 2.1), He init with Eq. (15).

Claims (the paper's reading of Table 1), on the coefficients averaged over seeds:
  conv1_high:     for both variants, conv1's a is larger than the mean a of all deeper layers.
                  The comparison is ours: the paper says conv1 "has coefficients (0.681 and
                  0.596) significantly greater than 0" (Sec. 2.1); in its Table 1 they are also
                  above every deeper layer's.
  deeper_smaller: for channel-wise PReLU, the Spearman rank correlation between layer index and
                  mean a over all 13 rectifiers is negative (the paper: "the deeper conv layers
                  in general have smaller coefficients", "more nonlinear").
The section's `claim_held` is both. Table 1's own Spearman correlations are reported beside ours.
`runs` are shared with the accuracy section (the same trained nets give Table 2's PReLU rows).
"""
from __future__ import annotations

import numpy as np

from tinyrect.reproduce.fit import steps_per_epoch, tail_mean
from tinyrect.reproduce.table_runs import table_runs

PAPER_LAYERS = ["conv1", "conv21", "conv22", "conv23", "conv24", "conv31", "conv32", "conv33",
                "conv34", "conv35", "conv36", "fc1", "fc2"]
PAPER_SHARED = [0.681, 0.103, 0.099, 0.228, 0.561, 0.126, 0.089, 0.124, 0.062, 0.008, 0.210, 0.063, 0.031]
PAPER_CHANNEL = [0.596, 0.321, 0.204, 0.294, 0.464, 0.196, 0.152, 0.145, 0.124, 0.134, 0.198, 0.074, 0.075]
VARIANTS = ("prelu_shared", "prelu_channel")


def spearman(values) -> float:
    """Spearman rank correlation between position (0, 1, 2, ...) and `values` (ties averaged)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float("nan")
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v), dtype=float)
    for value in np.unique(v):                       # average the ranks of ties
        tied = v == value
        ranks[tied] = ranks[tied].mean()
    pos = np.arange(len(v), dtype=float)
    if ranks.std() == 0:
        return float("nan")
    return float(np.corrcoef(pos, ranks)[0, 1])


def planned_steps(cfg: dict, data) -> int:
    n = min(len(data.y_train), cfg.get("max_train") or len(data.y_train))
    return len(VARIANTS) * len(cfg["seeds"]) * cfg["epochs"] * steps_per_epoch(n, cfg["batch_size"])


def run(cfg: dict, data, cache: dict, on_step=None, log=print) -> dict:
    per_variant = {}
    names = None
    runs = table_runs(cfg, data, VARIANTS, cache, on_step, log)
    for variant in VARIANTS:
        seeds = []
        for seed in cfg["seeds"]:
            r = runs[variant, seed]
            names = r["layer_names"]
            seeds.append(dict(seed=seed, slopes=r["slopes"], test_error=r["test_error"],
                              max_abs_a=r["max_abs_a"], final_loss=tail_mean(r["losses"])))
        mean = np.mean([s["slopes"] for s in seeds], axis=0)
        per_variant[variant] = dict(
            seeds=seeds, mean_slopes=[round(float(v), 4) for v in mean],
            std_slopes=[round(float(v), 4) for v in np.std([s["slopes"] for s in seeds], axis=0)],
            first=float(mean[0]), deeper_mean=float(np.mean(mean[1:])), spearman=spearman(mean),
            max_abs_a=float(max(s["max_abs_a"] for s in seeds)),
            max_change=float(np.max(np.abs(mean - 0.25))),
        )
    conv1_high = all(v["first"] > v["deeper_mean"] for v in per_variant.values())
    rho = per_variant["prelu_channel"]["spearman"]
    deeper_smaller = bool(np.isfinite(rho) and rho < 0)
    paper = dict(layers=PAPER_LAYERS, shared=PAPER_SHARED, channel=PAPER_CHANNEL,
                 spearman_shared=spearman(PAPER_SHARED), spearman_channel=spearman(PAPER_CHANNEL),
                 first_shared=PAPER_SHARED[0], deeper_mean_shared=float(np.mean(PAPER_SHARED[1:])),
                 first_channel=PAPER_CHANNEL[0], deeper_mean_channel=float(np.mean(PAPER_CHANNEL[1:])))
    claims = [
        dict(name="conv1_high", claim_held=bool(conv1_high),
             paper="conv1 \"has coefficients (0.681 and 0.596) significantly greater than 0\" (Sec. 2.1); "
                   "the comparison with the deeper layers' mean is ours",
             definition="for both variants, conv1's mean a (over seeds) > the mean a of all deeper rectifiers"),
        dict(name="deeper_smaller", claim_held=deeper_smaller,
             paper=f"channel-wise: \"the deeper conv layers in general have smaller coefficients\" "
                   f"(Table 1 Spearman(layer, a) = "
                   f"{paper['spearman_channel']:.2f})",
             definition="channel-wise: Spearman correlation of layer index vs mean a over all rectifiers < 0"),
    ]
    return dict(config=cfg, layers=names, variants=per_variant, paper=paper, claims=claims,
                claim_held=bool(conv1_high and deeper_smaller))


def plot(result: dict, out_dir, plt) -> list:
    """slopes.png: ours (left) and Table 1 (right), channel-shared and channel-wise per layer."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    names = result["layers"]
    x = np.arange(len(names))
    for variant, color, label in (("prelu_shared", "tab:orange", "channel-shared"),
                                  ("prelu_channel", "tab:green", "channel-wise (mean)")):
        v = result["variants"][variant]
        a1.errorbar(x, v["mean_slopes"], yerr=v["std_slopes"], color=color, marker="o", ms=4,
                    capsize=2, label=label)
    a1.set_xticks(x, names, rotation=60, fontsize=8)
    a1.set(title="learned here (mean ± std over seeds)", ylabel="PReLU coefficient a")
    a1.axhline(0.25, color="gray", ls=":", lw=0.8)
    p = result["paper"]
    xp = np.arange(len(p["layers"]))
    a2.plot(xp, p["shared"], color="tab:orange", marker="o", ms=4, label="channel-shared")
    a2.plot(xp, p["channel"], color="tab:green", marker="o", ms=4, label="channel-wise (mean)")
    a2.set_xticks(xp, p["layers"], rotation=60, fontsize=8)
    a2.set(title="the paper's Table 1 (ImageNet, 14 layers)")
    a2.axhline(0.25, color="gray", ls=":", lw=0.8)
    for ax in (a1, a2):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "slopes.png", dpi=100)
    plt.close(fig)
    return ["slopes.png"]
