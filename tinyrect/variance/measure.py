"""Measured vs predicted variance of deep plain nets: init schemes × widths × weight draws.

The paper's Eq. (9) and (13) are expectations over the weights. One network is one draw: its
log-variance random-walks with depth (the spread shrinks with width), so we measure many draws
and compare the log2 of the MEAN variance ratio with the prediction, with a bootstrap 95% interval
over the draws. On small maps zero padding also matters (tinyrect.variance.padding): the prediction
that applies is our padding-aware one (equal to the paper's for circular padding). It is exact for
E[y_l²] at every position; the statistic compared, a mean over draws of a ratio of variances,
equals the ratio of those expectations only approximately under zero padding.

    res = measure(schemes=("he_fan_in", "xavier", "gaussian"), widths=(32,), draws=16)
    for run in res["runs"]: print(run["scheme"], run["width"], run["forward"])
    failures = [c for c in check_claims(res) if not c["ok"]]

Everything returned is plain dicts, lists and floats (JSON-serializable). Used by lessons 05-07
and by `tinyrect reproduce`.
"""
from __future__ import annotations

import math
import time

import numpy as np

import tinyrect as tr
from tinyrect import init, nn
from tinyrect.formatting import number
from tinyrect.variance import specs as theory
from tinyrect.variance.probes import record
from tinyrect.variance.padding import padded_backward_prediction, padded_forward_prediction
from tinyrect.variance.plots import plot_runs, width_label  # noqa: F401  (public here too)
from tinyrect.variance.stats import bootstrap_ci, log2_mean  # noqa: F401  (public here too)

SCHEMES = ("he_fan_in", "he_fan_out", "xavier", "gaussian")
LABELS = {"he_fan_in": "He fan_in (Eq. 10)", "he_fan_out": "He fan_out (Eq. 14)",
          "xavier": "Xavier", "gaussian": "0.01 Gaussian", "he_relu": "He for ReLU (a ignored)"}


# ----------------------------------------------------------------------------- nets and inits
def plain_net(depth: int = 30, width=32, in_channels: int = 1, rectifier: str = "relu", a: float = 0.25,
              padding_mode: str = "zeros", dtype=np.float32):
    """`depth` 3×3 convolutions (padding 1, no bias), each followed by a rectifier.

    `width` is an int (every layer) or a list of the d_l. rectifier: 'relu', 'leaky' (fixed
    slope a) or 'prelu' (channel-shared, initial a).
    """
    widths = [int(width)] * depth if np.ndim(width) == 0 else [int(w) for w in width]
    if len(widths) != depth:
        raise ValueError(f"plain_net: {len(widths)} widths for depth {depth}")
    layers, c = [], in_channels
    for d in widths:
        layers.append(nn.Conv2d(c, d, 3, padding=1, bias=False, padding_mode=padding_mode, dtype=dtype))
        if rectifier == "relu":
            layers.append(nn.ReLU())
        elif rectifier == "leaky":
            layers.append(nn.LeakyReLU(a))
        elif rectifier == "prelu":
            layers.append(nn.PReLU(1, init=a, dtype=dtype))
        else:
            raise ValueError(f"rectifier={rectifier!r}: use 'relu', 'leaky' or 'prelu'")
        c = d
    return nn.Sequential(*layers)


def init_net(model, scheme: str, rng: np.random.Generator, a: float = 0.0, std: float = 0.01):
    """Re-initialize every conv/linear weight of `model` with a named scheme (tinyrect.init).

    'he_fan_in' kaiming_normal_(a, fan_in) (Eq. 10/15), 'he_fan_out' (Eq. 14), 'xavier'
    xavier_normal_, 'gaussian' normal_(0, std), 'he_relu' kaiming_normal_ with a = 0 whatever
    the rectifier (the PReLU-unaware choice lesson 07 measures).
    """
    for m in theory.flatten_layers(model):
        if not theory.weight_kind(m):
            continue
        if scheme in ("he_fan_in", "he_fan_out"):
            init.kaiming_normal_(m.weight, a=a, mode=scheme[3:], nonlinearity="leaky_relu", rng=rng)
        elif scheme == "he_relu":
            init.kaiming_normal_(m.weight, a=0.0, mode="fan_in", nonlinearity="relu", rng=rng)
        elif scheme == "xavier":
            init.xavier_normal_(m.weight, rng=rng)
        elif scheme == "gaussian":
            init.normal_(m.weight, 0.0, std, rng=rng)
        else:
            raise ValueError(f"unknown scheme {scheme!r}; use one of {SCHEMES + ('he_relu',)}")
    return model


