"""Layers with weights (Conv2d, Linear) and without (pooling, Flatten), over tinyrect.functional.

Default initialization: He et al.'s Eq. (10), std = sqrt(2 / fan_in) (kaiming_normal_ with
nonlinearity='relu', mode='fan_in'), and bias 0, because tinyrect's layers are meant to be
followed by rectifiers and this is the paper's result. It is NOT PyTorch's default,
kaiming_uniform_(w, a=sqrt(5)): with gain² = 2/(1+5) = 1/3 that is exactly U(±1/sqrt(fan_in)),
the old (Lua) Torch default kept for continuity (see pytorch/pytorch#15314), with variance
1/(3·fan_in), a sixth of He's 2/fan_in. Through ReLU layers Eq. (8) then gives a factor
½·n·Var[w] = 1/6 per layer, (1/6)^9 ≈ 1e-7 over ten layers, against 1 with He's init.

Every layer checks its arguments when it is built (not at the first forward), naming the
argument and the allowed range.
For a PReLU net re-initialize with init.kaiming_normal_(w, a=0.25) (Eq. 15), for Xavier with
init.xavier_normal_ (lesson 08 compares them).
"""
from __future__ import annotations

import numbers

import numpy as np

from tinyrect import functional as F
from tinyrect import init
from tinyrect.functional import geometry
from tinyrect.nn.module import Module, Parameter


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked(layer: str, check, *args):
    """Run one of functional.geometry's checks at construction; any complaint (a wrong type too)
    becomes a ValueError that names the layer and the argument."""
    try:
        return check(*args)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{layer}: {str(err).split(': ', 1)[-1]}") from None


def _pair(layer: str, name: str, value, minimum: int) -> tuple:
    """(a, b) from an int or a pair of ints, each >= minimum (bools refused)."""
    if isinstance(value, bool) or (isinstance(value, (tuple, list)) and
                                   any(isinstance(v, bool) for v in value)):
        raise ValueError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    return _checked(layer, geometry.pair, value, name, layer, minimum)


def _dtype(dtype):
    dtype = np.dtype(dtype or np.float32)
    if dtype.kind != "f":
        raise TypeError(f"layer weights must be floating point, got dtype {dtype}")
    return dtype


def _positive_ints(layer: str, **values) -> None:
    for name, value in values.items():
        if not _is_int(value) or value < 1:
            raise ValueError(f"{layer}: {name} must be a positive integer (>= 1), got {value!r}")


class _HeInitialized(Module):
    """Shared by Conv2d and Linear: a weight of `weight_shape`, an optional bias, He init."""

    def _make_parameters(self, weight_shape: tuple, bias: bool, dtype, rng, seed) -> None:
        dtype = _dtype(dtype)
        self.weight = Parameter(np.empty(weight_shape, dtype))
        if bias:
            self.bias = Parameter(np.zeros(weight_shape[0], dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng=rng, seed=seed)

    def reset_parameters(self, rng=None, seed=None):
        """He fan_in for ReLU (Eq. 10), bias 0."""
        init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu", rng=rng, seed=seed)
        if self.bias is not None:
            init.zeros_(self.bias)


class Conv2d(_HeInitialized):
    """2-D convolution: weight (out_channels, in_channels, kh, kw), bias (out_channels,).

    Init: N(0, 2/fan_in), fan_in = in_channels·kh·kw = k²c (Eq. 10); bias 0. `rng`/`seed` make it
    reproducible (default: tinyrect's default generator, see tinyrect.manual_seed).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, padding_mode: str = "zeros", dtype=None,
                 rng=None, seed=None):
        super().__init__()
        _positive_ints("Conv2d", in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.dilation = _pair("Conv2d", "dilation", dilation, 1)
        self.padding = padding if isinstance(padding, str) else _pair("Conv2d", "padding", padding, 0)
        _checked("Conv2d", geometry.conv_padding, self.kernel_size, self.stride, self.padding,
                 self.dilation, padding_mode)     # 'valid'/'same', same needs stride 1, the mode
        self.padding_mode = padding_mode
        self._make_parameters((self.out_channels, self.in_channels) + self.kernel_size, bias, dtype, rng, seed)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation, padding_mode=self.padding_mode)

    def forward_rectified(self, x, rectifier):
        """rectifier(self(x)) as one fused op, for a ReLU or PReLU module (F.conv2d_relu,
        F.conv2d_prelu); nn.Sequential uses it."""
        geometry = dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                        padding_mode=self.padding_mode)
        from tinyrect.nn.activations import PReLU

        if isinstance(rectifier, PReLU):
            return F.conv2d_prelu(x, self.weight, self.bias, rectifier.weight, **geometry)
        return F.conv2d_relu(x, self.weight, self.bias, **geometry)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class Linear(_HeInitialized):
    """y = x Wᵀ + b, weight (out_features, in_features). Init: N(0, 2/in_features) (Eq. 10), b = 0."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None,
                 rng=None, seed=None):
        super().__init__()
        _positive_ints("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self._make_parameters((self.out_features, self.in_features), bias, dtype, rng, seed)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class MaxPool2d(Module):
    """Max over each kernel_size window, moved by stride (default: kernel_size), on an input
    padded by `padding` (at most half the kernel, as in PyTorch)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        layer = type(self).__name__
        kernel = _pair(layer, "kernel_size", kernel_size, 1)
        if stride is not None:
            _pair(layer, "stride", stride, 1)
        pad = _pair(layer, "padding", padding, 0)
        if 2 * pad[0] > kernel[0] or 2 * pad[1] > kernel[1]:
            raise ValueError(f"{layer}: padding must be at most half the kernel size "
                             f"{kernel_size!r} (as in PyTorch), got {padding!r}")
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        stride = self.kernel_size if self.stride is None else self.stride
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    """Mean over each kernel_size window (padding counts as zeros), arguments as MaxPool2d."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, stride=self.stride, padding=self.padding)


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed output size (1 = global average pooling)."""

    def __init__(self, output_size):
        super().__init__()
        _pair("AdaptiveAvgPool2d", "output_size", output_size, 1)
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W): flattens dims start_dim..end."""

    def __init__(self, start_dim: int = 1):
        super().__init__()
        if not _is_int(start_dim):
            raise ValueError(f"Flatten: start_dim must be an int, got {start_dim!r}")
        self.start_dim = start_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}"


class Dropout(Module):
    """Inverted dropout (tinyrect/functional/dropout.py): active after model.train() (the
    default), the identity after model.eval(). The paper puts 50% dropout on its fc layers."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a number in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training)

    def extra_repr(self):
        return f"p={self.p}"
