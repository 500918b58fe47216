"""Crashes the interpreter with a segmentation fault."""
import ctypes


def prelu_forward(x, a):
    return ctypes.string_at(0)


def prelu_backward(x, a, dout):
    return ctypes.string_at(0)
