"""Reference solution: a Monte-Carlo measurement of Var[y_l] through a plain ReLU net (lesson 05)."""
import numpy as np


def measure_variances(n, L, std, draws, batch, seed):
    """For each of `draws` independent nets (fresh weights w ~ N(0, std²), bias 0) and a fresh batch
    of inputs x_1 ~ N(0, 1) of shape (batch, n): y_1 = x_1 W_1, x_{l+1} = max(0, y_l),
    y_{l+1} = x_{l+1} W_{l+1}, every W (n, n). Returns v of shape (draws, L), v[d, l-1] = the
    variance of all the entries of y_l in draw d. Every random number comes from
    np.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    out = np.empty((draws, L))
    for d in range(draws):
        x = rng.standard_normal((batch, n))
        for layer in range(L):
            y = x @ (std * rng.standard_normal((n, n)))
            out[d, layer] = y.var()
            x = np.maximum(y, 0.0)
    return out
