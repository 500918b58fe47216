"""An endless loop that catches every exception, so no in-process time limit can stop it."""
import time


def prelu_forward(x, a):
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass


def prelu_backward(x, a, dout):
    while True:
        try:
            pass
        except BaseException:
            pass
