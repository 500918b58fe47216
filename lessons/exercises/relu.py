"""Exercise (lesson 04): ReLU, forward and backward.            Check your answer: tinyrect check relu

The rectifier of the paper is f(y) = max(0, y) (Eq. 1 with a = 0). Work in NumPy on float64 arrays,
return new arrays (never modify x or dout in place), and keep float64.
"""
import numpy as np  # noqa: F401


def relu_forward(x):
    """Return f(x) = max(0, x), elementwise.

    x: a float64 array of any shape. Returns a float64 array of x's shape.
    """
    raise NotImplementedError("relu_forward")


def relu_backward(x, dout):
    """Return dx = ∂L/∂x given dout = ∂L/∂f(x), both of x's shape.

    Chain rule with the derivative of f. f has a kink at y = 0: there, use the side on which Eq. (1)
    puts y = 0. Returns a float64 array of x's shape.
    """
    raise NotImplementedError("relu_backward")
