"""Exercise (lesson 07): initialization for PReLU nets.            Check: tinyrect check prelu_init

Start from Eq. (7), Var[y_l] = n_l Var[w_l] E[x_l²], with x_l = f(y_{l-1}) and f a PReLU of slope
a on the negative side (Eq. 1), y_{l-1} symmetric around 0. Work out E[x_l²] in terms of
Var[y_{l-1}] and a, then the std that keeps Var[y_l] = Var[y_{l-1}]. The backward form uses the
fan_out n̂_l in place of n_l.
"""
import math  # noqa: F401

import numpy as np  # noqa: F401


def prelu_std(weight_shape, a, mode="fan_in"):
    """Return the weight std for a conv weight of shape (F, C, kh, kw) followed by a PReLU of slope a.

    mode "fan_in": the forward condition (n_l), "fan_out": the backward condition (n̂_l).
    """
    raise NotImplementedError("prelu_std")


def equivalent_slope(slopes):
    """Channel-wise PReLU: channel i has slope slopes[i] (all channels with the same Var[y]).

    Return the single slope a* for which a channel-shared PReLU keeps the same Var[y_l] through a
    layer (so prelu_std(shape, a*) is the right init for the channel-wise layer).
    """
    raise NotImplementedError("equivalent_slope")
