"""Checks for the gradcheck exercise (lesson 02): numerical_gradient(f, x, eps) by central differences.

The student's function receives a Python function f (array -> float) and an array x. Only arrays
and numbers cross into the graded process, so each case names one of drivers.TEST_FUNCTIONS by its
index and the driver hands the function itself to the student. The answer is compared with the ANALYTIC
gradient, with eps = 1e-4 so that central differences (error O(ε²) ≈ 1e-8) pass and a one-sided
difference (error O(ε) ≈ 1e-4) fails.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.drivers import TEST_FUNCTIONS, W, with_test_function

NAME = "gradcheck"
TITLE = "a finite-difference gradient of your own: central differences, O(ε²)"
FILENAME = "gradcheck.py"
FUNCTIONS = ("numerical_gradient",)
LESSON = "02"
POINTS = {"numerical_gradient": 1.0}
EPS = 1e-4

def _tanh_quad_grad(x):
    flat = x.ravel()
    g = (1 - np.tanh(flat @ flat / 4) ** 2) * flat / 2
    g[0] += flat[1]
    g[1] += flat[0]
    return g.reshape(x.shape)


GRADIENTS = (   # the analytic gradients of drivers.TEST_FUNCTIONS, in the same order
    lambda x: 3 * x ** 2 - 2,
    lambda x: W[: x.size].reshape(x.shape) / (1 + np.exp(-x)),
    _tanh_quad_grad,
)


def _analytic(f, x, eps=EPS):
    return GRADIENTS[int(f)](x)


def _variant(body):
    return lambda f, x, eps=EPS: body(TEST_FUNCTIONS[int(f)], np.array(x, dtype=np.float64), eps)


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
    for f, shape in [(0, (5,)), (1, (3, 4)), (2, (2, 3)), (0, (2, 2, 2))]:
        x = rng.uniform(-2, 2, shape)
        cases.append(Case(f"{TEST_FUNCTIONS[f].__name__}, x {shape}", (f, x), ("f", "x"), {"eps": EPS}))
    return [Part("numerical_gradient", _analytic, cases, ("grad",), catalogue=CATALOGUE, driver=with_test_function,
                 tol=1e-6, points=POINTS["numerical_gradient"])]
