"""Reference solution: max pooling and its backward with ties (lesson 03)."""
import numpy as np


def out_size(size, k, stride):
    return (size - k) // stride + 1


def windows(x, k, stride):
    """(N, C, Ho, Wo, k·k): every window's entries in row-major order (ki slow, kj fast)."""
    n, c, h, w = x.shape
    ho, wo = out_size(h, k, stride), out_size(w, k, stride)
    win = np.empty((n, c, ho, wo, k, k), dtype=x.dtype)
    for ki in range(k):
        for kj in range(k):
            win[..., ki, kj] = x[:, :, ki:ki + stride * ho:stride, kj:kj + stride * wo:stride]
    return win.reshape(n, c, ho, wo, k * k)


def maxpool_forward(x, k, stride):
    """out[n, c, i, j] = max over the k×k window at (i·stride, j·stride); no padding."""
    return windows(x, k, stride).max(axis=-1)


def maxpool_backward(x, dout, k, stride):
    """The max is a selection: its whole gradient goes to ONE input, the first maximum of the window
    in row-major order (np.argmax, as PyTorch), and windows that overlap ADD their gradients."""
    n, c, ho, wo = dout.shape
    first = windows(x, k, stride).argmax(axis=-1)        # first maximum in each window
    dx = np.zeros_like(x)
    ki, kj = np.divmod(first, k)
    rows = ki + stride * np.arange(ho)[:, None]
    cols = kj + stride * np.arange(wo)[None, :]
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    np.add.at(dx, (nn[:, :, None, None], cc[:, :, None, None], rows, cols), dout)
    return dx
