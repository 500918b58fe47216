"""Checks for the measurement exercise (lesson 05): Var[y_l] through a 10-layer ReLU net, measured
over many random draws, against Eq. (9).

measure_variances(n, L, std, draws, batch, seed) returns v (draws, L), v[d, l-1] = the variance of
y_l in draw d. This part has no single right array (every draw is random), so it is judged on the
result: the shape and positivity; that the numbers depend on the seed (the same seed gives the same
numbers, another seed other numbers: measured, not predicted); that layer 1 matches Eq. (7) for unit
Gaussian inputs, Var[y_1] = n·std²; and that the measured log2(mean_d v[d, L-1] / mean_d v[d, 0])
lies within its 99% bootstrap interval (over the draws) of Eq. (9)'s (L − 1)·log2(½ n std²),
widened by 0.25 for the finite width. Several stds: He (factor 1), Xavier's 1/n (factor ½), 1.2·He.
"""
from __future__ import annotations

import math

import numpy as np

from tinyrect.exercises.checking import Case, Part
from tinyrect.exercises.solutions import measure as ref

NAME = "measure"
TITLE = "measure Var[y_l] through a 10-layer ReLU net over many draws, check Eq. (9) within its CI"
FILENAME = "measure.py"
FUNCTIONS = ("measure_variances",)
LESSON = "05"
POINTS = {"measure_variances": 2.0}
N, L, DRAWS, BATCH = 64, 10, 40, 64
SLACK = 0.25    # log2 units added to the bootstrap interval: finite width and batch


def _log2_ratio(v):
    return math.log2(float(np.mean(v[:, -1])) / float(np.mean(v[:, 0])))


def bootstrap_interval(v, rng, rounds=400, level=0.99):
    """Percentile bootstrap over the draws of log2(mean v_L / mean v_1)."""
    stats = [_log2_ratio(v[rng.integers(0, len(v), len(v))]) for _ in range(rounds)]
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _judge(cases, outputs):
    v = [o[0] for o in outputs]
    for case, got in zip(cases, v):
        if np.any(got <= 0):
            return (f"a variance is <= 0 with {case.label}", "a variance is positive: np.var of the entries of y_l")
    same = [i for i, c in enumerate(cases) if c.label.startswith("repeat")]
    if same and not np.array_equal(v[same[0]], v[0]):
        return ("the same seed gave different numbers",
                "take every random number from np.random.default_rng(seed), never from np.random.* directly")
    if np.array_equal(v[1], v[0]):
        return ("another seed gave the same numbers",
                "your numbers do not depend on the seed: draw the weights and the inputs from "
                "np.random.default_rng(seed) and measure; do not return a prediction")
    rng = np.random.default_rng(0)
    for case, got in zip(cases, v):
        n, L, std = case.args[:3]
        draws = case.args[3]
        first = float(np.mean(got[:, 0]))
        want_first = n * std * std
        first_sd = float(np.std(got[:, 0])) / math.sqrt(draws)
        if abs(first - want_first) > 4 * first_sd + 0.05 * want_first:
            ratio = first / want_first
            hint = ("Var[y_1] = n·std² for unit Gaussian inputs (Eq. 7 with E[x²] = 1): "
                    + ("you measured after the rectifier? v holds Var[y_l], y_l = x_l W_l before max(0, ·)"
                       if abs(ratio - (0.5 - 0.5 / math.pi)) < 0.06 else
                       "are the weights std·N(0, 1) (std, not std²), of shape (n, n)?"))
            return (f"mean Var[y_1] = {first:.4g}, Eq. (7) predicts {want_first:.4g} with {case.label}", hint)
        predicted = (L - 1) * math.log2(0.5 * n * std * std)
        measured = _log2_ratio(got)
        lo, hi = bootstrap_interval(got, rng)
        if not lo - SLACK <= predicted <= hi + SLACK:
            per_layer = (measured - predicted) / (L - 1)
            if abs(per_layer - 1) < 0.25:
                hint = ("you gain a factor 2 per layer over Eq. (9): the rectifier is missing "
                        "(x_{l+1} = max(0, y_l) feeds the next layer)")
            elif abs(per_layer + 1) < 0.25:
                hint = "you lose an extra factor 2 per layer: is the rectifier applied twice, or is std halved?"
            else:
                hint = ("measure y_l = x_l W_l with fresh weights in every draw, and feed x_{l+1} = max(0, y_l) "
                        "forward")
            return (f"log2(Var[y_{L}]/Var[y_1]) = {measured:.2f}, 99% interval [{lo:.2f}, {hi:.2f}]; Eq. (9) "
                    f"predicts {predicted:.2f} with {case.label}", hint)
    return None


def parts(seed=5):
    seeds = np.random.default_rng(seed).integers(1, 10 ** 6, 3)
    he = math.sqrt(2 / N)
    specs = [("He", he, seeds[0]), ("He, another seed", he, seeds[1]), ("Xavier 1/n", math.sqrt(1 / N), seeds[2]),
             ("1.2 He", 1.2 * he, seeds[2]), ("repeat of the first", he, seeds[0])]
    cases = [Case(f"{label}: n={N}, L={L}, std={std:.4g}, seed={int(s)}", (N, L, std, DRAWS, BATCH, int(s)),
                  ("n", "L", "std", "draws", "batch", "seed")) for label, std, s in specs]
    return [Part("measure_variances", ref.measure_variances, cases, ("v",), judge=_judge,
                 points=POINTS["measure_variances"])]
