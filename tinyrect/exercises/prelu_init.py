"""Checks for the PReLU-aware init exercise (lesson 07): prelu_std and equivalent_slope.

prelu_std((F, C, kh, kw), a, mode) = sqrt(2 / ((1 + a²) n)), n = C·kh·kw (fan_in) or F·kh·kw (fan_out);
equivalent_slope(slopes) = sqrt(mean(a_i²)): the single slope with the same gain ½(1 + a²) as
channel-wise slopes a_i (channels of equal variance). Cases: F != C, non-square kernels, a = 0.25,
a = 0, a < 0, slopes spread so that the mean and the RMS differ.
"""
from __future__ import annotations

import math

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import prelu_init as ref

NAME = "prelu_init"
TITLE = "the PReLU-aware std of Eq. (15) in both modes, and one slope equivalent to many"
FILENAME = "prelu_init.py"
FUNCTIONS = ("prelu_std", "equivalent_slope")
LESSON = "07"
POINTS = {"prelu_std": 1.0, "equivalent_slope": 1.0}


def _n(shape, mode):
    return (shape[1] if mode == "fan_in" else shape[0]) * shape[2] * shape[3]


STD_CATALOGUE = [
    Variant("your std ignores a: Eq. (15) is ½(1 + a²) n Var[w] = 1",
            lambda s, a, mode="fan_in": math.sqrt(2 / _n(s, mode)),
            nudges=("how much of Var[y] does a PReLU with slope a keep in E[x²]?",)),
    Variant("fan_in and fan_out are swapped: mode 'fan_in' uses n = k²C (input channels, dim 1), "
            "'fan_out' uses n̂ = k²F (output channels, dim 0)",
            lambda s, a, mode="fan_in": ref.prelu_std(s, a, "fan_out" if mode == "fan_in" else "fan_in"),
            nudges=("which dimension of the weight (F, C, kh, kw) counts the inputs of one output?",)),
    Variant("Eq. (15) has (1 + a²), not (1 + a)",
            lambda s, a, mode="fan_in": math.sqrt(2 / ((1 + a) * _n(s, mode)))),
    Variant("the fan counts the whole kernel: n = k²c uses kh·kw, not kh alone",
            lambda s, a, mode="fan_in": math.sqrt(2 / ((1 + a * a) * _n(s, mode) / s[3]))),
]

SLOPE_CATALOGUE = [
    Variant("the mean slope does not keep the same variance: the gain is ½(1 + a²), so average a², "
            "a* = sqrt(mean(a_i²))", lambda a: float(np.mean(a)),
            nudges=("what is averaged over the channels: a, or the factor ½(1 + a²)?",
                    "solve ½(1 + a*²) = mean over i of ½(1 + a_i²)")),
    Variant("you averaged |a|: the gain ½(1 + a²) depends on a², so a* = sqrt(mean(a_i²))",
            lambda a: float(np.mean(np.abs(a)))),
    Variant("a* = sqrt(mean(a_i²)): you returned mean(a_i²) without the square root",
            lambda a: float(np.mean(np.asarray(a) ** 2))),
]


def parts(seed=7):
    rng = np.random.default_rng(seed)
    std_cases = [Case(f"shape {s}, a={a}, {m}", (s, a), ("weight_shape", "a"), {"mode": m}) for s, a, m in
                 [((64, 3, 7, 7), 0.25, "fan_in"), ((128, 64, 3, 3), 0.25, "fan_out"), ((32, 16, 3, 5), 0.0, "fan_in"),
                  ((16, 48, 2, 2), -0.3, "fan_out"), ((256, 128, 1, 3), 0.7, "fan_in")]]
    slope_cases = [Case(f"{n} slopes", (rng.uniform(lo, hi, n),), ("slopes",)) for n, lo, hi in
                   [(16, 0.0, 1.0), (64, -0.2, 0.6), (8, 0.1, 2.0), (1, 0.25, 0.25)]]
    return [
        Part("prelu_std", ref.prelu_std, std_cases, ("std",), kind="scalar", catalogue=STD_CATALOGUE, tol=1e-10,
             points=POINTS["prelu_std"]),
        Part("equivalent_slope", ref.equivalent_slope, slope_cases, ("a",), kind="scalar", catalogue=SLOPE_CATALOGUE,
             tol=1e-10, points=POINTS["equivalent_slope"]),
    ]
