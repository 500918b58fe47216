"""conv2d, pad, linear and flatten: against the seven-loop definition, finite differences
(float64) and PyTorch (float32 and float64, forward and every gradient)."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import functional as F
from tinyrect.kernels import conv as conv_module
from tinyrect.kernels import reference as ref
from test_kernels import conv_geometry


def tensors(g, F_out=3, dtype=np.float64, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = tr.Tensor(rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(dtype), requires_grad=True)
    w = tr.Tensor(rng.standard_normal((F_out, g["C"], *g["k"])).astype(dtype), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(F_out).astype(dtype), requires_grad=True) if bias else None
    return x, w, b


@pytest.mark.parametrize("seed", range(30))
def test_conv2d_forward_matches_the_definition(seed):
    g = conv_geometry(seed)
    x, w, b = tensors(g, seed=seed)
    y = F.conv2d(x, w, b, stride=g["s"], padding=g["p"], dilation=g["d"])
    expected = ref.conv2d_reference(x.data, w.data, b.data, g["s"], g["p"], g["d"])
    assert y.shape == expected.shape and y.dtype == np.float64
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_gradients_by_finite_differences(seed):
    g = conv_geometry(seed, tiny=True)
    g["N"], g["C"] = min(g["N"], 2), min(g["C"], 2)  # gradcheck costs one forward per element
    x, w, b = tensors(g, F_out=2, seed=seed, bias=seed % 3 != 0)
    inputs = [x, w] + ([b] if b is not None else [])
    report = tr.gradcheck(lambda *t: F.conv2d(*t, stride=g["s"], padding=g["p"], dilation=g["d"]),
                          inputs, names=["x", "weight", "bias"][:len(inputs)])
    assert report.max_rel_error < 1e-6


@pytest.mark.parametrize("case", [
    dict(N=1, C=1, H=1, W=1, k=(1, 1), s=(1, 1), p=(0, 0), d=(1, 1)),    # everything of size 1
    dict(N=1, C=1, H=3, W=5, k=(3, 5), s=(1, 1), p=(0, 0), d=(1, 1)),    # output 1x1
    dict(N=2, C=1, H=7, W=4, k=(7, 1), s=(3, 2), p=(1, 0), d=(1, 1)),    # tall kernel, stride 3
    dict(N=1, C=2, H=4, W=9, k=(2, 5), s=(2, 3), p=(3, 2), d=(1, 1)),    # padding 3 > kernel / 2
    dict(N=1, C=2, H=6, W=5, k=(3, 2), s=(1, 1), p=(2, 1), d=(2, 3)),    # dilation
])
def test_conv2d_edge_geometries(case):
    x, w, b = tensors(case, F_out=2)
    y = F.conv2d(x, w, b, stride=case["s"], padding=case["p"], dilation=case["d"])
    np.testing.assert_allclose(
        y.data, ref.conv2d_reference(x.data, w.data, b.data, case["s"], case["p"], case["d"]),
        rtol=1e-10, atol=1e-10)
    tr.gradcheck(lambda *t: F.conv2d(*t, stride=case["s"], padding=case["p"], dilation=case["d"]),
                 [x, w, b])


@pytest.mark.parametrize("mode", ["zeros", "circular"])
def test_conv2d_same_padding_and_circular_gradients(mode):
    g = dict(N=1, C=2, H=5, W=4, k=(4, 3), s=(1, 1), p=(0, 0), d=(1, 1))
    x, w, b = tensors(g, F_out=2)
    y = F.conv2d(x, w, b, padding="same", padding_mode=mode)
    assert y.shape == (1, 2, 5, 4)
    tr.gradcheck(lambda *t: F.conv2d(*t, padding="same", padding_mode=mode), [x, w, b])
    tr.gradcheck(lambda *t: F.conv2d(*t, padding=(2, 1), stride=(2, 1), padding_mode=mode), [x, w, b])


def test_conv2d_chunks_give_the_same_result(monkeypatch):
    """Force many small chunks (one sample each) and compare with the one-chunk result."""
    g = dict(N=5, C=3, H=6, W=7, k=(3, 3), s=(1, 2), p=(1, 1), d=(1, 1))
    x, w, b = tensors(g, F_out=4)
    y = F.conv2d(x, w, b, stride=g["s"], padding=1)
    y.backward(np.ones(y.shape))
    grads = [t.grad.copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    monkeypatch.setattr(conv_module, "CHUNK_BYTES", 1)
    y2 = F.conv2d(x, w, b, stride=g["s"], padding=1)
    y2.backward(np.ones(y.shape))
    np.testing.assert_allclose(y2.data, y.data, rtol=1e-12)
    for t, g0 in zip((x, w, b), grads):
        np.testing.assert_allclose(t.grad, g0, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("with_bias", [True, False])
def test_conv2d_dw_layouts_agree(monkeypatch, with_bias):
    """dWᵀ is computed per sample from a transposed view on maps of >= PER_SAMPLE_DW_PIXELS
    pixels, else by one GEMM with dYᵀ copied; the bias may ride as a row of ones or be absent.
    Every combination gives the same gradients, and db = Σ dY."""
    g = dict(N=3, C=2, H=6, W=7, k=(3, 3), s=(1, 1), p=(1, 1), d=(1, 1))
    x, w, b = tensors(g, F_out=3)
    b = b if with_bias else None
    dy = np.random.default_rng(5).standard_normal((3, 3, 6, 7))
    results = []
    for threshold in (1, 10 ** 9):   # per sample / one GEMM
        monkeypatch.setattr(conv_module, "PER_SAMPLE_DW_PIXELS", threshold)
        for t in (x, w) + ((b,) if with_bias else ()):
            t.grad = None
        F.conv2d(x, w, b, padding=1).backward(dy)
        results.append([t.grad.copy() for t in (x, w) + ((b,) if with_bias else ())])
    assert results[0][1].shape == w.shape
    for a, c in zip(*results):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    if with_bias:
        np.testing.assert_allclose(results[0][2], dy.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_gradient_only_where_needed_and_dtypes_kept():
    g = dict(N=2, C=2, H=5, W=5, k=(3, 3), s=(1, 1), p=(1, 1), d=(1, 1))
    x, w, b = tensors(g, dtype=np.float32)
    x.requires_grad = False   # a first layer: no dX needed
    y = F.conv2d(x, w, b, padding=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad is None and w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    with tr.no_grad():
        assert not F.conv2d(x, w, b, padding=1).requires_grad


def test_conv2d_errors_name_the_shapes():
    x = tr.Tensor(np.zeros((2, 3, 5, 6)))
    with pytest.raises(ValueError, match=r"3 channels .*\(2, 3, 5, 6\).*expects 4"):
        F.conv2d(x, np.zeros((8, 4, 3, 3)))
    with pytest.raises(ValueError, match="kernel 7x7.*larger than the padded input 5x6"):
        F.conv2d(x, np.zeros((8, 3, 7, 7)))
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\), got shape \(3, 5, 6\)"):
        F.conv2d(np.zeros((3, 5, 6)), np.zeros((8, 3, 3, 3)))
    with pytest.raises(ValueError, match="weight must be 4-D"):
        F.conv2d(x, np.zeros((8, 3, 3)))
    for stride in (0, -1, (1, 0)):
        with pytest.raises(ValueError, match="stride must be >= 1"):
            F.conv2d(x, np.zeros((8, 3, 3, 3)), stride=stride)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        F.conv2d(x, np.zeros((8, 3, 3, 3)), padding=-1)
    with pytest.raises(ValueError, match=r"bias must have shape \(8,\)"):
        F.conv2d(x, np.zeros((8, 3, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="padding_mode"):
        F.conv2d(x, np.zeros((8, 3, 3, 3)), padding_mode="reflect")
    with pytest.raises(TypeError, match="float32 or float64"):
        F.conv2d(x, np.zeros((8, 3, 3, 3), dtype=np.int64))


# ----------------------------------------------------------------------------- pad, linear, flatten
@pytest.mark.parametrize("pad", [1, (2, 0), (1, 2, 0, 3), (0, 4, 2, 1)])
@pytest.mark.parametrize("mode", ["constant", "circular"])
def test_pad_gradients(pad, mode):
    x = tr.Tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 5)), requires_grad=True)
    report = tr.gradcheck(lambda t: F.pad(t, pad, mode=mode, value=0.5), [x])
    assert report.max_rel_error < 1e-7


def test_pad_errors():
    x = tr.Tensor(np.zeros((1, 1, 2, 3)))
    with pytest.raises(ValueError, match="larger than the input"):
        F.pad(x, (0, 0, 3, 0), mode="circular")
    with pytest.raises(ValueError, match="negative padding"):
        F.pad(x, -1)
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(x, 1, mode="reflect")
    with pytest.raises(ValueError, match="left, right, top, bottom"):
        F.pad(x, (1, 2, 3))


def test_linear_and_flatten_gradients():
    rng = np.random.default_rng(1)
    x = tr.Tensor(rng.standard_normal((3, 2, 2, 2)), requires_grad=True)
    w = tr.Tensor(rng.standard_normal((4, 8)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(4), requires_grad=True)
    assert F.flatten(x).shape == (3, 8) and F.flatten(x, -2).shape == (3, 2, 4)
    tr.gradcheck(lambda a, c, d: F.linear(F.flatten(a), c, d), [x, w, b])
    tr.gradcheck(lambda a, c: F.linear(a, c), [tr.Tensor(rng.standard_normal((2, 5, 8)), requires_grad=True), w])
    with pytest.raises(ValueError, match="in_features=8"):
        F.linear(x, w)


# ----------------------------------------------------------------------------- PyTorch
TORCH_CASES = [  # (N, C, H, W, F, kernel, stride, padding, dilation, padding_mode)
    (2, 3, 9, 7, 4, 3, 1, 1, 1, "zeros"),
    (1, 1, 8, 11, 2, (5, 3), (2, 3), (2, 0), 1, "zeros"),
    (3, 2, 10, 6, 5, (2, 2), 2, 3, (2, 1), "zeros"),
    (2, 4, 7, 7, 3, 7, 1, 3, 1, "zeros"),
    (2, 3, 6, 8, 4, 3, 1, 1, 1, "circular"),
    (1, 2, 9, 5, 3, (3, 5), (2, 1), (1, 2), 1, "circular"),
    (2, 2, 6, 7, 3, (2, 3), 1, "same", (2, 1), "circular"),
    (2, 2, 6, 7, 3, (4, 3), 1, "same", 1, "zeros"),
    (64, 16, 12, 12, 8, 3, 1, 1, 1, "zeros"),   # several chunks at the default chunk size
    (2, 3, 24, 23, 4, 3, 1, 1, 1, "zeros"),     # >= PER_SAMPLE_DW_PIXELS: dW per sample
    (2, 3, 8, 16, 4, 3, 1, 1, 1, "circular"),   # rows of whole vectors: strips, forward and dX
    (3, 16, 15, 8, 20, 3, (2, 1), 1, 1, "zeros"),  # float32: a vector = two rows of 8
    (2, 1, 16, 32, 3, 3, 1, "same", 2, "zeros"),   # 1 channel in, 3 out: strips of 4 channels
]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TORCH_CASES)
def test_conv2d_matches_pytorch(case, dtype):
    torch = pytest.importorskip("torch")
    N, C, H, W, Fo, k, s, p, d, mode = case
    conv = torch.nn.Conv2d(C, Fo, k, stride=s, padding=p, dilation=d, padding_mode=mode)
    conv = conv.to(torch.float64 if dtype == np.float64 else torch.float32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = conv(xt)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))

    X = tr.Tensor(x, requires_grad=True)
    Wt = tr.Tensor(conv.weight.detach().numpy(), requires_grad=True)
    B = tr.Tensor(conv.bias.detach().numpy(), requires_grad=True)
    y = F.conv2d(X, Wt, B, stride=s, padding=p, dilation=d, padding_mode=mode)
    y.backward(g)
    assert y.dtype == dtype and X.grad.dtype == dtype
    for ours, theirs in [(y.data, yt), (X.grad, xt.grad), (Wt.grad, conv.weight.grad),
                         (B.grad, conv.bias.grad)]:
        theirs = theirs.detach().numpy()
        scale = np.abs(theirs).max()  # float32 sums of many terms: compare relative to the scale
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * scale)


@pytest.mark.torch
@pytest.mark.parametrize("pad", [(1, 2), (1, 0, 2, 3), (3, 3, 1, 1)])
@pytest.mark.parametrize("mode", ["constant", "circular"])
def test_pad_and_linear_match_pytorch(pad, mode):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5)).astype(np.float32)
    if mode == "circular" and len(pad) == 2:
        pad = pad + (0, 0)  # torch's circular mode wants both dims of a 4-D input
    expected = torch.nn.functional.pad(torch.tensor(x), pad, mode=mode, value=0.5) \
        if mode == "constant" else torch.nn.functional.pad(torch.tensor(x), pad, mode=mode)
    np.testing.assert_array_equal(F.pad(x, pad, mode=mode, value=0.5).data, expected.numpy())

    w = np.random.default_rng(3).standard_normal((6, 5)).astype(np.float32)
    b = np.random.default_rng(4).standard_normal(6).astype(np.float32)
    np.testing.assert_allclose(F.linear(x, w, b).data,
                               torch.nn.functional.linear(*map(torch.tensor, (x, w, b))).numpy(),
                               rtol=1e-5, atol=1e-5)
