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
The paper's a's are the end point of ~80 epochs of ImageNet: an equilibrium. Ours are judged only
if they reached one: per variant, on the seed-mean trajectory of every layer's mean a, max_drift =
the largest change of any layer over the last 20% of the steps; reached when max_drift < 0.01.
A claim whose coefficients did not reach equilibrium is "not reached" (neither held nor not).
`runs` are shared with the accuracy section (the same trained nets give Table 2's PReLU rows).
"""
from __future__ import annotations

import numpy as np

from tinyrect.reproduce.recipe import planned_steps as _steps
from tinyrect.reproduce.report import fmt, verdict
from tinyrect.reproduce.table_runs import RUN_KEYS, table_runs
from tinyrect.train import tail_mean

TITLE = "Learned PReLU coefficients (Table 1)"

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


DRIFT_LIMIT = 0.01
WINDOW = 0.2              # the last 20% of the steps


def equilibrium(trajectories, steps: int) -> dict:
    """{"reached", "max_drift", "steps"} from per-seed trajectories [(step, [a per layer])] recorded
    at the same steps: the seed-mean a of every layer, its change from the first recorded point
    of the last WINDOW of the steps to the last point, the largest over layers."""
    at = np.array([s for s, _ in trajectories[0]])
    mean = np.mean([[a for _, a in t] for t in trajectories], axis=0)        # points × layers
    inside = np.flatnonzero(at >= (1 - WINDOW) * steps)
    if len(inside) < 2:
        return dict(reached=False, max_drift=float("nan"), steps=int(steps))
    drift = float(np.max(np.abs(mean[inside[-1]] - mean[inside[0]])))
    return dict(reached=bool(drift < DRIFT_LIMIT), max_drift=round(drift, 5), steps=int(steps))


def planned_steps(cfg: dict) -> int:
    return _steps(cfg, len(VARIANTS) * len(cfg["seeds"]))


def run(cfg: dict, data, on_step=None, log=print) -> dict:
    per_variant = {}
    names = None
    runs = table_runs(cfg, data, VARIANTS, on_step, log)
    for variant in VARIANTS:
        seeds = []
        for seed in cfg["seeds"]:
            r = runs[variant, seed]
            names = r["layer_names"]
            seeds.append(dict(seed=seed, slopes=r["slopes"], test_error=r["test_error"],
                              max_abs_a=r["max_abs_a"], final_loss=tail_mean(r["losses"]),
                              **{k: r[k] for k in RUN_KEYS}))
        mean = np.mean([s["slopes"] for s in seeds], axis=0)
        per_variant[variant] = dict(
            seeds=seeds, mean_slopes=[round(float(v), 4) for v in mean],
            std_slopes=[round(float(v), 4) for v in np.std([s["slopes"] for s in seeds], axis=0)],
            first=float(mean[0]), deeper_mean=float(np.mean(mean[1:])), spearman=spearman(mean),
            max_abs_a=float(max(s["max_abs_a"] for s in seeds)),
            max_change=float(np.max(np.abs(mean - 0.25))),
            equilibrium=equilibrium([runs[variant, s]["trajectory"] for s in cfg["seeds"]],
                                    max(runs[variant, s]["steps"] for s in cfg["seeds"])),
            trajectory=_mean_trajectory([runs[variant, s]["trajectory"] for s in cfg["seeds"]]),
        )
    conv1_high = all(v["first"] > v["deeper_mean"] for v in per_variant.values())
    rho = per_variant["prelu_channel"]["spearman"]
    deeper_smaller = bool(np.isfinite(rho) and rho < 0)
    paper = dict(layers=PAPER_LAYERS, shared=PAPER_SHARED, channel=PAPER_CHANNEL,
                 spearman_shared=spearman(PAPER_SHARED), spearman_channel=spearman(PAPER_CHANNEL),
                 first_shared=PAPER_SHARED[0], deeper_mean_shared=float(np.mean(PAPER_SHARED[1:])),
                 first_channel=PAPER_CHANNEL[0], deeper_mean_channel=float(np.mean(PAPER_CHANNEL[1:])))
    eq = {v: per_variant[v]["equilibrium"] for v in VARIANTS}
    claims = [
        dict(name="conv1_high", claim_held=bool(conv1_high), reached=all(e["reached"] for e in eq.values()),
             condition=_condition(eq, VARIANTS),
             paper="conv1 \"has coefficients (0.681 and 0.596) significantly greater than 0\" (Sec. 2.1); "
                   "the comparison with the deeper layers' mean is ours",
             definition="for both variants, conv1's mean a (over seeds) > the mean a of all deeper rectifiers"),
        dict(name="deeper_smaller", claim_held=deeper_smaller, reached=eq["prelu_channel"]["reached"],
             condition=_condition(eq, ("prelu_channel",)),
             paper=f"channel-wise: \"the deeper conv layers in general have smaller coefficients\" "
                   f"(Table 1 Spearman(layer, a) = "
                   f"{paper['spearman_channel']:.2f})",
             definition="channel-wise: Spearman correlation of layer index vs mean a over all rectifiers < 0"),
    ]
    return dict(config=cfg, layers=names, variants=per_variant, paper=paper, claims=claims,
                claim_held=bool(conv1_high and deeper_smaller))


def _mean_trajectory(trajectories) -> dict:
    """The seed-mean trajectory: {"steps": [...], "a": [[a per layer] per recorded step]}."""
    n = min(len(t) for t in trajectories)
    mean = np.mean([[a for _, a in t[:n]] for t in trajectories], axis=0)
    return dict(steps=[s for s, _ in trajectories[0][:n]], a=np.round(mean, 5).tolist())


def _condition(eq, variants) -> str:
    return "; ".join(f"{'shared' if v == 'prelu_shared' else 'channel-wise'}: equilibrium "
                     f"{'reached' if eq[v]['reached'] else 'not reached'} (max drift {eq[v]['max_drift']:.3f} "
                     f"over the last {round(WINDOW * eq[v]['steps'])} of {eq[v]['steps']} steps)" for v in variants)


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
    a1.axhline(0.25, color="gray", ls=":", lw=0.8, label="initial a = 0.25")
    p = result["paper"]
    xp = np.arange(len(p["layers"]))
    a2.plot(xp, p["shared"], color="tab:orange", marker="o", ms=4, label="channel-shared")
    a2.plot(xp, p["channel"], color="tab:green", marker="o", ms=4, label="channel-wise (mean)")
    a2.set_xticks(xp, p["layers"], rotation=60, fontsize=8)
    a2.set(title="the paper's Table 1 (ImageNet, 14 layers)")
    a2.axhline(0.25, color="gray", ls=":", lw=0.8, label="a = 0.25 (the paper's initial value)")
    for ax in (a1, a2):
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "slopes.png", dpi=100)
    plt.close(fig)
    _plot_trajectories(result, out_dir, plt)
    return ["slopes.png", "slopes_trajectory.png"]


def _plot_trajectories(result, out_dir, plt) -> None:
    """slopes_trajectory.png: every layer's mean a (mean over seeds) against the step, for
    channel-shared and channel-wise PReLU; the shaded part is the equilibrium window."""
    names = result["layers"]
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.95, len(names)))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, variant, label in zip(axes, VARIANTS, ("channel-shared", "channel-wise (layer mean)")):
        v = result["variants"][variant]
        t, eq = v["trajectory"], v["equilibrium"]
        a = np.asarray(t["a"])
        for i, name in enumerate(names):
            ax.plot(t["steps"], a[:, i], color=colors[i], lw=1.2 if i == 0 else 0.8, label=name)
        ax.axvspan((1 - WINDOW) * eq["steps"], eq["steps"], color="gray", alpha=0.12,
                   label=f"last {WINDOW:.0%}: drift {eq['max_drift']:.3f}")
        ax.axhline(0.25, color="gray", ls=":", lw=0.8, label="initial a = 0.25")
        ax.set(title=f"{label}: equilibrium {'reached' if eq['reached'] else 'not reached'}",
               xlabel="step", ylabel="PReLU coefficient a")
    axes[1].legend(fontsize=6, ncol=2, loc="best")
    fig.tight_layout()
    fig.savefig(out_dir / "slopes_trajectory.png", dpi=100)
    plt.close(fig)


def render(r) -> list:
    """The section's part of report.md (markdown lines)."""
    p = r["paper"]
    lines = [
        "**Paper (Table 1, 14-layer ImageNet model; Sec. 2.1):** conv1 \"has coefficients (0.681 and "
        "0.596) significantly greater than 0\"; channel-wise, \"the deeper conv layers in general "
        "have smaller coefficients\" "
        f"(Spearman(layer, a) over the 13 rectifiers = {p['spearman_channel']:.2f}; channel-shared "
        f"{p['spearman_shared']:.2f}).", "",
        f"**Here:** {r['config']['width']}-channel net with Table 1's layer names and count, our shapes "
        f"(3×3 convs, no SPP) (seeds {r['config']['seeds']}, "
        f"{r['config']['epochs']} epochs, lr {r['config']['lr']}, no weight decay on a), mean over seeds.",
        "Equilibrium (max drift of a layer's mean a over the last 20% of the steps; reached below 0.01): "
        + _condition({v: r["variants"][v]["equilibrium"] for v in VARIANTS}, VARIANTS) + ".", "",
        "| layer | paper shared | paper channel-wise | ours shared | ours channel-wise |", "|---|---|---|---|---|",
    ]
    sh, ch = r["variants"]["prelu_shared"], r["variants"]["prelu_channel"]
    for i, name in enumerate(r["layers"]):
        j = p["layers"].index(name) if name in p["layers"] else None
        lines.append(f"| {name} | {fmt(p['shared'][j]) if j is not None else '—'} | "
                     f"{fmt(p['channel'][j]) if j is not None else '—'} | {fmt(sh['mean_slopes'][i])} ± "
                     f"{fmt(sh['std_slopes'][i])} | {fmt(ch['mean_slopes'][i])} ± {fmt(ch['std_slopes'][i])} |")
    lines += ["",
              f"conv1 vs mean of deeper layers: paper shared {p['first_shared']:.3f} vs "
              f"{p['deeper_mean_shared']:.3f}, channel-wise {p['first_channel']:.3f} vs "
              f"{p['deeper_mean_channel']:.3f}; ours shared {sh['first']:.3f} vs {sh['deeper_mean']:.3f}, "
              f"channel-wise {ch['first']:.3f} vs {ch['deeper_mean']:.3f}.",
              f"Spearman(layer, a): ours shared {fmt(sh['spearman'], 2)}, channel-wise {fmt(ch['spearman'], 2)}. "
              f"Largest |a| learned: {max(sh['max_abs_a'], ch['max_abs_a']):.3f} (the paper: |a| rarely exceeds 1).",
              f"How far the layer means moved from their initial 0.25: at most {sh['max_change']:.3f} "
              f"(shared), {ch['max_change']:.3f} (channel-wise).",
              ""]
    return lines + verdict(r)
