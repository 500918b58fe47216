"""Exercise (lesson 02): a fully connected layer on a batch, forward and backward.
                                                            Check: tinyrect check linear
The paper's Eq. (5) writes one layer as y = W x + b with x of n entries and W of shape d × n. On a
batch we store one sample per row: x has shape (N, n), w has shape (d, n) (the paper's W, and
tinyrect's nn.Linear.weight), b has shape (d,), and out[s] = w @ x[s] + b for every sample s.
(Lesson 02 stores its weight as W (D, K) to write Y = XW + b; that W is this w.T.)
Everything is float64; return new arrays, never modify the inputs in place.
"""
import numpy as np  # noqa: F401


def linear_forward(x, w, b):
    """Return out of shape (N, d): out[s] = w @ x[s] + b (one matrix product for the whole batch)."""
    raise NotImplementedError("linear_forward")


def linear_backward(x, w, b, dout):
    """Return (dx, dw, db) given dout = ∂L/∂out of shape (N, d).

    dx has x's shape (N, n), dw has w's shape (d, n), db has b's shape (d,). Start from one entry,
    out[s, i] = Σ_j w[i, j] x[s, j] + b[i]; the loss is a sum over the batch.
    """
    raise NotImplementedError("linear_backward")
