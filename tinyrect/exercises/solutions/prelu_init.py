"""Reference solution: the PReLU-aware std (Eq. 15) and one slope for many (lesson 07)."""
import math

import numpy as np


def prelu_std(weight_shape, a, mode="fan_in"):
    """weight_shape (F, C, k, k): Eq. (15) ½(1 + a²) n Var[w] = 1 with n = k²C (mode "fan_in",
    the forward condition) or n̂ = k²F (mode "fan_out", the backward condition, Eq. 14's form)."""
    receptive = weight_shape[2] * weight_shape[3]
    n = weight_shape[1] * receptive if mode == "fan_in" else weight_shape[0] * receptive
    return math.sqrt(2.0 / ((1.0 + a * a) * n))


def equivalent_slope(slopes):
    """Channel-wise slopes a_i, channels of equal variance: E[x²] = ½ Var[y] · mean(1 + a_i²), so the
    one slope with the same gain solves 1 + a*² = mean(1 + a_i²): a* = sqrt(mean(a_i²)) (the RMS,
    not the mean)."""
    slopes = np.asarray(slopes, dtype=np.float64)
    return float(np.sqrt(np.mean(slopes * slopes)))
