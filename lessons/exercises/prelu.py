"""Exercise (lesson 04): PReLU, forward and backward (He et al. 2015, Sec. 2.1).
                                                            Check: tinyrect check prelu
Start from Eq. (1):  f(y_i) = y_i if y_i > 0,  a_i · y_i if y_i <= 0,
and from the chain rule as Eq. (2) writes it for the slope:
          ∂E/∂a_i = Σ over the positions y_i of channel i of  ∂E/∂f(y_i) · ∂f(y_i)/∂a_i.
Derive ∂f(y_i)/∂a_i (the paper's Eq. 3) and ∂f(y_i)/∂y_i yourself. At y_i == 0 exactly, use the side
Eq. (1) puts it on.

Shapes: x is (N, C) (a fully connected layer's output) or (N, C, H, W) (a conv layer's output);
the channel is always dim 1. a is (1,) (channel-shared: one slope for the whole layer) or (C,)
(channel-wise: a_i for channel i). Everything is float64; return new arrays, never modify x, a or
dout in place.
"""
import numpy as np  # noqa: F401


def prelu_forward(x, a):
    """Return f(x) of Eq. (1), of x's shape, a_i applied to channel i (dim 1 of x)."""
    raise NotImplementedError("prelu_forward")


def prelu_backward(x, a, dout):
    """Return (dx, da) given dout = ∂E/∂f(x) of x's shape.

    dx = ∂E/∂x has x's shape; da = ∂E/∂a has a's shape. The loss sums over the whole batch.
    """
    raise NotImplementedError("prelu_backward")
