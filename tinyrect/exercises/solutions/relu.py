"""Reference solution: ReLU forward and backward (the paper's Eq. 1 with a = 0)."""
import numpy as np


def relu_forward(x):
    """f(y) = max(0, y), elementwise. x: any shape, float64. Returns an array of x's shape."""
    return np.maximum(x, 0.0)


def relu_backward(x, dout):
    """dx = dout · 1[y > 0]: the subgradient at y = 0 is 0 (Eq. 1 puts y = 0 on the negative side)."""
    return np.where(x > 0, dout, 0.0)
