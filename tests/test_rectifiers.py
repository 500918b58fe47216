"""ReLU, Leaky ReLU, PReLU (Eq. 1-3): gradcheck, torch cross-check, fast vs reference kernels."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import functional as F
from tinyrect.kernels import rectifiers as K


def _away_from_zero(shape, seed=0):
    """Gaussian values kept away from the kink at 0, so finite differences are clean."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 0.05, 0.3, x)


@pytest.mark.parametrize("shape,k", [((4, 3, 5, 6), 3), ((4, 3, 5, 6), 1), ((5, 7), 7),
                                     ((5, 7), 1), ((3, 4, 6), 4), ((6,), 1)])
@pytest.mark.parametrize("a0", [-0.4, 0.25, 1.7])
def test_prelu_gradcheck(shape, k, a0):
    x = tr.Tensor(_away_from_zero(shape), requires_grad=True)
    a = tr.Tensor(a0 + 0.1 * np.arange(k, dtype=np.float64), requires_grad=True)
    report = tr.gradcheck(F.prelu, [x, a], names=["x", "a"])
    assert report.passed and report.max_rel_error < 1e-5  # tiny gradients set the floor


def test_leaky_relu_and_relu_gradcheck():
    x = tr.Tensor(_away_from_zero((3, 4, 5, 5)), requires_grad=True)
    assert tr.gradcheck(lambda t: F.leaky_relu(t, 0.2), [x]).max_rel_error < 1e-5
    assert tr.gradcheck(F.relu, [x]).max_rel_error < 1e-5


@pytest.mark.parametrize("shape,k", [((4, 3, 5, 6), 3), ((4, 3, 5, 6), 1), ((5, 7), 7),
                                     ((3, 4, 6), 4), ((3, 4, 6), 1)])
@pytest.mark.parametrize("a0", [-0.4, 0.25, 1.7])
def test_prelu_matches_torch(shape, k, a0):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal(shape)
    x_np.flat[:3] = 0.0  # exactly 0: both take the slope a (the negative-side subgradient)
    a_np = a0 + 0.1 * np.arange(k, dtype=np.float64)
    g_np = rng.standard_normal(shape)
    x, a = tr.Tensor(x_np, requires_grad=True), tr.Tensor(a_np, requires_grad=True)
    out = F.prelu(x, a)
    out.backward(g_np)
    tx = torch.tensor(x_np, requires_grad=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tout = torch.nn.functional.prelu(tx, ta)
    tout.backward(torch.tensor(g_np))
    assert out.dtype == np.float64 and x.grad.dtype == np.float64 and a.grad.shape == (k,)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_leaky_relu_matches_torch():
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(2).standard_normal((4, 3, 5, 5))
    x = tr.Tensor(x_np, requires_grad=True)
    F.leaky_relu(x, 0.3).sum().backward()
    tx = torch.tensor(x_np, requires_grad=True)
    torch.nn.functional.leaky_relu(tx, 0.3).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), atol=1e-12)


def test_rectifier_values_at_the_kink():
    x = tr.Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    a = tr.Tensor(np.array([0.5]), requires_grad=True)
    out = F.prelu(x, a)
    out.backward(np.ones(3))
    np.testing.assert_array_equal(out.data, [-1.0, 0.0, 3.0])
    np.testing.assert_array_equal(x.grad, [0.5, 0.5, 1.0])   # df/dy = a at y = 0 (Eq. 1)
    np.testing.assert_array_equal(a.grad, [-2.0])            # Σ min(0, y) (Eq. 3)


def test_relu_and_leaky_relu_backward_at_exactly_zero():
    x = tr.Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    F.relu(x).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])   # 0 at y = 0, as torch
    x.zero_grad()
    F.leaky_relu(x, 0.3).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.3, 0.3, 1.0])   # the slope at y = 0, as torch


