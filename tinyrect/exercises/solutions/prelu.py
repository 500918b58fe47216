"""Reference solution: PReLU forward and backward (the paper's Eq. 1-3)."""
import numpy as np


def _per_channel(a, x):
    """a of shape (1,) or (C,) as an array that broadcasts against x along dim 1 (the channel)."""
    return a.reshape((1, a.size) + (1,) * (x.ndim - 2))


def prelu_forward(x, a):
    """Eq. (1): f(y) = max(0, y) + a_i · min(0, y), i the channel (dim 1 of x).

    x: (N, C) or (N, C, H, W); a: (1,) channel-shared or (C,) channel-wise. Returns x's shape.
    """
    return np.maximum(x, 0.0) + _per_channel(a, x) * np.minimum(x, 0.0)


def prelu_backward(x, a, dout):
    """Returns (dx, da).

    dx = dout where y > 0, a_i · dout where y <= 0            (slope of Eq. 1; y = 0 counts as negative)
    da_i = Σ over every position of channel i, in every sample, of dout · min(0, y)   (Eq. 2, 3);
    channel-shared a (shape (1,)) sums over the channels too. da has a's shape.
    """
    dx = np.where(x > 0, dout, _per_channel(a, x) * dout)
    contribution = dout * np.minimum(x, 0.0)
    if a.size == 1:
        da = contribution.sum().reshape(a.shape)
    else:
        da = contribution.sum(axis=tuple(d for d in range(x.ndim) if d != 1)).reshape(a.shape)
    return dx, da
