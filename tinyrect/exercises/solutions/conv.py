"""Reference solution: 2-D convolution (cross-correlation, as in every CNN) as im2col + GEMM, in
lesson 03's layout: X_col (C·k·k, N·Ho·Wo), one column per output position, Y_col = W_col · X_col."""
import numpy as np


def out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def im2col(x, k, stride=1, padding=0):
    """x: (N, C, H, W). Returns X_col of shape (C*k*k, N*Ho*Wo) with
    X_col[(c*k + ki)*k + kj, (n*Ho + i)*Wo + j] = xpad[n, c, i*stride + ki, j*stride + kj],
    xpad = x zero-padded by `padding` on each side of H and W, Ho = (H + 2*padding - k)//stride + 1."""
    n, c, h, w = x.shape
    ho, wo = out_size(h, k, stride, padding), out_size(w, k, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((c, k, k, n, ho, wo), dtype=x.dtype)
    for ki in range(k):
        for kj in range(k):
            window = xp[:, :, ki:ki + stride * ho:stride, kj:kj + stride * wo:stride]
            cols[:, ki, kj] = window.transpose(1, 0, 2, 3)
    return cols.reshape(c * k * k, n * ho * wo)


def col2im(dcols, x_shape, k, stride=1, padding=0):
    """The adjoint of im2col: every entry of dcols is added back where im2col read it from."""
    n, c, h, w = x_shape
    ho, wo = out_size(h, k, stride, padding), out_size(w, k, stride, padding)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    d6 = dcols.reshape(c, k, k, n, ho, wo)
    for ki in range(k):
        for kj in range(k):
            dxp[:, :, ki:ki + stride * ho:stride, kj:kj + stride * wo:stride] += d6[:, ki, kj].transpose(1, 0, 2, 3)
    return dxp[:, :, padding:padding + h, padding:padding + w]


def conv2d_forward(x, w, b, stride=1, padding=0):
    """x: (N, C, H, W); w: (F, C, k, k); b: (F,). Returns out (N, F, Ho, Wo):
    out[n, f, i, j] = b[f] + Σ_{c, ki, kj} w[f, c, ki, kj] · xpad[n, c, i*stride + ki, j*stride + kj],
    computed as Y_col = W_col · X_col + b, W_col = w.reshape(F, C*k*k), Y_col (F, N*Ho*Wo)."""
    n, f = x.shape[0], w.shape[0]
    k = w.shape[2]
    ho, wo = out_size(x.shape[2], k, stride, padding), out_size(x.shape[3], k, stride, padding)
    y_col = w.reshape(f, -1) @ im2col(x, k, stride, padding) + b[:, None]
    return y_col.reshape(f, n, ho, wo).transpose(1, 0, 2, 3)


def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    """dout: (N, F, Ho, Wo). Returns (dx, dw, db) with the shapes of x, w, b:
    dW_col = dY_col · X_colᵀ,  db = Σ over n, i, j of dout,  dx = col2im(W_colᵀ · dY_col),
    where dY_col = dout as (F, N*Ho*Wo) (columns in im2col's order) and W_col = w as (F, C*k*k)."""
    f, k = w.shape[0], w.shape[2]
    dy_col = dout.transpose(1, 0, 2, 3).reshape(f, -1)
    dw = (dy_col @ im2col(x, k, stride, padding).T).reshape(w.shape)
    db = dy_col.sum(axis=1)
    dx = col2im(w.reshape(f, -1).T @ dy_col, x.shape, k, stride, padding)
    return dx, dw, db