def digits_batch(batch: int = 128, seed: int = 0) -> np.ndarray:
    """`batch` digits from the training split (globally standardized), N×1×8×8 float32."""
    from tinyrect.data import digits

    x = digits().x_train
    idx = np.random.default_rng(seed).choice(len(x), size=min(batch, len(x)), replace=False)
    return np.ascontiguousarray(x[np.sort(idx)])


def _summary(log2_ratios, paper: float, padded: float, n_boot: int, seed: int) -> dict:
    r = np.asarray(log2_ratios)
    return {"log2_mean_ratio": log2_mean(r), "ci95": bootstrap_ci(r, n_boot, seed),
            "sd_log2": float(r.std(ddof=1)) if len(r) > 1 else 0.0, "median_log2": float(np.median(r)),
            "paper": float(paper), "padded": float(padded), "per_draw_log2": r.tolist()}


# ----------------------------------------------------------------------------- the measurement
def measure(schemes=("he_fan_in", "xavier", "gaussian"), widths=(32,), draws: int = 16, depth: int = 30,
            batch: int = 128, padding_mode: str = "zeros", backward: bool = True, x=None, seed: int = 0,
            rectifier: str = "relu", a: float = 0.0, std: float = 0.01, dtype="auto", n_boot: int = 2000,
            first: int = 2, on_draw=None, threads: int | None = 1) -> dict:
    """Measure per-layer log2 Var[y_l] (and Var[Δx_l]) of `draws` plain nets per scheme and width.

    Returns {"config": ..., "runs": [run, ...]} with, per (scheme, width):
      log2_var_y[draw][l], log2_var_dx[draw][l]                      measured, absolute
      predicted: paper_forward/padded_forward (log2 Var[y_l]/Var[y_1]),
                 paper_backward/padded_backward (log2 Var[Δx_l]/Var[Δx_{L+1}])
      forward:  summary of log2 Var[y_L]/Var[y_first] over draws (log2 of the mean ratio, its
                bootstrap 95% interval, sd of log2 per draw, the paper's and the padding-aware
                predictions); backward: the same for Var[Δx_first]/Var[Δx_L].
    Each (scheme, width, draw) gets its own seed. dtype='auto' uses float64 only when the
    predicted variance ratio falls below 2^-190 (std below about 2^-95 relative to layer 1: the
    0.01 Gaussian on nets narrower than 32), float32 otherwise; statistics are always float64.
    `on_draw(run_index, draw)` is called after each net (for progress bars).
    threads=1 (default) runs the small GEMMs here on one thread (restored afterwards): on this
    project's loaded 2-core machine a 30-layer width-32 forward pass of 16 digits took 0.04 s of
    CPU on one thread and 0.9 s on two (spin-waiting threads); None keeps the current setting.
    """
    previous = tr.get_num_threads()
    if threads is not None:
        tr.set_num_threads(threads)
    try:
        return _measure(schemes, widths, draws, depth, batch, padding_mode, backward, x, seed, rectifier,
                        a, std, dtype, n_boot, first, on_draw)
    finally:
        if threads is not None:
            tr.set_num_threads(previous)


