"""conv2d's fast path (kernels/conv.py) against the slow references (kernels/reference.py), the
threaded matmul of linear (kernels/gemm.py), and the fused conv2d_relu / conv2d_prelu against
the two ops they fuse, also as nn.Sequential runs them."""
import numpy as np
import pytest

import tinyrect
import tinyrect as tr
from tinyrect import functional as F
from tinyrect import nn
from tinyrect.kernels import reference as ref
from test_kernels import conv_geometry


def test_reference_conv_backward_is_the_adjoint_of_the_reference_conv():
    """conv is bilinear in (x, w): Σ dy·conv(x, w) = Σ dx·x = Σ dw·w for the reference backward's
    dx, dw (Euler's identity for linear maps), and db = Σ dy; a wrong index in either loop
    breaks one of the equalities."""
    for seed in range(6):
        g = conv_geometry(seed)
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"]))
        w = rng.standard_normal((3, g["C"], *g["k"]))
        y = ref.conv2d_reference(x, w, None, g["s"], g["p"], g["d"])
        dy = rng.standard_normal(y.shape)
        dx, dw, db = ref.conv2d_backward_reference(x, w, dy, g["s"], g["p"], g["d"])
        total = np.sum(dy * y)
        np.testing.assert_allclose([np.sum(dx * x), np.sum(dw * w)], [total, total], rtol=1e-10)
        for direction in range(2):            # and a finite difference along a random direction
            v = rng.standard_normal(x.shape if direction == 0 else w.shape)
            args = (x + 1e-6 * v, w) if direction == 0 else (x, w + 1e-6 * v)
            slope = np.sum(dy * (ref.conv2d_reference(*args, None, g["s"], g["p"], g["d"]) - y)) / 1e-6
            np.testing.assert_allclose(slope, np.sum((dx, dw)[direction] * v), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)))


def fast_conv(x, w, b, g, dy, path=None):
    """A fast path's forward and backward (kernels/conv.py unless `path` names another module,
    kernels/direct.py), called as functional.conv2d calls them."""
    from tinyrect.functional import geometry
    from tinyrect.kernels import conv as kconv

    path = path or kconv
    ph, pw = g["p"]
    geo = geometry.conv_output(g["H"], g["W"], g["k"], g["s"], (ph, ph, pw, pw), g["d"])
    w_col = w.reshape(w.shape[0], -1)
    w_aug = w_col if b is None else np.hstack([w_col, b[:, None]])
    y = path.forward(x, w_aug, geo)
    return (y,) + path.backward(x, w_col, dy, geo, has_bias=b is not None)


def assert_fast_conv_matches_the_references(x, w, b, g, rng, path=None):
    """fast_conv's y, dX, dW and db (dY drawn from rng) against kernels/reference.py, to 1e-4
    in float32 and 1e-10 in float64, in x's dtype; returns (the reference y, the tolerance)."""
    expected = ref.conv2d_reference(x, w, b, g["s"], g["p"], g["d"])
    dy = rng.standard_normal(expected.shape).astype(x.dtype)
    y, dx, dw, db = fast_conv(x, w, b, g, dy, path)
    tol = dict(rtol=1e-4, atol=1e-4) if x.dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    assert y.dtype == dx.dtype == dw.dtype == x.dtype
    np.testing.assert_allclose(y, expected, **tol)
    for got, want in zip((dx, dw.reshape(w.shape), db),
                         ref.conv2d_backward_reference(x, w, dy, g["s"], g["p"], g["d"])):
        if got is not None:
            np.testing.assert_allclose(got, want, **tol)
    return expected, tol


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(20))
def test_fast_conv_forward_and_backward_match_the_references(seed, dtype):
    """Odd sizes, strides 1-3, padding 0-3, dilation 1-2, with and without bias, many chunks."""
    g = conv_geometry(seed)
    rng = np.random.default_rng(300 + seed)
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(dtype)
    w = rng.standard_normal((5, g["C"], *g["k"])).astype(dtype)
    b = rng.standard_normal(5).astype(dtype) if seed % 2 else None
    assert_fast_conv_matches_the_references(x, w, b, g, rng)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float64, np.float32)])
def test_threaded_matmul_matches_numpy(monkeypatch, dtypes):
    """kernels/gemm.py splits the rows over the threads: the same numbers as a @ b, for one
    chunk and for many (odd row counts, transposed views as linear's backward passes them)."""
    from tinyrect.kernels import gemm

    rng = np.random.default_rng(2)
    before = tinyrect.get_num_threads()
    try:
        tinyrect.set_num_threads(2)
        for min_flops in (1, 1 << 40):               # many chunks / one chunk
            monkeypatch.setattr(gemm, "MIN_CHUNK_FLOPS", min_flops)
            for M, K, N in [(7, 5, 3), (1, 4, 2), (64, 33, 10)]:
                a = rng.standard_normal((K, M)).astype(dtypes[0]).T   # a transposed view
                b = rng.standard_normal((K, N)).astype(dtypes[1])
                got = gemm.matmul(a, b)
                assert got.dtype == np.result_type(*dtypes)
                np.testing.assert_allclose(got, a @ b, rtol=1e-6, atol=1e-6)
    finally:
        tinyrect.set_num_threads(before)


