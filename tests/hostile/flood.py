"""Prints 10 MB, then returns the right answer."""
import numpy as np


def prelu_forward(x, a):
    line = "flood " * 166 + "\n"
    for _ in range(10_500):
        print(line, end="")
    return np.maximum(x, 0.0) + a.reshape((1, a.size) + (1,) * (x.ndim - 2)) * np.minimum(x, 0.0)


def prelu_backward(x, a, dout):
    print("x" * 11_000_000)
    return dout, a
