"""Exercise (lesson 03): 2-D convolution as im2col + one matrix product.   Check: tinyrect check conv

Layout NCHW, as in tinyrect and lesson 03: x is (N, C, H, W); the weight w is (F, C, k, k) (F output
channels, square k × k kernels); the bias b is (F,). Like every CNN library we compute a
cross-correlation (no kernel flip):

    out[n, f, i, j] = b[f] + Σ_{c, ki, kj} w[f, c, ki, kj] · xpad[n, c, i·stride + ki, j·stride + kj]

xpad is x with `padding` zeros added on each side of H and W. The output size is
Ho = (H + 2·padding − k) // stride + 1 (floor: a window that does not fit is dropped), same for Wo.
This is Eq. (5)'s y = W x + b at every position, with n = k²c inputs per output.

im2col, lesson 03's X_col (the contract the checker tests): shape (C·k·k, N·Ho·Wo),
    X_col[(c·k + ki)·k + kj, (n·Ho + i)·Wo + j] = xpad[n, c, i·stride + ki, j·stride + kj]
one ROW per weight, in the order in which w.reshape(F, C·k·k) lists them, and one COLUMN per output
position (image n slowest, then row i, then column j). Then Y_col = W_col · X_col (+ b), with
W_col = w.reshape(F, C·k·k), holds out as an (F, N·Ho·Wo) matrix.
im2col is graded first: if it fails, fix it before reading the other two functions' results.
Everything is float64; return new arrays, never modify the inputs in place.
"""
import numpy as np  # noqa: F401


def im2col(x, k, stride=1, padding=0):
    """Return X_col of shape (C·k·k, N·Ho·Wo) in the layout above."""
    raise NotImplementedError("im2col")


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Return out of shape (N, F, Ho, Wo) (the formula above, with im2col and one matrix product)."""
    raise NotImplementedError("conv2d_forward")


def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    """Return (dx, dw, db) given dout = ∂L/∂out of shape (N, F, Ho, Wo).

    dx has x's shape, dw has w's shape (F, C, k, k), db has b's shape (F,).
    Start from Y_col = W_col · X_col + b (one column per output position): write dY_col, derive the
    gradients of a matrix product (lesson 02), then undo im2col to get dx from dX_col. Which entries
    of x does more than one column of X_col read?
    """
    raise NotImplementedError("conv2d_backward")
