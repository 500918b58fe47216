"""Calls sys.exit(0) inside prelu_forward and raises SystemExit inside prelu_backward."""
import sys


def prelu_forward(x, a):
    sys.exit(0)


def prelu_backward(x, a, dout):
    raise SystemExit(0)
