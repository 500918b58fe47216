"""Checks for the momentum exercise (lesson 09): one step of SGD with momentum, the paper's Eq. (4),
with weight decay on the weights and none on the PReLU slopes.

momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope) -> (new p, new velocity):
    g = grad + weight_decay·p (weights) or grad (slopes, is_slope=True)
    velocity = momentum·velocity + lr·g          (Eq. 4: Δa := μΔa + ε ∂E/∂a)
    p = p − velocity
The cases have non-zero velocities, momenta other than 0.9, both kinds of parameters, and a decay
large enough to show.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import momentum as ref

NAME = "momentum"
TITLE = "SGD with momentum, Eq. (4), weight decay on the weights but not on the slopes a"
FILENAME = "momentum.py"
FUNCTIONS = ("momentum_step",)
LESSON = "09"
POINTS = {"momentum_step": 2.0}


def _step(g_of, v_of, p_of=lambda p, v: p - v):
    def step(p, grad, velocity, lr, momentum, weight_decay, is_slope):
        g = g_of(p, grad, weight_decay, is_slope)
        v = v_of(velocity, g, lr, momentum)
        return p_of(p, v), v
    return step


RIGHT_G = lambda p, g, wd, s: g if s else g + wd * p  # noqa: E731
RIGHT_V = lambda v, g, lr, mu: mu * v + lr * g  # noqa: E731

CATALOGUE = [
    Variant("the slopes a get weight decay too: the paper trains a without it (decay pushes a toward 0, "
            "i.e. toward ReLU); add λ·p only when is_slope is False",
            _step(lambda p, g, wd, s: g + wd * p, RIGHT_V),
            nudges=("your step is wrong only for the PReLU slopes (is_slope=True)",
                    "what does Sec. 2.1 say about weight decay on a?")),
    Variant("no weight decay at all: for the weights ∂E/∂w includes λ·w (an L2 term λ/2·‖w‖² in E)",
            _step(lambda p, g, wd, s: g, RIGHT_V),
            nudges=("your step is wrong only for the weights (is_slope=False)",)),
    Variant("the update subtracts the velocity: Eq. (4) accumulates Δ := μΔ + ε ∂E/∂p and p := p − Δ "
            "(you added it)", _step(RIGHT_G, RIGHT_V, lambda p, v: p + v)),
    Variant("the learning rate goes inside the velocity (Δ := μΔ + ε ∂E/∂p): you added ∂E/∂p to Δ and "
            "multiplied by ε afterwards, a different method when ε changes",
            lambda p, g, v, lr, mu, wd, s: (p - lr * (mu * v + RIGHT_G(p, g, wd, s)), mu * v + RIGHT_G(p, g, wd, s)),
            outputs=("velocity",),
            nudges=("your velocity is off: where does ε go in Eq. (4)?",)),
    Variant("that is plain SGD: the momentum term μΔ carries the previous velocity into this step",
            _step(RIGHT_G, lambda v, g, lr, mu: lr * g)),
    Variant("the decay is applied to p directly after the step instead of inside ∂E/∂p: Eq. (4) uses the "
            "gradient of E + λ/2·‖w‖², so λ·p goes into the velocity",
            lambda p, g, v, lr, mu, wd, s: ((p - RIGHT_V(v, g, lr, mu)) * (1 if s else 1 - lr * wd),
                                            RIGHT_V(v, g, lr, mu))),
]


def parts(seed=9):
    rng = np.random.default_rng(seed)
    cases = []
    for shape, lr, mu, wd, slope in [((4, 3), 0.05, 0.9, 0.02, False), ((5,), 0.1, 0.8, 0.05, True),
                                     ((2, 3, 3, 3), 0.01, 0.95, 0.1, False), ((3,), 0.2, 0.5, 0.1, True),
                                     ((6,), 0.03, 0.0, 0.01, False)]:
        p, g, v = rng.standard_normal(shape), rng.standard_normal(shape), rng.standard_normal(shape) * 0.1
        cases.append(Case(f"p {shape}, is_slope={slope}", (p, g, v, lr, mu, wd, slope),
                          ("p", "grad", "velocity", "lr", "momentum", "weight_decay", "is_slope"), smooth=True))
    return [Part("momentum_step", ref.momentum_step, cases, ("p", "velocity"), catalogue=CATALOGUE,
                 points=POINTS["momentum_step"])]
