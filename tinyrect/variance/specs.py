"""Reading a model for the variance theory: one LayerSpec per weight layer, and the paper's
per-layer prediction (Eq. 9 and 13) for that model (He et al. 2015, Sec. 2.2).

`predict(model)` reads n_l = k²c, n̂_l = k²d, Var[w_l] and the rectifier slopes from a
`tinyrect.nn.Sequential`, a list of layers, or a `torch.nn.Sequential`, and applies the formulas
of `tinyrect.variance.paper`.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, asdict

import numpy as np

from tinyrect.variance.paper import (backward_factor, forward_factor, init_variance)

@dataclass
class LayerSpec:
    """What the theory needs to know about one weight layer (conv or linear)."""
    index: int            # position of the layer in the flattened model
    kind: str             # 'conv' or 'linear'
    name: str             # class name, e.g. 'Conv2d'
    c: int                # input channels (features)
    d: int                # output channels (features)
    k: int                # kernel size (1 for linear)
    n: int                # fan-in  n_l = k² c
    n_hat: int            # fan-out n̂_l = k² d
    var_w: float          # Var[w_l] (measured on the weights, or a scheme's value)
    a_before: object      # slope of the rectifier before (None: input not rectified)
    a_after: object       # slope of the rectifier after (None: output not rectified)
    stride: int = 1
    padding: int = 0
    padding_mode: str = "zeros"
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("a_before", "a_after"):
            if isinstance(out[key], np.ndarray):
                out[key] = out[key].tolist()
        return out


def _numpy(value) -> np.ndarray:
    """ndarray from a tinyrect Tensor/Parameter, a torch tensor or an array."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu") and not isinstance(value, np.ndarray):
        value = value.cpu().numpy()
    if hasattr(value, "data") and not isinstance(value, np.ndarray):
        value = value.data
    return np.asarray(value)


def flatten_layers(model) -> list:
    """The leaf layers of a model in order: lists, Sequential (nested too) or a single layer."""
    if isinstance(model, (list, tuple)):
        out = []
        for m in model:
            out.extend(flatten_layers(m))
        return out
    if weight_kind(model) or rectifier_slope(model) is not NOT_A_RECTIFIER:
        return [model]
    children = None
    if hasattr(model, "children") and callable(model.children):
        children = list(model.children())
    elif hasattr(model, "layers"):
        children = list(model.layers)
    if children:
        return flatten_layers(children)
    return [model]


def weight_kind(layer):
    name = type(layer).__name__
    if name.startswith("Conv") and hasattr(layer, "weight"):
        return "conv"
    if name == "Linear" and hasattr(layer, "weight"):
        return "linear"
    return None


NOT_A_RECTIFIER = object()
_TRANSPARENT = {"Flatten", "Identity", "Dropout", "Reshape", "View"}


def rectifier_slope(layer):
    """Negative slope of a rectifier layer, or NOT_A_RECTIFIER."""
    name = type(layer).__name__
    if name == "ReLU":
        return 0.0
    if name == "LeakyReLU":
        return float(getattr(layer, "negative_slope", 0.01))
    if name == "PReLU":
        a = _numpy(layer.weight).astype(np.float64).ravel()
        return float(a[0]) if a.size == 1 else a
    return NOT_A_RECTIFIER


def _pair(v) -> int:
    if isinstance(v, (tuple, list)):
        if len(set(v)) != 1:
            raise ValueError(f"the theory handles square kernels/strides/paddings only, got {v}")
        v = v[0]
    if isinstance(v, str):
        raise ValueError(f"padding={v!r} is not supported by the theory; give an integer padding")
    return int(v)


def layer_specs(model, scheme: str | None = None, std: float = 0.01, on_unknown: str = "raise") -> list:
    """One LayerSpec per conv/linear layer of `model`, in order.

    Var[w_l] is measured on the weights (mean of w², the zero-mean variance the paper uses) unless
    `scheme` names an init (see `init_variance`), then it is that scheme's value. Rectifiers are
    found between weight layers; Flatten/Identity/Dropout are transparent. Any other layer
    (pooling, normalization) breaks the derivation: `on_unknown='raise'` (default) stops with
    an error, 'ignore' treats it as transparent.
    """
    layers = flatten_layers(model)
    specs, pending_a = [], None     # slope of the last rectifier seen since the previous weight layer
    for i, layer in enumerate(layers):
        kind = weight_kind(layer)
        slope = rectifier_slope(layer)
        if kind:
            w = _numpy(layer.weight).astype(np.float64)
            d, c = w.shape[0], w.shape[1]
            k = w.shape[2] if kind == "conv" else 1
            if kind == "conv" and w.shape[2] != w.shape[3]:
                raise ValueError(f"layer {i}: the theory handles square kernels only, got {w.shape[2:]}")
            n, n_hat = k * k * c, k * k * d
            var_w = float(np.mean(w * w)) if scheme is None else float("nan")   # scheme: set below
            spec = LayerSpec(i, kind, type(layer).__name__, c, d, k, n, n_hat, var_w, pending_a, None)
            if kind == "conv":
                spec.stride = _pair(getattr(layer, "stride", 1))
                spec.padding = _pair(getattr(layer, "padding", 0))
                spec.padding_mode = str(getattr(layer, "padding_mode", "zeros"))
            if specs and specs[-1].a_after is None and pending_a is not None:
                specs[-1].a_after = pending_a
            specs.append(spec)
            pending_a = None
        elif slope is not NOT_A_RECTIFIER:
            if pending_a is not None:
                raise ValueError(f"layer {i}: two rectifiers in a row; the theory expects at most one "
                                 "rectifier between weight layers")
            pending_a = slope
        elif type(layer).__name__ not in _TRANSPARENT and on_unknown == "raise":
            raise ValueError(
                f"layer {i} ({type(layer).__name__}) is not covered by the paper's derivation (only "
                "conv/linear layers and rectifiers are); pass on_unknown='ignore' to treat it as "
                "transparent, knowing the prediction no longer accounts for it")
    if not specs:
        raise ValueError("the model has no Conv2d or Linear layer: nothing to predict")
    if pending_a is not None:
        specs[-1].a_after = pending_a
    if scheme is not None:  # a scheme's variance depends on the slope after (fan_out) too
        for s in specs:
            a = s.a_after if scheme == "he_fan_out" else s.a_before
            s.var_w = init_variance(scheme, s.n, s.n_hat, 0.0 if a is None else a, std)
    return specs


