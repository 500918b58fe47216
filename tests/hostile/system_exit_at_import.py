"""Raises SystemExit while being imported."""
raise SystemExit(0)


def prelu_forward(x, a):
    return x


def prelu_backward(x, a, dout):
    return dout, a
