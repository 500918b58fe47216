"""Exercise: PReLU, forward and backward (He et al. 2015, Sec. 2.1).   Check: tinyrect check prelu

Eq. (1):  f(y_i) = y_i if y_i > 0,  a_i · y_i if y_i <= 0     i.e.  max(0, y_i) + a_i · min(0, y_i)
Eq. (2):  ∂E/∂a_i = Σ over the positions y_i of channel i of  ∂E/∂f(y_i) · ∂f(y_i)/∂a_i
Eq. (3):  ∂f(y_i)/∂a_i = 0 if y_i > 0,  y_i if y_i <= 0

Shapes: x is (N, C) (a fully connected layer's output) or (N, C, H, W) (a conv layer's output);
the channel is always dim 1. a is (1,) (channel-shared: one slope for the whole layer) or (C,)
(channel-wise: a_i for channel i). Everything is float64; return new arrays, never modify x, a or
dout in place.
"""
import numpy as np  # noqa: F401


def prelu_forward(x, a):
    """Return f(x) of Eq. (1), of x's shape, a_i applied to channel i (dim 1 of x).

    Hint: a of shape (C,) multiplied with an (N, C, H, W) array broadcasts along the LAST axis;
    reshape it so that it lines up with dim 1.
    """
    raise NotImplementedError("prelu_forward: write Eq. (1)")


def prelu_backward(x, a, dout):
    """Return (dx, da) given dout = ∂E/∂f(x) of x's shape.

    dx: x's shape. dx = dout where x > 0 and a_i · dout where x <= 0 (the slope of Eq. 1; at x == 0
        exactly take the negative side, as Eq. 1 does).
    da: a's shape. Eq. (2)-(3): da_i = Σ dout · min(0, x) over every position of channel i in every
        sample of the batch. Channel-shared a (shape (1,)): sum over the channels too.
    """
    raise NotImplementedError("prelu_backward: write Eq. (2)-(3)")
