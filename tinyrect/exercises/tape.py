"""Checks for the tape exercise (lesson 01): two new ops on tinyrect's tape.

softplus(x) and mul(a, b) receive tinyrect Tensors and must return a Tensor built with
`type(x)._from_op(data, parents, backward, op)`, where backward(dout) returns one gradient per
parent. The drivers (drivers.py, run inside the graded process) build float64 leaf Tensors, call
the student's op, run backward with a random dout and return plain arrays: the output and the
gradients that reached the leaves. In the last `mul` cases a and b are the SAME tensor: the tape
adds the two gradients, which is only right if the backward neither writes into dout nor returns
one gradient for both parents.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.drivers import tape_binary, tape_unary
from tinyrect.exercises.solutions import tape as ref

NAME = "tape"
TITLE = "two new ops on the tape (Tensor._from_op): softplus and mul, gradient accumulation"
FILENAME = "tape.py"
FUNCTIONS = ("softplus", "mul")
LESSON = "01"
NEEDS_TINYRECT = True   # the drivers build tinyrect Tensors in the graded process
POINTS = {"softplus": 1.0, "mul": 1.0}


def _unary(forward, local):
    """A wrong softplus, written as an op on the tape: y = forward(x), dx = local(x, dout)."""
    def op(t):
        data = t.data
        return type(t)._from_op(forward(data), (t,), lambda d: (local(data, d),), "softplus")
    return lambda x, dout: tape_unary(op, x, dout)


def _binary(local):
    """A wrong mul: y = a·b, (da, db) = local(a, b, dout)."""
    def op(ta, tb):
        a, b = ta.data, tb.data
        return type(ta)._from_op(a * b, (ta, tb), lambda d: local(a, b, d), "mul")
    return lambda a, b, dout, same=False: tape_binary(op, a, b, dout, same)


SP = lambda x: np.logaddexp(0.0, x)  # noqa: E731
SIG = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731

SOFTPLUS_CATALOGUE = [
    Variant("dx = dout · e^x is the derivative of e^x, not of log(1 + e^x): by the chain rule "
            "d/dx log(1 + e^x) = e^x / (1 + e^x) = σ(x)", _unary(SP, lambda x, d: d * np.exp(x)), ("dx",),
            nudges=("the gradient is wrong everywhere: differentiate log(1 + e^x) again, with the chain rule",
                    "d/dx log(u) = u'/u with u = 1 + e^x")),
    Variant("the backward must multiply by dout (chain rule): dx = dout · σ(x), you returned σ(x)",
            _unary(SP, lambda x, d: SIG(x) + 0 * d), ("dx",),
            nudges=("backward(dout) receives ∂L/∂y: what does the chain rule do with it?",)),
    Variant("σ(−x) = 1 − σ(x) is the slope of softplus(−x); softplus's slope is σ(x) = 1/(1 + e^−x)",
            _unary(SP, lambda x, d: d * SIG(-x)), ("dx",),
            nudges=("check the sign inside the exponential: is the slope near 1 for large positive x?",)),
    Variant("the forward is log(1 + e^x) (softplus), not log(e^x) = x or e^x",
            _unary(np.exp, lambda x, d: d * SIG(x)), ("out",)),
]

MUL_CATALOGUE = [
    Variant("the gradients are swapped: ∂(a·b)/∂a = b, so da = dout·b and db = dout·a, in the order of the "
            "parents tuple (a, b)", _binary(lambda a, b, d: (d * a, d * b)), ("da", "db"),
            nudges=("which input does ∂(a·b)/∂a depend on?",)),
    Variant("the backward must multiply by dout (chain rule): da = dout·b, db = dout·a",
            _binary(lambda a, b, d: (b + 0 * d, a + 0 * d)), ("da", "db")),
    Variant("your backward writes into dout (dout *= ...): the tape hands the same dout array to both "
            "gradients, so the second one is computed from a changed dout. Build new arrays (dout * b)",
            _binary(lambda a, b, d: (np.multiply(d, b, out=d), d * a)), ("db",),
            nudges=("da is right, db is not: what did computing da do to dout?",)),
]


def _cases(seed):
    rng = np.random.default_rng(seed)
    unary, binary = [], []
    for shape in [(5,), (3, 4), (2, 3, 4)]:
        x = rng.uniform(-6, 6, shape)
        unary.append(Case(f"x {shape}", (x, rng.standard_normal(shape)), ("x", "dout"), smooth=True))
        a, b = rng.standard_normal(shape), rng.standard_normal(shape)
        binary.append(Case(f"a, b {shape}", (a, b, rng.standard_normal(shape)), ("a", "b", "dout"), smooth=True))
    for shape in [(4,), (2, 3)]:   # the same tensor twice: the tape accumulates
        a = rng.standard_normal(shape)
        binary.append(Case(f"a is b {shape}", (a, a.copy(), rng.standard_normal(shape)), ("a", "b", "dout"),
                           {"same": True}))
    return unary, binary


def parts(seed=1502):
    unary, binary = _cases(seed)
    return [
        Part("softplus", lambda x, dout: tape_unary(ref.softplus, x, dout), unary, ("out", "dx"),
             catalogue=SOFTPLUS_CATALOGUE, driver=tape_unary, points=POINTS["softplus"]),
        Part("mul", lambda a, b, dout, same=False: tape_binary(ref.mul, a, b, dout, same), binary,
             ("out", "da", "db"), catalogue=MUL_CATALOGUE, driver=tape_binary, points=POINTS["mul"]),
    ]