def _measure(schemes, widths, draws, depth, batch, padding_mode, backward, x, seed, rectifier, a, std,
             dtype, n_boot, first, on_draw) -> dict:
    x = digits_batch(batch, seed) if x is None else np.asarray(x)
    input_map = np.mean(np.asarray(x, dtype=np.float64) ** 2, axis=(0, 1))   # E[x_1²] per position
    runs, t_all = [], time.perf_counter()
    for si, scheme in enumerate(schemes):
        for wi, width in enumerate(widths):
            t0 = time.perf_counter()
            widths_l = [int(width)] * depth if np.ndim(width) == 0 else list(width)
            init_scheme = "he_fan_in" if scheme == "he_relu" else scheme
            specs = theory.plain_net_specs(depth, None, in_channels=x.shape[1], widths=widths_l,
                                           scheme=init_scheme, a=a, std=std, padding_mode=padding_mode)
            if scheme == "he_relu":      # weights sized for ReLU, but the rectifier has slope a
                relu_specs = theory.plain_net_specs(depth, None, x.shape[1], widths=widths_l, a=0.0)
                for s, r in zip(specs, relu_specs):
                    s.var_w = r.var_w
            paper = theory.predict_specs(specs)
            pad_f = padded_forward_prediction(specs, input_map=input_map)
            pad_b = padded_backward_prediction(specs, input_size=input_map.shape)
            lowest = min(paper.log2_forward + paper.log2_backward)
            dt = (np.float64 if lowest < -190 else np.float32) if dtype == "auto" else np.dtype(dtype).type
            xb = x.astype(dt)
            var_y, var_dx = [], []
            for draw in range(draws):
                ss = np.random.SeedSequence([seed, si, wi, draw, 7])
                rng_w, rng_g = (np.random.default_rng(s) for s in ss.spawn(2))
                model = plain_net(depth, widths_l, x.shape[1], rectifier, a, padding_mode, dtype=dt)
                init_net(model, scheme, rng_w, a=a, std=std)
                res = record(model, xb, seed=int(rng_g.integers(2 ** 31)), backward=backward)
                var_y.append(res.log2("var_y").tolist())
                var_dx.append(res.log2("var_dx").tolist() if backward else [])
                if on_draw is not None:
                    on_draw(len(runs), draw)
            L = depth
            vy = np.array(var_y)
            label = LABELS.get(scheme, scheme)
            if scheme == "he_fan_in" and rectifier != "relu" and a != 0:
                label = f"He, Eq. (15) a={a}"
            run = {"scheme": scheme, "label": label, "width": width if np.ndim(width) == 0 else list(width),
                   "padding_mode": padding_mode, "dtype": np.dtype(dt).name, "log2_var_y": var_y, "log2_var_dx": var_dx,
                   "predicted": {"paper_forward": paper.log2_forward, "padded_forward": pad_f,
                                 "paper_backward": paper.log2_backward, "padded_backward": pad_b}}
            run["forward"] = _summary(vy[:, L - 1] - vy[:, first - 1],
                                      paper.forward_ratio_log2(first, L), pad_f[L - 1] - pad_f[first - 1],
                                      n_boot, seed)
            if backward:
                vb = np.array(var_dx)
                run["backward"] = _summary(vb[:, first - 1] - vb[:, L - 1],
                                           paper.log2_backward[first - 1] - paper.log2_backward[L - 1],
                                           pad_b[first - 1] - pad_b[L - 1], n_boot, seed)
            run["seconds"] = round(time.perf_counter() - t0, 2)
            runs.append(run)
    config = dict(schemes=list(schemes), widths=[w if np.ndim(w) == 0 else list(w) for w in widths],
                  draws=draws, depth=depth, batch=int(x.shape[0]), padding_mode=padding_mode,
                  backward=backward, seed=seed, rectifier=rectifier, a=a, std=std, first=first,
                  input_map=input_map.tolist(), seconds=round(time.perf_counter() - t_all, 2))
    return {"config": config, "runs": runs}


def check_claims(result: dict, margin: float = 0.5, min_width: int = 32) -> list:
    """The check, per run of width >= min_width: log2 of the mean ratio agrees with the
    applicable (padding-aware) prediction within its bootstrap 95% interval widened by ±margin.

    Returns [{"ok", "message", "criterion", ...}]: `message` says what was measured and predicted,
    `criterion` the tolerance. It also reports whether the paper's unmodified formula falls
    outside that widened interval (`paper_misses`; the point of zero-padded runs on small maps).
    """
    checks = []
    L, first = result["config"]["depth"], result["config"].get("first", 2)
    for run in result["runs"]:
        width = run["width"] if np.ndim(run["width"]) == 0 else min(run["width"])
        if width < min_width:
            continue
        for direction in ("forward", "backward"):
            s = run.get(direction)
            if s is None:
                continue
            lo, hi = s["ci95"][0] - margin, s["ci95"][1] + margin
            ok = lo <= s["padded"] <= hi
            paper_misses = not (lo <= s["paper"] <= hi)
            what = (f"Var[y_{L}]/Var[y_{first}]" if direction == "forward"
                    else f"Var[Δx_{first}]/Var[Δx_{L}]")
            eq = "Eq. (9)" if direction == "forward" else "Eq. (13)"
            if run["padding_mode"] == "zeros":
                predicted = f"padding-aware prediction {number(s['padded'])} (the paper's {eq}: {number(s['paper'])})"
            else:
                predicted = f"{eq} predicts {number(s['paper'])}"
            checks.append({
                "ok": bool(ok), "scheme": run["scheme"], "width": run["width"], "direction": direction,
                "padding_mode": run["padding_mode"], "paper_misses": bool(paper_misses), "margin": margin,
                "criterion": f"the prediction is inside the 95% CI widened by ±{margin:g}",
                "message": (f"{run['label']}, width {width_label(run['width'])}, {run['padding_mode']} padding, "
                            f"{direction} log2 {what}: measured {number(s['log2_mean_ratio'])} "
                            f"[95% CI {number(s['ci95'][0])}, {number(s['ci95'][1])}], {predicted}")})
    return checks


