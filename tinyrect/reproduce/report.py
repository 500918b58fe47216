"""report.md's frame: the header, a claim table at the top, then one part per section (its TITLE,
the lines its `render(result)` returns, its figures, its wall time). Each section's own text
lives in its module; `fmt` and `verdict` are the helpers they share."""
from __future__ import annotations

import math


def fmt(value, digits: int = 3) -> str:
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


def status(claim) -> str:
    """'held', 'not held', or 'not reached' (the claim's phenomenon needs a state the runs did not
    reach, e.g. PReLU coefficients at equilibrium: neither held nor not held)."""
    if claim.get("reached") is False:
        return "not reached"
    return "held" if claim["claim_held"] else "not held"


def render(results: dict, figures: dict, sections: dict, partial: bool = False) -> str:
    """The whole report.md; `sections` is the registry {name: module with TITLE and render}."""
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
        f"Command: `{cfg['command']}`. Total wall time {fmt(secs.get('total'), 1)} s.", "",
        "## Claims", "", "| section | claim | the paper | test (defined in code) | convergence / equilibrium | here |",
        "|---|---|---|---|---|---|",
    ]
    for section in sections:
        if section not in results:
            continue
        r = results[section]
        if "error" in r:
            lines.append(f"| {section} | — | — | section failed: {r['error']} | — | not available |")
            continue
        for c in r.get("claims", []):
            cells = [section, c["name"], c["paper"], c["definition"], c.get("condition", "—")]
            lines.append("| " + " | ".join(_cell(x) for x in cells) + f" | **{status(c)}** |")
    lines += ["", "Wall time per section (s): " + ", ".join(
        f"{k} {fmt(secs[k], 1)}" for k in sections if k in secs) + f"; total {fmt(secs.get('total'), 1)}.", ""]
    for section, module in sections.items():
        if section not in results:
            continue
        lines += [f"## {module.TITLE}", ""]
        r = results[section]
        if "error" in r:
            lines += [f"Not available: {r['error']}", ""]
            continue
        lines += module.render(r)
        lines += [f"![{name}]({name})" for name in figures.get(section, [])] + [""]
        lines += [f"_Wall time: {fmt(secs.get(section), 1)} s._", ""]
    return "\n".join(lines) + "\n"


def verdict(r) -> list:
    """The section's one-line verdict, then each claim's: 'not held' if any claim is not held;
    otherwise 'not reached' when no claim could be judged, 'held where reached' when some could
    not, 'held' when every claim held (a claim not reached is neither held nor not held)."""
    claims = r.get("claims", [])
    states = [status(c) for c in claims]
    if "not held" in states or (not claims and not r["claim_held"]):
        overall = "not held"
    elif "not reached" in states:
        overall = "held where reached" if "held" in states else "not reached"
    else:
        overall = "held"
    text = "; ".join(f"{c['name']} {s}" for c, s in zip(claims, states))
    return [f"**Verdict: {overall}** ({text}).", ""]
