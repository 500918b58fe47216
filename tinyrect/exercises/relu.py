"""Checks for the ReLU exercise: relu_forward(x) and relu_backward(x, dout) -> dx.

At y == 0 the subgradient is 0 (Eq. 1 puts y = 0 on the negative side). Every case holds exact
zeros, negative zeros (-0.0) and values of both signs; dout has both signs so that a mask taken
from dout instead of y shows.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import relu as ref

NAME = "relu"
TITLE = "ReLU forward and backward: f(y) = max(0, y) and its subgradient"
FILENAME = "relu.py"
FUNCTIONS = ("relu_forward", "relu_backward")
LESSON = "04"


def _cases(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for shape in [(7,), (4, 5), (2, 3, 4, 5), (3, 1, 2, 6)]:
        x = rng.standard_normal(shape)
        flat = x.reshape(-1)
        flat[rng.choice(x.size, max(2, x.size // 6), replace=False)] = 0.0
        flat[0] = -0.0
        smooth = np.sign(rng.standard_normal(shape)) * (0.05 + np.abs(rng.standard_normal(shape)))
        cases.append(Case(f"x {shape}", (x, rng.standard_normal(shape)), ("x", "dout")))
        cases.append(Case(f"x {shape}", (smooth, rng.standard_normal(shape)), ("x", "dout"), smooth=True))
    return cases


FORWARD_CATALOGUE = [
    Variant("|y| is not ReLU: negative inputs map to 0", lambda x: np.abs(x)),
    Variant("that is min(0, y): ReLU keeps the positive side, max(0, y)", lambda x: np.minimum(x, 0)),
    Variant("that is a leaky ReLU (slope 0.01): ReLU maps y <= 0 to 0", lambda x: np.where(x > 0, x, 0.01 * x)),
    Variant("you returned the mask 1[y > 0] (as floats): multiply it by y", lambda x: (x > 0) * 1.0),
]

BACKWARD_CATALOGUE = [
    Variant("at y == 0 exactly the subgradient is 0 (Eq. 1 puts y = 0 on the negative side): "
            "use the mask y > 0, not y >= 0", lambda x, d: np.where(x >= 0, d, 0.0),
            nudges=('dx is wrong only where y == 0 exactly', 'on which side of Eq. (1) does y = 0 fall?')),
    Variant("dx must be multiplied by dout (chain rule): you returned the mask 1[y > 0] only",
            lambda x, d: (x > 0) * 1.0,
            nudges=("the chain rule: what multiplies f'(y)?",)),
    Variant("the mask is 1[y > 0], not relu(y): dx = dout · 1[y > 0]", lambda x, d: d * np.maximum(x, 0)),
    Variant("you forgot the mask: dx = dout only where y > 0, 0 elsewhere", lambda x, d: d + 0 * x),
    Variant("the mask must come from the input y, not from dout: dx = dout · 1[y > 0]",
            lambda x, d: np.where(d > 0, d, 0.0),
            nudges=('which quantity decides whether the unit was active?',)),
    Variant("the mask is inverted: dout passes where y > 0, not where y <= 0",
            lambda x, d: np.where(x > 0, 0.0, d)),
    Variant("dx is wrong only where y == 0 exactly: the subgradient there is 0 (Eq. 1 puts y = 0 on the "
            "negative side)", region=lambda x, d: x == 0),
]


def parts(seed=7):
    cases = _cases(seed)
    forward_cases = [Case(c.label, c.args[:1], c.names[:1], smooth=c.smooth) for c in cases]
    return [
        Part("relu_forward", ref.relu_forward, forward_cases, catalogue=FORWARD_CATALOGUE),
        Part("relu_backward", ref.relu_backward, cases, ("dx",), catalogue=BACKWARD_CATALOGUE,
             fd_forward=ref.relu_forward),
    ]
