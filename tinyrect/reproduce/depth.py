"""Figures 2 and 3 at small scale: deep plain ReLU nets, Xavier vs He, trained long enough.

The paper (Figs. 2 and 3, ReLU, lr 0.01, Sec. 3): "a 22-layer large model" (model B) converges
with both inits, He's "starts reducing error earlier"; "a 30-layer small model" (27 conv + 3 fc),
a different architecture, converges with He and "completely stalls" with Xavier. Here (ours): one
family, `models.plain_net(depth)` on the configured data set, He = N(0, 2/n_l) (Eq. 10) vs
Xavier = N(0, 1/n_l), the same optimizer, learning rate, batch order, augmentation and seeds for
both; the main runs at cfg["lr"] (the paper's 0.01), and an lr sweep (cfg["lrs"], first
cfg["sweep_seeds"] seeds) at every depth: which init trains at which depth and rate. The
training images are shifted by ±1 pixel (cfg["shift"]); cfg["control"] (optional) repeats some
depths without augmentation at the main lr, so the report shows what the augmentation changes.

Per run (K = number of classes, ln K = the loss of a uniform guess; losses are per step):
  start      first step whose loss is below 0.9·ln K (None: never started)
  final      mean loss of the last 20 steps
  falling    the mean loss of the last 10% of the steps is below that of the 10% before by more
             than 0.05·ln K: the run ended while still improving
  converged  not diverged and final < 0.5·ln K;  converged_at = first step whose 20-step mean
             is below 0.5·ln K
  outcome    the first that applies: "diverged", "not enough steps" (falling), "never started",
             "converged", "stalled"
Claims (a "majority" is more than half of the seeds), on the main runs:
  fig2 (22 layers): He converged in a majority AND Xavier converged in a majority AND He's median
        start < Xavier's (a seed that never starts counts as +infinity).
  fig3 (30 layers): He converged in a majority AND Xavier stalled (never started, diverged, or
        final >= 0.9 ln K) in a majority.
  sweep_fig2 / sweep_fig3: the same tests at ANY depth of the sweep, at the main lr.
A claim is "not reached" when a run it reads ended with "not enough steps" (neither held nor not).
"""
from __future__ import annotations

import json
import math

import numpy as np

from tinyrect.reproduce.models import plain_net
from tinyrect.reproduce.pool import run_cached
from tinyrect.reproduce.recipe import planned_steps as _steps
from tinyrect.reproduce.recipe import train_run
from tinyrect.reproduce.report import fmt, verdict
from tinyrect.train import first_below, tail_mean

TITLE = "Deep plain nets, Xavier vs He (Figures 2 and 3)"
PAPER = {
    "fig2": "22-layer large model (B), ReLU: He and Xavier both converge; He starts reducing the error "
            "earlier.",
    "fig3": "30-layer small model (27 conv + 3 fc), ReLU: He converges; Xavier completely stalls (gradients "
            "diminishing).",
}
_KEYS = ("width", "epochs", "momentum", "weight_decay", "batch_size", "max_train", "shift")


def grid(cfg: dict) -> list:
    """[(depth, init, seed, lr)]: the main runs at cfg["lr"], then the lr sweep's other rates."""
    main = [(d, i, s, cfg["lr"]) for d in cfg["depths"] for s in cfg["seeds"] for i in cfg["inits"]]
    sweep_seeds = cfg["seeds"][:cfg.get("sweep_seeds", 1)]
    sweep = [(d, i, s, lr) for lr in cfg.get("lrs", [cfg["lr"]]) if lr != cfg["lr"]
             for d in cfg["depths"] for s in sweep_seeds for i in cfg["inits"]]
    return main + sweep


def control_grid(cfg: dict) -> list:
    """[(depth, init, seed, lr)] of the no-augmentation control (empty without cfg["control"])."""
    c = cfg.get("control") or {}
    return [(d, i, s, cfg["lr"]) for d in c.get("depths", []) for s in cfg["seeds"][:c.get("seeds", 1)]
            for i in cfg["inits"]]


def planned_steps(cfg: dict) -> int:
    return _steps(cfg, len(grid(cfg)) + len(control_grid(cfg)))


