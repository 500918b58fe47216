"""Figures 2 and 3 at small scale: deep plain ReLU nets, Xavier vs He, training-loss curves.

The paper (Figs. 2 and 3, ReLU): "a 22-layer large model" (model B) converges with both inits,
He's "starts reducing error earlier"; "a 30-layer small model" (27 conv + 3 fc), a different
architecture, converges with He and "completely stalls" with Xavier. Here (ours): one family,
`models.plain_net(depth)` on the configured data set, He = N(0, 2/n_l) (Eq. 10) vs
Xavier = N(0, 1/n_l), the same optimizer, learning rate, batch order and seeds for both.

Per run we record the training loss of every step and derive (K = number of classes, ln K =
the loss of a uniform guess):
  start   = first step whose loss is below 0.9·ln K  (None if it never is)
  final   = mean loss of the last 20 steps
  converged  <=> not diverged and final < 0.5·ln K
  stalled    <=> diverged, or start is None, or final >= 0.9·ln K
Claims (a "majority" is more than half of the seeds):
  fig2 (at the paper's 22 layers): He converged in a majority of seeds AND Xavier converged in a
        majority AND He's median start < Xavier's median start (a seed that never starts counts
        as +infinity).
  fig3 (at 30 layers): He converged in a majority AND Xavier stalled in a majority.
  sweep_fig2 / sweep_fig3: the same two tests at ANY depth of the sweep (the small-scale
        analogue: at 8×8 inputs Xavier already stalls at much smaller depths than on ImageNet).
The section's `claim_held` is fig2 AND fig3 (the paper's depths).
"""
from __future__ import annotations

import math

import numpy as np

from tinyrect.reproduce.fit import first_below, fit, steps_per_epoch, tail_mean
from tinyrect.reproduce.models import plain_net
from tinyrect.reproduce.pool import run_jobs

PAPER = {
    "fig2": "22-layer large model (B), ReLU: He and Xavier both converge; He starts reducing the error "
            "earlier.",
    "fig3": "30-layer small model (27 conv + 3 fc), ReLU: He converges; Xavier completely stalls (gradients "
            "diminishing).",
}


def planned_steps(cfg: dict, data) -> int:
    n = min(len(data.y_train), cfg.get("max_train") or len(data.y_train))
    return (len(cfg["depths"]) * len(cfg["inits"]) * len(cfg["seeds"]) * cfg["epochs"]
            * steps_per_epoch(n, cfg["batch_size"]))


def classify(losses, diverged_at, num_classes: int) -> dict:
    ln_k = math.log(num_classes)
    start = first_below(losses, 0.9 * ln_k)
    final = tail_mean(losses)
    diverged = diverged_at is not None
    converged = (not diverged) and math.isfinite(final) and final < 0.5 * ln_k
    stalled = diverged or start is None or not math.isfinite(final) or final >= 0.9 * ln_k
    return dict(start=start, final=final, converged=bool(converged), stalled=bool(stalled),
                diverged=diverged)


def _median_start(runs) -> float:
    return float(np.median([r["start"] if r["start"] is not None else math.inf for r in runs]))


def _majority(runs, key) -> bool:
    return sum(bool(r[key]) for r in runs) * 2 > len(runs)


def depth_summary(runs: list, depth: int) -> dict:
    """Per-init counts and medians at one depth, plus the Fig. 2 and Fig. 3 tests there."""
    by = {init: [r for r in runs if r["depth"] == depth and r["init"] == init] for init in ("he", "xavier")}
    out = {}
    for init, rs in by.items():
        out[init] = dict(
            seeds=len(rs), converged=sum(r["converged"] for r in rs), stalled=sum(r["stalled"] for r in rs),
            diverged=sum(r["diverged"] for r in rs), median_start=_median_start(rs) if rs else None,
            median_final=float(np.median([r["final"] for r in rs])) if rs else None,
            mean_test_error=float(np.mean([r["test_error"] for r in rs])) if rs else None,
        )
    ok = bool(by["he"]) and bool(by["xavier"])
    out["fig2_pattern"] = bool(ok and _majority(by["he"], "converged") and _majority(by["xavier"], "converged")
                               and _median_start(by["he"]) < _median_start(by["xavier"]))
    out["fig3_pattern"] = bool(ok and _majority(by["he"], "converged") and _majority(by["xavier"], "stalled"))
    return out


def train_plain(cfg: dict, data, depth: int, init: str, seed: int, on_step=None) -> dict:
    """One run: `plain_net(depth)` with `init` and `seed`, trained by cfg; its numbers."""
    k = data.num_classes
    net = plain_net(depth, cfg["width"], data.input_shape, k, "relu", init, seed=seed)
    result = fit(net, data, epochs=cfg["epochs"], lr=cfg["lr"], momentum=cfg["momentum"],
                 weight_decay=cfg["weight_decay"], batch_size=cfg["batch_size"], seed=seed,
                 on_step=on_step, max_train=cfg.get("max_train"))
    info = classify(result["losses"], result["diverged_at"], k)
    return dict(depth=depth, init=init, seed=seed, **info, test_error=result["test_error"],
                diverged_at=result["diverged_at"], seconds=result["seconds"], losses=result["losses"])


