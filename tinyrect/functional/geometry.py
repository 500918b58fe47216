"""The bookkeeping of a convolution window: argument checks and output sizes, kept out of conv.py
so that conv2d there reads as the math.

    Ho = floor((H + 2·ph - dh·(kh - 1) - 1) / sh) + 1        (and the same for Wo)

`conv_geometry` turns conv2d's arguments into a `ConvGeometry` (or a clear error naming the
problem and the fix); `pair` reads an int-or-pair argument (also used by pooling).
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np


class ConvGeometry(NamedTuple):
    """kernel (kh, kw), stride (sh, sw), zero padding (ph, pw), dilation (dh, dw), output (Ho, Wo)."""
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    Ho: int
    Wo: int


def pair(value, name: str, op: str, minimum: int) -> tuple:
    """(a, b) from an int or a pair of ints, each >= minimum; else a clear error."""
    if isinstance(value, numbers.Integral):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
        if not all(isinstance(v, numbers.Integral) for v in value):
            raise TypeError
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if a < minimum or b < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return a, b


def float_dtype(x, w, op: str):
    """The common float dtype of x and w (float32, or float64 if either is float64)."""
    for t, name in ((x, "input"), (w, "weight")):
        if t.dtype not in (np.float32, np.float64):
            raise TypeError(f"{op}: {name} must be float32 or float64, got {t.dtype}; "
                            f"convert it first, e.g. x.astype(np.float32)")
    return np.result_type(x.dtype, w.dtype)


def check_conv_shapes(x_shape, w_shape, b_shape) -> None:
    """x (N, C, H, W), weight (F, C, kh, kw), bias (F,) or None."""
    if len(x_shape) != 4:
        raise ValueError(f"conv2d: input must be 4-D (N, C, H, W), got shape {x_shape}; "
                         "for one image use x.reshape(1, C, H, W)")
    if len(w_shape) != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got "
                         f"shape {w_shape}")
    if w_shape[1] != x_shape[1]:
        raise ValueError(f"conv2d: input has {x_shape[1]} channels (shape {x_shape}) but the weight "
                         f"expects {w_shape[1]} (weight shape {w_shape} = (out, in, kH, kW)); make "
                         f"weight.shape[1] equal x.shape[1]")
    if b_shape is not None and b_shape != (w_shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({w_shape[0]},) (one per output channel), "
                         f"got {b_shape}")


def conv_padding(kernel, stride, padding, dilation, padding_mode) -> tuple:
    """((sh, sw), (dh, dw), (top, bottom, left, right) padding) from conv2d's arguments;
    'same' pads top/left by half the extent and bottom/right by the rest."""
    kh, kw = kernel
    sh, sw = pair(stride, "stride", "conv2d", 1)
    dh, dw = pair(dilation, "dilation", "conv2d", 1)
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1      # kernel extent with dilation
    if isinstance(padding, str) and padding not in ("valid", "same"):
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    if padding_mode not in ("zeros", "circular"):
        raise ValueError(f"conv2d: padding_mode must be 'zeros' or 'circular', got {padding_mode!r}")
    if padding == "same":
        if (sh, sw) != (1, 1):
            raise ValueError("conv2d: padding='same' needs stride 1 (as in PyTorch)")
        ph, pw = (ekh - 1) // 2, (ekw - 1) // 2
        return (sh, sw), (dh, dw), (ph, ekh - 1 - ph, pw, ekw - 1 - pw)
    ph, pw = (0, 0) if padding == "valid" else pair(padding, "padding", "conv2d", 0)
    return (sh, sw), (dh, dw), (ph, ph, pw, pw)


def conv_output(H, W, kernel, stride, pads, dilation) -> ConvGeometry:
    """The geometry of a convolution of an (H, W) input with zero padding `pads` = (top, bottom,
    left, right); checks that the kernel fits. The kernels read rows h < 0 or h >= H as zeros, so
    only the top and left padding enter the geometry: the bottom/right ones only set Ho, Wo."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    top, bottom, left, right = pads
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    Hp, Wp = H + top + bottom, W + left + right
    if ekh > Hp or ekw > Wp:
        raise ValueError(f"conv2d: kernel {kh}x{kw} (extent {ekh}x{ekw} with dilation) is larger "
                         f"than the padded input {Hp}x{Wp} (input {H}x{W}, padding {top},{left}); "
                         "use a smaller kernel or more padding")
    return ConvGeometry(kh, kw, sh, sw, top, left, dh, dw, (Hp - ekh) // sh + 1, (Wp - ekw) // sw + 1)