def classify(losses, diverged_at, num_classes: int) -> dict:
    """start, final, falling, converged(_at), stalled and the outcome label of one run (above)."""
    ln_k = math.log(num_classes)
    start = first_below(losses, 0.9 * ln_k)
    final = tail_mean(losses)
    diverged = diverged_at is not None
    tenth = max(len(losses) // 10, 1)
    falling = (not diverged and len(losses) >= 2 * tenth and
               np.mean(losses[-tenth:]) < np.mean(losses[-2 * tenth:-tenth]) - 0.05 * ln_k)
    converged = (not diverged) and math.isfinite(final) and final < 0.5 * ln_k
    smooth = np.convolve(losses, np.ones(20) / 20, mode="valid") if len(losses) >= 20 else np.array([])
    below = np.flatnonzero(smooth < 0.5 * ln_k)
    stalled = diverged or start is None or not math.isfinite(final) or final >= 0.9 * ln_k
    outcome = ("diverged" if diverged else "not enough steps" if falling else
               "never started" if start is None else "converged" if converged else "stalled")
    return dict(start=start, final=final, falling=bool(falling), converged=bool(converged),
                converged_at=int(below[0]) + 20 if converged and below.size else None,
                stalled=bool(stalled), diverged=diverged, outcome=outcome)


def _median_start(runs) -> float:
    return float(np.median([r["start"] if r["start"] is not None else math.inf for r in runs]))


def _majority(runs, key) -> bool:
    return sum(bool(r[key]) for r in runs) * 2 > len(runs)


def depth_summary(runs: list, depth: int, lr: float) -> dict:
    """Per-init counts and medians at one depth and lr, plus the Fig. 2 and Fig. 3 tests there."""
    by = {init: [r for r in runs if r["depth"] == depth and r["init"] == init and r["lr"] == lr]
          for init in ("he", "xavier")}
    out = {}
    for init, rs in by.items():
        out[init] = dict(
            seeds=len(rs), converged=sum(r["converged"] for r in rs), stalled=sum(r["stalled"] for r in rs),
            diverged=sum(r["diverged"] for r in rs), not_enough_steps=sum(r["falling"] for r in rs),
            outcomes=[r["outcome"] for r in rs], median_start=_median_start(rs) if rs else None,
            median_final=float(np.median([r["final"] for r in rs])) if rs else None,
            mean_test_error=float(np.mean([r["test_error"] for r in rs])) if rs else None,
        )
    ok = bool(by["he"]) and bool(by["xavier"])
    out["fig2_pattern"] = bool(ok and _majority(by["he"], "converged") and _majority(by["xavier"], "converged")
                               and _median_start(by["he"]) < _median_start(by["xavier"]))
    out["fig3_pattern"] = bool(ok and _majority(by["he"], "converged") and _majority(by["xavier"], "stalled"))
    out["reached"] = not any(r["outcome"] == "not enough steps" for rs in by.values() for r in rs)
    return out


def train_plain(cfg: dict, data, depth: int, init: str, seed: int, lr: float, on_step=None) -> dict:
    """One run: `plain_net(depth)` with `init` and `seed`, trained by cfg at `lr`; its numbers."""
    k = data.num_classes
    net = plain_net(depth, cfg["width"], data.input_shape, k, "relu", init, seed=seed)
    result = train_run(net, data, cfg, seed, lr=lr, input_scale=cfg.get("input_scale"), on_step=on_step)
    return dict(depth=depth, init=init, seed=seed, **classify(result["losses"], result["diverged_at"], k),
                **result)


def run_grid(cfg: dict, data, runs, on_step=None, log=print) -> list:
    """Train `runs` [(depth, init, seed, lr)] (cached: another section asking for the same run
    reuses it); the deepest first, so with several workers the short runs fill in at the end."""
    runs = sorted(runs, key=lambda g: -g[0])
    jobs = [(train_plain, dict(cfg=cfg, data=data, depth=d, init=i, seed=s, lr=lr)) for d, i, s, lr in runs]
    keys = [json.dumps(["plain", data.name, d, i, s, lr, cfg.get("input_scale")] + [cfg.get(k) for k in _KEYS])
            for d, i, s, lr in runs]

    def done(_i, r):
        log(f"  depth {r['depth']:2d} {r['init']:6s} lr {r['lr']:g} seed {r['seed']}: {r['outcome']}, "
            f"final loss {r['final']:.3f}, start {r['start']}, test error {r['test_error']:.3f} "
            f"({r['seconds']:.1f} s)")

    out = run_cached(jobs, keys, cfg.get("workers", 1), on_step, done)
    return sorted(out, key=lambda r: (r["lr"], r["depth"], r["seed"], r["init"]))


def run(cfg: dict, data, on_step=None, log=print) -> dict:
    """Train every run of `grid(cfg)` and test the claims. Returns the section's dict."""
    runs = run_grid(cfg, data, grid(cfg), on_step, log)
    lrs = sorted({r["lr"] for r in runs}, reverse=True)
    sweep = {f"{lr:g}": {str(d): depth_summary(runs, d, lr) for d in cfg["depths"]} for lr in lrs}
    per_depth = sweep[f"{cfg['lr']:g}"]
    claims = []
    for name, depth_key, pattern in (("fig2", "fig2_depth", "fig2_pattern"), ("fig3", "fig3_depth", "fig3_pattern")):
        d = cfg[depth_key]
        s = per_depth.get(str(d), {})
        claims.append(dict(name=name, paper=PAPER[name], depth=d, claim_held=bool(s.get(pattern, False)),
                           reached=bool(s.get("reached", True)), condition=_condition(s),
                           definition=_DEFINITIONS[name].format(d=d)))
    for name, pattern in (("sweep_fig2", "fig2_pattern"), ("sweep_fig3", "fig3_pattern")):
        where = [int(d) for d, s in per_depth.items() if s[pattern]]
        unreached = [int(d) for d, s in per_depth.items() if not s["reached"]]
        claims.append(dict(name=name, paper=PAPER[name[6:]], depths=where, claim_held=bool(where),
                           reached=bool(where) or not unreached,
                           condition=f"not enough steps at depth {unreached}" if unreached else "every run ended",
                           definition=_DEFINITIONS[name]))
    held = all(c["claim_held"] for c in claims if c["name"] in ("fig2", "fig3"))
    control = None
    if control_grid(cfg):
        plain = dict(cfg, shift=0)
        c_runs = run_grid(plain, data, control_grid(cfg), on_step, log)
        control = dict(shift=0, runs=c_runs, per_depth={
            str(d): depth_summary(c_runs, d, cfg["lr"]) for d in cfg["control"]["depths"]})
    return dict(config=cfg, ln_classes=math.log(data.num_classes), runs=runs, per_depth=per_depth,
                sweep=sweep, claims=claims, claim_held=held, control=control)


def _condition(s: dict) -> str:
    if not s:
        return "—"
    return "; ".join(f"{'He' if i == 'he' else 'Xavier'}: " + ", ".join(
        f"{s[i]['outcomes'].count(o)} {o}" for o in dict.fromkeys(s[i]["outcomes"])) for i in ("he", "xavier"))


_DEFINITIONS = {
    "fig2": ("at {d} layers, lr as the paper: He converged (final loss < 0.5 ln K) in a majority of seeds, "
             "Xavier too, and He's median first step with loss < 0.9 ln K is earlier than Xavier's"),
    "fig3": "at {d} layers, lr as the paper: He converged in a majority of seeds and Xavier stalled in a majority",
    "sweep_fig2": "the fig2 test holds at some depth of the sweep (main lr)",
    "sweep_fig3": "the fig3 test holds at some depth of the sweep (main lr)",
}

COLORS = {"he": "tab:red", "xavier": "tab:blue"}
NAMES = {"he": "He", "xavier": "Xavier"}


def _band(ax, rows, color, label, style="-"):
    """Mean over seeds (line) and min..max (band) of equal-length rows (shorter ones: diverged)."""
    n = min(len(r) for r in rows)
    if n == 0:
        return
    a = 100 * np.asarray([r[:n] for r in rows], dtype=float)
    x = np.arange(1, n + 1)
    ax.plot(x, a.mean(axis=0), style, color=color, lw=1.4, label=label)
    if len(rows) > 1:
        ax.fill_between(x, a.min(axis=0), a.max(axis=0), color=color, alpha=0.2, lw=0)


def plot(result: dict, out_dir, plt) -> list:
    """depth_error.png (the paper's Figs. 2/3: test error vs epochs, He red / Xavier blue, mean and
    min-max band over seeds, at the fig2 and fig3 depths and the main lr), depth_curves.png
    (training loss per step, every depth) and depth_sweep.png (final loss and start vs depth)."""
    cfg, runs, ln_k = result["config"], result["runs"], result["ln_classes"]
    main = [r for r in runs if r["lr"] == cfg["lr"]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, d, n in zip(axes, (cfg["fig2_depth"], cfg["fig3_depth"]), (2, 3)):
        for init in cfg["inits"]:
            rs = [r for r in main if r["depth"] == d and r["init"] == init]
            if rs:
                _band(ax, [r["test_errors"] for r in rs], COLORS[init], f"{NAMES[init]} test error")
                _band(ax, [r["train_errors"] for r in rs], COLORS[init], f"{NAMES[init]} train error", ":")
            rs = [r for r in (result.get("control") or {}).get("runs", []) if r["depth"] == d and r["init"] == init]
            if rs:
                _band(ax, [r["test_errors"] for r in rs], COLORS[init], f"{NAMES[init]} test, no augmentation", "-.")
        ax.set(title=f"{d} layers, lr {cfg['lr']:g} (cf. the paper's Fig. {n})", xlabel="epoch",
               ylabel="error (%)", ylim=(0, 100))
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "depth_error.png", dpi=100)
    plt.close(fig)

    depths = cfg["depths"]
    cols = min(len(depths), 3)
    rows = -(-len(depths) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, depth in zip(axes.flat, depths):
        for init in cfg["inits"]:
            for k, r in enumerate(r for r in main if r["depth"] == depth and r["init"] == init):
                ax.plot(r["losses"], color=COLORS[init], lw=0.6, alpha=0.7, label=NAMES[init] if k == 0 else None)
        ax.axhline(0.9 * ln_k, color="gray", ls=":", lw=0.8, label="0.9 ln K (start)")
        ax.axhline(0.5 * ln_k, color="gray", ls="--", lw=0.8, label="0.5 ln K (converged)")
        ax.set(title=f"{depth} layers, lr {cfg['lr']:g}", xlabel="iteration", ylabel="training loss",
               ylim=(0, max(2.6, ln_k * 1.15)))
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(depths):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out_dir / "depth_curves.png", dpi=100)
    plt.close(fig)
    _plot_sweep(result, out_dir, plt)
    return ["depth_error.png", "depth_curves.png", "depth_sweep.png"]


def _plot_sweep(result, out_dir, plt) -> None:
    """Final loss and start step vs depth, one column per lr; runs that never started or diverged
    are drawn as their own markers above the axis, not as points on a "never" line."""
    cfg, ln_k = result["config"], result["ln_classes"]
    lrs = sorted({r["lr"] for r in result["runs"]}, reverse=True)
    fig, axes = plt.subplots(2, len(lrs), figsize=(4.2 * len(lrs), 6.4), squeeze=False)
    steps = max((r["steps"] for r in result["runs"]), default=1)
    for col, lr in enumerate(lrs):
        a1, a2 = axes[0, col], axes[1, col]
        for j, init in enumerate(cfg["inits"]):
            rs = [r for r in result["runs"] if r["lr"] == lr and r["init"] == init]
            dx = (j - 0.5) * 0.4
            ok = [r for r in rs if not r["diverged"]]
            a1.scatter([r["depth"] + dx for r in ok], [r["final"] for r in ok], color=COLORS[init], s=14,
                       label=NAMES[init])
            started = [r for r in rs if r["start"] is not None and not r["diverged"]]
            a2.scatter([r["depth"] + dx for r in started], [r["start"] for r in started], color=COLORS[init],
                       s=14, label=f"{NAMES[init]}: first step < 0.9 ln K")
            never = [r for r in rs if r["start"] is None and not r["diverged"]]
            a2.scatter([r["depth"] + dx for r in never], [1.05 * steps] * len(never), marker="^",
                       facecolors="none", edgecolors=COLORS[init], s=30, label=f"{NAMES[init]}: never started")
            div = [r for r in rs if r["diverged"]]
            for ax, y in ((a1, 1.1 * ln_k), (a2, 1.12 * steps)):
                ax.scatter([r["depth"] + dx for r in div], [y] * len(div), marker="x", color=COLORS[init], s=30,
                           label=f"{NAMES[init]}: diverged" if ax is a2 or not col else None)
        a1.axhline(0.5 * ln_k, color="gray", ls="--", lw=0.8, label="0.5 ln K: converged below")
        a1.axhline(ln_k, color="gray", ls=":", lw=0.8, label="ln K: a uniform guess")
        a1.set(title=f"lr {lr:g}: final training loss", xlabel="depth (weight layers)", ylim=(0, 1.2 * ln_k))
        a2.axhline(steps, color="gray", ls=":", lw=0.8, label=f"end of training ({steps} steps)")
        a2.set(title=f"lr {lr:g}: start", xlabel="depth (weight layers)", ylabel="step", ylim=(0, 1.18 * steps))
        for ax in (a1, a2):
            ax.set_xticks(cfg["depths"])
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out_dir / "depth_sweep.png", dpi=100)
    plt.close(fig)


