"""Reference solution: fans and the standard deviations of He (Eq. 10/15) and Xavier init."""
import math


def compute_fans(weight_shape):
    """weight_shape: (d, n) of a linear layer, or (F, C, kh, kw) of a conv layer.
    Returns (fan_in, fan_out): fan_in = C·kh·kw (the paper's n = k²c), fan_out = F·kh·kw (n̂ = k²d);
    for a linear layer fan_in = n, fan_out = d."""
    receptive = 1
    for s in weight_shape[2:]:
        receptive *= s
    return weight_shape[1] * receptive, weight_shape[0] * receptive


def he_std(fan_in, a=0.0):
    """Eq. (15): ½(1 + a²) · fan_in · std² = 1, so std = sqrt(2 / ((1 + a²) · fan_in)).
    a = 0 is ReLU (Eq. 10: sqrt(2/n)); a = 1 is the linear case."""
    return math.sqrt(2.0 / ((1.0 + a * a) * fan_in))


def xavier_std(fan_in, fan_out):
    """Glorot & Bengio: Var[w] = 2 / (fan_in + fan_out), the average of the forward and backward
    conditions n·Var[w] = 1 and n̂·Var[w] = 1. Returns the std."""
    return math.sqrt(2.0 / (fan_in + fan_out))
