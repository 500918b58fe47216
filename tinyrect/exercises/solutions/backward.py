"""Reference solution: the backward product of Eq. (13) with per-layer widths, and the forward
product c_2/d_L left by the backward condition Eq. (14) (lesson 06)."""
import numpy as np


def backward_product(fan_outs, var_ws, a=0.0):
    """Var[Δx_2] / Var[Δx_{L+1}] = Π_{l=2..L} ½(1 + a²) n̂_l Var[w_l]   (Eq. 13, Eq. 15's factor);
    fan_outs[l-1] = n̂_l = k²d_l and var_ws[l-1] = Var[w_l] for l = 1..L (layer 1 is not in it)."""
    n_hat, var_w = np.asarray(fan_outs, dtype=np.float64), np.asarray(var_ws, dtype=np.float64)
    return float(np.prod(0.5 * (1.0 + a * a) * n_hat[1:] * var_w[1:]))


def forward_product_eq14(channels, k):
    """channels = (c_1, c_2, ..., c_L, d_L): layer l maps c_l to d_l = c_{l+1} channels with k×k
    kernels. With Eq. (14), Var[w_l] = 2/(k² d_l), Eq. (9)'s product Π_{l=2..L} ½ n_l Var[w_l] is
    Π_{l=2..L} c_l/d_l = c_2/d_L (a telescoping product; k cancels)."""
    return float(channels[1]) / float(channels[-1])
