"""report.md: a claim table at the top, then one section per experiment with the paper's
figure/table summary beside ours, a one-line verdict and the figure."""
from __future__ import annotations

import math

TITLES = {
    "variance": "Variance through depth (Sec. 2.2, Eq. 9 and 13)",
    "depth": "Deep plain nets, Xavier vs He (Figures 2 and 3)",
    "slopes": "Learned PReLU coefficients (Table 1)",
    "accuracy": "ReLU vs PReLU test error (Table 2)",
}


def _f(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("nan" if math.isnan(value) else "-inf")
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _cell(text) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _held(flag) -> str:
    return "**held**" if flag else "**not held**"


def render(results: dict, figures: dict, partial: bool = False) -> str:
    cfg = results["config"]
    secs = cfg.get("seconds", {})
    lines = ["# tinyrect reproduce: He et al. 2015 (\"Delving Deep into Rectifiers\") at small scale", ""]
    if partial:
        lines += ["> **PARTIAL**: this run was interrupted (Ctrl-C); only the sections below finished.", ""]
    v = cfg["versions"]
    lines += [
        f"Mode **{cfg['mode']}**, data set {cfg['data']}, seeds: depth section {cfg['seeds']['depth']}, "
        f"Tables 1/2 {cfg['seeds']['tables']}; "
        f"{cfg.get('workers', 1)} training process(es) of {cfg['threads']} thread(s) on {cfg['cpu_count']} core(s) "
        f"(load average at start {cfg['load_average']}: wall times are pessimistic on a shared machine). "
        f"tinyrect {v['tinyrect']}, numpy {v['numpy']}, numba {v['numba']}, Python {v['python']}.",
        f"Command: `{cfg['command']}`. Total wall time {_f(secs.get('total'), 1)} s.", "",
        "## Claims", "", "| section | claim | the paper | test (defined in code) | here |", "|---|---|---|---|---|",
    ]
    for section in TITLES:
        if section not in results:
            continue
        r = results[section]
        if "error" in r:
            lines.append(f"| {section} | — | — | section failed: {r['error']} | not available |")
            continue
        for c in r.get("claims", []):
            cells = [section, c["name"], c["paper"], c["definition"]]
            lines.append("| " + " | ".join(_cell(x) for x in cells) + f" | {_held(c['claim_held'])} |")
    lines += ["", "Wall time per section (s): " + ", ".join(
        f"{k} {_f(secs[k], 1)}" for k in TITLES if k in secs) + f"; total {_f(secs.get('total'), 1)}.", ""]
    for section, title in TITLES.items():
        if section not in results:
            continue
        lines += [f"## {title}", ""]
        r = results[section]
        if "error" in r:
            lines += [f"Not available: {r['error']}", ""]
            continue
        lines += globals()[f"_{section}"](r)
        lines += [f"![{name}]({name})" for name in figures.get(section, [])] + [""]
        lines += [f"_Wall time: {_f(secs.get(section), 1)} s._", ""]
    return "\n".join(lines) + "\n"


def _verdict(r) -> list:
    claims = r.get("claims", [])
    text = "; ".join(f"{c['name']} {'held' if c['claim_held'] else 'not held'}" for c in claims)
    return [f"**Verdict: {'held' if r['claim_held'] else 'not held'}** ({text}).", ""]


def _variance(r) -> list:
    lines = ["**Paper:** with rectifiers, Var[y_L] = Var[y_1] · Π ½ n_l Var[w_l] (Eq. 9): He's "
             "½ n_l Var[w_l] = 1 (Eq. 10) keeps the signal's scale through 30 layers; Xavier's "
             "n_l Var[w_l] = 1 halves it at every layer (2^-29 over 30 layers); a fixed std 0.01 "
             "makes it vanish. The backward pass behaves the same way (Eq. 13/14).", ""]
    lines += r.get("summary_lines", [])
    lines += [""] + _verdict(r)
    return lines


def _depth(r) -> list:
    cfg = r["config"]
    lines = [
        "**Paper:** Fig. 2 (\"a 22-layer large model\", model B): both inits converge, He \"starts "
        "reducing error earlier\". Fig. 3 (\"a 30-layer small model\", 27 conv + 3 fc, a different "
        "architecture): He converges, Xavier \"completely stalls\". Ours: one plain-net family at "
        "every depth.", "",
        f"**Here:** plain nets of depth {cfg['depths']} (weight layers: depth-1 conv 3×3, width "
        f"{cfg['width']}, + flatten + fc), {cfg['epochs']} epochs, SGD lr {cfg['lr']}, momentum "
        f"{cfg['momentum']}, weight decay {cfg['weight_decay']} (not on biases), batch {cfg['batch_size']}, "
        f"seeds {cfg['seeds']}. ln K = {r['ln_classes']:.3f}; start = first step with loss < 0.9 ln K; "
        "final = mean loss of the last 20 steps.", "",
        "| depth | init | converged / seeds | stalled | median start | median final loss | mean test error |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in cfg["depths"]:
        s = r["per_depth"][str(d)]
        for init in ("he", "xavier"):
            x = s[init]
            lines.append(f"| {d} | {init} | {x['converged']}/{x['seeds']} | {x['stalled']} | "
                         f"{_f(x['median_start'], 0)} | {_f(x['median_final'])} | {_f(x['mean_test_error'])} |")
    lines += ["", "Per run (final loss / start step):", ""]
    for run in r["runs"]:
        lines.append(f"- depth {run['depth']}, {run['init']}, seed {run['seed']}: {_f(run['final'])} / "
                     f"{run['start'] if run['start'] is not None else 'never'}"
                     + (f", diverged at step {run['diverged_at']}" if run["diverged"] else ""))
    lines += [""] + _verdict(r)
    return lines


def _slopes(r) -> list:
    p = r["paper"]
    lines = [
        "**Paper (Table 1, 14-layer ImageNet model; Sec. 2.1):** conv1 \"has coefficients (0.681 and "
        "0.596) significantly greater than 0\"; channel-wise, \"the deeper conv layers in general "
        "have smaller coefficients\" "
        f"(Spearman(layer, a) over the 13 rectifiers = {p['spearman_channel']:.2f}; channel-shared "
        f"{p['spearman_shared']:.2f}).", "",
        f"**Here:** {r['config']['width']}-channel net with Table 1's layer names and count, our shapes "
        f"(3×3 convs, no SPP) (seeds {r['config']['seeds']}, "
        f"{r['config']['epochs']} epochs, lr {r['config']['lr']}, no weight decay on a), mean over seeds.", "",
        "| layer | paper shared | paper channel-wise | ours shared | ours channel-wise |", "|---|---|---|---|---|",
    ]
    sh, ch = r["variants"]["prelu_shared"], r["variants"]["prelu_channel"]
    for i, name in enumerate(r["layers"]):
        j = p["layers"].index(name) if name in p["layers"] else None
        lines.append(f"| {name} | {_f(p['shared'][j]) if j is not None else '—'} | "
                     f"{_f(p['channel'][j]) if j is not None else '—'} | {_f(sh['mean_slopes'][i])} ± "
                     f"{_f(sh['std_slopes'][i])} | {_f(ch['mean_slopes'][i])} ± {_f(ch['std_slopes'][i])} |")
    lines += ["",
              f"conv1 vs mean of deeper layers: paper shared {p['first_shared']:.3f} vs "
              f"{p['deeper_mean_shared']:.3f}, channel-wise {p['first_channel']:.3f} vs "
              f"{p['deeper_mean_channel']:.3f}; ours shared {sh['first']:.3f} vs {sh['deeper_mean']:.3f}, "
              f"channel-wise {ch['first']:.3f} vs {ch['deeper_mean']:.3f}.",
              f"Spearman(layer, a): ours shared {_f(sh['spearman'], 2)}, channel-wise {_f(ch['spearman'], 2)}. "
              f"Largest |a| learned: {max(sh['max_abs_a'], ch['max_abs_a']):.3f} (the paper: |a| rarely exceeds 1).",
              f"How far the layer means moved from their initial 0.25: at most {sh.get('max_change', float('nan')):.3f} "
              f"(shared), {ch.get('max_change', float('nan')):.3f} (channel-wise): a channel-wise a gets the "
              "gradient of one channel only, so in a short run it moves far less than a shared one; a rank "
              "correlation of small moves is weak evidence.",
              ""]
    return lines + _verdict(r)


def _accuracy(r) -> list:
    from tinyrect.reproduce.accuracy import LABELS

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
    return lines + _verdict(r)
