"""Input scale: standardized inputs (ours) vs the paper's mean-subtracted raw pixels (std ~60).

Sec. 2.2 ("non-normalized input"): with He's init the input variance is preserved to the last
layer, so raw inputs in [-128, 128] can overflow the softmax; the derivation itself says nothing
about what the input's scale does to a net whose signal shrinks. Xavier's N(0, 1/n_l) halves the
variance at every ReLU layer (2^-21 over a 22-layer net, before zero padding), so a 60x larger
input (2^11.8 in variance) gives it much more signal to lose. Here the 22-layer plain net of the
depth section is trained with both inits on the standardized digits (scale 1) and on the same
digits multiplied by 60, at the depth section's learning rates, and the probes
(`tinyrect.variance.probes.record`, one batch of 64 training digits, cross-entropy backward) show
where the signal sits at init: the log2 variance of every layer's response y_l, the std of the
logits, and the log2 variance of the gradient reaching the first layer.

Claim (ours, a question the paper leaves open): "scale_helps_xavier": at some learning rate
Xavier's median start (first step with loss < 0.9 ln K; never = +infinity) is earlier with std-60
inputs than with standardized ones. It is "not reached" when a run it reads ended while its loss
was still falling. Everything else is reported as measured.
"""
from __future__ import annotations

import math

import numpy as np

from tinyrect.reproduce import depth as depth_section
from tinyrect.reproduce.models import plain_net
from tinyrect.reproduce.recipe import planned_steps as _steps
from tinyrect.reproduce.report import fmt, verdict

TITLE = "Input scale: standardized vs raw-pixel-sized inputs (Sec. 2.2, non-normalized input)"


def _grid(cfg: dict) -> list:
    return [(scale, cfg["depth"], i, s, lr) for scale in cfg["scales"] for lr in cfg["lrs"]
            for s in cfg["seeds"] for i in cfg["inits"]]


def planned_steps(cfg: dict) -> int:
    """All runs; the standardized ones the depth section already trained are reused (the bar
    then finishes early)."""
    return _steps(cfg, len(_grid(cfg)) - cfg.get("reused_runs", 0))


def _scale_cfg(cfg: dict, scale: float) -> dict:
    return dict(cfg, input_scale=None if scale == 1 else scale)


def probe(cfg: dict, data, init: str, scale: float, seed: int = 0) -> dict:
    """Where the signal sits at init: log2 Var[y_l] per layer, logits std, log2 Var[Δx_1]."""
    from tinyrect.variance import probes

    net = plain_net(cfg["depth"], cfg["width"], data.input_shape, data.num_classes, "relu", init, seed=seed)
    x = np.ascontiguousarray(data.x_train[:64] * np.float32(scale))
    rec = probes.record(net.model, x, loss="cross_entropy", labels=data.y_train[:64])
    var_y = rec.array("var_y")
    return dict(init=init, scale=scale, log2_var_y=[round(float(v), 3) for v in np.log2(var_y)],
                logits_std=float(np.sqrt(var_y[-1])), log2_var_dx1=float(np.log2(rec.array("var_dx")[0])))


def run(cfg: dict, data, on_step=None, log=print) -> dict:
    runs = []
    for scale in cfg["scales"]:
        grid = [(d, i, s, lr) for sc, d, i, s, lr in _grid(cfg) if sc == scale]
        for r in depth_section.run_grid(_scale_cfg(cfg, scale), data, grid, on_step, log):
            runs.append(dict(r, scale=scale))
    probes_ = [probe(cfg, data, init, scale) for init in cfg["inits"] for scale in cfg["scales"]]
    table = {}
    for lr in cfg["lrs"]:
        for init in cfg["inits"]:
            for scale in cfg["scales"]:
                rs = [r for r in runs if r["lr"] == lr and r["init"] == init and r["scale"] == scale]
                starts = [r["start"] if r["start"] is not None else math.inf for r in rs]
                table[f"{lr:g}/{init}/{scale:g}"] = dict(
                    lr=lr, init=init, scale=scale, outcomes=[r["outcome"] for r in rs],
                    median_start=float(np.median(starts)), median_final=float(np.median([r["final"] for r in rs])),
                    mean_test_error=float(np.mean([r["test_error"] for r in rs])))
    lo, hi = min(cfg["scales"]), max(cfg["scales"])
    earlier = [lr for lr in cfg["lrs"] if "xavier" in cfg["inits"]
               and table[f"{lr:g}/xavier/{hi:g}"]["median_start"] < table[f"{lr:g}/xavier/{lo:g}"]["median_start"]]
    falling = [r for r in runs if r["init"] == "xavier" and r["falling"]]
    claim = dict(name="scale_helps_xavier", claim_held=bool(earlier), reached=bool(earlier) or not falling,
                 paper="(not measured in the paper; Sec. 2.2 notes only that raw inputs can overflow the softmax)",
                 definition=f"at some lr, Xavier's median start at {cfg['depth']} layers is earlier with inputs "
                            f"× {hi:g} than × {lo:g}",
                 condition=(f"{len(falling)} Xavier run(s) still falling at the end" if falling
                            else "every Xavier run ended (converged, stalled, never started or diverged)"),
                 lrs=earlier)
    return dict(config=cfg, runs=runs, probes=probes_, table=table, claims=[claim], claim_held=bool(earlier),
                ln_classes=math.log(data.num_classes))


