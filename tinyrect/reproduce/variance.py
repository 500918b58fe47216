"""The variance section of `tinyrect reproduce`: an adapter over `tinyrect.variance.measure`
(per-layer forward and backward variance of 30-layer plain nets under He fan_in, He fan_out,
Xavier and the 0.01 Gaussian, measured over many weight draws vs Eq. 9/13).

The measurement and its checks live in tinyrect.variance.measure; here we turn its checks into the report's
claims: one claim per (init, direction), "the measured log2 of the mean variance ratio agrees with
the prediction" (our padding-aware one, the paper's formula corrected for zero padding at the
borders of 8×8 maps), plus the paper's headline: He keeps the variance (|log2 ratio| < 5
over the depth) while Xavier and the 0.01 Gaussian make it vanish (log2 ratio below half of Xavier's predicted
2^-(L-2), i.e. < -14 for 30 layers).
"""
from __future__ import annotations

import numpy as np

from tinyrect.reproduce.report import verdict

TITLE = "Variance through depth (Sec. 2.2, Eq. 9 and 13)"


def _module():
    from tinyrect.variance import measure as variance

    return variance


def run(cfg: dict, data, on_step=None, log=print) -> dict:
    variance = _module()
    cfg = dict(cfg)
    cfg.pop("seeds", None)        # the number of weight draws is `draws`, not --seeds
    result = variance.run(cfg, data=data, on_step=on_step, log=log)
    claims = []
    for c in result.get("checks", []):
        claims.append(dict(
            name=f"{c['scheme']}_{c['direction']}", claim_held=bool(c["ok"]),
            paper=f"Eq. ({9 if c['direction'] == 'forward' else 13}) predicts the {c['direction']} "
                  f"variance ratio over depth",
            definition=c["message"] + " (held: prediction inside the 95% CI ± 0.5)"))
    by = {(r["scheme"], d): r[d]["log2_mean_ratio"] for r in result["runs"] for d in ("forward", "backward")
          if r.get(d)}
    he = [v for (s, d), v in by.items() if s.startswith("he")]
    vanish = [v for (s, d), v in by.items() if s in ("xavier", "gaussian")]
    limit = -(result["config"]["depth"] - 2) / 2      # half of Xavier's predicted log2 shrink, 2^-(L-2)
    headline = bool(he and vanish and all(abs(v) < 5 for v in he) and all(v < limit for v in vanish))
    claims.insert(0, dict(
        name="he_keeps_xavier_vanishes", claim_held=headline,
        paper="He (Eq. 10 or 14) keeps the signal through 30 layers; Xavier shrinks it by 2^-29, std 0.01 by far more",
        definition=f"every He run has |log2 variance ratio| < 5 (forward and backward) and every Xavier / "
                   f"0.01 Gaussian run has log2 ratio < -(L-2)/2 = {limit:.0f}"))
    result["claims"] = claims
    result["claim_held"] = all(c["claim_held"] for c in claims)
    result["summary_lines"] = _summary_lines(result)
    return result


def _summary_lines(result: dict) -> list:
    cfg = result["config"]
    lines = [f"**Here:** {cfg['depth']}-layer plain conv nets (3×3, {cfg['padding_mode']} padding, no bias), "
             f"widths {cfg['widths']}, {cfg['draws']} weight draws per init, a batch of {cfg['batch']} "
             "inputs; log2 of the mean variance ratio over draws with a bootstrap 95% interval.", "",
             "| init | width | direction | measured log2 ratio | 95% CI | padding-aware prediction | paper's Eq. 9/13 |",
             "|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        for d in ("forward", "backward"):
            s = r.get(d)
            if s:
                lines.append(f"| {r['label']} | {r['width']} | {d} | {s['log2_mean_ratio']:.2f} | "
                             f"[{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}] | {s['padded']:.2f} | {s['paper']:.2f} |")
    return lines


def plot(result: dict, out_dir, plt) -> list:
    from tinyrect.variance.plots import plot_overview

    fig = plot_overview(result)       # all inits on top; He on its own axis below
    fig.savefig(out_dir / "variance.png", dpi=100)
    plt.close(fig)
    return ["variance.png"]


def planned_steps(cfg: dict) -> int:
    return len(cfg.get("schemes", ("he_fan_in", "xavier", "gaussian"))) * int(np.size(cfg.get("widths", [1]))) \
        * int(cfg.get("draws", 16))


def render(r) -> list:
    """The section's part of report.md (markdown lines)."""
    lines = ["**Paper:** with rectifiers, Var[y_L] = Var[y_1] · Π ½ n_l Var[w_l] (Eq. 9): He's "
             "½ n_l Var[w_l] = 1 (Eq. 10) keeps the signal's scale through 30 layers; Xavier's "
             "n_l Var[w_l] = 1 halves it at every layer (2^-29 over 30 layers); a fixed std 0.01 "
             "makes it vanish. The backward pass behaves the same way (Eq. 13/14).", ""]
    lines += r.get("summary_lines", [])
    lines += [""] + verdict(r)
    return lines