def _rectified_pair(g, dtype, seed, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(dtype)
    x[0, 0, 0, :] = 0                     # exact zeros: ReLU's derivative there is 0 (as torch)
    w = rng.standard_normal((4, g["C"], *g["k"])).astype(dtype)
    b = rng.standard_normal(4).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("rectifier", ["relu", "prelu channel-wise", "prelu shared"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(8))
def test_fused_conv_rectifier_is_rectifier_of_conv(seed, dtype, rectifier):
    """conv2d_relu / conv2d_prelu: the same output and the same gradients (also PReLU's da) as
    the two ops, for odd shapes, strides, padding (zeros, circular, 'same'), dilation, with and
    without bias, several chunks."""
    g = conv_geometry(seed)
    x, w, b = _rectified_pair(g, dtype, seed, bias=seed % 3 != 0)
    a = np.random.default_rng(seed).uniform(-0.5, 0.5, 4 if "wise" in rectifier else 1)
    kwargs = dict(stride=g["s"], padding=g["p"], dilation=g["d"])
    if seed == 4:
        kwargs = dict(padding="same", padding_mode="circular", dilation=g["d"])
    results = []
    for fused in (False, True):
        xt, wt = tr.Tensor(x, requires_grad=True), tr.Tensor(w, requires_grad=True)
        bt = None if b is None else tr.Tensor(b, requires_grad=True)
        slopes = tr.Tensor(a.astype(np.float32), requires_grad=True)
        tensors = [t for t in (xt, wt, bt) if t is not None]
        if rectifier == "relu":
            y = F.conv2d_relu(xt, wt, bt, **kwargs) if fused else F.relu(F.conv2d(xt, wt, bt, **kwargs))
        else:
            tensors.append(slopes)
            y = (F.conv2d_prelu(xt, wt, bt, slopes, **kwargs) if fused
                 else F.prelu(F.conv2d(xt, wt, bt, **kwargs), slopes))
        dy = np.random.default_rng(seed).standard_normal(y.shape).astype(dtype)
        y.backward(dy)
        results.append([y.data] + [t.grad for t in tensors])
    assert y.dtype == dtype and len(results[1]) == len(results[0])
    tol = 1e-5 if dtype == np.float32 else 1e-12    # da: sums over chunks in another order
    for fused, unfused in zip(results[1], results[0]):
        np.testing.assert_allclose(fused, unfused, rtol=tol, atol=tol)


def test_fused_conv_relu_gradients_by_finite_differences():
    g = dict(N=2, C=2, H=5, W=4, k=(3, 2), s=(1, 2), p=(1, 1), d=(1, 1))
    x, w, b = (tr.Tensor(a, requires_grad=True) for a in _rectified_pair(g, np.float64, 1))
    report = tr.gradcheck(lambda *t: F.conv2d_relu(*t, stride=(1, 2), padding=1), [x, w, b])
    assert report.max_rel_error < 1e-6
    a = tr.Tensor(np.array([0.25, -0.5, 0.0, 1.5]), requires_grad=True)   # a = 0 too
    report = tr.gradcheck(lambda *t: F.conv2d_prelu(*t, stride=(1, 2), padding=1), [x, w, b, a])
    assert report.max_rel_error < 1e-6
    with pytest.raises(ValueError, match="slopes must have 1 or 4"):
        F.conv2d_prelu(x, w, b, np.ones(3), padding=1)


def test_sequential_fuses_conv_and_rectifier_unless_a_hook_watches():
    """nn.Sequential runs Conv2d + ReLU as conv2d_relu and Conv2d + PReLU as conv2d_prelu (one
    node each on the tape), with the same numbers; a forward hook on either layer keeps the two
    ops, so the hook sees the conv output."""
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, rng=rng), nn.ReLU(),
                          nn.Conv2d(3, 3, 3, padding=1, rng=rng), nn.PReLU(3))
    x = tr.Tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    fused = model(x)
    assert fused._op == "conv2d_prelu" and fused._parents[0]._op == "conv2d_relu"
    fused.sum().backward()
    grads = [p.grad.copy() for p in model.parameters()]
    seen = []
    handle = model[0].register_forward_hook(lambda m, inputs, out: seen.append(out._op))
    model.zero_grad()
    unfused = model(x)
    assert seen == ["conv2d"] and unfused._op == "conv2d_prelu" and unfused._parents[0]._op == "relu"
    unfused.sum().backward()
    handle.remove()
    np.testing.assert_allclose(unfused.data, fused.data, rtol=1e-12)
    for p, g0 in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad, g0, rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["plain30", "prelu14"])
def test_benchmark_nets_and_their_torch_twins_compute_the_same(name):
    """The training-step benchmark compares like with like: the PyTorch twin of each net gives
    the same loss and the same gradients from the same weights."""
    torch = pytest.importorskip("torch")
    from tinyrect.commands import bench_train

    net = bench_train.build_net(name)
    twin = bench_train.torch_twin(net.model)
    size = bench_train.NETS[name]["size"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, size, size)).astype(np.float32)
    y = rng.integers(0, 10, 4)
    loss = F.cross_entropy(net.model(tr.Tensor(x)), y)
    loss.backward()
    loss_t = torch.nn.functional.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
    loss_t.backward()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-5)
    for ours, theirs in zip(net.model.parameters(), twin.parameters()):
        scale = np.abs(theirs.grad.numpy()).max() + 1e-12
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-4, atol=1e-4 * scale)
