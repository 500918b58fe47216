"""Checks for the moments exercise (lesson 10): E[x²] vs Var[x] after a ReLU, and the input scale.

relu_moments(σ) = (σ²/2, σ²(½ − 1/(2π))) for x = max(0, y), y ~ N(0, σ²);
std_from_var(n) = 1/sqrt(n(½ − 1/(2π))), the std Eq. (7) would give with Var[x] in place of E[x²];
per_layer_factor(scale, L) = (1/scale)^(1/L), the paper's (1/128)^(1/L).
"""
from __future__ import annotations

import math

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import moments as ref

NAME = "moments"
TITLE = "E[x²] vs Var[x] after a rectifier (Eq. 7-8), and the input scale a deep net keeps"
FILENAME = "moments.py"
FUNCTIONS = ("relu_moments", "std_from_var", "per_layer_factor")
LESSON = "10"
POINTS = {"relu_moments": 2.0, "std_from_var": 1.0, "per_layer_factor": 1.0}
C = 0.5 - 1 / (2 * math.pi)

MOMENTS_CATALOGUE = [
    Variant("Var[x] = E[x²] − E[x]²: a rectified output is not zero-mean, E[x] = σ/sqrt(2π)",
            lambda s: (s * s / 2, s * s / 2), ("var",),
            nudges=("is x = max(0, y) zero-mean?", "compute E[x] = ∫_0^∞ y φ(y) dy for y ~ N(0, σ²)")),
    Variant("E[x²] = ½ E[y²] = σ²/2 by symmetry (Eq. 8): half the mass of y² is on the positive side",
            lambda s: (s * s, s * s * C), ("second_moment",)),
    Variant("E[x] = σ/sqrt(2π) (∫_0^∞ y φ(y/σ)/σ dy), so E[x]² = σ²/(2π): you used σ²/π",
            lambda s: (s * s / 2, s * s * (0.5 - 1 / math.pi)), ("var",)),
    Variant("the moments scale with σ²: you returned them for σ = 1", lambda s: (0.5, C)),
]

STD_CATALOGUE = [
    Variant("that is He's std sqrt(2/n), from E[x²] = ½ Var[y]; with Var[x] = (½ − 1/(2π)) Var[y] in "
            "Eq. (7) the condition is n Var[w] (½ − 1/(2π)) = 1", lambda n: math.sqrt(2 / n)),
    Variant("you returned the variance 1/(n(½ − 1/(2π))); the std is its square root",
            lambda n: 1 / (n * C)),
    Variant("the factor is ½ − 1/(2π) ≈ 0.341 (Var[x]/Var[y]), not ½ − 1/π",
            lambda n: 1 / math.sqrt(n * (0.5 - 1 / math.pi))),
]

SCALE_CATALOGUE = [
    Variant("the correction is spread over the L layers: each layer's weights get (1/scale)^(1/L), so "
            "the product over L layers is 1/scale; you put all of it in every layer",
            lambda s, L: 1 / s, nudges=("multiply your factor over L layers: do you get 1/scale?",)),
    Variant("the inputs are too LARGE: the weights must shrink, factor (1/scale)^(1/L) < 1",
            lambda s, L: s ** (1 / L)),
    Variant("the factor multiplies L layers: (1/scale)^(1/L), not (1/scale)^(1/(L − 1))",
            lambda s, L: (1 / s) ** (1 / (L - 1))),
]


def parts(seed=10):
    return [
        Part("relu_moments", ref.relu_moments, [Case("", (s,), ("sigma",)) for s in (1.0, 0.3, 2.5, 17.0)],
             ("second_moment", "var"), kind="scalar", catalogue=MOMENTS_CATALOGUE, tol=1e-10,
             points=POINTS["relu_moments"]),
        Part("std_from_var", ref.std_from_var, [Case("", (n,), ("fan_in",)) for n in (9, 144, 576, 4608)],
             ("std",), kind="scalar", catalogue=STD_CATALOGUE, tol=1e-10, points=POINTS["std_from_var"]),
        Part("per_layer_factor", ref.per_layer_factor,
             [Case("", (s, L), ("input_scale", "L")) for s, L in ((128.0, 10), (60.0, 22), (4.0, 3), (0.5, 8))],
             ("factor",), kind="scalar", catalogue=SCALE_CATALOGUE, tol=1e-10, points=POINTS["per_layer_factor"]),
    ]
