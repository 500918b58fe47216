"""Checks for the max-pooling exercise (lesson 03): maxpool_forward and maxpool_backward with ties.

Contract: x (N, C, H, W) float64, square k×k windows, stride s, no padding, Ho = (H − k)//s + 1.
In a window whose maximum appears more than once, the whole gradient goes to the FIRST maximum in
row-major order (np.argmax's rule; PyTorch's too); windows that overlap (s < k) add their gradients.
The cases use small integers (many ties), overlapping and skipping windows, and non-square maps.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import maxpool as ref

NAME = "maxpool"
TITLE = "max pooling forward and backward: the gradient of a max, ties to the first maximum"
FILENAME = "maxpool.py"
FUNCTIONS = ("maxpool_forward", "maxpool_backward")
LESSON = "03"
POINTS = {"maxpool_forward": 1.0, "maxpool_backward": 2.0}

SPECS = [((2, 3, 6, 6), 2, 2), ((2, 2, 7, 5), 3, 2), ((1, 3, 5, 6), 2, 1), ((2, 1, 8, 7), 2, 3)]


def _cases(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for shape, k, s in SPECS:
        x = rng.integers(0, 3, shape).astype(np.float64)   # many ties
        ho, wo = ref.out_size(shape[2], k, s), ref.out_size(shape[3], k, s)
        dout = rng.standard_normal((shape[0], shape[1], ho, wo))
        cases.append(Case(f"x {shape}, k={k}, stride={s}", (x, dout), ("x", "dout"), {"k": k, "stride": s}))
    return cases


def _dx_rule(pick):
    """A backward that sends each window's gradient to the entries `pick(window, max)` marks,
    divided among them as pick's weights say; windows add (or overwrite, see below)."""
    def backward(x, dout, k, stride, overwrite=False):
        dx = np.zeros_like(x)
        n, c, ho, wo = dout.shape
        for i in range(ho):
            for j in range(wo):
                win = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
                weights = pick(win, win.max(axis=(2, 3), keepdims=True))
                share = weights * dout[:, :, i:i + 1, j:j + 1]
                target = dx[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
                if overwrite:
                    target[weights != 0] = share[weights != 0]
                else:
                    target += share
        return dx
    return backward


def _last(win, m):
    flat = (win == m).reshape(win.shape[0], win.shape[1], -1)
    idx = flat.shape[-1] - 1 - np.argmax(flat[..., ::-1], axis=-1)
    out = np.zeros(flat.shape)
    np.put_along_axis(out, idx[..., None], 1.0, axis=-1)
    return out.reshape(win.shape)


def _first(win, m):
    flat = win.reshape(win.shape[0], win.shape[1], -1)
    out = np.zeros(flat.shape)
    np.put_along_axis(out, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return out.reshape(win.shape)


def _ties(x, dout, k, stride):
    """True where a window with a repeated maximum reads."""
    mask = np.zeros(x.shape, bool)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            tied = ((win == win.max(axis=(2, 3), keepdims=True)).sum(axis=(2, 3), keepdims=True) > 1)
            mask[:, :, i * stride:i * stride + k, j * stride:j * stride + k] |= np.broadcast_to(tied, win.shape)
    return mask


BACKWARD_CATALOGUE = [
    Variant("every tied maximum gets the gradient: the max selects ONE input, the first maximum of the "
            "window in row-major order (np.argmax's rule, as PyTorch); mask == max marks them all",
            _dx_rule(lambda w, m: (w == m) * 1.0),
            nudges=("your gradient is wrong only in windows whose maximum appears more than once",
                    "how many inputs does max() actually pass through? Which one does np.argmax pick?")),
    Variant("the gradient is split among the tied maxima; the max passes ONE input through, so its whole "
            "gradient goes to the first maximum (np.argmax), not a share to each",
            _dx_rule(lambda w, m: (w == m) / (w == m).sum(axis=(2, 3), keepdims=True)),
            nudges=("your gradient is wrong only in windows whose maximum appears more than once",)),
    Variant("ties go to the LAST maximum in your answer; the convention (np.argmax, PyTorch) is the first "
            "in row-major order", _dx_rule(_last),
            nudges=("your gradient is wrong only in windows with ties: which of the tied entries did you pick?",)),
    Variant("where windows overlap (stride < k) their gradients must add up (+=): you overwrite with =",
            lambda x, d, k, stride: _dx_rule(_first)(x, d, k, stride, overwrite=True),
            nudges=("your gradient is wrong only where two windows read the same input",)),
    Variant("dx is wrong only in windows with ties: send the whole gradient to the first maximum "
            "(np.argmax over the flattened window)", region=_ties),
]

FORWARD_CATALOGUE = [
    Variant("that is average pooling: max pooling keeps the largest entry of each window",
            lambda x, k, stride: ref.windows(x, k, stride).mean(axis=-1)),
]


def _shape_hint(name, got, want, case):
    x = case.args[0]
    k, s = case.kwargs["k"], case.kwargs["stride"]
    if name == "dx":
        return f"dx must have x's shape {x.shape}"
    return (f"out must have shape (N, C, Ho, Wo) = {tuple(want)} with Ho = (H − k) // stride + 1 = "
            f"{(x.shape[2] - k) // s + 1}")


def parts(seed=3):
    cases = _cases(seed)
    forward = [Case(c.label, c.args[:1], c.names[:1], dict(c.kwargs)) for c in cases]
    return [
        Part("maxpool_forward", ref.maxpool_forward, forward, catalogue=FORWARD_CATALOGUE,
             shape_hint=_shape_hint, points=POINTS["maxpool_forward"]),
        Part("maxpool_backward", ref.maxpool_backward, cases, ("dx",), catalogue=BACKWARD_CATALOGUE,
             shape_hint=_shape_hint, points=POINTS["maxpool_backward"]),
    ]
