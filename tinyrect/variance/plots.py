"""Figures of the many-draw variance measurement (tinyrect.variance.measure): variance vs depth,
measured and predicted, for lessons 05-07 and `tinyrect reproduce`.

The y axis is the one the tables use: forward log2 Var[y_l]/Var[y_2] (layer 2 is the reference,
as in the checks, because layer 1 sees the 1-channel input: its n_1 = 9 differs from the other
layers' 9c), backward log2 Var[Δx_l]/Var[Δx_L]. The value at l = L (forward) or l = 2
(backward) is the number in the tables.
"""
from __future__ import annotations

import numpy as np

from tinyrect.formatting import number
from tinyrect.variance.stats import log2_mean

MARKERS = {"he_fan_in": "o", "he_fan_out": "^", "xavier": "s", "gaussian": "D", "he_relu": "v"}
EQ = {"forward": "Eq. (9)", "backward": "Eq. (13)"}


def width_label(width) -> str:
    """'32' for a constant width, '32×15+64×15' for per-layer widths."""
    if np.ndim(width) == 0:
        return str(width)
    parts, prev, count = [], None, 0
    for w in list(width) + [None]:
        if w == prev:
            count += 1
            continue
        if prev is not None:
            parts.append(f"{prev}×{count}")
        prev, count = w, 1
    return "+".join(parts)


def _curves(run: dict, direction: str, first: int):
    """(measured log2 per draw and layer, padding-aware, paper), relative to the tables' reference."""
    v = np.array(run["log2_var_y" if direction == "forward" else "log2_var_dx"], dtype=float)
    pp = np.array(run["predicted"]["padded_" + direction], dtype=float)
    pf = np.array(run["predicted"]["paper_" + direction], dtype=float)
    ref = first - 1 if direction == "forward" else -1
    if v.size:
        v = v - v[:, ref:ref + 1 if ref != -1 else None]
    return v, pp - pp[ref], pf - pf[ref]


def plot_runs(result: dict, path=None, direction: str = "forward", ax=None, title: str = "",
              residual: bool = False, schemes=None, nested: bool = False, legend_loc: str = "best"):
    """log2 variance vs depth: each draw (thin), the log2 of the mean over draws (markers, one
    shape per init, side by side where runs coincide), the padding-aware (solid) and the paper's
    (dashed) predictions. residual=True subtracts the paper's prediction from everything (the
    paper is then the zero line and the padding term stands out); `schemes` draws only those
    inits; nested=True draws the earlier runs' predictions wider, so predictions that coincide
    (He fan_in and fan_out at constant width) show as one line inside the other. Returns the
    figure; saves it if `path` is given."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = (plt.subplots(figsize=(6.5, 4.2)) if ax is None else (ax.figure, ax))
    first = result["config"].get("first", 2)
    runs = [(i, r) for i, r in enumerate(result["runs"])
            if (schemes is None or r["scheme"] in schemes)
            and len(r["log2_var_y" if direction == "forward" else "log2_var_dx"])]
    for k, (i, run) in enumerate(runs):
        v, pp, pf = _curves(run, direction, first)
        if residual:
            v, pp, pf = v - pf, pp - pf, pf - pf
        depth = np.arange(1, v.shape[1] + 1)
        color = f"C{i % 10}"
        shift = (k - (len(runs) - 1) / 2) * 0.18          # coinciding runs side by side
        ax.plot(depth, v.T, color=color, lw=0.5, alpha=0.2)
        ax.plot(depth + shift, [log2_mean(col) for col in v.T], MARKERS.get(run["scheme"], "o"),
                color=color, ms=3.5, label=f"{run['label']}, width {width_label(run['width'])}")
        wide = 2.5 * (len(runs) - 1 - k) if nested else 0.0
        ax.plot(depth, pp, "-", color=color, lw=1.5 + wide)
        ax.plot(depth, pf, "--", color=color, lw=1 + wide)
    ref = f"Var[y_{first}]" if direction == "forward" else "Var[Δx_L]"
    ylab = f"log2 Var[y_l] / {ref}" if direction == "forward" else f"log2 Var[Δx_l] / {ref}"
    ax.set(xlabel="layer l", ylabel=ylab + (" minus the paper's" if residual else ""),
           title=title or f"{direction}: measured vs predicted")
    ax.title.set_fontsize(9)
    ax.grid(alpha=0.3)
    key = [Line2D([], [], color="0.4", lw=0.5, alpha=0.6, label="one weight draw"),
           Line2D([], [], color="0.4", marker="o", ls="none", ms=3.5, label="log2 of the mean over draws"),
           Line2D([], [], color="0.4", lw=1.5, label="padding-aware prediction"),
           Line2D([], [], color="0.4", lw=1, ls="--", label=f"the paper's {EQ[direction]}")]
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + key, fontsize=7, ncol=2 if len(handles) > 3 else 1, loc=legend_loc)
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def plot_overview(result: dict):
    """The reproduction's variance figure: every init over the whole range (top), and the He
    inits on their own axis (bottom), where the padding term of about -3.4 in log2 on 8×8 maps,
    invisible next to the 0.01 Gaussian's -150, is the point. Returns the figure."""
    import matplotlib.pyplot as plt

    first = result["config"].get("first", 2)
    directions = [d for d in ("forward", "backward") if any(r.get(d) for r in result["runs"])]
    he = [s for s in ("he_fan_in", "he_fan_out", "he_relu") if any(r["scheme"] == s for r in result["runs"])]
    rows = 2 if he else 1
    fig, axes = plt.subplots(rows, len(directions), figsize=(6.2 * len(directions), 4.3 * rows),
                             squeeze=False)
    for col, direction in enumerate(directions):
        plot_runs(result, direction=direction, ax=axes[0, col],
                  title=f"{direction}: every init (the whole range)")
        if not he:
            continue
        ax = axes[1, col]
        up = direction == "forward"      # forward falls to the right, backward rises: free corners
        plot_runs(result, direction=direction, ax=ax, schemes=he, nested=True,
                  legend_loc="lower left" if up else "upper left",
                  title=f"{direction}, He only: the padding term the paper's formula leaves out")
        notes, values = [], []
        for run in result["runs"]:
            s = run.get(direction)
            if run["scheme"] in he and s:
                notes.append(f"{run['label']}: measured {number(s['log2_mean_ratio'])} "
                             f"[95% CI {number(s['ci95'][0])}, {number(s['ci95'][1])}], padding-aware "
                             f"{number(s['padded'])}, paper {number(s['paper'])}")
                v, pp, pf = _curves(run, direction, first)
                values += [log2_mean(col) for col in v.T[1:]] + list(pp[1:]) + list(pf[1:])
        # the tables' layers 2..L; single draws beyond the means' range are cut off
        ax.set(xlim=(1.5, result["config"]["depth"] + 0.5),
               ylim=(min(values) - 1.5, max(values) + 1.5))
        ax.text(0.98, 0.97 if up else 0.03, "log2 ratio in the tables:\n" + "\n".join(notes),
                transform=ax.transAxes, fontsize=7, ha="right", va="top" if up else "bottom",
                bbox=dict(facecolor="white", alpha=0.85, edgecolor="0.8"))
    fig.tight_layout()
    return fig
