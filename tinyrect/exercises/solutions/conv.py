"""Reference solution: 2-D convolution (cross-correlation, as in every CNN) as im2col + GEMM."""
import numpy as np


def out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def im2col(x, k, stride=1, padding=0):
    """x: (N, C, H, W). Returns cols of shape (N*Ho*Wo, C*k*k) with
    cols[(n*Ho + i)*Wo + j, (c*k + ki)*k + kj] = xpad[n, c, i*stride + ki, j*stride + kj],
    xpad = x zero-padded by `padding` on each side of H and W, Ho = (H + 2*padding - k)//stride + 1."""
    n, c, h, w = x.shape
    ho, wo = out_size(h, k, stride, padding), out_size(w, k, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, ho, wo, c, k, k), dtype=x.dtype)
    for ki in range(k):
        for kj in range(k):
            window = xp[:, :, ki:ki + stride * ho:stride, kj:kj + stride * wo:stride]
            cols[:, :, :, :, ki, kj] = window.transpose(0, 2, 3, 1)
    return cols.reshape(n * ho * wo, c * k * k)


def col2im(dcols, x_shape, k, stride=1, padding=0):
    """The adjoint of im2col: every entry of dcols is added back where im2col read it from."""
    n, c, h, w = x_shape
    ho, wo = out_size(h, k, stride, padding), out_size(w, k, stride, padding)
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    d6 = dcols.reshape(n, ho, wo, c, k, k)
    for ki in range(k):
        for kj in range(k):
            dxp[:, :, ki:ki + stride * ho:stride, kj:kj + stride * wo:stride] += d6[:, :, :, :, ki, kj].transpose(0, 3, 1, 2)
    return dxp[:, :, padding:padding + h, padding:padding + w]


def conv2d_forward(x, w, b, stride=1, padding=0):
    """x: (N, C, H, W); w: (F, C, k, k); b: (F,). Returns out (N, F, Ho, Wo):
    out[n, f, i, j] = b[f] + Σ_{c, ki, kj} w[f, c, ki, kj] · xpad[n, c, i*stride + ki, j*stride + kj]."""
    n, f = x.shape[0], w.shape[0]
    k = w.shape[2]
    ho, wo = out_size(x.shape[2], k, stride, padding), out_size(x.shape[3], k, stride, padding)
    out = im2col(x, k, stride, padding) @ w.reshape(f, -1).T + b
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)


def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    """dout: (N, F, Ho, Wo). Returns (dx, dw, db) with the shapes of x, w, b:
    dw = dout2.T @ cols,  db = Σ over n, i, j of dout,  dx = col2im(dout2 @ w2),
    where dout2 = dout as (N*Ho*Wo, F) and w2 = w as (F, C*k*k)."""
    f, k = w.shape[0], w.shape[2]
    dout2 = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    cols = im2col(x, k, stride, padding)
    dw = (dout2.T @ cols).reshape(w.shape)
    db = dout2.sum(axis=0)
    dx = col2im(dout2 @ w.reshape(f, -1), x.shape, k, stride, padding)
    return dx, dw, db
