"""Exercise (lesson 05): measure Var[y_l] through a plain ReLU net.   Check: tinyrect check measure

Eq. (9) predicts Var[y_L] / Var[y_1] = Π_{l=2..L} ½ n_l Var[w_l]. Check it by measuring: for each
of `draws` independent draws, take a fresh batch x_1 of shape (batch, n) with N(0, 1) entries and
fresh weights W_l of shape (n, n) with N(0, std²) entries (bias 0), and run
    y_1 = x_1 W_1,   x_{l+1} = max(0, y_l),   y_{l+1} = x_{l+1} W_{l+1}     for l = 1..L.
Record the variance of all the entries of y_l for every layer of every draw.

Use only np.random.default_rng(seed) for random numbers (the same seed must give the same numbers).
The grader does not know your random numbers: it checks that layer 1 matches Eq. (7) and that
your measured log2(mean Var[y_L] / mean Var[y_1]) lies within its bootstrap interval of Eq. (9),
for several stds and seeds.
"""
import numpy as np  # noqa: F401


def measure_variances(n, L, std, draws, batch, seed):
    """Return v of shape (draws, L), v[d, l-1] = the variance of the entries of y_l in draw d."""
    raise NotImplementedError("measure_variances")