@dataclass
class Prediction:
    """Per-layer factors and the cumulative log2 variances the paper predicts.

    log2_forward[l]  = log2 Var[y_{l+1}]/Var[y_1]        (0-based list; entry 0 is 0)
    log2_backward[l] = log2 Var[Δx_{l+1}]/Var[Δx_{L+1}]  (entry L-1 is the last layer's input)
    """
    specs: list
    forward_factors: list
    backward_factors: list
    log2_forward: list
    log2_backward: list

    def forward_ratio_log2(self, first: int = 1, last: int | None = None) -> float:
        """log2 Var[y_last]/Var[y_first] (1-based layer numbers, as the paper; default Eq. 9)."""
        last = len(self.specs) if last is None else last
        return self.log2_forward[last - 1] - self.log2_forward[first - 1]

    def backward_ratio_log2(self, first: int = 2, last: int | None = None) -> float:
        """log2 Var[Δx_first]/Var[Δx_{last}] (1-based; last = L+1 by default, Eq. 13)."""
        L = len(self.specs)
        last = L + 1 if last is None else last
        end = 0.0 if last == L + 1 else self.log2_backward[last - 1]
        return self.log2_backward[first - 1] - end

    def table(self) -> str:
        rows = [f"{'l':>3} {'layer':<8} {'n_l':>6} {'n̂_l':>6} {'Var[w]':>10} {'fwd':>7} {'bwd':>7} "
                f"{'log2 Var[y_l]/Var[y_1]':>23} {'log2 Var[Δx_l]/Var[Δx_L+1]':>27}"]
        for i, s in enumerate(self.specs):
            rows.append(f"{i + 1:>3} {s.name:<8} {s.n:>6} {s.n_hat:>6} {s.var_w:>10.3e} "
                        f"{self.forward_factors[i]:>7.3f} {self.backward_factors[i]:>7.3f} "
                        f"{self.log2_forward[i]:>23.2f} {self.log2_backward[i]:>27.2f}")
        return "\n".join(rows)

    __str__ = table

    def to_dict(self) -> dict:
        return {"layers": [s.to_dict() for s in self.specs], "forward_factors": self.forward_factors,
                "backward_factors": self.backward_factors, "log2_forward": self.log2_forward,
                "log2_backward": self.log2_backward}


def predict_specs(specs: list) -> Prediction:
    """Eq. (8)/(12) factors per layer and their running products (Eq. 9, 13) in log2."""
    fwd = [forward_factor(s.n, s.var_w, s.a_before) for s in specs]
    bwd = [backward_factor(s.n_hat, s.var_w, s.a_after) for s in specs]
    log2_f = [0.0]
    for f in fwd[1:]:                     # Eq. (9): the product starts at l = 2
        log2_f.append(log2_f[-1] + math.log2(f))
    log2_b = [0.0] * len(specs)
    running = 0.0
    for i in range(len(specs) - 1, -1, -1):   # Eq. (13): from Δx_{L+1} back to Δx_l
        running += math.log2(bwd[i])
        log2_b[i] = running
    return Prediction(specs, fwd, bwd, log2_f, log2_b)


def predict(model, scheme: str | None = None, std: float = 0.01, on_unknown: str = "raise") -> Prediction:
    """The paper's prediction for `model` (its current weights, or the named init `scheme`)."""
    return predict_specs(layer_specs(model, scheme=scheme, std=std, on_unknown=on_unknown))


def plain_net_specs(depth: int, width: int, in_channels: int = 1, kernel: int = 3, padding: int = 1,
                    scheme: str = "he_fan_in", a=0.0, std: float = 0.01, padding_mode: str = "zeros",
                    widths=None, last_rectified: bool = True) -> list:
    """LayerSpecs of the plain conv net the lessons use, without building it.

    `depth` k×k convolutions (stride 1), each followed by a rectifier of slope `a` (the last one
    too unless last_rectified=False). `widths` = [d_1, ..., d_L] overrides the constant `width`.
    """
    widths = [width] * depth if widths is None else list(widths)
    if len(widths) != depth:
        raise ValueError(f"widths has {len(widths)} entries for depth {depth}")
    chans = [in_channels] + widths
    specs = []
    for l in range(depth):
        c, d = chans[l], chans[l + 1]
        a_before = None if l == 0 else a
        a_after = a if (l < depth - 1 or last_rectified) else None
        n, n_hat = kernel * kernel * c, kernel * kernel * d
        a_init = a_after if scheme == "he_fan_out" else a_before
        var_w = init_variance(scheme, n, n_hat, 0.0 if a_init is None else a_init, std)
        specs.append(LayerSpec(l, "conv", "Conv2d", c, d, kernel, n, n_hat, var_w, a_before, a_after,
                               1, padding, padding_mode))
    return specs
