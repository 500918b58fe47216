"""Exercise (lesson 07): fans and initialization stds, He vs Xavier (Sec. 2.2).
                                                            Check: tinyrect check init
Start from Eq. (7): Var[y_l] = n_l Var[w_l] E[x_l²], with n_l = k² c the fan_in and x_l = f(y_{l-1}).
For a rectifier with negative slope a (a = 0: ReLU) and y_{l-1} symmetric around 0, work out
E[x_l²] in terms of Var[y_{l-1}], then the std that keeps Var[y_l] = Var[y_{l-1}] (the paper's
Eq. 10, and Eq. 15 for a != 0). The backward condition, Eq. (14), uses the fan_out n̂_l = k² d.
Xavier (Glorot & Bengio) assumes linear units and averages the forward and backward conditions
n Var[w] = 1 and n̂ Var[w] = 1 (harmonic mean of the fans).
"""
import math  # noqa: F401


def compute_fans(weight_shape):
    """Return (fan_in, fan_out) as two integers.

    weight_shape is (d, n) for a linear layer (d outputs, n inputs), or (F, C, kh, kw) for a conv layer
    (F output channels, C input channels, kh × kw kernels).
    """
    raise NotImplementedError("compute_fans")


def he_std(fan_in, a=0.0):
    """Return the std of He initialization for a rectifier with negative slope a (a = 0: ReLU)."""
    raise NotImplementedError("he_std")


def xavier_std(fan_in, fan_out):
    """Return the std of Xavier (Glorot) normal initialization."""
    raise NotImplementedError("xavier_std")
