"""Convolution (im2col + GEMM) and padding, each with a hand-derived backward.

conv2d as a matrix product (shapes for one chunk of m samples; P = Ho·Wo output pixels each):

    X_col = im2col(x)        (C·kh·kw, m·P)   column = one input patch (kernels/im2col.py)
    W_col = w.reshape(F, -1) (F, C·kh·kw)     row = one filter
    Y     = W_col · X_col + b                 (F, m·P)  -> y (m, F, Ho, Wo)

This is the paper's Eq. (5), y = W x + b, for every pixel at once: one column of X_col is the
paper's x (k²c × 1, so n = k²c: the fan-in of He init, Eq. 10), W_col is its W (d × n).

and its backward, from dY = dL/dY (the same matrix layout):

    dW_col = dY · X_colᵀ          (every weight met every patch: sum over all output pixels)
    dX     = col2im(W_colᵀ · dY)  (each patch entry goes back, added, to the pixel it came from)
    db     = Σ dY over samples and pixels

W_col, dY and col2im together are the paper's Eq. (11), Δx = Ŵ Δy: each input pixel collects
the gradients of the k×k output pixels in d = F channels that it fed (n̂ = k²d, Eq. 14).

Two fast paths compute these products, both by chunks of the batch in parallel threads and
with the bias as one more weight on an input that is always 1: tinyrect/kernels/direct.py
(the forward and dW of every conv2d, and dX at stride 1: register-blocked tiles and strips
that read X_col's entries straight from a padded copy of x, never building X_col) and
tinyrect/kernels/conv.py (im2col + one GEMM per chunk; dX of strided convolutions, and of
layers with 1-3 input channels whose rows do not fill whole vectors). The slow, obvious loops
that define the same numbers are in tinyrect/kernels/reference.py; tests compare all three. The paper's
conv layers (Sec. 2.2) are exactly this op; their weights get He init (Eq. 10) in
tinyrect.nn.Conv2d.
"""
from __future__ import annotations

import numbers

import numpy as np

from tinyrect.functional import geometry as _geo
from tinyrect.kernels import conv as _fast
from tinyrect.kernels import direct as _direct
from tinyrect.kernels import rectifiers as _rect
from tinyrect.tensor import Tensor, as_tensor


# ----------------------------------------------------------------------------- conv2d
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros") -> Tensor:
    """2-D convolution (cross-correlation) of x (N, C, H, W) with weight (F, C, kh, kw) + bias (F,).

    stride, padding, dilation: int or (height, width) pair; padding may also be 'valid' (0) or
    'same' (stride 1 only; output as large as the input). padding_mode 'zeros' or 'circular'
    (wrap around, as torch.nn.Conv2d(padding_mode='circular')). Output (N, F, Ho, Wo) with
    Ho = floor((H + 2·ph - dh·(kh - 1) - 1) / sh) + 1.  Forward and backward: module docstring
    (Y = W_col·X_col + b;  dW = dY·X_colᵀ;  dX = col2im(W_colᵀ·dY);  db = Σ dY).
    """
    return _convolve(x, weight, bias, stride, padding, dilation, padding_mode)