def render(r) -> list:
    """The section's part of report.md (markdown lines)."""
    cfg = r["config"]
    lines = [
        "**Paper:** Fig. 2 (\"a 22-layer large model\", model B): both inits converge, He \"starts "
        "reducing error earlier\". Fig. 3 (\"a 30-layer small model\", 27 conv + 3 fc, a different "
        "architecture): He converges, Xavier \"completely stalls\". Both at lr 0.01 (Sec. 3). Ours: one "
        "plain-net family at every depth.", "",
        f"**Here:** plain nets of depth {cfg['depths']} (weight layers: depth-1 conv 3×3, width "
        f"{cfg['width']}, + flatten + fc), {cfg['epochs']} epochs of {cfg['n_train']} images "
        f"({r['runs'][0]['augmentation'] if r['runs'] else '—'}), SGD momentum {cfg['momentum']}, weight "
        f"decay {cfg['weight_decay']} (not on biases), batch {cfg['batch_size']}; main lr {cfg['lr']:g} with "
        f"seeds {cfg['seeds']}, lr sweep {cfg.get('lrs', [cfg['lr']])} with seeds "
        f"{cfg['seeds'][:cfg.get('sweep_seeds', 1)]}. ln K = {r['ln_classes']:.3f}; start = first step "
        "with loss < 0.9 ln K; final = mean loss of the last 20 steps; converged = final < 0.5 ln K; "
        "not enough steps = the loss still fell by > 0.05 ln K over the last 10% of the run.", "",
        "| lr | depth | init | outcomes over seeds | median start | median final loss | mean test error |",
        "|---|---|---|---|---|---|---|",
    ]
    for lr, per_depth in r["sweep"].items():
        for d in cfg["depths"]:
            s = per_depth[str(d)]
            for init in ("he", "xavier"):
                x = s[init]
                outcomes = ", ".join(f"{x['outcomes'].count(o)} {o}" for o in dict.fromkeys(x["outcomes"]))
                lines.append(f"| {lr} | {d} | {init} | {outcomes} | {fmt(x['median_start'], 0)} | "
                             f"{fmt(x['median_final'])} | {fmt(x['mean_test_error'])} |")
    control = r.get("control")
    if control:
        lines += ["", f"Control, the same runs without augmentation (lr {cfg['lr']:g}): the shifts make the "
                  "task harder, and they are part of the recipe above, not tuned to any verdict.", "",
                  "| depth | init | outcomes | median start | median final loss | mean test error |",
                  "|---|---|---|---|---|---|"]
        for d, s in control["per_depth"].items():
            for init in ("he", "xavier"):
                x = s[init]
                outcomes = ", ".join(f"{x['outcomes'].count(o)} {o}" for o in dict.fromkeys(x["outcomes"]))
                lines.append(f"| {d} | {init} | {outcomes} | {fmt(x['median_start'], 0)} | "
                             f"{fmt(x['median_final'])} | {fmt(x['mean_test_error'])} |")
    lines += ["", "Per run (outcome; start step; converged at step; final loss; test error):", ""]
    for run in r["runs"] + (control["runs"] if control else []):
        lines.append(f"- lr {run['lr']:g}, depth {run['depth']}, {run['init']}, seed {run['seed']}"
                     + ("" if run["augmentation"] != "none" else ", no augmentation") + f": {run['outcome']}"
                     + (f" at step {run['diverged_at']}" if run["diverged"] else "")
                     + f"; start {run['start'] if run['start'] is not None else 'never'}; converged at "
                     f"{fmt(run['converged_at'])}; final {fmt(run['final'])}; test error {fmt(run['test_error'])}")
    return lines + [""] + verdict(r)
