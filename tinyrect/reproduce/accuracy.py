"""Table 2 at small scale: test error of ReLU vs PReLU (channel-shared, channel-wise).

The same `models.slopes_net` layout (14 weight layers) with ReLU, channel-shared PReLU and
channel-wise PReLU, trained with the same optimizer, data order and seeds; He init (Eq. 10 for
ReLU, Eq. 15 with a = 0.25 for PReLU). We report the test error's mean ± std over seeds.

Claims:
  prelu_better:  both PReLU variants have a lower mean test error than ReLU (the paper: 33.82%
                 → 32.71% shared, 32.64% channel-wise, top-1, one run each).
  beyond_spread: for both variants, ReLU's mean error minus the PReLU mean error is larger than
                 the seed spread, taken as the larger of the two standard deviations (otherwise
                 the difference is within the noise of this many seeds).
The section's `claim_held` is both.
"""
from __future__ import annotations

import numpy as np

from tinyrect.reproduce.recipe import planned_steps as _steps
from tinyrect.reproduce.report import verdict
from tinyrect.reproduce.table_runs import RUN_KEYS, table_runs

TITLE = "ReLU vs PReLU test error (Table 2)"

PAPER = {"relu": (33.82, 13.34), "prelu_shared": (32.71, 12.87), "prelu_channel": (32.64, 12.75)}
VARIANTS = ("relu", "prelu_shared", "prelu_channel")
LABELS = {"relu": "ReLU", "prelu_shared": "PReLU channel-shared", "prelu_channel": "PReLU channel-wise"}


def planned_steps(cfg: dict) -> int:
    """cfg["shared_with_slopes"]: the slopes section trains the PReLU nets (only ReLU is left)."""
    return _steps(cfg, (1 if cfg.get("shared_with_slopes") else len(VARIANTS)) * len(cfg["seeds"]))


def run(cfg: dict, data, on_step=None, log=print) -> dict:
    per_variant = {}
    runs = table_runs(cfg, data, VARIANTS, on_step, log)
    for variant in VARIANTS:
        errors = [runs[variant, seed]["test_error"] for seed in cfg["seeds"]]
        e = np.asarray(errors, dtype=float)
        per_variant[variant] = dict(test_errors=[float(v) for v in e], mean=float(np.mean(e)),
                                    std=float(np.std(e, ddof=1)) if len(e) > 1 else 0.0,
                                    per_epoch=[runs[variant, s]["test_errors"] for s in cfg["seeds"]],
                                    train_per_epoch=[runs[variant, s]["train_errors"] for s in cfg["seeds"]],
                                    runs=[dict(seed=s, **{k: runs[variant, s][k] for k in RUN_KEYS})
                                          for s in cfg["seeds"]])
    relu = per_variant["relu"]
    gains = {v: relu["mean"] - per_variant[v]["mean"] for v in VARIANTS[1:]}
    spreads = {v: max(relu["std"], per_variant[v]["std"]) for v in VARIANTS[1:]}
    prelu_better = all(g > 0 for g in gains.values())
    beyond = all(gains[v] > spreads[v] for v in gains)
    claims = [
        dict(name="prelu_better", claim_held=bool(prelu_better),
             paper="PReLU lowers top-1 error: 33.82% ReLU → 32.71% shared, 32.64% channel-wise",
             definition="both PReLU variants have a lower mean test error (over seeds) than ReLU"),
        dict(name="beyond_spread", claim_held=bool(beyond),
             paper="(one run per model; the paper reports no spread)",
             definition="for both variants, ReLU mean error − PReLU mean error > max(std ReLU, std PReLU)"),
    ]
    return dict(config=cfg, variants=per_variant, gains=gains, spreads=spreads, paper=PAPER,
                claims=claims, claim_held=bool(prelu_better and beyond))


def plot(result: dict, out_dir, plt) -> list:
    """accuracy.png: test error per seed and mean ± std per activation (Table 2 with error bars),
    and test / train error against the epoch (mean over seeds, min..max band)."""
    fig, (ax, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
    for variant, color in zip(VARIANTS, ("black", "tab:orange", "tab:green")):
        for key, style in (("per_epoch", "-"), ("train_per_epoch", ":")):
            rows = result["variants"][variant][key]
            n = min(len(r) for r in rows)
            if n == 0:
                continue
            a = 100 * np.asarray([r[:n] for r in rows])
            x = np.arange(1, n + 1)
            a2.plot(x, a.mean(axis=0), style, color=color,
                    label=f"{LABELS[variant]} {'test' if key == 'per_epoch' else 'train'}")
            if len(rows) > 1 and key == "per_epoch":
                a2.fill_between(x, a.min(axis=0), a.max(axis=0), color=color, alpha=0.15, lw=0)
    a2.set(xlabel="epoch", ylabel="error (%)", title="error vs epoch (mean, band: min..max over seeds)",
           ylim=(0, 30))
    a2.legend(fontsize=7)
    for i, variant in enumerate(VARIANTS):
        v = result["variants"][variant]
        errs = 100 * np.asarray(v["test_errors"])
        ax.scatter(np.full(len(errs), i) + np.linspace(-0.08, 0.08, len(errs)), errs, s=16,
                   color="gray", zorder=3)
        ax.errorbar(i + 0.2, 100 * v["mean"], yerr=100 * v["std"], fmt="o", color="black", capsize=4)
    ax.set_xticks(range(len(VARIANTS)), [LABELS[v] for v in VARIANTS], fontsize=8)
    ax.set(ylabel="test error (%)", title="ReLU vs PReLU: seeds (gray), mean ± std (black)")
    fig.tight_layout()
    fig.savefig(out_dir / "accuracy.png", dpi=100)
    plt.close(fig)
    return ["accuracy.png"]


def render(r) -> list:
    """The section's part of report.md (markdown lines)."""
    lines = ["**Paper (Table 2, ImageNet val, 10-view, one run each):** top-1 / top-5 error % "
             "ReLU 33.82 / 13.34, PReLU channel-shared 32.71 / 12.87, channel-wise 32.64 / 12.75.", "",
             f"**Here:** the Table 1 net with each activation, seeds {r['config']['seeds']}, test error %.", "",
             "| activation | paper top-1 | ours mean ± std | per seed |", "|---|---|---|---|"]
    for variant, label in LABELS.items():
        v = r["variants"][variant]
        lines.append(f"| {label} | {r['paper'][variant][0]:.2f} | {100 * v['mean']:.2f} ± {100 * v['std']:.2f} | "
                     + ", ".join(f"{100 * e:.2f}" for e in v["test_errors"]) + " |")
    lines += ["", "Gain over ReLU (points): " + ", ".join(
        f"{LABELS[k]} {100 * g:+.2f} (spread {100 * r['spreads'][k]:.2f})" for k, g in r["gains"].items()), ""]
    return lines + verdict(r)
