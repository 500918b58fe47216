"""Checks for the backward-variance exercise (lesson 06): Eq. (13) with per-layer widths, and the
forward product c_2/d_L that the backward condition Eq. (14) leaves.

backward_product(fan_outs, var_ws, a) = Π_{l=2..L} ½(1 + a²) n̂_l Var[w_l]  (layer 1 not in it);
forward_product_eq14(channels, k) = Π_{l=2..L} ½ n_l Var[w_l] with Var[w_l] = 2/(k² d_l): c_2/d_L.
The cases use widths that change from layer to layer (so including layer 1, or using n_l for n̂_l,
shows), a = 0, a > 0 and a < 0, and channel lists whose first and last entries differ from c_2, d_L.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import backward as ref

NAME = "backward"
TITLE = "the backward product of Eq. (13) with changing widths, and c2/dL under Eq. (14)"
FILENAME = "backward.py"
FUNCTIONS = ("backward_product", "forward_product_eq14")
LESSON = "06"
POINTS = {"backward_product": 1.0, "forward_product_eq14": 1.0}


def _prod(values):
    return float(np.prod(np.asarray(values, dtype=np.float64)))


def _f(n, v):
    return np.asarray(n, dtype=np.float64), np.asarray(v, dtype=np.float64)


BACKWARD_CATALOGUE = [
    Variant("Eq. (13)'s product runs over l = 2..L: layer 1's factor is not in it (Δx_2 is the gradient "
            "that reaches layer 2's input)", lambda n, v, a=0.0: _prod(0.5 * (1 + a * a) * _f(n, v)[0] * _f(n, v)[1]),
            nudges=("count your factors: which layers does Eq. (13) multiply over?",)),
    Variant("the ½ is missing: f'(y) is 0 or 1 with equal probability, so Var[Δy_l] = ½ Var[Δx_{l+1}] (Eq. 12)",
            lambda n, v, a=0.0: _prod((1 + a * a) * _f(n, v)[0][1:] * _f(n, v)[1][1:]),
            nudges=("what does the rectifier's derivative do to the gradient's variance?",)),
    Variant("you ignore a: with PReLU f'(y) is 1 or a, so the factor is ½(1 + a²) (Eq. 15's backward form)",
            lambda n, v, a=0.0: _prod(0.5 * _f(n, v)[0][1:] * _f(n, v)[1][1:])),
    Variant("the factor is ½(1 + a²), not ½(1 + a)",
            lambda n, v, a=0.0: _prod(0.5 * (1 + a) * _f(n, v)[0][1:] * _f(n, v)[1][1:])),
]

FORWARD_CATALOGUE = [
    Variant("the product telescopes to c_2/d_L, not d_L/c_2: each factor is ½ n_l · 2/n̂_l = c_l/d_l",
            lambda ch, k: float(ch[-1]) / float(ch[1]),
            nudges=("write one factor ½ n_l Var[w_l] with n_l = k²c_l and Var[w_l] = 2/(k²d_l): what is it?",)),
    Variant("the product runs over l = 2..L: c_1/d_L includes layer 1, whose input is not rectified",
            lambda ch, k: float(ch[0]) / float(ch[-1]),
            nudges=("which layer does the product start at?",)),
    Variant("d_l = c_{l+1}: the product Π_{l=2..L} c_l/d_l telescopes to c_2/d_L (channels[1] / channels[-1]); "
            "you stopped one layer early", lambda ch, k: float(ch[1]) / float(ch[-2])),
]


def parts(seed=6):
    rng = np.random.default_rng(seed)
    bcases = []
    for L, a in [(5, 0.0), (8, 0.25), (3, -0.4), (12, 0.0), (2, 1.0)]:
        widths = rng.choice([16, 32, 64, 128, 256], L)
        k = rng.choice([1, 3, 5], L)
        n_hat = (k * k * widths).astype(np.float64)
        var_w = rng.uniform(0.6, 1.6, L) * 2 / n_hat
        bcases.append(Case(f"L={L}, a={a}", (n_hat, var_w, a), ("fan_outs", "var_ws", "a")))
    fcases = []
    for L in [4, 6, 9, 2]:
        channels = tuple(int(c) for c in rng.choice([3, 16, 24, 32, 64, 96], L + 1))
        if channels[1] == channels[-1]:
            channels = channels[:-1] + (channels[-1] * 2,)
        fcases.append(Case(f"channels {channels}", (channels, int(rng.choice([1, 3, 5]))), ("channels", "k")))
    return [
        Part("backward_product", ref.backward_product, bcases, ("ratio",), kind="scalar",
             catalogue=BACKWARD_CATALOGUE, tol=1e-10, points=POINTS["backward_product"]),
        Part("forward_product_eq14", ref.forward_product_eq14, fcases, ("ratio",), kind="scalar",
             catalogue=FORWARD_CATALOGUE, tol=1e-10, points=POINTS["forward_product_eq14"]),
    ]
