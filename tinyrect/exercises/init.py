"""Checks for the initialization exercise: compute_fans, he_std, xavier_std.

he_std(fan_in, a=0.0) = sqrt(2 / ((1 + a²) fan_in))   (Eq. 10; Eq. 15 for PReLU/leaky slopes a);
xavier_std(fan_in, fan_out) = sqrt(2 / (fan_in + fan_out))   (Glorot & Bengio);
compute_fans((F, C, kh, kw)) = (C·kh·kw, F·kh·kw), compute_fans((d, n)) = (n, d).
The cases use a = 0 (also as the default), a < 0, a between 0 and 1, a = 1 and a > 1, fan_in !=
fan_out, non-square kernels, and shapes where the channel counts differ.
"""
from __future__ import annotations

import math

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import init as ref

NAME = "init"
TITLE = "fans (n = k²c, n̂ = k²d) and the stds of He (Eq. 10, 15) and Xavier initialization"
FILENAME = "init.py"
FUNCTIONS = ("compute_fans", "he_std", "xavier_std")
LESSON = "07"

SQRT = math.sqrt

FANS_CATALOGUE = [
    Variant("fan_in and fan_out are swapped: fan_in uses the input channels (dim 1), n = k²c; your fan_in uses "
            "the output channels (that is fan_out, n̂ = k²d)", lambda s: ref.compute_fans(s)[::-1]),
    Variant("the fans count the receptive field too: fan_in = C·kh·kw (Eq. 5: n = k²c), fan_out = F·kh·kw",
            lambda s: (s[1], s[0])),
    Variant("the receptive field is kh·kw (both kernel sizes), not kh alone",
            lambda s: (s[1] * (s[2] if len(s) > 2 else 1), s[0] * (s[2] if len(s) > 2 else 1))),
]

HE_CATALOGUE = [
    Variant("that is sqrt(1/fan_in), the linear (Xavier-style) condition n·Var[w] = 1; a rectifier halves the "
            "variance, so Eq. (10) asks ½·n·Var[w] = 1: std = sqrt(2/n)", lambda n, a=0.0: SQRT(1 / n),
            nudges=('what does the rectifier do to E[x²] compared with a linear unit?',)),
    Variant("you returned the variance 2/((1 + a²)·n); the std is its square root",
            lambda n, a=0.0: 2 / ((1 + a * a) * n)),
    Variant("your std ignores a: Eq. (15) is ½(1 + a²)·n·Var[w] = 1", lambda n, a=0.0: SQRT(2 / n),
            nudges=('how much of Var[y] does a PReLU with slope a keep in E[x²]?',)),
    Variant("Eq. (15) has (1 + a²), not (1 + a)", lambda n, a=0.0: SQRT(2 / ((1 + a) * n))),
    Variant("(1 + a²) belongs in the denominator: std = sqrt(2 / ((1 + a²)·n))",
            lambda n, a=0.0: SQRT(2 * (1 + a * a) / n)),
    Variant("the square root covers fan_in too: std = sqrt(2 / ((1 + a²)·n))",
            lambda n, a=0.0: SQRT(2 / (1 + a * a)) / n),
]

XAVIER_CATALOGUE = [
    Variant("your std uses fan_in only (the forward condition); Glorot & Bengio average the two: "
            "Var[w] = 2 / (fan_in + fan_out)", lambda i, o: SQRT(1 / i)),
    Variant("your std uses fan_out only (the backward condition); Glorot & Bengio average the two: "
            "Var[w] = 2 / (fan_in + fan_out)", lambda i, o: SQRT(1 / o)),
    Variant("a factor 2 is missing: Var[w] = 2 / (fan_in + fan_out)", lambda i, o: SQRT(1 / (i + o))),
    Variant("sqrt(6 / (fan_in + fan_out)) is the bound of Xavier's uniform distribution; its std is that bound "
            "divided by sqrt(3)", lambda i, o: SQRT(6 / (i + o))),
    Variant("you returned the variance 2 / (fan_in + fan_out); the std is its square root",
            lambda i, o: 2 / (i + o)),
    Variant("that is He's std sqrt(2/fan_in); Xavier's is sqrt(2 / (fan_in + fan_out))", lambda i, o: SQRT(2 / i)),
]


def parts():
    shapes = [(64, 3, 7, 7), (4096, 9216), (128, 64, 2, 2), (32, 16, 3, 5), (10, 10), (256, 128, 1, 1)]
    fans_cases = [Case(f"shape {s}", (s,), ("weight_shape",)) for s in shapes]
    he_cases = [Case("", (n,), ("fan_in",)) for n in (27, 4608)]
    he_cases += [Case("", (n, a), ("fan_in", "a")) for n, a in
                 [(576, 0.25), (4608, 0.0), (100, -0.5), (9, 1.0), (50, 2.0), (1152, 0.01)]]
    xavier_cases = [Case("", (i, o), ("fan_in", "fan_out")) for i, o in
                    [(27, 576), (1152, 576), (100, 100), (10, 500), (4608, 4608)]]
    return [
        Part("compute_fans", ref.compute_fans, fans_cases, ("fans",), kind="ints", catalogue=FANS_CATALOGUE),
        Part("he_std", ref.he_std, he_cases, ("std",), kind="scalar", catalogue=HE_CATALOGUE, tol=1e-10),
        Part("xavier_std", ref.xavier_std, xavier_cases, ("std",), kind="scalar", catalogue=XAVIER_CATALOGUE,
             tol=1e-10),
    ]
