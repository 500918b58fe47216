"""Exercise: ReLU, forward and backward.            Check your answer: tinyrect check relu

The rectifier of the paper is f(y) = max(0, y) (Eq. 1 with a = 0). Work in NumPy on float64 arrays,
return new arrays (never modify x or dout in place), and keep float64.
"""
import numpy as np  # noqa: F401


def relu_forward(x):
    """Return f(x) = max(0, x), elementwise.

    x: a float64 array of any shape. Returns a float64 array of x's shape.
    """
    raise NotImplementedError("relu_forward: write max(0, x)")


def relu_backward(x, dout):
    """Return dx = dL/dx given dout = dL/df(x), both of x's shape.

    dx = dout · f'(x) with f'(y) = 1 if y > 0 else 0. At y == 0 exactly, use the subgradient 0:
    Eq. (1) puts y = 0 on the negative side. Returns a float64 array of x's shape.
    """
    raise NotImplementedError("relu_backward: write dout * 1[x > 0]")
