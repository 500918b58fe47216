"""The slow, obvious versions of the convolution and pooling kernels: plain Python loops.

Read these first. Each one is the definition, written so that you can check it against a
drawing on paper; the numba kernels in im2col.py and pooling.py compute the same numbers, only
faster (tests/test_kernels.py compares them on small shapes), and so does the whole fast conv2d
(kernels/conv.py): its forward against conv2d_reference, its backward against
conv2d_backward_reference. All geometry arguments are pairs (height, width): kernel (kh, kw),
stride (sh, sw), padding (ph, pw), dilation (dh, dw).

A 2-D convolution (really a cross-correlation, as in every deep-learning library):

    y[n, f, ho, wo] = b[f] + Σ_c Σ_i Σ_j  w[f, c, i, j] · x_pad[n, c, ho·sh + i·dh, wo·sw + j·dw]

im2col copies every input patch into a column, so the four inner sums become one matrix product.
"""
from __future__ import annotations

import numpy as np


def output_size(size, kernel, stride, padding, dilation=1):
    """Number of window positions along one axis: floor((size + 2p - d(k-1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_reference(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The definition above, seven nested loops. Zero padding: positions outside x read 0."""
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ho = output_size(H, kh, stride[0], padding[0], dilation[0])
    Wo = output_size(W, kw, stride[1], padding[1], dilation[1])
    y = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for ho in range(Ho):
                for wo in range(Wo):
                    total = 0.0 if b is None else b[f]
                    for c in range(C):
                        for i in range(kh):
                            for j in range(kw):
                                h = ho * stride[0] - padding[0] + i * dilation[0]  # input row
                                v = wo * stride[1] - padding[1] + j * dilation[1]  # input column
                                if 0 <= h < H and 0 <= v < W:  # outside: zero padding
                                    total += w[f, c, i, j] * x[n, c, h, v]
                    y[n, f, ho, wo] = total
    return y


