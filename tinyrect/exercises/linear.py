"""Checks for the linear-layer exercise: linear_forward(x, w, b) and linear_backward(x, w, b, dout).

Contract: x (N, n), w (d, n) like the paper's W (Eq. 5), b (d,); out = x @ w.T + b of shape (N, d).
One case is square (N = n = d) so that a transposed w, dw or dx, or a bias summed over the wrong
axis, runs without error and has to be caught by its values.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import linear as ref

NAME = "linear"
TITLE = "fully connected layer y = W x + b (Eq. 5) on a batch: forward and backward"
FILENAME = "linear.py"
FUNCTIONS = ("linear_forward", "linear_backward")
LESSON = "02"


def _cases(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for n_batch, n_in, n_out in [(5, 4, 3), (4, 4, 4), (7, 2, 5), (3, 6, 1)]:
        x = rng.standard_normal((n_batch, n_in))
        w = rng.standard_normal((n_out, n_in))
        b = rng.standard_normal(n_out)
        dout = rng.standard_normal((n_batch, n_out))
        cases.append(Case(f"x {x.shape}", (x, w, b, dout), ("x", "w", "b", "dout"), smooth=True))
    return cases


FORWARD_CATALOGUE = [
    Variant("you forgot the bias: out = x @ w.T + b", lambda x, w, b: x @ w.T),
    Variant("w has shape (d, n) (outputs, inputs) like the paper's W: out = x @ w.T + b, not x @ w",
            lambda x, w, b: x @ w + b),
    Variant("the bias is subtracted: out = x @ w.T + b", lambda x, w, b: x @ w.T - b),
]


def _grads(x, w, b, d):
    return ref.linear_backward(x, w, b, d)


BACKWARD_CATALOGUE = [
    Variant("dx = dout @ w (shape (N, n)); dout @ w.T uses w the wrong way round",
            lambda x, w, b, d: (d @ w.T, *_grads(x, w, b, d)[1:]), ("dx",),
            nudges=('write out[s, i] = Σ_j w[i, j] x[s, j] + b[i] and differentiate with respect to x[s, j]',)),
    Variant("dw is transposed: dw = dout.T @ x has w's shape (d, n)",
            lambda x, w, b, d: (None, x.T @ d, None), ("dw",)),
    Variant("dw is divided by the batch size: gradients of a sum add up over the batch",
            lambda x, w, b, d: (None, d.T @ x / x.shape[0], None), ("dw",),
            nudges=('dw is off by a constant factor: the loss sums over the batch',)),
    Variant("dw is not summed over the batch: dw = dout.T @ x sums dout[s] x[s]ᵀ over every sample s",
            lambda x, w, b, d: (None, np.outer(d[0], x[0]), None), ("dw",)),
    Variant("db averages over the batch; the gradient sums it: db = dout.sum(axis=0)",
            lambda x, w, b, d: (None, None, d.mean(axis=0)), ("db",),
            nudges=('db is off by a constant factor: the loss sums over the batch',)),
    Variant("db is not summed over the batch: db = dout.sum(axis=0)",
            lambda x, w, b, d: (None, None, d[0].copy()), ("db",)),
    Variant("db sums over the wrong axis: the batch is axis 0, db = dout.sum(axis=0)",
            lambda x, w, b, d: (None, None, d.sum(axis=1)), ("db",)),
]


def _shape_hint(name, got, want, case):
    x, w, b = case.args[:3]
    if name == "dw" and tuple(got) == tuple(want)[::-1]:
        return "dw is transposed: dw = dout.T @ x has w's shape (d, n)"
    if name == "db" and tuple(got) == (x.shape[0],):
        return "db sums over the wrong axis: the batch is axis 0, db = dout.sum(axis=0)"
    if name == "db" and len(got) == 2:
        return "db must have b's shape (d,): sum dout over the batch (axis 0)"
    if name == "out" and tuple(got) == tuple(want)[::-1]:
        return "out is transposed: one sample per row, out = x @ w.T + b of shape (N, d)"
    return {"dx": "dx must have x's shape (N, n): dx = dout @ w",
            "dw": "dw must have w's shape (d, n): dw = dout.T @ x"}.get(name, "")


def _exception_hint(exc, case):
    if isinstance(exc, ValueError) and ("matmul" in str(exc) or "broadcast" in str(exc)):
        return "w has shape (d, n) (outputs, inputs), like the paper's W in Eq. (5): out = x @ w.T + b"
    return ""


def _backward_exception_hint(exc, case):
    if isinstance(exc, ValueError) and ("matmul" in str(exc) or "broadcast" in str(exc)):
        return ("a shape mismatch: with x (N, n), w (d, n), dout (N, d): dx = dout @ w, dw = dout.T @ x, "
                "db = dout.sum(axis=0)")
    return ""


def parts(seed=5):
    cases = _cases(seed)
    forward_cases = [Case(c.label, c.args[:3], c.names[:3], smooth=True) for c in cases]
    return [
        Part("linear_forward", ref.linear_forward, forward_cases, catalogue=FORWARD_CATALOGUE,
             shape_hint=_shape_hint, exception_hint=_exception_hint),
        Part("linear_backward", ref.linear_backward, cases, ("dx", "dw", "db"), catalogue=BACKWARD_CATALOGUE,
             shape_hint=_shape_hint, exception_hint=_backward_exception_hint, fd_forward=ref.linear_forward,
             points=2.0),
    ]
