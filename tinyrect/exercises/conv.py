"""Checks for the convolution exercise: im2col, conv2d_forward, conv2d_backward.

Contract (NCHW, cross-correlation, square kernels; lesson 03's layout, one column per output position):
  im2col(x, k, stride=1, padding=0) -> X_col (C*k*k, N*Ho*Wo),
      X_col[(c*k + ki)*k + kj, (n*Ho + i)*Wo + j] = xpad[n, c, i*stride + ki, j*stride + kj]
  conv2d_forward(x, w, b, stride=1, padding=0) -> out (N, F, Ho, Wo), w (F, C, k, k), b (F,)
  conv2d_backward(x, w, b, dout, stride=1, padding=0) -> (dx, dw, db)
  Ho = (H + 2*padding - k) // stride + 1 (floor: partial windows are dropped).
The cases use non-square images, strides 1, 2 and 3, padding 0, 1 and 2, a window that does not
tile the image, overlapping windows (col2im must add), Wo == F (a bias on the wrong axis runs) and
F == C (a weight with its two channel axes swapped runs).
im2col is graded first: when it fails, the other two parts (which usually call it) report "fix
im2col first" instead of a diagnosis computed from a broken X_col (Part.requires).
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.solutions import conv as ref

NAME = "conv"
TITLE = "2-D convolution as im2col + matrix product (NCHW): forward and backward"
FILENAME = "conv.py"
FUNCTIONS = ("im2col", "conv2d_forward", "conv2d_backward")
LESSON = "03"

SPECS = [  # x shape, (F, k), stride, padding
    ((2, 3, 5, 6), (4, 3), 1, 0),    # Wo == F == 4
    ((2, 2, 7, 5), (3, 3), 2, 1),    # Wo == F == 3, stride 2
    ((3, 3, 6, 7), (3, 2), 3, 0),    # stride 3 > k, F == C
    ((1, 1, 4, 4), (2, 3), 1, 2),    # padding 2
    ((2, 1, 8, 9), (2, 3), 2, 0),    # (H - k) not a multiple of the stride
    ((2, 3, 5, 5), (2, 5), 1, 0),    # one window: 1 x 1 output
]


def _cases(seed):
    rng = np.random.default_rng(seed)
    cases = []
    for shape, (f, k), stride, padding in SPECS:
        x = rng.standard_normal(shape)
        w = rng.standard_normal((f, shape[1], k, k))
        b = rng.standard_normal(f)
        ho, wo = ref.out_size(shape[2], k, stride, padding), ref.out_size(shape[3], k, stride, padding)
        dout = rng.standard_normal((shape[0], f, ho, wo))
        cases.append(Case(f"x {shape}", (x, w, b, dout), ("x", "w", "b", "dout"),
                          {"stride": stride, "padding": padding}, smooth=True))
    return cases


# ---- wrong variants
def _cols_order(x, k, stride=1, padding=0, order=(0, 1, 2)):
    """im2col with the (c, ki, kj) row axes permuted."""
    cols = ref.im2col(x, k, stride, padding).reshape(x.shape[1], k, k, -1)
    return cols.transpose(*order, 3).reshape(-1, cols.shape[-1])


def _im2col_columns_swapped(x, k, stride=1, padding=0):
    n, c, h, w = x.shape
    ho, wo = ref.out_size(h, k, stride, padding), ref.out_size(w, k, stride, padding)
    return ref.im2col(x, k, stride, padding).reshape(-1, n, ho, wo).transpose(0, 2, 3, 1).reshape(-1, n * ho * wo)


def _im2col_edge(x, k, stride=1, padding=0):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode="edge")
    return ref.im2col(xp, k, stride, 0)


IM2COL_CATALOGUE = [
    Variant("the rows are ordered (ki, kj, c); the contract orders them (c, ki, kj), the order in which "
            "w.reshape(F, C*k*k) lists the weights", lambda x, k, stride=1, padding=0: _cols_order(x, k, stride, padding, (1, 2, 0)),
            nudges=("X_col's rows must follow the order in which w.reshape(F, C·k·k) lists the weights",)),
    Variant("inside a patch, ki (the kernel row) comes before kj (the kernel column): row (c*k + ki)*k + kj",
            lambda x, k, stride=1, padding=0: _cols_order(x, k, stride, padding, (0, 2, 1))),
    Variant("the columns are ordered (i, j, n); the contract orders them (n, i, j): column (n*Ho + i)*Wo + j",
            _im2col_columns_swapped),
    Variant("the padding must be zeros (np.pad's default 'constant' mode), not copies of the border",
            _im2col_edge),
]


def _forward_flipped(x, w, b, stride=1, padding=0):
    return ref.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)


FORWARD_CATALOGUE = [
    Variant("you flipped the kernel (a true convolution); CNNs compute a cross-correlation: "
            "out = Σ w[f, c, ki, kj] · xpad[n, c, i*stride + ki, j*stride + kj], no flip", _forward_flipped),
    Variant("you forgot the bias", lambda x, w, b, stride=1, padding=0: ref.conv2d_forward(x, w, 0 * b, stride, padding)),
    Variant("the bias is added along the last axis (width): add it per output channel, b.reshape(1, F, 1, 1)",
            lambda x, w, b, stride=1, padding=0: ref.conv2d_forward(x, w, 0 * b, stride, padding) + b),
    Variant("w is (F, C, k, k): output channels first, input channels second; you swapped them",
            lambda x, w, b, stride=1, padding=0: ref.conv2d_forward(x, w.transpose(1, 0, 2, 3), b, stride, padding)),
]


def _col2im_overwrite(dcols, x_shape, k, stride, padding):
    n, c, h, w = x_shape
    ho, wo = ref.out_size(h, k, stride, padding), ref.out_size(w, k, stride, padding)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    d6 = dcols.reshape(n, ho, wo, c, k, k)
    for ki in range(k):
        for kj in range(k):
            dxp[:, :, ki:ki + stride * ho:stride, kj:kj + stride * wo:stride] = d6[:, :, :, :, ki, kj].transpose(0, 3, 1, 2)
    return dxp[:, :, padding:padding + h, padding:padding + w]


def _dx_overwrite(x, w, b, dout, stride=1, padding=0):
    f = w.shape[0]
    dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    return (_col2im_overwrite(dout2 @ w.reshape(f, -1), x.shape, w.shape[2], stride, padding), None, None)


def _grads(x, w, b, dout, stride=1, padding=0):
    return ref.conv2d_backward(x, w, b, dout, stride, padding)


def _overlaps(x, w, b, dout, stride=1, padding=0):
    """True where two or more windows read the same input entry."""
    k, f = w.shape[2], w.shape[0]
    ones = np.ones((x.shape[1] * k * k, dout.size // f))
    return ref.col2im(ones, x.shape, k, stride, padding) >= 2


BACKWARD_CATALOGUE = [
    Variant("where windows overlap their gradients must add up: col2im accumulates with +=, you overwrite "
            "with =", _dx_overwrite, ("dx",),
            nudges=('dx is wrong only where two windows read the same pixel',)),
    Variant("dx is wrong only where windows overlap: there the gradients of every window must add up "
            "(col2im accumulates with +=)", outputs=("dx",), region=_overlaps),
    Variant("dx is off by a 180° rotation of the kernel: with col2im(W_colᵀ · dY_col) no flip is needed; as a "
            "full convolution, flip w exactly once",
            lambda x, w, b, d, stride=1, padding=0: _grads(x, w[:, :, ::-1, ::-1], b, d, stride, padding), ("dx",)),
    Variant("dw is rotated by 180° (flipped): dw[f, c, ki, kj] = Σ dout[n, f, i, j] · xpad[n, c, i*stride + ki, "
            "j*stride + kj], no flip",
            lambda x, w, b, d, stride=1, padding=0: (None, _grads(x, w, b, d, stride, padding)[1][:, :, ::-1, ::-1], None),
            ("dw",)),
    Variant("dw is divided by the batch size: the gradient sums over the batch",
            lambda x, w, b, d, stride=1, padding=0: (None, _grads(x, w, b, d, stride, padding)[1] / x.shape[0], None),
            ("dw",),
            nudges=('dw is off by a constant factor: the loss sums over the batch',)),
    Variant("dw is not summed over the batch (you kept the first sample only)",
            lambda x, w, b, d, stride=1, padding=0: (None, *_grads(x[:1], w, b, d[:1], stride, padding)[1:]),
            ("dw", "db")),
    Variant("db averages; the gradient sums dout over the batch and every position: dout.sum(axis=(0, 2, 3))",
            lambda x, w, b, d, stride=1, padding=0: (None, None, d.mean(axis=(0, 2, 3))), ("db",)),
    Variant("db is divided by the batch size: sum dout over the batch and every position",
            lambda x, w, b, d, stride=1, padding=0: (None, None, d.sum(axis=(0, 2, 3)) / x.shape[0]), ("db",)),
    Variant("db must also sum over the positions (i, j): db = dout.sum(axis=(0, 2, 3))",
            lambda x, w, b, d, stride=1, padding=0: (None, None, d[:, :, 0, 0].sum(axis=0)), ("db",)),
]


def _shape_hint(name, got, want, case):
    x, w = case.args[0], case.args[1]
    stride, padding = case.kwargs["stride"], case.kwargs["padding"]
    k = w if isinstance(w, int) else w.shape[2]
    if name == "out" and len(want) == 2:  # im2col
        if tuple(got) == tuple(want)[::-1]:
            return ("your X_col is transposed: lesson 03's layout has one row per weight (c, ki, kj), C*k*k rows, "
                    "and one column per output position (n, i, j), N*Ho*Wo columns")
        return (f"X_col must have shape (C*k*k, N*Ho*Wo) = {want}: Ho = (H + 2*padding - k) // stride + 1 "
                f"= {(x.shape[2] + 2 * padding - k) // stride + 1} here")
    if name == "out":
        ho = (x.shape[2] + 2 * padding - k) // stride + 1
        text = f"out must have shape (N, F, Ho, Wo) = {want}, Ho = (H + 2*padding - k) // stride + 1 = {ho}"
        if len(got) == 4 and got[2] > want[2]:
            text += " (floor division: a window that does not fit is dropped; did you ignore the stride or round up?)"
        return text
    if name == "dx":
        if padding and len(got) == 4 and (got[2], got[3]) == (x.shape[2] + 2 * padding, x.shape[3] + 2 * padding):
            return "dx still has the padding: crop it, dx_padded[:, :, p:p + H, p:p + W]"
        if len(got) == 4 and got[2] == 0:
            return "x[:, :, p:-p] is empty when p == 0: crop with p:p + H instead"
        return f"dx must have x's shape {x.shape}"
    if name == "db":
        return "db must have b's shape (F,): sum dout over the batch and every position, axis=(0, 2, 3)"
    return f"dw must have w's shape {tuple(want)}"


def _exception_hint(exc, case):
    if isinstance(exc, (ValueError, IndexError)) and case.kwargs.get("padding"):
        return "check the padding: pad H and W by `padding` zeros on each side (np.pad) before taking windows"
    return ""


def parts(seed=2015):
    cases = _cases(seed)
    im2col_cases = [Case(c.label, (c.args[0], c.args[1].shape[2]), ("x", "k"), dict(c.kwargs)) for c in cases]
    forward_cases = [Case(c.label, c.args[:3], c.names[:3], dict(c.kwargs)) for c in cases]
    return [
        Part("im2col", ref.im2col, im2col_cases, catalogue=IM2COL_CATALOGUE, shape_hint=_shape_hint,
             exception_hint=_exception_hint),
        Part("conv2d_forward", ref.conv2d_forward, forward_cases, catalogue=FORWARD_CATALOGUE,
             shape_hint=_shape_hint, exception_hint=_exception_hint, requires="im2col"),
        Part("conv2d_backward", ref.conv2d_backward, cases, ("dx", "dw", "db"), catalogue=BACKWARD_CATALOGUE,
             shape_hint=_shape_hint, exception_hint=_exception_hint, fd_forward=ref.conv2d_forward,
             requires="im2col", points=2.0),
    ]