def conv2d_backward_reference(x, w, dy, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """(dx, dw, db) of conv2d_reference by the chain rule, the same seven loops: each product
    y += w[f, c, i, j] · x[n, c, h, v] sends dy[n, f, ho, wo]·x[n, c, h, v] to dw[f, c, i, j] and
    dy[n, f, ho, wo]·w[f, c, i, j] to dx[n, c, h, v]; the bias gets every dy of its channel."""
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    _, _, Ho, Wo = dy.shape
    dx, dw, db = np.zeros_like(x), np.zeros_like(w), np.zeros(F, dtype=dy.dtype)
    for n in range(N):
        for f in range(F):
            for ho in range(Ho):
                for wo in range(Wo):
                    g = dy[n, f, ho, wo]
                    db[f] += g
                    for c in range(C):
                        for i in range(kh):
                            for j in range(kw):
                                h = ho * stride[0] - padding[0] + i * dilation[0]
                                v = wo * stride[1] - padding[1] + j * dilation[1]
                                if 0 <= h < H and 0 <= v < W:  # padding: no input, no gradient
                                    dw[f, c, i, j] += g * x[n, c, h, v]
                                    dx[n, c, h, v] += g * w[f, c, i, j]
    return dx, dw, db


def im2col_reference(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """X_col of shape (C·kh·kw, N·Ho·Wo): column (n, ho, wo) holds the patch under that window.

    Row (c, i, j) is numbered (c·kh + i)·kw + j: the order of weight.reshape(F, -1), so that
    Y_col = W_col @ X_col gives y[n, f, ho, wo] in column n·Ho·Wo + ho·Wo + wo.
    Careful: rows are checked against the HEIGHT (H) and columns against the WIDTH (W); mixing
    the two up is a classic bug that square test images never reveal.
    """
    N, C, H, W = x.shape
    kh, kw = kernel
    Ho = output_size(H, kh, stride[0], padding[0], dilation[0])
    Wo = output_size(W, kw, stride[1], padding[1], dilation[1])
    cols = np.zeros((C * kh * kw, N * Ho * Wo), dtype=x.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                for n in range(N):
                    for ho in range(Ho):
                        for wo in range(Wo):
                            h = ho * stride[0] - padding[0] + i * dilation[0]
                            v = wo * stride[1] - padding[1] + j * dilation[1]
                            if 0 <= h < H and 0 <= v < W:  # else: stays 0 (zero padding)
                                cols[row, (n * Ho + ho) * Wo + wo] = x[n, c, h, v]
    return cols


def col2im_reference(cols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """The adjoint of im2col: every column entry is ADDED back to the input pixel it was copied
    from (a pixel read by several overlapping windows collects several contributions; entries
    that were copied from the padding are dropped). This is how dX = col2im(W_colᵀ · dY)."""
    N, C, H, W = x_shape
    kh, kw = kernel
    Ho = output_size(H, kh, stride[0], padding[0], dilation[0])
    Wo = output_size(W, kw, stride[1], padding[1], dilation[1])
    dx = np.zeros(x_shape, dtype=cols.dtype)
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = (c * kh + i) * kw + j
                for n in range(N):
                    for ho in range(Ho):
                        for wo in range(Wo):
                            h = ho * stride[0] - padding[0] + i * dilation[0]
                            v = wo * stride[1] - padding[1] + j * dilation[1]
                            if 0 <= h < H and 0 <= v < W:
                                dx[n, c, h, v] += cols[row, (n * Ho + ho) * Wo + wo]  # +=, not =
    return dx


def _windows(H, W, kernel, stride, padding):
    """Yield (ho, wo, [(h, w) inside the image]) for every pooling window."""
    Ho = output_size(H, kernel[0], stride[0], padding[0])
    Wo = output_size(W, kernel[1], stride[1], padding[1])
    for ho in range(Ho):
        for wo in range(Wo):
            pixels = [(ho * stride[0] - padding[0] + i, wo * stride[1] - padding[1] + j)
                      for i in range(kernel[0]) for j in range(kernel[1])]
            yield ho, wo, [(h, w) for h, w in pixels if 0 <= h < H and 0 <= w < W]


def max_pool_forward_reference(x, kernel, stride, padding=(0, 0)):
    """out = max over each window (padding = -inf, never chosen); argmax = flat index h·W + w of
    the first maximum in row-major order, which the backward needs."""
    N, C, H, W = x.shape
    Ho = output_size(H, kernel[0], stride[0], padding[0])
    Wo = output_size(W, kernel[1], stride[1], padding[1])
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    argmax = np.empty((N, C, Ho, Wo), dtype=np.int64)
    for n in range(N):
        for c in range(C):
            for ho, wo, pixels in _windows(H, W, kernel, stride, padding):
                values = [x[n, c, h, w] for h, w in pixels]
                k = int(np.argmax(values))  # first maximum
                out[n, c, ho, wo] = values[k]
                argmax[n, c, ho, wo] = pixels[k][0] * W + pixels[k][1]
    return out, argmax


def max_pool_backward_reference(dout, argmax, x_shape):
    """The max passes its gradient to the one input that won; the others get 0. Overlapping
    windows (stride < kernel) can pick the same pixel twice: the gradients add up."""
    dx = np.zeros(x_shape, dtype=dout.dtype)
    W = x_shape[3]
    N, C, Ho, Wo = dout.shape
    for n in range(N):
        for c in range(C):
            for ho in range(Ho):
                for wo in range(Wo):
                    k = argmax[n, c, ho, wo]
                    dx[n, c, k // W, k % W] += dout[n, c, ho, wo]
    return dx


def avg_pool_forward_reference(x, kernel, stride, padding=(0, 0)):
    """out = sum of the window / (kh·kw): padded zeros count (PyTorch's count_include_pad=True)."""
    N, C, H, W = x.shape
    Ho = output_size(H, kernel[0], stride[0], padding[0])
    Wo = output_size(W, kernel[1], stride[1], padding[1])
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for ho, wo, pixels in _windows(H, W, kernel, stride, padding):
                out[n, c, ho, wo] = sum(x[n, c, h, w] for h, w in pixels) / (kernel[0] * kernel[1])
    return out


def avg_pool_backward_reference(dout, x_shape, kernel, stride, padding=(0, 0)):
    """Each input pixel in a window receives dout / (kh·kw) from that window."""
    N, C, H, W = x_shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for n in range(N):
        for c in range(C):
            for ho, wo, pixels in _windows(H, W, kernel, stride, padding):
                for h, w in pixels:
                    dx[n, c, h, w] += dout[n, c, ho, wo] / (kernel[0] * kernel[1])
    return dx
