"""max_pool2d, avg_pool2d, adaptive_avg_pool2d, global_avg_pool2d: against the plain-loop
references, finite differences (float64) and PyTorch (float32 and float64)."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import functional as F
from tinyrect.kernels import reference as ref

CASES = [  # (N, C, H, W, kernel, stride, padding)
    (2, 3, 6, 6, 2, None, 0),            # textbook: 2x2, stride 2
    (1, 2, 7, 5, 3, 1, 1),               # overlapping windows (stride < kernel), padding
    (2, 1, 8, 6, (3, 2), (2, 1), (1, 0)),  # non-square everything
    (1, 2, 9, 7, 2, 3, 0),               # stride > kernel: some pixels in no window
    (3, 2, 4, 4, 4, 1, 2),               # padding = kernel / 2
    (1, 1, 3, 5, (3, 5), 1, 0),          # output 1x1
    (1, 1, 1, 4, (1, 2), (1, 2), 0),     # a single row
]


def distinct(shape, dtype=np.float64, seed=0):
    """Values with no ties (so the arg-max is unique and finite differences are clean)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).reshape(shape) / n - 0.5).astype(dtype)


@pytest.mark.parametrize("N,C,H,W,k,s,p", CASES)
def test_pooling_forward_matches_reference_and_gradients_check(N, C, H, W, k, s, p):
    x = tr.Tensor(distinct((N, C, H, W)), requires_grad=True)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    kk, ss, pp = pair(k), pair(s if s is not None else k), pair(p)
    np.testing.assert_allclose(F.max_pool2d(x, k, s, p).data,
                               ref.max_pool_forward_reference(x.data, kk, ss, pp)[0])
    np.testing.assert_allclose(F.avg_pool2d(x, k, s, p).data,
                               ref.avg_pool_forward_reference(x.data, kk, ss, pp), rtol=1e-12)
    # eps far below the gap between distinct values: the arg-max never flips
    assert tr.gradcheck(lambda t: F.max_pool2d(t, k, s, p), [x], eps=1e-7).max_rel_error < 1e-6
    assert tr.gradcheck(lambda t: F.avg_pool2d(t, k, s, p), [x]).max_rel_error < 1e-7


def test_overlapping_max_windows_add_their_gradients():
    x = tr.Tensor(np.array([[[[0., 0., 0.], [0., 9., 0.], [0., 0., 0.]]]]), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # all four windows pick the centre
    assert x.grad[0, 0, 1, 1] == 4 and x.grad.sum() == 4


def test_adaptive_and_global_average_pooling_gradients():
    x = tr.Tensor(distinct((2, 2, 7, 5)), requires_grad=True)
    for size in [(3, 2), 1, (7, 5), (4, None), (2, 5)]:
        tr.gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), [x])
    tr.gradcheck(F.global_avg_pool2d, [x])
    g = F.global_avg_pool2d(x)
    assert g.shape == (2, 2)
    np.testing.assert_allclose(g.data, x.data.mean(axis=(2, 3)))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data[:, :, 0, 0], g.data)


def test_pooling_keeps_dtype_and_errors_are_clear():
    x = tr.Tensor(np.zeros((1, 2, 4, 4), np.float32), requires_grad=True)
    assert F.max_pool2d(x, 2).dtype == np.float32 and F.avg_pool2d(x, 2).dtype == np.float32
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(2, 4, 4\)"):
        F.max_pool2d(np.zeros((2, 4, 4), np.float32), 2)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        F.avg_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="kernel 5x5 is larger than the padded input 4x4"):
        F.max_pool2d(x, 5)
    with pytest.raises(ValueError, match="4-D"):
        F.global_avg_pool2d(np.zeros((2, 4), np.float32))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,C,H,W,k,s,p", CASES)
def test_pooling_matches_pytorch(N, C, H, W, k, s, p, dtype):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x_np = distinct((N, C, H, W), dtype, seed=1)
    for ours, theirs in [(F.max_pool2d, tf.max_pool2d), (F.avg_pool2d, tf.avg_pool2d)]:
        x = tr.Tensor(x_np, requires_grad=True)
        xt = torch.tensor(x_np, requires_grad=True)
        y, yt = ours(x, k, s, p), theirs(xt, k, s, p)
        g = np.random.default_rng(2).standard_normal(y.shape).astype(dtype)
        y.backward(g)
        yt.backward(torch.tensor(g))
        assert y.dtype == dtype and x.grad.dtype == dtype
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("size", [1, 3, (2, 4), (5, 3), (9, 8)])
def test_adaptive_avg_pool_matches_pytorch(size):
    torch = pytest.importorskip("torch")
    x_np = distinct((2, 3, 7, 6), seed=3)
    x, xt = tr.Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, yt = F.adaptive_avg_pool2d(x, size), torch.nn.functional.adaptive_avg_pool2d(xt, size)
    g = np.random.default_rng(4).standard_normal(y.shape)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def ties(shape, dtype=np.float64, seed=0):
    """Values drawn from {-1, 0, 1}: almost every window holds a tie for its maximum."""
    return np.random.default_rng(seed).integers(-1, 2, size=shape).astype(dtype)


def test_a_tie_sends_the_gradient_to_the_first_maximum():
    x = tr.Tensor(np.array([[[[1., 1., 0., 2.],
                              [1., 1., 2., 2.]]]]), requires_grad=True)
    F.max_pool2d(x, 2).backward(np.array([[[[10., 20.]]]]))
    # window 1: four equal 1s -> the first in row-major order; window 2: 2, 2, 2 -> (0, 3)
    np.testing.assert_array_equal(x.grad, [[[[10., 0., 0., 20.], [0., 0., 0., 0.]]]])


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N,C,H,W,k,s,p", CASES)
def test_max_pool_ties_route_like_pytorch(N, C, H, W, k, s, p, dtype):
    """PyTorch gives a tied window's gradient to its first maximum (row-major); so must we."""
    torch = pytest.importorskip("torch")
    x_np = ties((N, C, H, W), dtype, seed=5)
    x, xt = tr.Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, yt = F.max_pool2d(x, k, s, p), torch.nn.functional.max_pool2d(xt, k, s, p)
    g = np.random.default_rng(6).standard_normal(y.shape).astype(dtype)
    y.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-6)
