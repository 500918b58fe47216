"""Reference solution: a fully connected layer y = W x + b (the paper's Eq. 5) on a batch."""


def linear_forward(x, w, b):
    """x: (N, n) one sample per row; w: (d, n) like the paper's W; b: (d,). Returns (N, d):
    out[s] = w @ x[s] + b for every sample s, i.e. out = x @ w.T + b."""
    return x @ w.T + b


def linear_backward(x, w, b, dout):
    """dout: (N, d). Returns (dx, dw, db) with the shapes of x, w, b:
    dx = dout @ w,  dw = dout.T @ x (summed over the batch),  db = Σ_s dout[s]."""
    return dout @ w, dout.T @ x, dout.sum(axis=0)
