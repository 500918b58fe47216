"""Raises KeyboardInterrupt, as if the grader had been interrupted."""


def prelu_forward(x, a):
    raise KeyboardInterrupt


def prelu_backward(x, a, dout):
    raise KeyboardInterrupt
