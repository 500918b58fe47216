"""Exercise: 2-D convolution as im2col + one matrix product.   Check: tinyrect check conv

Layout NCHW: x is (N, C, H, W); the weight w is (F, C, k, k) (F output channels, square k × k
kernels); the bias b is (F,). Like every CNN library we compute a cross-correlation (no kernel flip):

    out[n, f, i, j] = b[f] + Σ_{c, ki, kj} w[f, c, ki, kj] · xpad[n, c, i·stride + ki, j·stride + kj]

xpad is x with `padding` zeros added on each side of H and W. The output size is
Ho = (H + 2·padding − k) // stride + 1 (floor: a window that does not fit is dropped), same for Wo.
This is Eq. (5)'s y = W x + b at every position, with n = k²c inputs per output.

im2col layout (the contract the checker tests): cols has shape (N·Ho·Wo, C·k·k) and
    cols[(n·Ho + i)·Wo + j, (c·k + ki)·k + kj] = xpad[n, c, i·stride + ki, j·stride + kj]
i.e. one row per output position (image n slowest, then row i, then column j), one column per
weight, in the order in which w.reshape(F, C·k·k) lists them. Then
    out = (cols @ w.reshape(F, -1).T + b).reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2).
Everything is float64; return new arrays, never modify the inputs in place.
"""
import numpy as np  # noqa: F401


def im2col(x, k, stride=1, padding=0):
    """Return cols of shape (N·Ho·Wo, C·k·k) in the layout above."""
    raise NotImplementedError("im2col")


def conv2d_forward(x, w, b, stride=1, padding=0):
    """Return out of shape (N, F, Ho, Wo) (see the formula above; im2col + one matrix product)."""
    raise NotImplementedError("conv2d_forward")


def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    """Return (dx, dw, db) given dout = ∂L/∂out of shape (N, F, Ho, Wo).

    dx has x's shape, dw has w's shape (F, C, k, k), db has b's shape (F,).
    Hints: with dout2 = dout as an (N·Ho·Wo, F) matrix (rows in im2col's order),
    dw = dout2.T @ cols, db sums dout over the batch and every position, and dx comes from
    dcols = dout2 @ w.reshape(F, -1) by undoing im2col ("col2im"): each entry of dcols is ADDED
    back where im2col read it from (windows overlap when stride < k), then the padding is cropped.
    """
    raise NotImplementedError("conv2d_backward")