def _with_zeros(shape, dtype, seed=3):
    """Gaussian values with about a third of them exactly 0."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * (rng.integers(0, 3, size=shape) > 0)).astype(dtype)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (6, 7)])
def test_rectifiers_at_exact_zeros_match_torch(shape, dtype):
    """At y = 0 torch's ReLU passes 0, Leaky ReLU and PReLU the slope (dx) and 0 (da)."""
    torch = pytest.importorskip("torch")
    x_np = _with_zeros(shape, dtype)
    assert (x_np == 0).sum() > x_np.size // 5
    g_np = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    a_np = np.array([0.25, -0.5, 1.5][: 1 if len(shape) == 2 else 3], dtype=dtype)
    tf = torch.nn.functional
    cases = [(F.relu, tf.relu, None), (F.leaky_relu, tf.leaky_relu, None),
             (lambda t: F.leaky_relu(t, 0.3), lambda t: tf.leaky_relu(t, 0.3), None),
             (F.prelu, tf.prelu, a_np)]
    for ours, theirs, weight in cases:
        x, tx = tr.Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
        if weight is None:
            out, tout = ours(x), theirs(tx)
        else:
            a, ta = tr.Tensor(weight, requires_grad=True), torch.tensor(weight, requires_grad=True)
            out, tout = ours(x, a), theirs(tx, ta)
        out.backward(g_np)
        tout.backward(torch.tensor(g_np))
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6, atol=0)
        if weight is not None:
            np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 5])
def test_fast_kernels_match_reference(dtype, k):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 4, 7)).astype(dtype)
    x[0, 0, 0, :3] = 0
    a = (rng.standard_normal(k) * 0.5).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    out = K.prelu_forward_4d(x, a)
    dx, da = K.prelu_backward_4d(x, a, dout)
    out_ref = K.prelu_forward_4d_reference(x, a)
    dx_ref, da_ref = K.prelu_backward_4d_reference(x, a, dout)
    assert out.dtype == dx.dtype == da.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out, out_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, dx_ref, rtol=tol, atol=tol)
    np.testing.assert_allclose(da, da_ref, rtol=10 * tol, atol=10 * tol)


def test_float32_stays_float32():
    x = tr.Tensor(np.random.default_rng(4).standard_normal((2, 3, 4, 4)).astype(np.float32),
                  requires_grad=True)
    a = tr.Tensor(np.full(3, 0.25, np.float32), requires_grad=True)
    out = F.prelu(x, a)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == a.grad.dtype == np.float32
    out = F.leaky_relu(x)
    assert out.dtype == np.float32


def test_noncontiguous_4d_input_takes_the_numpy_path():
    base = np.random.default_rng(5).standard_normal((2, 4, 6, 3))
    x_view = base.transpose(0, 3, 1, 2)                      # (2, 3, 4, 6), not contiguous
    a_np = np.array([0.1, -0.2, 1.3])
    g = np.random.default_rng(6).standard_normal(x_view.shape)
    results = []
    for data in (x_view, np.ascontiguousarray(x_view)):      # numpy path, then numba path
        x, a = tr.Tensor(data, requires_grad=True), tr.Tensor(a_np, requires_grad=True)
        out = F.prelu(x, a)
        out.backward(g)
        results.append((out.data, x.grad, a.grad))
    for slow, fast in zip(*results):
        np.testing.assert_allclose(slow, fast, rtol=1e-13, atol=1e-13)


def test_prelu_weight_size_error_names_both():
    x = tr.Tensor(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r"weight has 5 elements but the input has 3 channels"):
        F.prelu(x, tr.Tensor(np.full(5, 0.25)))


def test_prelu_modules():
    m = tr.nn.PReLU()
    assert m.weight.shape == (1,) and m.weight.data[0] == np.float32(0.25)
    assert repr(m) == "PReLU(num_parameters=1)"
    m = tr.nn.PReLU(3, init=0.1)
    x = tr.Tensor(np.random.default_rng(6).standard_normal((2, 3, 4, 4)).astype(np.float32))
    y = m(x)
    np.testing.assert_allclose(y.data, np.where(x.data > 0, x.data, 0.1 * x.data), rtol=1e-6)
    y.sum().backward()
    assert m.weight.grad.shape == (3,)
    assert repr(tr.nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    np.testing.assert_array_equal(tr.nn.ReLU()(x).data, np.maximum(x.data, 0))
    with pytest.raises(ValueError, match="num_parameters"):
        tr.nn.PReLU(0)


def test_prelu_module_matches_torch_module():
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(7).standard_normal((3, 4, 5, 5))
    m = tr.nn.PReLU(4).double()
    tm = torch.nn.PReLU(4).double()
    x = tr.Tensor(x_np)
    (m(x) * m(x)).sum().backward()
    tx = torch.tensor(x_np)
    (tm(tx) * tm(tx)).sum().backward()
    np.testing.assert_allclose(m.weight.grad, tm.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
