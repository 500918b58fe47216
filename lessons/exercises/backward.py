"""Exercise (lesson 06): the backward product, and what Eq. (14) does to the forward pass.
                                                            Check: tinyrect check backward
Backward, Eq. (11)-(12): Δx_l = Ŵ_l Δy_l and Δy_l = f'(y_l) Δx_{l+1}, with n̂_l = k² d_l.
Start from Var[Δx_l] = n̂_l Var[w_l] Var[Δy_l] and work out Var[Δy_l] for a rectifier with
negative slope a (a = 0: ReLU), then chain the layers from L down to 2.

Layer l maps c_l input channels to d_l output channels with k×k kernels, d_l = c_{l+1};
the forward fan is n_l = k² c_l and the backward fan n̂_l = k² d_l.
"""
import numpy as np  # noqa: F401


def backward_product(fan_outs, var_ws, a=0.0):
    """Return Var[Δx_2] / Var[Δx_{L+1}] for a net of L layers.

    fan_outs[l-1] = n̂_l and var_ws[l-1] = Var[w_l] for l = 1..L (arrays of length L); a: the slope.
    """
    raise NotImplementedError("backward_product")


def forward_product_eq14(channels, k):
    """Initialize every layer by the backward condition, Eq. (14): ½ n̂_l Var[w_l] = 1. Return the
    forward product Π_{l=2..L} ½ n_l Var[w_l] of Eq. (9) (ReLU) in closed form.

    channels = (c_1, c_2, ..., c_L, d_L), length L + 1; k: the kernel size of every layer.
    """
    raise NotImplementedError("forward_product_eq14")