def summary_table(result: dict) -> str:
    """One line per run and direction: measured log2 mean ratio, CI, sd, predictions."""
    rows = [f"{'init':<22} {'width':>5} {'pad':<8} {'dir':<8} {'measured':>9} {'95% CI':>17} "
            f"{'sd/draw':>7} {'padded':>8} {'paper':>8}"]
    for run in result["runs"]:
        for direction in ("forward", "backward"):
            s = run.get(direction)
            if s:
                rows.append(f"{run['label']:<22} {width_label(run['width']):>5} {run['padding_mode']:<8} {direction:<8} "
                            f"{number(s['log2_mean_ratio'], '>9.2f')} [{number(s['ci95'][0], '>7.2f')},"
                            f"{number(s['ci95'][1], '>7.2f')}] {s['sd_log2']:>7.2f} "
                            f"{number(s['padded'], '>8.2f')} {number(s['paper'], '>8.2f')}")
    return "\n".join(rows)


def layer_table(result: dict, direction: str = "forward", layers=(1, 2, 5, 10, 15, 20, 25, 30)) -> str:
    """Per layer l, for each run: the measured log2 of the mean over draws of Var[y_l]/Var[y_1]
    (forward; backward: Var[Δx_l]/Var[Δx_L]) next to the padding-aware and the paper's predictions."""
    key, pred = ("log2_var_y", "forward") if direction == "forward" else ("log2_var_dx", "backward")
    runs = [r for r in result["runs"] if r.get(key) and len(r[key][0])]
    head = f"{'layer':>5}" + "".join(f" | {r['label'][:22]:>22} {'padded':>7} {'paper':>7}" for r in runs)
    rows = [f"log2 {'Var[y_l]/Var[y_1]' if direction == 'forward' else 'Var[Δx_l]/Var[Δx_L]'}, "
            "measured (log2 of the mean over draws) | padding-aware | paper", head]
    for l in layers:
        line = f"{l:>5}"
        for r in runs:
            v = np.array(r[key])
            if l > v.shape[1]:
                continue
            ref = 0 if direction == "forward" else v.shape[1] - 1
            rel = v[:, l - 1] - v[:, ref]
            measured = log2_mean(rel)
            padded = np.array(r["predicted"]["padded_" + pred])
            paper = np.array(r["predicted"]["paper_" + pred])
            line += (f" | {number(measured, '>22.2f')} {number(padded[l - 1] - padded[ref], '>7.2f')} "
                     f"{number(paper[l - 1] - paper[ref], '>7.2f')}")
        rows.append(line)
    return "\n".join(rows)


def run(config: dict | None = None, data=None, on_step=None, log=print) -> dict:
    """Entry point for `tinyrect reproduce`: config keys are measure()'s arguments, plus `width`
    for a single width and `seeds` (its first entry seeds the draws). Defaults: 64 draws (at width
    32 the forward check needs about that many to be reliable, see tests/test_variance_claims.py),
    all four schemes. The spread across draws comes from the weights, not the batch: a batch of
    16-32 images is enough and keeps 64 draws × 4 schemes × forward+backward fast.
    Returns the measure() dict with "checks" added (check_claims)."""
    cfg = dict(config or {})
    seeds = cfg.pop("seeds", None)
    if seeds:                       # the weight draws are seeded from the first seed
        cfg.setdefault("seed", int(seeds[0]))
    cfg.setdefault("draws", 64)
    cfg.setdefault("schemes", SCHEMES)
    if "width" in cfg:
        cfg["widths"] = (cfg.pop("width"),)
    cfg.pop("kind", None)
    if data is not None and "x" not in cfg:
        cfg["x"] = np.ascontiguousarray(data.x_train[: cfg.get("batch", 128)])
    if on_step is not None:
        cfg["on_draw"] = lambda i, d: on_step(d, None)
    result = measure(**cfg)
    result["checks"] = check_claims(result)
    if log is not None:
        log(summary_table(result))
    return result
