"""Exercise (lesson 03): max pooling and its backward.             Check: tinyrect check maxpool

x is (N, C, H, W), float64. A k×k window moves with stride s (no padding); output (N, C, Ho, Wo)
with Ho = (H − k) // s + 1:
    out[n, c, i, j] = max over ki, kj in 0..k-1 of x[n, c, i·s + ki, j·s + kj]
The backward gets dout = ∂L/∂out and returns dx = ∂L/∂x. Think about what a max does with a
small change of each input of its window, what happens when the maximum appears twice in a window
(the grader's inputs are small integers: ties are common; use the convention of np.argmax and
PyTorch), and what happens to an input that several windows read (s < k).
"""
import numpy as np  # noqa: F401


def maxpool_forward(x, k, stride):
    """Return out of shape (N, C, Ho, Wo)."""
    raise NotImplementedError("maxpool_forward")


def maxpool_backward(x, dout, k, stride):
    """Return dx of x's shape, given dout of shape (N, C, Ho, Wo)."""
    raise NotImplementedError("maxpool_backward")
