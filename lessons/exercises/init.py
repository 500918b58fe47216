"""Exercise: fans and initialization stds, He vs Xavier (Sec. 2.2).   Check: tinyrect check init

Forward, Eq. (7)-(10): Var[y_l] = n_l Var[w_l] E[x_l²] and, after a ReLU, E[x_l²] = ½ Var[y_{l-1}],
so keeping the variance constant needs ½ n_l Var[w_l] = 1 (Eq. 10): std = sqrt(2 / n_l), with
n_l = k² c the fan_in. For a PReLU or leaky ReLU with slope a, Eq. (15): ½ (1 + a²) n_l Var[w_l] = 1.
Backward, Eq. (14): the same with n̂_l = k² d, the fan_out.
Xavier (Glorot & Bengio) assumes linear units and averages the two conditions:
Var[w] = 2 / (fan_in + fan_out).
"""
import math  # noqa: F401


def compute_fans(weight_shape):
    """Return (fan_in, fan_out) as two integers.

    weight_shape is (d, n) for a linear layer (d outputs, n inputs: fan_in = n, fan_out = d), or
    (F, C, kh, kw) for a conv layer: fan_in = C·kh·kw (the paper's n = k²c), fan_out = F·kh·kw (n̂ = k²d).
    """
    raise NotImplementedError("compute_fans")


def he_std(fan_in, a=0.0):
    """Return the std of He initialization for a rectifier with negative slope a (a = 0: ReLU), Eq. (15)."""
    raise NotImplementedError("he_std")


def xavier_std(fan_in, fan_out):
    """Return the std of Xavier (Glorot) normal initialization: Var[w] = 2 / (fan_in + fan_out)."""
    raise NotImplementedError("xavier_std")
