"""Checks for the variance exercise: the paper's Eq. (9) and Eq. (13) products.

forward_variance_ratio(n, var_w, a, L)  = Var[y_L] / Var[y_1]       = (½(1 + a²) n Var[w])^(L-1)
backward_variance_ratio(n_hat, var_w, a, L) = Var[Δx_2] / Var[Δx_{L+1}] = (½(1 + a²) n̂ Var[w])^(L-1)
(Π over l = 2..L of equal factors; Eq. 15's (1 + a²) generalizes the ReLU factor ½ to PReLU.)
The cases include L = 1 (an empty product, 1), factors far from 1 (Xavier: 2^-29 over 30 layers),
a = 0, a < 0, a = 1 and a > 1, so an exponent of L, a missing ½ or (1 + a) instead of (1 + a²) show.
"""
from __future__ import annotations

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import variance as ref

NAME = "variance"
TITLE = "the forward and backward variance products of Eq. (9) and Eq. (13), with PReLU's (1 + a²)"
FILENAME = "variance.py"
FUNCTIONS = ("forward_variance_ratio", "backward_variance_ratio")
LESSON = "05"


def _catalogue(n):
    return [
        Variant("your product has L factors; Eq. (9)/(13) run over l = 2..L, that is L - 1 factors",
                lambda m, v, a, L: (0.5 * (1 + a * a) * m * v) ** L,
            nudges=('count the factors: which layers does the product run over?',)),
        Variant("the ½ is missing: E[x²] = ½ Var[y] for a symmetric y (Eq. 8), so each layer contributes "
                "½(1 + a²)·" + n + "·Var[w]", lambda m, v, a, L: ((1 + a * a) * m * v) ** (L - 1),
            nudges=('what fraction of Var[y] does a rectifier keep in E[x²] (Eq. 8)?',)),
        Variant("you ignore a: a PReLU with slope a keeps ½(1 + a²) of the variance, not ½ (Eq. 15)",
                lambda m, v, a, L: (0.5 * m * v) ** (L - 1)),
        Variant("the factor is ½(1 + a²), not ½(1 + a) (Eq. 15)",
                lambda m, v, a, L: (0.5 * (1 + a) * m * v) ** (L - 1)),
        Variant("the factor is ½(1 + a²), not ½·a²: the positive side keeps its half of the variance too",
                lambda m, v, a, L: (0.5 * a * a * m * v) ** (L - 1)),
        Variant("Eq. (9) is a product of L - 1 factors, not a sum: use ** (L - 1)",
                lambda m, v, a, L: (L - 1) * 0.5 * (1 + a * a) * m * v),
        Variant("you returned the ratio of standard deviations (a square root); Eq. (9) is a ratio of variances",
                lambda m, v, a, L: (0.5 * (1 + a * a) * m * v) ** ((L - 1) / 2)),
    ]


def parts():
    specs = [(512, 2 / 512, 0.0, 30), (512, 1 / 512, 0.0, 30), (100, 1e-4, 0.25, 10),
             (576, 2 / (1.0625 * 576), 0.25, 22), (64, 0.05, 0.5, 5), (300, 0.006, -0.3, 3),
             (1000, 0.004, 1.0, 2), (128, 0.02, 1.5, 4), (256, 0.01, 0.1, 1)]
    fwd = [Case("", s, ("n", "var_w", "a", "L")) for s in specs]
    bwd = [Case("", s, ("n_hat", "var_w", "a", "L")) for s in specs]
    return [
        Part("forward_variance_ratio", ref.forward_variance_ratio, fwd, ("ratio",), kind="scalar",
             catalogue=_catalogue("n"), tol=1e-10),
        Part("backward_variance_ratio", ref.backward_variance_ratio, bwd, ("ratio",), kind="scalar",
             catalogue=_catalogue("n̂"), tol=1e-10),
    ]
