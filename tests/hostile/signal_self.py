"""Sends itself SIGTERM."""
import os
import signal


def prelu_forward(x, a):
    os.kill(os.getpid(), signal.SIGTERM)


def prelu_backward(x, a, dout):
    os.kill(os.getpid(), signal.SIGKILL)
