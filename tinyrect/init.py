"""Weight initialization: Xavier (Glorot & Bengio) and He (Kaiming), with PyTorch's names.

Where the formulas come from (He et al. 2015, Sec. 2.2). A layer computes y_l = W_l x_l + b_l
(Eq. 5), each output summing n_l = k²c products (fan_in); in the backward pass each input
gradient sums n̂_l = k²d products (fan_out, Eq. 11). With zero-mean i.i.d. weights:

  forward    Var[y_l]  = n_l Var[w_l] E[x_l²]                          (Eq. 7)
             E[x_l²]   = ½ Var[y_{l-1}] after a ReLU (half the Gaussian is zeroed)
             Var[y_L]  = Var[y_1] Π_l ½ n_l Var[w_l]                    (Eq. 9)
  backward   Var[Δx_2] = Var[Δx_{L+1}] Π_l ½ n̂_l Var[w_l]              (Eq. 13)

A product of L factors explodes or vanishes unless each factor is 1, so
  Eq. (10):  ½ n_l Var[w_l] = 1   ⇒  std = sqrt(2 / n_l)   ("He fan_in",  mode='fan_in')
  Eq. (14):  ½ n̂_l Var[w_l] = 1  ⇒  std = sqrt(2 / n̂_l)  ("He fan_out", mode='fan_out')
For PReLU/leaky ReLU with slope a the negative half is scaled by a instead of zeroed, so
E[x²] = ½(1 + a²) Var[y] and Eq. (15): ½(1 + a²) n_l Var[w_l] = 1 ⇒ std = sqrt(2 / ((1+a²) n_l)).
a = 0 is the ReLU case; a = 1 is the linear case, n_l Var[w_l] = 1, Xavier's condition.

PyTorch writes all of these as std = gain / sqrt(fan) with gain = calculate_gain(nonlinearity, a):
gain² = 2/(1+a²) for (leaky) ReLU, 1 for linear layers. A uniform U(-b, b) has variance b²/3, so
the uniform variants use b = sqrt(3)·std.

Randomness: every function takes `rng` (an np.random.Generator) or `seed`; without either they
draw from tinyrect's default generator (tinyrect/random.py: seed 0 in every process, reset by
`manual_seed(s)`, also importable from here). Values are drawn in float64 and cast to the
tensor's dtype, so one seed gives the same network in float32 and float64.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from tinyrect.random import default_generator, generator, manual_seed  # noqa: F401 (public here too)
from tinyrect.tensor import Tensor

_LINEAR_LIKE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                "conv_transpose3d", "sigmoid", "identity")
NONLINEARITIES = _LINEAR_LIKE + ("tanh", "relu", "leaky_relu", "prelu", "selu")


def _array(w) -> np.ndarray:
    """The array to fill in place: a Tensor's/Parameter's .data, or the ndarray itself."""
    array = w.data if isinstance(w, Tensor) else w
    if not isinstance(array, np.ndarray):
        raise TypeError(f"init functions fill a Tensor, Parameter or np.ndarray in place, "
                        f"got {type(w).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"init: cannot fill an array of dtype {array.dtype} with random floats; "
                        "use a float32 or float64 tensor")
    return array


def _fill(w, values):
    array = _array(w)
    array[...] = values  # in place, cast to the array's own dtype
    return w


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The factor g in std = g / sqrt(fan) that keeps the variance of Eq. (10)/(14) at 1.

    linear, conv*, sigmoid, identity: 1 · tanh: 5/3 · relu: sqrt(2) (Eq. 10: ½ n Var[w] = 1) ·
    leaky_relu with slope a (param, default 0.01): sqrt(2 / (1 + a²)) (Eq. 15) · prelu (tinyrect
    only; param = initial coefficient, default 0.25): the same formula as leaky_relu · selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return he_std(1, 0.0)
    if nonlinearity in ("leaky_relu", "prelu"):
        default = 0.01 if nonlinearity == "leaky_relu" else 0.25
        if param is None:
            slope = default
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative slope {param!r} is not a valid number")
        return he_std(1, slope)
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; valid names: "
                     + ", ".join(NONLINEARITIES))


def calculate_fans(w) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel) (Linear: (out, in)).

    fan_in  = in · Π kernel  = k²c  = n_l  of Eq. (10) (terms summed per output, forward)
    fan_out = out · Π kernel = k²d  = n̂_l of Eq. (14) (terms summed per input gradient, backward)
    Same as torch.nn.init._calculate_fan_in_and_fan_out.
    """
    shape = w.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a weight with at least 2 dimensions "
                         f"(out, in, ...); got shape {tuple(shape)}")
    receptive_field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = int(shape[1]) * receptive_field, int(shape[0]) * receptive_field
    if fan_in == 0 or fan_out == 0:
        raise ValueError(f"weight of shape {tuple(shape)} is empty, so its fan_in ({fan_in}) or "
                         f"fan_out ({fan_out}) is 0 and std = gain/sqrt(fan) is undefined; "
                         "check the layer sizes")
    return fan_in, fan_out