def plot(result: dict, out_dir, plt) -> list:
    """input_scale.png: left, log2 Var[y_l] per layer at init (He red / Xavier blue; solid: std-60
    inputs, dashed: standardized); right, test error vs epoch per (init, scale) at each lr."""
    cfg = result["config"]
    lrs = cfg["lrs"]
    fig, axes = plt.subplots(1, 1 + len(lrs), figsize=(4.6 * (1 + len(lrs)), 3.8), squeeze=False)
    axes = axes[0]
    hi = max(cfg["scales"])
    for p in result["probes"]:
        axes[0].plot(np.arange(1, len(p["log2_var_y"]) + 1), p["log2_var_y"], color=depth_section.COLORS[p["init"]],
                     ls="-" if p["scale"] == hi else "--", marker=".",
                     label=f"{depth_section.NAMES[p['init']]}, inputs × {p['scale']:g}")
    axes[0].axhline(0, color="gray", lw=0.6)
    axes[0].set(xlabel="layer l", ylabel="log2 Var[y_l] at init", title="where the signal sits (one batch)")
    axes[0].legend(fontsize=7)
    for ax, lr in zip(axes[1:], lrs):
        for init in cfg["inits"]:
            for scale in cfg["scales"]:
                rows = [r["test_errors"] for r in result["runs"]
                        if r["lr"] == lr and r["init"] == init and r["scale"] == scale]
                n = min(len(r) for r in rows) if rows else 0
                if n:
                    a = 100 * np.asarray([r[:n] for r in rows])
                    ax.plot(np.arange(1, n + 1), a.mean(axis=0), color=depth_section.COLORS[init],
                            ls="-" if scale == hi else "--",
                            label=f"{depth_section.NAMES[init]}, × {scale:g} (mean of {len(rows)})")
        ax.set(xlabel="epoch", ylabel="test error (%)", ylim=(0, 100),
               title=f"{cfg['depth']} layers, lr {lr:g} (diverged runs end early)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "input_scale.png", dpi=100)
    plt.close(fig)
    return ["input_scale.png"]


def render(r) -> list:
    cfg = r["config"]
    lines = [
        "**Paper:** trains on mean-subtracted raw pixels (std ~60) and notes (Sec. 2.2) that since He's "
        "init preserves the input variance, raw inputs can overflow the softmax. It does not say what the "
        "input scale does for Xavier, whose signal halves at every layer.", "",
        f"**Here:** the {cfg['depth']}-layer plain net of the depth section (width {cfg['width']}), inputs "
        f"× {cfg['scales']} (1 = standardized), lr {cfg['lrs']}, seeds {cfg['seeds']}, {cfg['epochs']} epochs, "
        "otherwise the same recipe. Standardized runs are the depth section's own when it ran them.", "",
        "| lr | init | inputs × | outcomes | median start | median final loss | mean test error |",
        "|---|---|---|---|---|---|---|"]
    for t in r["table"].values():
        outcomes = ", ".join(f"{t['outcomes'].count(o)} {o}" for o in dict.fromkeys(t["outcomes"]))
        lines.append(f"| {t['lr']:g} | {t['init']} | {t['scale']:g} | {outcomes} | {fmt(t['median_start'], 0)} | "
                     f"{fmt(t['median_final'])} | {fmt(t['mean_test_error'])} |")
    lines += ["", "At init (probes, one batch of 64 digits): log2 Var[y_l] at layers 1 / 11 / last, logits std, "
              "log2 Var of the gradient at the first layer's input:", ""]
    for p in r["probes"]:
        v = p["log2_var_y"]
        lines.append(f"- {p['init']}, inputs × {p['scale']:g}: {v[0]:.1f} / {v[len(v) // 2]:.1f} / {v[-1]:.1f}; "
                     f"logits std {p['logits_std']:.3g}; log2 Var[Δx_1] {p['log2_var_dx1']:.1f}")
    return lines + [""] + verdict(r)
