"""Checks for the PReLU exercise: prelu_forward(x, a) and prelu_backward(x, a, dout) -> (dx, da).

Contract: x (N, C) or (N, C, H, W) float64, a (1,) channel-shared or (C,) channel-wise; at y == 0
the subgradient is the negative side's, as Eq. (1) writes it (y <= 0 gets a·y): dx = a·dout and the
da contribution dout·min(0, y) = 0. The cases below make every catalogue mistake visible: batch > 1,
exact zeros, a < 0, a > 1, a != 0.25, and a 4-D case with W == C so that a broadcast along the last
axis runs without error but gives the wrong answer.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import prelu as ref

NAME = "prelu"
TITLE = "PReLU forward and backward, Eq. (1)-(3): dx and the gradient of the slope a"
FILENAME = "prelu.py"
FUNCTIONS = ("prelu_forward", "prelu_backward")
LESSON = "04"


def _cases(seed):
    rng = np.random.default_rng(seed)
    specs = [  # (x shape, a values, exact zeros?)
        ((4, 3), [-0.35], True),
        ((5, 4), [0.1, 1.7, -0.6, 0.45], True),
        ((3, 2, 4, 5), [1.3], False),
        ((2, 3, 5, 3), [0.6, -0.2, 1.4], True),     # W == C: a on the last axis would not raise
        ((3, 4, 3, 6), [0.3, 0.05, -1.1, 2.0], False),
        ((1, 3, 2, 2), [0.25], True),
    ]
    cases = []
    for shape, a, zeros in specs:
        x = rng.standard_normal(shape)
        if zeros:
            x.reshape(-1)[rng.choice(x.size, max(2, x.size // 6), replace=False)] = 0.0
        else:
            x = np.sign(x) * (0.05 + np.abs(x))    # away from the kink: finite differences are exact
        a = np.array(a, dtype=np.float64)
        dout = rng.standard_normal(shape)
        cases.append(Case(f"x {shape}, a {a.shape}", (x, a, dout), ("x", "a", "dout"), smooth=not zeros))
    return cases


def _a(a, x):
    return a.reshape((1, a.size) + (1,) * (x.ndim - 2))


def _sum_like_a(t, a):
    if a.size == 1:
        return t.sum().reshape(a.shape)
    return t.sum(axis=tuple(d for d in range(t.ndim) if d != 1)).reshape(a.shape)


LAST_AXIS = ("a is broadcast along the last axis of x, not the channel axis: reshape it to (1, C) or "
             "(1, C, 1, 1), e.g. a.reshape(1, -1, *[1] * (x.ndim - 2)), so a_i scales channel i (dim 1)")
HARD_CODED = "the slope is hard-coded to 0.25 (the paper's initial value): use the `a` you are given"

FORWARD_CATALOGUE = [
    Variant("you ignore a: that is ReLU. Eq. (1): f(y) = a·y for y <= 0",
            lambda x, a: np.maximum(x, 0),
            nudges=('your negative side is 0 everywhere: what does Eq. (1) do with y <= 0?',)),
    Variant(HARD_CODED, lambda x, a: np.maximum(x, 0) + 0.25 * np.minimum(x, 0),
            nudges=('your answer is right only when a happens to be 0.25',)),
    Variant("max(y, a·y) is PReLU only when a <= 1: for a > 1 it returns a·y on the positive side. "
            "Use max(0, y) + a·min(0, y)", lambda x, a: np.maximum(x, _a(a, x) * x),
            nudges=('your answer is wrong only where a > 1: try a = 2 by hand', 'for a > 1, which of y and a·y is larger when y > 0?')),
    Variant("the sides are swapped: Eq. (1) keeps y for y > 0 and scales y <= 0 by a",
            lambda x, a: np.minimum(x, 0) + _a(a, x) * np.maximum(x, 0),
            nudges=('which side of 0 does Eq. (1) scale by a?',)),
    Variant("Eq. (1): f(y) = y for y > 0; you scale the positive side by a too",
            lambda x, a: _a(a, x) * x,
            nudges=('look at the positive side: what is f(y) there?',)),
    Variant(LAST_AXIS, lambda x, a: np.maximum(x, 0) + a * np.minimum(x, 0),
            nudges=('the answer is wrong for channel-wise a on 4-D inputs: which axis does a line up with?', 'NumPy broadcasting aligns trailing axes: a (C,) meets W, not C')),
]


def _dx_variant(fn):
    return lambda x, a, dout: (fn(x, a, dout), ref.prelu_backward(x, a, dout)[1])


def _da_variant(fn):
    return lambda x, a, dout: (ref.prelu_backward(x, a, dout)[0], fn(x, a, dout))


NEG = lambda x: np.minimum(x, 0)  # noqa: E731

BACKWARD_CATALOGUE = [
    # dx (the y == 0 variant first: in a tie it is the more specific explanation)
    Variant("at y == 0 exactly take the negative side, as Eq. (1) does (y <= 0 gets a·y): dx = a·dout "
            "there, so test y > 0, not y >= 0",
            _dx_variant(lambda x, a, d: np.where(x >= 0, d, _a(a, x) * d)), ("dx",),
            nudges=('dx is wrong only where y == 0 exactly', 'on which side of Eq. (1) does y = 0 fall?')),
    Variant("dx on the negative side should be scaled by a (dx = a·dout where y <= 0); you used ReLU's 0",
            _dx_variant(lambda x, a, d: np.where(x > 0, d, 0.0)), ("dx",),
            nudges=('dx is wrong on the negative side: what is the slope of f there?',)),
    Variant("dx on the negative side should be a·dout, not dout: the slope of a·y is a",
            _dx_variant(lambda x, a, d: d), ("dx",),
            nudges=('dx is wrong on the negative side: what is the slope of f there?',)),
    Variant(HARD_CODED, _dx_variant(lambda x, a, d: np.where(x > 0, d, 0.25 * d)), ("dx",)),
    Variant("dx is wrong only where y == 0 exactly: take the negative side there, as Eq. (1) does "
            "(dx = a·dout)", outputs=("dx",), region=lambda x, a, d: x == 0),
    Variant("dx on the negative side is a·dout: the derivative of a·y with respect to y is a, not a·y",
            _dx_variant(lambda x, a, d: np.where(x > 0, d, _a(a, x) * x * d)), ("dx",)),
    Variant("dx must be multiplied by dout (chain rule): you returned the local slope only",
            _dx_variant(lambda x, a, d: np.where(x > 0, 1.0, _a(a, x) + 0 * x)), ("dx",)),
    Variant(LAST_AXIS, _dx_variant(lambda x, a, d: np.where(x > 0, d, a * d)), ("dx",)),
    # da
    Variant("da is not summed over the batch: Eq. (2) sums dout·min(0, y) over every position of the "
            "channel in every sample (you kept only the first sample)",
            _da_variant(lambda x, a, d: _sum_like_a((d * NEG(x))[:1], a)), ("da",),
            nudges=("da is too small: which positions does Eq. (2)'s sum run over?", 'the loss is a sum over the samples of the batch')),
    Variant("da is divided by the batch size: Eq. (2) is a sum over the batch, not a mean",
            _da_variant(lambda x, a, d: _sum_like_a(d * NEG(x), a) / x.shape[0]), ("da",),
            nudges=('da is off by a constant factor: is Eq. (2) a sum or a mean?',)),
    Variant("da is a mean over positions: Eq. (2) sums dout·min(0, y), it does not average",
            _da_variant(lambda x, a, d: _sum_like_a(d * NEG(x), a) * a.size / x.size), ("da",),
            nudges=('da is off by a constant factor: is Eq. (2) a sum or a mean?',)),
    Variant("da should only collect the positions with y <= 0: ∂f/∂a = 0 where y > 0 (Eq. 3); "
            "use min(0, y), not y",
            _da_variant(lambda x, a, d: _sum_like_a(d * x, a)), ("da",),
            nudges=('da collects too much: derive Eq. (3), ∂f/∂a, on each side of 0',)),
    Variant("∂f/∂a is y on the negative side, not 1 (Eq. 3): multiply dout by min(0, y)",
            _da_variant(lambda x, a, d: _sum_like_a(d * (x <= 0), a)), ("da",),
            nudges=('derive Eq. (3): differentiate a·y with respect to a',)),
    Variant("da must be multiplied by dout (chain rule, Eq. 2): Σ dout·min(0, y)",
            _da_variant(lambda x, a, d: _sum_like_a(NEG(x) + 0 * d, a)), ("da",),
            nudges=('Eq. (2) is a chain rule: what multiplies ∂f/∂a?',)),
    Variant("∂f/∂a = y on the negative side, not a·y (Eq. 3): drop the factor a",
            _da_variant(lambda x, a, d: _sum_like_a(d * _a(a, x) * NEG(x), a)), ("da",),
            nudges=('derive Eq. (3): differentiate a·y with respect to a',)),
    Variant("channel-wise a: da_i sums only the positions of channel i; you summed over all channels",
            _da_variant(lambda x, a, d: np.full(a.shape, np.sum(d * NEG(x)))), ("da",),
            nudges=('every channel gets the same da: which positions belong to a_i?',)),
]


def _shape_hint(name, got, want, case):
    x, a = case.args[0], case.args[1]
    if name == "da":
        text = (f"da must have a's shape {a.shape}: sum dout·min(0, y) over the batch"
                + (" and the spatial positions" if x.ndim == 4 else ""))
        if a.size == 1:
            text += ", and over the channels too (a is channel-shared)"
        if len(got) == x.ndim:
            text += "; your da still has x's axes: it is not summed over the batch"
        return text
    return f"{name} must have x's shape {x.shape}"


def _exception_hint(exc, case):
    x, a = case.args[0], case.args[1]
    if isinstance(exc, ValueError) and "broadcast" in str(exc) and a.size > 1:
        return LAST_AXIS
    return ""


def parts(seed=1502_01852):
    cases = _cases(seed)
    forward_cases = [Case(c.label, c.args[:2], c.names[:2], smooth=c.smooth) for c in cases]
    return [
        Part("prelu_forward", ref.prelu_forward, forward_cases, ("out",), catalogue=FORWARD_CATALOGUE,
             shape_hint=_shape_hint, exception_hint=_exception_hint),
        Part("prelu_backward", ref.prelu_backward, cases, ("dx", "da"), catalogue=BACKWARD_CATALOGUE,
             shape_hint=_shape_hint, exception_hint=_exception_hint, fd_forward=ref.prelu_forward, points=2.0),
    ]