def _fan(w, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} is not supported; use 'fan_in' (Eq. 10, forward) or "
                         "'fan_out' (Eq. 14, backward)")
    fan_in, fan_out = calculate_fans(w)
    return fan_in if mode == "fan_in" else fan_out


# ----------------------------------------------------------------------------- He (Kaiming)
def he_std(fan, a: float = 0.0) -> float:
    """He et al.'s std, sqrt(2 / ((1 + a²) · fan)): the one place tinyrect writes this formula.

    Eq. (10) with fan = n_l = k²c (fan_in, forward), Eq. (14) with fan = n̂_l = k²d (fan_out,
    backward); a is the negative slope of the rectifier after the layer (Eq. 15; a = 0: ReLU,
    std = sqrt(2 / fan)). calculate_gain's rectifier gains, kaiming_normal_/kaiming_uniform_, the
    default layer init and the variance predictions all come from here.
    """
    if isinstance(fan, bool) or not isinstance(fan, numbers.Real) or not fan > 0:
        raise ValueError(f"he_std: fan must be a positive number (the fan_in n_l or fan_out "
                         f"n̂_l of the layer), got {fan!r}")
    if isinstance(a, bool) or not isinstance(a, numbers.Real) or not math.isfinite(a):
        raise ValueError(f"he_std: a is the rectifier's negative slope, a finite number; got {a!r}")
    return math.sqrt(2.0 / ((1.0 + float(a) ** 2) * float(fan)))


def kaiming_normal_(w, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    rng=None, seed=None):
    """He init: N(0, std²) with std = gain / sqrt(fan) = sqrt(2 / ((1 + a²) · fan)).

    From Eq. (10) (mode='fan_in', fan = n_l = k²c: forward variance preserved) or Eq. (14)
    (mode='fan_out', fan = n̂_l = k²d: backward variance preserved); `a` is the negative slope
    of the rectifier that follows (0 for ReLU, the initial PReLU coefficient 0.25 for the
    paper's PReLU nets: Eq. 15's (1+a²)/2), not a gain. Example: kaiming_normal_(w,
    nonlinearity='relu') is the paper's std sqrt(2/n_l) (he_std).
    """
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(w, mode))
    return normal_(w, 0.0, std, rng=rng, seed=seed)


def kaiming_uniform_(w, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     rng=None, seed=None):
    """He init, uniform: U(-b, b) with b = sqrt(3) · gain / sqrt(fan) (same variance as
    kaiming_normal_, since Var U(-b, b) = b²/3). PyTorch's default Conv/Linear init is this with
    a = sqrt(5), i.e. gain² = 1/3 and Var = 1/(3 fan): a sixth of He's ReLU variance 2/fan."""
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(_fan(w, mode))
    return uniform_(w, -bound, bound, rng=rng, seed=seed)


# ----------------------------------------------------------------------------- Xavier (Glorot)
def xavier_normal_(w, gain: float = 1.0, rng=None, seed=None):
    """Xavier init: N(0, std²), std = gain · sqrt(2 / (fan_in + fan_out)).

    Glorot & Bengio assume a linear activation: forward n_l Var[w] = 1 and backward n̂_l Var[w] = 1
    (Eq. 10/14 without the ½), and compromise with 2/(n + n̂), the harmonic mean of the two
    variances 1/n and 1/n̂. Under ReLU each layer then halves the variance: 2^-L after L layers
    (the paper's Fig. 3 stall)."""
    fan_in, fan_out = calculate_fans(w)
    return normal_(w, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng=rng, seed=seed)


def xavier_uniform_(w, gain: float = 1.0, rng=None, seed=None):
    """Xavier init, uniform: U(-b, b), b = gain · sqrt(6 / (fan_in + fan_out)) (Var = b²/3)."""
    fan_in, fan_out = calculate_fans(w)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(w, -bound, bound, rng=rng, seed=seed)


# ----------------------------------------------------------------------------- plain fillers
def normal_(w, mean: float = 0.0, std: float = 1.0, rng=None, seed=None):
    """Fill with N(mean, std²) in place (e.g. std=0.01: the "0.01 Gaussian" the paper warns about)."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    array = _array(w)
    values = generator(rng, seed).standard_normal(array.shape) * std + mean
    return _fill(w, values)


def uniform_(w, a: float = 0.0, b: float = 1.0, rng=None, seed=None):
    """Fill with U(a, b) in place."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    array = _array(w)
    return _fill(w, generator(rng, seed).uniform(a, b, size=array.shape))


def constant_(w, val: float):
    return _fill(w, val)


def zeros_(w):
    """Fill with 0 (biases: the paper's b = 0, which makes y symmetric around 0 for Eq. 8)."""
    return _fill(w, 0.0)


def ones_(w):
    return _fill(w, 1.0)