def run(cfg: dict, data, on_step=None, log=print) -> dict:
    """Train every (depth, init, seed) of `cfg` and test the claims. Returns the section's dict."""
    k = data.num_classes
    # deepest first: with several workers the long runs start early and the short ones fill in
    grid = [(d, i, s) for d in sorted(cfg["depths"], reverse=True) for s in cfg["seeds"] for i in cfg["inits"]]
    jobs = [(train_plain, dict(cfg=cfg, data=data, depth=d, init=i, seed=s)) for d, i, s in grid]

    def done(_i, r):
        log(f"  depth {r['depth']:2d} {r['init']:6s} seed {r['seed']}: final loss {r['final']:.3f}, "
            f"start {r['start']}, test error {r['test_error']:.3f} ({r['seconds']:.1f} s)")

    runs = run_jobs(jobs, cfg.get("workers", 1), on_step, done)
    runs.sort(key=lambda r: (r["depth"], r["seed"], r["init"]))
    per_depth = {str(d): depth_summary(runs, d) for d in cfg["depths"]}
    claims = []
    for name, depth_key, pattern in (("fig2", "fig2_depth", "fig2_pattern"),
                                     ("fig3", "fig3_depth", "fig3_pattern")):
        d = cfg[depth_key]
        held = bool(per_depth.get(str(d), {}).get(pattern, False))
        claims.append(dict(name=name, paper=PAPER[name], depth=d, claim_held=held,
                           definition=_DEFINITIONS[name].format(d=d)))
    for name, pattern in (("sweep_fig2", "fig2_pattern"), ("sweep_fig3", "fig3_pattern")):
        where = [int(d) for d, s in per_depth.items() if s[pattern]]
        claims.append(dict(name=name, paper=PAPER[name[6:]], depths=where, claim_held=bool(where),
                           definition=_DEFINITIONS[name]))
    held = all(c["claim_held"] for c in claims if c["name"] in ("fig2", "fig3"))
    return dict(config=cfg, ln_classes=math.log(k), runs=runs, per_depth=per_depth, claims=claims,
                claim_held=held)


_DEFINITIONS = {
    "fig2": ("at {d} layers: He converged (final loss < 0.5 ln K) in a majority of seeds, Xavier too, "
             "and He's median first step with loss < 0.9 ln K is earlier than Xavier's"),
    "fig3": "at {d} layers: He converged in a majority of seeds and Xavier stalled in a majority",
    "sweep_fig2": "the fig2 test holds at some depth of the sweep",
    "sweep_fig3": "the fig3 test holds at some depth of the sweep",
}


def plot(result: dict, out_dir, plt) -> list:
    """depth_curves.png (loss vs step per depth, He red / Xavier blue as in the paper) and
    depth_sweep.png (final loss and start step vs depth). Returns the file names."""
    runs, depths = result["runs"], result["config"]["depths"]
    ln_k = result["ln_classes"]
    cols = min(len(depths), 3)
    rows = -(-len(depths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, depth in zip(axes.flat, depths):
        for r in (r for r in runs if r["depth"] == depth):
            color = "tab:red" if r["init"] == "he" else "tab:blue"
            ax.plot(r["losses"], color=color, lw=0.8, alpha=0.7,
                    label=f"{'He' if r['init'] == 'he' else 'Xavier'}" if r["seed"] == runs[0]["seed"] else None)
        ax.axhline(0.9 * ln_k, color="gray", ls=":", lw=0.8)
        ax.set_title(f"{depth} layers")
        ax.set_xlabel("iteration")
        ax.set_ylabel("training loss")
        ax.set_ylim(0, max(2.6, ln_k * 1.15))
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(depths):]:
        ax.axis("off")
    fig.suptitle("Plain ReLU nets: He (red) vs Xavier (blue); dotted: 0.9·ln K")
    fig.tight_layout()
    fig.savefig(out_dir / "depth_curves.png", dpi=100)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    steps = max((len(r["losses"]) for r in runs), default=1)
    for init, color, label in (("he", "tab:red", "He"), ("xavier", "tab:blue", "Xavier")):
        rs = [r for r in runs if r["init"] == init]
        a1.scatter([r["depth"] for r in rs], [r["final"] for r in rs], color=color, s=14, alpha=0.6)
        a1.plot(depths, [result["per_depth"][str(d)][init]["median_final"] for d in depths], color=color, label=label)
        a2.scatter([r["depth"] for r in rs], [r["start"] if r["start"] is not None else steps for r in rs],
                   color=color, s=14, alpha=0.6, label=label)
    a1.axhline(0.5 * ln_k, color="gray", ls=":", lw=0.8)
    a1.set(xlabel="depth (weight layers)", ylabel="final training loss", title="final loss (median line)")
    a2.axhline(steps, color="gray", ls=":", lw=0.8)
    a2.set(xlabel="depth (weight layers)", ylabel="first step with loss < 0.9 ln K",
           title="start (dotted: never)")
    a1.legend(fontsize=8)
    a2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "depth_sweep.png", dpi=100)
    plt.close(fig)
    return ["depth_curves.png", "depth_sweep.png"]
