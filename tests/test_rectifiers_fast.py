"""PReLU's fast paths against the slow, obvious definitions: the numba kernels of
kernels/rectifiers.py against their *_reference twins, F.prelu's kernel path on every rank, and
conv2d_prelu (its forward chunk by chunk) against conv2d followed by prelu."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tinyrect
import tinyrect as tr
from tinyrect import functional as F
from tinyrect.kernels import rectifiers as K

SHAPES = [(3, 5, 4, 7), (2, 3, 1, 1), (5, 7, 1, 1), (1, 1, 3, 3), (4, 2, 5, 1), (2, 4, 16, 16),
          (3, 2, 3, 11), (1, 6, 2, 2)]


def _inputs(shape, k, dtype, seed):
    """x with exact zeros (their slope is a, their min(0, y) is 0), dout, and slopes a that
    include 0 and a negative value when there are several."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[::5] = 0
    a = rng.uniform(-0.5, 1.5, k).astype(dtype)
    if k > 2:
        a[:2] = (0, -0.3)
    return x, a, rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_kernels_match_references(shape, shared, dtype):
    """Eq. (1) and its gradients (Eq. 1-3), channel-wise and channel-shared, odd shapes, one pixel
    per plane (the (N, C) of a linear layer), planes longer than a vector register."""
    x, a, dout = _inputs(shape, 1 if shared else shape[1], dtype, seed=sum(shape))
    out, (dx, da) = K.prelu_forward_4d(x, a), K.prelu_backward_4d(x, a, dout)
    dx_ref, da_ref = K.prelu_backward_4d_reference(x, a, dout)
    assert out.dtype == dx.dtype == da.dtype == dtype and da.shape == (shape[1],)
    np.testing.assert_array_equal(out, K.prelu_forward_4d_reference(x, a))   # same float ops
    np.testing.assert_array_equal(dx, dx_ref)
    tol = 1e-6 if dtype == np.float32 else 1e-13      # float64 sums, in another order
    np.testing.assert_allclose(da, da_ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_into_adds_to_da_in_float64_and_may_overwrite_dout(dtype):
    """prelu_backward_4d_into adds each channel's sum to a float64 da (so chunks can share one)
    and may write dx over dout."""
    x, a, dout = _inputs((4, 3, 5, 6), 3, dtype, seed=1)
    dx_ref, _ = K.prelu_backward_4d_reference(x, a, dout)
    expected = np.ones(3) + [np.sum((np.minimum(x[:, c], 0) * dout[:, c]).astype(np.float64))
                             for c in range(3)]            # products in x's dtype, sums in float64
    da = np.ones(3)
    g = dout.copy()
    K.prelu_backward_4d_into(x[:2], a, g[:2], g[:2], da)             # two chunks, in place
    K.prelu_backward_4d_into(x[2:], a, g[2:], g[2:], da)
    np.testing.assert_array_equal(g, dx_ref)
    np.testing.assert_allclose(da, expected, rtol=1e-12, atol=1e-12)


def test_float32_sums_keep_their_digits():
    """da of many float32 terms: accumulated in float64, so as exact as float32 can hold it
    (a float32 running sum of these 10⁶ terms is off by 4e-5 relative)."""
    rng = np.random.default_rng(2)
    x = -np.abs(rng.standard_normal((100, 2, 100, 100))).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    _, da = K.prelu_backward_4d(x, np.full(2, 0.25, np.float32), dout)
    exact = [np.sum((x[:, c] * dout[:, c]).astype(np.float64)) for c in range(2)]
    np.testing.assert_allclose(da, exact, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 7), (3, 4, 6), (2, 3, 4, 5, 2), (6,), ()])