def conv2d_relu(x, weight, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros") -> Tensor:
    """relu(conv2d(x, weight, bias, ...)) as ONE op: the same numbers as the two ops (conv2d above,
    functional.relu), computed with less work and memory. The ReLU is applied as each output is
    written, and the backward folds ReLU's derivative into dY before conv2d's:

        out = max(0, Y)          dY = dout · 1[out > 0]    (1[out > 0] = 1[Y > 0]; 0 at Y = 0)

    Only `out` is kept (the next layer keeps it anyway), not Y as well. nn.Sequential calls this
    for a Conv2d followed by a ReLU when no hook watches either of them.
    """
    return _convolve(x, weight, bias, stride, padding, dilation, padding_mode, "relu")


def conv2d_prelu(x, weight, bias, slopes, stride=1, padding=0, dilation=1,
                 padding_mode="zeros") -> Tensor:
    """prelu(conv2d(x, weight, bias, ...), slopes) as ONE op (conv2d above, functional.prelu):

        out = max(0, Y) + a_c · min(0, Y)                                  (Eq. 1)
        dY = dout · (1 if Y > 0 else a_c),  da_c = Σ dout · min(0, Y)      (Eq. 2-3)

    then conv2d's backward with dY. `slopes` has 1 element (channel-shared) or F (channel-wise).
    The rectifier runs on Y right after it is computed; dY and da are made as F.prelu
    makes them. Y is kept for da (a may be 0, so out alone is not enough).
    nn.Sequential calls this for a Conv2d followed by a PReLU when no hook watches either.
    """
    return _convolve(x, weight, bias, stride, padding, dilation, padding_mode, as_tensor(slopes))


def _convolve(x, weight, bias, stride, padding, dilation, padding_mode, rectifier=None) -> Tensor:
    """conv2d, followed by a fused rectifier: None, "relu" or PReLU's slopes (a Tensor)."""
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    _geo.check_conv_shapes(x.shape, weight.shape, None if bias is None else bias.shape)
    dtype = _geo.float_dtype(x, weight, "conv2d")
    stride, dilation, pads = _geo.conv_padding(weight.shape[2:], stride, padding, dilation,
                                               padding_mode)
    if padding_mode == "circular" and any(pads):            # wrap first, then no zero padding
        top, bottom, left, right = pads
        x, pads = pad(x, (left, right, top, bottom), mode="circular"), (0, 0, 0, 0)
    g = _geo.conv_output(*x.shape[2:], weight.shape[2:], stride, pads, dilation)

    xd = np.ascontiguousarray(x.data, dtype=dtype)
    w_col = np.ascontiguousarray(weight.data, dtype=dtype).reshape(weight.shape[0], -1)  # W_col
    # the bias rides along as one more weight on a constant input 1 (kernels/conv.py)
    w_aug = w_col if bias is None else np.hstack([w_col, bias.data.astype(dtype)[:, None]])
    parents = (x, weight) if bias is None else (x, weight, bias)
    fused = _Fused(rectifier, x.shape[0], weight.shape[0], g, dtype)
    path = _direct if _direct.suits(x.shape[1], g) else _fast          # which fast path
    relu = fused.kind == "relu"                       # ReLU is applied as each output is written
    y = path.forward(xd, w_aug, g, fused.epilogue, relu=relu)              # Y = W_col·X_col + b
    out = fused.output(y)
    parents += fused.parents

    def backward(dout):
        """dW = dY·X_colᵀ,  dX = col2im(W_colᵀ·dY),  db = Σ dY (over n, ho, wo);
        after a fused rectifier dY (and PReLU's da) first, as in conv2d_relu / conv2d_prelu."""
        dout, da = fused.rectifier_backward(np.asarray(dout, dtype=dtype), y)
        dx, dw, db = path.backward(xd, w_col, dout, g, need_dx=x.requires_grad,
                                   need_dw=weight.requires_grad, has_bias=bias is not None,
                                   relu_out=out if relu else None)
        grads = [None if dx is None else dx.astype(x.dtype, copy=False),
                 None if dw is None else dw.reshape(weight.shape).astype(weight.dtype, copy=False)]
        if bias is not None:
            grads.append(db.astype(bias.dtype, copy=False))
        return tuple(grads) + fused.slope_grad(da)

    return Tensor._from_op(out, parents, backward, fused.name)


class _Fused:
    """The rectifier fused into _convolve. ReLU needs nothing here: the kernels apply it as they
    write each output and fold 1[out > 0] into dY as they read it (`relu`, `relu_out`). PReLU:
    its per-chunk forward (epilogue) and the start of its backward (rectifier_backward), the
    formulas of conv2d_prelu."""

    def __init__(self, rectifier, N, F, g, dtype):
        self.kind = "conv2d" if rectifier is None else "relu" if isinstance(rectifier, str) else "prelu"
        self.shape4 = (F, g.Ho, g.Wo)
        self.parents, self.epilogue, self.out = (), None, None
        if self.kind == "prelu":
            slopes = rectifier
            if slopes.size not in (1, F):
                raise ValueError(f"conv2d_prelu: slopes must have 1 or {F} elements (one per "
                                 f"output channel), got shape {slopes.shape}")
            self.slopes, self.parents = slopes, (slopes,)
            self.a = np.ascontiguousarray(slopes.data.reshape(-1), dtype=dtype)
            self.out = np.empty((N, F, g.Ho, g.Wo), dtype)
            self.epilogue = lambda yc, n0, n1: _rect.prelu_forward_4d_into(   # out = Eq. (1)
                yc.reshape((n1 - n0,) + self.shape4), self.a, self.out[n0:n1])
        self.name = {"conv2d": "conv2d", "relu": "conv2d_relu", "prelu": "conv2d_prelu"}[self.kind]

    def output(self, y):
        return self.out if self.kind == "prelu" else y

    def rectifier_backward(self, dout, y):
        """PReLU: (dY, da) = (dout · (1 if Y > 0 else a_c), Σ dout · min(0, Y)) (Eq. 1-3) over the
        whole batch, the very sums F.prelu makes (so hooks, which stop the fusion, see the same
        numbers); ReLU and none: (dout, None)."""
        if self.kind != "prelu":
            return dout, None
        return _rect.prelu_backward_4d(y, self.a, dout.reshape(y.shape))

    def slope_grad(self, da) -> tuple:
        if self.kind != "prelu":
            return ()
        if not self.slopes.requires_grad:
            return (None,)
        da = np.sum(da, dtype=np.float64) if self.slopes.size == 1 else da   # shared: Σ over c
        return (np.asarray(da, dtype=self.slopes.dtype).reshape(self.slopes.shape),)


# ----------------------------------------------------------------------------- pad
def _pad_widths(pad, op="pad") -> tuple:
    """(left, right, top, bottom) from an int or torch's flat tuple (last dim first)."""
    if isinstance(pad, numbers.Integral):
        pad = (int(pad),) * 4
    pad = tuple(pad)
    if len(pad) == 2:
        pad = pad + (0, 0)
    if len(pad) != 4 or not all(isinstance(p, numbers.Integral) for p in pad):
        raise ValueError(f"{op}: pad must be an int, (left, right) or (left, right, top, bottom) "
                         f"as in torch.nn.functional.pad, got {pad!r}")
    if min(pad) < 0:
        raise ValueError(f"{op}: negative padding {pad} is not supported; crop with slicing instead")
    return tuple(int(p) for p in pad)


def pad(x, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last two dimensions of x (any ndim >= 2), with PyTorch's convention:

    pad = p (all four sides) | (left, right) (last dim only) | (left, right, top, bottom).
    mode 'constant' fills with `value`; mode 'circular' wraps around (the right padding copies
    the first columns, and so on), needing each pad <= the size of its dimension.
    Backward: constant: dx = dout[..., top:top+H, left:left+W] (the padding gets no gradient);
    circular: the same crop, plus every padded strip added back to the pixels it copied.
    """
    x = as_tensor(x)
    left, right, top, bottom = _pad_widths(pad)
    if x.ndim < 2:
        raise ValueError(f"pad: input must have at least 2 dimensions, got shape {x.shape}")
    H, W = x.shape[-2:]
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        out = np.pad(x.data, widths, mode="constant", constant_values=x.dtype.type(value))
    elif mode == "circular":
        if max(top, bottom) > H or max(left, right) > W:
            raise ValueError(f"pad: circular padding {(left, right, top, bottom)} is larger than the "
                             f"input's last two dimensions {H}x{W}; pad at most the size per side")
        out = np.pad(x.data, widths, mode="wrap")
    else:
        raise ValueError(f"pad: mode must be 'constant' or 'circular', got {mode!r}")

    def backward(dout):
        """constant: crop;  circular: crop, then add each wrapped strip to the pixels it copied."""
        if mode == "constant":
            return (np.ascontiguousarray(dout[..., top:top + H, left:left + W]),)
        cols = dout[..., left:left + W].copy()             # fold the columns first ...
        if left:
            cols[..., W - left:] += dout[..., :left]          # left strip copied the last columns
        if right:
            cols[..., :right] += dout[..., left + W:]         # right strip copied the first ones
        dx = cols[..., top:top + H, :].copy()               # ... then the rows
        if top:
            dx[..., H - top:, :] += cols[..., :top, :]
        if bottom:
            dx[..., :bottom, :] += cols[..., top + H:, :]
        return (dx,)

    return Tensor._from_op(out, (x,), backward, "pad")


def __getattr__(name):
    """linear and flatten moved to tinyrect.functional.linear; the old path warns and works."""
    if name in ("linear", "flatten"):
        import warnings

        from tinyrect.functional import linear as _linear

        warnings.warn(f"tinyrect.functional.conv.{name} moved to tinyrect.functional.linear; "
                      f"import it from there (or from tinyrect.functional)", DeprecationWarning,
                      stacklevel=2)
        return getattr(_linear, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
