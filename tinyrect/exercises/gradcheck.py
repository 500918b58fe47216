"""Checks for the gradcheck exercise (lesson 02): numerical_gradient(f, x, eps) by central differences.

The student's function receives a Python function f (array -> float) and an array x. Only arrays
and names cross into the graded process, so each case names one of the test functions below and
the driver hands the function itself to the student. The answer is compared with the ANALYTIC
gradient, with eps = 1e-4 so that central differences (error O(ε²) ≈ 1e-8) pass and a one-sided
difference (error O(ε) ≈ 1e-4) fails.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import gradcheck as ref

NAME = "gradcheck"
TITLE = "a finite-difference gradient of your own: central differences, O(ε²)"
FILENAME = "gradcheck.py"
FUNCTIONS = ("numerical_gradient",)
LESSON = "02"
POINTS = {"numerical_gradient": 1.0}
EPS = 1e-4

_W = np.linspace(-1.5, 2.0, 12)


def _cubic(x):
    return float(np.sum(x ** 3 - 2 * x))


def _softplus_dot(x):
    return float(np.sum(np.logaddexp(0.0, x) * _W[: x.size].reshape(x.shape)))


def _tanh_quad(x):
    return float(np.tanh(x.ravel() @ x.ravel() / 4) + np.prod(x.ravel()[:2]))


def _tanh_quad_grad(x):
    flat = x.ravel()
    g = (1 - np.tanh(flat @ flat / 4) ** 2) * flat / 2
    g[0] += flat[1]
    g[1] += flat[0]
    return g.reshape(x.shape)


FUNCS = {   # name: (f, its analytic gradient)
    "cubic": (_cubic, lambda x: 3 * x ** 2 - 2),
    "softplus_dot": (_softplus_dot, lambda x: _W[: x.size].reshape(x.shape) / (1 + np.exp(-x))),
    "tanh_quad": (_tanh_quad, _tanh_quad_grad),
}


def drive(fn, f, x, eps=EPS):
    return fn(FUNCS[f][0], x, eps)


def _analytic(f, x, eps=EPS):
    return FUNCS[f][1](x)


def _variant(body):
    return lambda f, x, eps=EPS: body(FUNCS[f][0], np.array(x, dtype=np.float64), eps)


def _each(x, value):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        g[i] = value(i)
    return g


def _shifted(x, i, h):
    y = x.copy()
    y[i] += h
    return y


def _one_sided(f, x, eps):
    return _each(x, lambda i: (f(_shifted(x, i, eps)) - f(x)) / eps)


def _not_restored(f, x, eps):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        g[i] = (plus - f(x)) / (2 * eps)
    return g


CATALOGUE = [
    Variant("a one-sided difference (f(x + ε) − f(x)) / ε has an error O(ε); the central difference "
            "(f(x + ε) − f(x − ε)) / (2ε) cancels the ε term of the Taylor series: error O(ε²)",
            _variant(_one_sided),
            nudges=("your answer is close but not close enough: how fast does your error shrink with ε?",
                    "write the Taylor series of f(x + ε) and of f(x − ε): which difference cancels the ε² f''/2 term?")),
    Variant("the step from x − ε to x + ε is 2ε: divide by 2ε, not ε",
            _variant(lambda f, x, e: _each(x, lambda i: (f(_shifted(x, i, e)) - f(_shifted(x, i, -e))) / e)),
            nudges=("a constant factor is off: how far apart are the two points you evaluate f at?",)),
    Variant("perturb ONE entry at a time: moving every entry of x by ε at once measures the derivative "
            "along (1, 1, ..., 1), the same number for every entry",
            _variant(lambda f, x, e: np.full_like(x, (f(x + e) - f(x - e)) / (2 * e))),
            nudges=("every entry of your gradient is the same: what should change between entries?",)),
    Variant("each entry must go back to its value after it is perturbed (x[i] = old): you left it at "
            "x[i] − ε, so every later entry is measured at a shifted point",
            _variant(_not_restored),
            nudges=("the first entry is right and the others drift: what is x after you handled entry 0?",)),
]


def parts(seed=2):
    rng = np.random.default_rng(seed)
    cases = []
    for f, shape in [("cubic", (5,)), ("softplus_dot", (3, 4)), ("tanh_quad", (2, 3)), ("cubic", (2, 2, 2))]:
        x = rng.uniform(-2, 2, shape)
        cases.append(Case(f"{f}, x {shape}", (f, x), ("f", "x"), {"eps": EPS}))
    return [Part("numerical_gradient", _analytic, cases, ("grad",), catalogue=CATALOGUE, driver=drive,
                 tol=1e-6, points=POINTS["numerical_gradient"])]