def test_prelu_of_any_rank_matches_the_formulas(shape, dtype):
    """F.prelu runs contiguous inputs of every rank through the kernels (as (N, C, rest, 1)):
    the numbers of Eq. (1)-(3) written in NumPy, channel-wise (dim 1) and shared."""
    C = shape[1] if len(shape) >= 2 else 1
    for k in sorted({1, C}):
        x_np, a_np, g = _inputs(shape, k, dtype, seed=len(shape) + k)
        x, a = tr.Tensor(x_np, requires_grad=True), tr.Tensor(a_np, requires_grad=True)
        out = F.prelu(x, a)
        out.backward(g)
        a_b = a_np.reshape((1, k) + (1,) * (len(shape) - 2)) if len(shape) >= 2 else a_np[0]
        np.testing.assert_array_equal(out.data, np.where(x_np > 0, x_np, a_b * x_np))
        np.testing.assert_array_equal(x.grad, np.where(x_np > 0, g, a_b * g))
        terms = (np.minimum(x_np, 0) * g).astype(np.float64)
        axes = tuple(i for i in range(len(shape)) if i != 1) if len(shape) >= 2 else None
        da = terms.sum(axis=axes) if k > 1 else np.atleast_1d(terms.sum())
        assert a.grad.dtype == dtype and a.grad.shape == (k,)
        np.testing.assert_allclose(a.grad, da, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.fixture
def many_chunks(monkeypatch):
    """conv2d on 2 threads with one sample per chunk, so conv2d_prelu's forward applies Eq. (1)
    chunk by chunk on both threads."""
    from tinyrect.kernels import conv as kconv

    before = tinyrect.get_num_threads()
    tinyrect.set_num_threads(2)
    monkeypatch.setattr(kconv, "CHUNK_BYTES", 1)
    yield
    tinyrect.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [1, 4])
@pytest.mark.parametrize("channels", [3, 8])      # 27 taps: im2col + GEMM; 72: the direct path
def test_conv2d_prelu_by_chunks_matches_conv2d_then_prelu(many_chunks, channels, k, dtype):
    """conv2d_prelu: the output and gradients of conv2d then prelu; slopes that need no
    gradient get none; a second backward (retain_graph) adds the same again."""
    rng = np.random.default_rng(k)
    x_np = rng.standard_normal((7, channels, 6, 5)).astype(dtype)
    w_np = rng.standard_normal((4, channels, 3, 3)).astype(dtype)
    b_np = rng.standard_normal(4).astype(dtype)
    a_np = np.array([0.25, 0.0, -0.5, 1.3][:k], dtype=np.float32)
    g = rng.standard_normal((7, 4, 6, 5)).astype(dtype)
    results = {}
    for fused in (False, True):
        for slope_grad in (True, False):
            x, w, b = (tr.Tensor(v, requires_grad=True) for v in (x_np, w_np, b_np))
            a = tr.Tensor(a_np, requires_grad=slope_grad)
            y = (F.conv2d_prelu(x, w, b, a, padding=1) if fused
                 else F.prelu(F.conv2d(x, w, b, padding=1), a))
            y.backward(g, retain_graph=True)
            first = [t.grad.copy() for t in (x, w, b)] + [None if a.grad is None else a.grad.copy()]
            y.backward(g)
            for t, once in zip((x, w, b, a), first):
                if once is not None:
                    np.testing.assert_allclose(t.grad, 2 * once, rtol=1e-6, atol=1e-6)
            assert (a.grad is None) == (not slope_grad)
            results[fused, slope_grad] = [y.data] + first
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for slope_grad in (True, False):
        for got, want in zip(results[True, slope_grad], results[False, slope_grad]):
            if want is None:
                assert got is None
            else:
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_kernels_run_with_numba_disabled():
    """NUMBA_DISABLE_JIT=1 makes the kernels plain Python: still the references' numbers, on
    planes and on one pixel per plane."""
    code = ("import numpy as np; from tinyrect.kernels import rectifiers as K; "
            "r = np.random.default_rng(0)\n"
            "for shape in [(2, 3, 4, 5), (4, 3, 1, 1)]:\n"
            "    x = r.standard_normal(shape); d = r.standard_normal(shape)\n"
            "    for a in (np.array([0.1, -0.3, 1.2]), np.array([0.2])):\n"
            "        dx, da = K.prelu_backward_4d(x, a, d); rdx, rda = K.prelu_backward_4d_reference(x, a, d)\n"
            "        assert np.allclose(K.prelu_forward_4d(x, a), K.prelu_forward_4d_reference(x, a))\n"
            "        assert np.allclose(dx, rdx) and np.allclose(da, rda)\n"
            "print('ok')")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
