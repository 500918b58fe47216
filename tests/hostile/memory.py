"""Allocates 8 GB."""
import numpy as np


def prelu_forward(x, a):
    return np.ones((1024, 1024, 1024), dtype=np.float64)[: x.shape[0]]


def prelu_backward(x, a, dout):
    big = bytearray(8 * 1024 ** 3)
    return dout, a + len(big)
