"""The networks behind `tinyrect reproduce`: plain deep nets and a small "14-layer-like" model.

Two builders, both returning a `Net` (the `nn.Sequential` plus the lists of its weight layers and
its activation layers, so experiments can read PReLU coefficients or re-initialize weights):

- `plain_net(depth, ...)`: the paper's Fig. 2/3 question at small scale. `depth` counts WEIGHT
  layers: depth - 1 convolutions 3×3 (zero padding 1, stride 1, `width` channels, bias 0), each
  followed by a rectifier, then Flatten and one fully connected layer to the classes. No pooling,
  no normalization, no shortcuts. In our measurements a global-average-pooling head did not train
  at 22+ layers even with He init on 8×8 digits, so the head flattens.
- `slopes_net(...)`: a Table 1/2 stand-in with Table 1's layer names and count, 11 conv and 3 fc
  layers (conv1, conv21..conv24, pool, conv31..conv36, pool, fc1, fc2, fc3), in shapes of ours
  for 8×8 inputs (see `slopes_net`).

Initialization schemes (`INITS`), with n_l = k²c (fan_in) and n̂_l = k²d (fan_out), Sec. 2.2:
  "he"          N(0, 2/n_l)            Eq. (10); with PReLU a=0.25: N(0, 2/((1+a²) n_l)), Eq. (15)
  "he_fan_out"  N(0, 2/n̂_l)            Eq. (14)
  "xavier"      N(0, 1/n_l)            the linear-activation rule n_l Var[w] = 1 the paper compares
                                       against (Caffe's "xavier" filler also uses fan_in); for a
                                       constant-width conv stack it equals Glorot's 2/(n + n̂)
  "gauss0.01"   N(0, 0.01²)            the fixed-std Gaussian of Sec. 2.2
Every weight layer (the last fc included) uses the same scheme; biases start at 0.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from tinyrect import init as tinit
from tinyrect import nn, optim

INITS = ("he", "he_fan_out", "xavier", "gauss0.01")
ACTIVATIONS = ("relu", "prelu_shared", "prelu_channel")


@dataclasses.dataclass
class Net:
    """A built network: `model` (call it), `weights` (Conv2d/Linear in order), `acts`
    (activation modules in order, one per hidden weight layer), `names` (one per weight layer)."""

    model: nn.Sequential
    weights: list
    acts: list
    names: list
    description: str

    def __call__(self, x):
        return self.model(x)

    def slopes(self) -> list:
        """Mean PReLU coefficient per activation layer (channel-wise: mean over channels)."""
        return [float(np.mean(a.weight.data)) if isinstance(a, nn.PReLU) else 0.0 for a in self.acts]

    def num_parameters(self) -> int:
        return sum(p.data.size for p in self.model.parameters())


def _activation(kind: str, channels: int):
    if kind == "relu":
        return nn.ReLU()
    if kind == "prelu_shared":
        return nn.PReLU(1, init=0.25)
    if kind == "prelu_channel":
        return nn.PReLU(channels, init=0.25)
    raise ValueError(f"unknown activation {kind!r}; choose one of {', '.join(ACTIVATIONS)}")


def init_weight(layer, scheme: str, rng: np.random.Generator, slope: float = 0.0) -> float:
    """Fill `layer.weight` by `scheme` (see INITS), zero its bias; return the std used.

    `slope` is the initial negative slope of the rectifier that follows (0.25 for PReLU): He's
    Eq. (15) divides the variance by (1 + a²)/2 instead of 1/2.
    """
    w = layer.weight
    if scheme == "he":
        tinit.kaiming_normal_(w, a=slope, mode="fan_in", nonlinearity="leaky_relu", rng=rng)
        fan = tinit.calculate_fans(w)[0]
        std = tinit.he_std(fan, slope)
    elif scheme == "he_fan_out":
        tinit.kaiming_normal_(w, a=slope, mode="fan_out", nonlinearity="leaky_relu", rng=rng)
        fan = tinit.calculate_fans(w)[1]
        std = tinit.he_std(fan, slope)
    elif scheme == "xavier":
        fan = tinit.calculate_fans(w)[0]
        std = 1.0 / math.sqrt(fan)
        tinit.normal_(w, 0.0, std, rng=rng)
    elif scheme == "gauss0.01":
        std = 0.01
        tinit.normal_(w, 0.0, std, rng=rng)
    else:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {', '.join(INITS)}")
    if getattr(layer, "bias", None) is not None:
        tinit.zeros_(layer.bias)
    return std


def _check_shape(in_shape):
    in_shape = tuple(int(s) for s in in_shape)
    if len(in_shape) != 3 or min(in_shape) < 1:
        raise ValueError(f"in_shape must be (channels, height, width), got {in_shape}")
    return in_shape


def plain_net(depth: int, width: int = 16, in_shape=(1, 8, 8), num_classes: int = 10,
              activation: str = "relu", init: str = "he", seed: int = 0,
              padding_mode: str = "zeros") -> Net:
    """`depth` weight layers: (depth-1) × [conv 3×3, `width`, pad 1 → rectifier], Flatten, fc.

    padding_mode="circular" gives every output all k²c inputs, so Eq. (9)/(13) hold exactly
    (zero padding loses variance at the borders of small maps: see tinyrect.variance.padding).

    >>> net = plain_net(30, width=16)   # 29 conv + 1 fc: the Fig. 3 question on 8×8 inputs
    """
    if not isinstance(depth, int) or depth < 2:
        raise ValueError(f"plain_net: depth counts weight layers (convs + the fc) and must be >= 2, "
                         f"got {depth!r}")
    c, h, w = _check_shape(in_shape)
    rng = np.random.default_rng(seed)
    slope = 0.0 if activation == "relu" else 0.25
    layers, weights, acts, names = [], [], [], []
    for i in range(depth - 1):
        conv = nn.Conv2d(c if i == 0 else width, width, 3, padding=1, padding_mode=padding_mode)
        init_weight(conv, init, rng, slope)
        act = _activation(activation, width)
        layers += [conv, act]
        weights.append(conv)
        acts.append(act)
        names.append(f"conv{i + 1}")
    fc = nn.Linear(width * h * w, num_classes)
    init_weight(fc, init, rng, slope)
    layers += [nn.Flatten(), fc]
    weights.append(fc)
    names.append("fc")
    text = (f"{depth}-layer plain net: {depth - 1} × conv 3×3 ({width} ch, pad 1) + {activation}, "
            f"flatten, fc {width * h * w}→{num_classes}; init {init}")
    return Net(nn.Sequential(*layers), weights, acts, names, text)


def slopes_net(width: int = 16, in_shape=(1, 8, 8), num_classes: int = 10,
               activation: str = "prelu_channel", init: str = "he", seed: int = 0,
               fc_width: int | None = None) -> Net:
    """11 conv + 3 fc layers, in the paper's 14-layer model's naming (Table 1):

    conv1 3×3 (`width`; stride 2 when the input is >= 16 px, like the paper's stride-2 conv1),
    conv21..conv24 3×3 (`width`), max-pool 2×2, conv31..conv36 3×3 (2·`width`), max-pool 2×2,
    fc1, fc2 (`fc_width`, default 4·`width`), fc3 (classes, no activation).
    Every conv and fc1/fc2 is followed by the chosen rectifier: 13 activation layers (so 13 extra
    parameters for channel-shared PReLU, as in the paper); channel-wise PReLU has
    5C + 6·2C + 2·4C = 25C coefficients for width C and the default fc_width.

    What ours changes, and why: Table 1's model has conv1 7×7 (64 filters, stride 2), pool1 3×3
    with stride 3, 2×2 convs (conv21-24: 128 filters, conv31-36: 256), pool2 2×2 and an SPP layer
    {6, 3, 2, 1} before fc1-fc3 (4096, 4096, 1000). On 8×8 inputs a 7×7 conv and a stride-3 pool
    would leave almost no map, so ours uses 3×3 convs with padding 1 (widths C, C, 2C), a 2×2
    max-pool after conv24 (pool2) and another in place of SPP, and fc layers of 4C.
    """
    c, h, w = _check_shape(in_shape)
    rng = np.random.default_rng(seed)
    slope = 0.0 if activation == "relu" else 0.25
    fc_width = fc_width or 4 * width
    layers, weights, acts, names = [], [], [], []

    def add(layer, name, channels):
        init_weight(layer, init, rng, slope)
        act = _activation(activation, channels)
        layers.extend([layer, act])
        weights.append(layer)
        acts.append(act)
        names.append(name)

    stride = 2 if min(h, w) >= 16 else 1
    add(nn.Conv2d(c, width, 3, stride=stride, padding=1), "conv1", width)
    h, w = (h + 2 - 3) // stride + 1, (w + 2 - 3) // stride + 1
    for j in range(1, 5):
        add(nn.Conv2d(width, width, 3, padding=1), f"conv2{j}", width)
    layers.append(nn.MaxPool2d(2))
    h, w = h // 2, w // 2
    for j in range(1, 7):
        add(nn.Conv2d(width if j == 1 else 2 * width, 2 * width, 3, padding=1), f"conv3{j}", 2 * width)
    layers.append(nn.MaxPool2d(2))
    h, w = h // 2, w // 2
    if h < 1 or w < 1:
        raise ValueError(f"slopes_net: input {in_shape} is too small for two 2×2 poolings; use >= 4×4")
    layers.append(nn.Flatten())
    add(nn.Linear(2 * width * h * w, fc_width), "fc1", fc_width)
    add(nn.Linear(fc_width, fc_width), "fc2", fc_width)
    fc3 = nn.Linear(fc_width, num_classes)
    init_weight(fc3, init, rng, 0.0)
    layers.append(fc3)
    weights.append(fc3)
    names.append("fc3")
    text = (f"14-layer net: conv1 + 4 conv ({width} ch), pool, 6 conv ({2 * width} ch), pool, "
            f"fc {fc_width}, fc {fc_width}, fc {num_classes}; {activation}; init {init}")
    return Net(nn.Sequential(*layers), weights, acts, names, text)


def param_groups(net: Net, weight_decay: float, decay_slopes: bool = False) -> list:
    """tinyrect.optim.param_groups_no_decay on `net.model`: weight decay on conv/fc weights; none
    on PReLU coefficients (the paper, Sec. 2.1) unless `decay_slopes=True`, nor on biases (ours)."""
    return optim.param_groups_no_decay(net.model, weight_decay, decay_slopes=decay_slopes)
