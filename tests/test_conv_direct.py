"""conv2d's direct path (kernels/direct.py) and its register-blocked tile and strip
(kernels/microkernel.py) against their plain twins: the tile and the strip against their NumPy
references, the whole forward and backward (by tiles, and by strips) against kernels/reference.py,
and conv2d's choice between the direct and the im2col path.
(NUMBA_DISABLE_JIT=1, where the tile is its NumPy twin: tests/test_kernels.py.)"""

import numpy as np
import pytest

import tinyrect as tr
from tinyrect import functional as F
from tinyrect.functional import geometry
from tinyrect.kernels import direct
from tinyrect.kernels import microkernel as mk
from test_conv_fast import assert_fast_conv_matches_the_references
from test_kernels import conv_geometry


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nv", [1, 2])
@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_tile_matches_its_numpy_twin(dtype, nv, mode):
    """Random gathers (rows, cols), a strided slab of a, a strided tile of out: overwritten,
    accumulated into, or written transposed (all channels or the first few; with ReLU); the
    entries of out outside the tile stay as they were."""
    rng = np.random.default_rng(nv + 10 * mode)
    fb = nv * mk.lanes(dtype)
    for n, nf in ((0, fb), (1, fb), (7, 3), (40, fb - 1), (40, fb)):
        x = rng.standard_normal(300).astype(dtype)
        rows = rng.integers(0, 150, size=max(n, 1)).astype(np.int64)
        cols = rng.integers(0, 150, size=mk.PB).astype(np.int64)
        astride, abase = fb + 3, 5
        a = rng.standard_normal(abase + max(n, 1) * astride + fb).astype(dtype)
        ostride, obase = (fb + 2, 4) if mode < 2 else (mk.PB + 3, 6)
        out = rng.standard_normal(obase + max(mk.PB, fb) * ostride + 3).astype(dtype)
        want = out.copy()
        mk.tile_reference(x, a, want, rows, n, 0, cols, astride, abase, obase, ostride, nv, mode,
                          nf)
        got = out.copy()
        direct._tile(nv, x, a, got, rows, n, 0, cols, astride, abase, obase, ostride, mode, nf)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        assert (got != out).sum() <= mk.PB * fb                 # nothing outside the tile
        if n == 0 and mode != 1:
            assert not got[obase:obase + (fb if mode < 2 else mk.PB)].any()   # empty sum: 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("pv, r", [(2, 1), (2, 2), (4, 1), (4, 2)])
@pytest.mark.parametrize("mode", [0, 3])
def test_strip_matches_its_numpy_twin(dtype, pv, r, mode):
    """Random rows and vector starts, pieces of a vector seg apart, a strided slab of a, a strided
    block of out; all channels or the first few; nothing outside the block written."""
    rng = np.random.default_rng(pv + 10 * r + 100 * mode)
    fc, L = 16 // pv, mk.lanes(dtype)
    for n, nf, seg in ((0, fc, 0), (1, fc, 19), (7, 3, 23), (40, fc - 1, 31), (40, fc, 40)):
        x = rng.standard_normal(400).astype(dtype)
        rows = rng.integers(0, 150, size=max(n, 1)).astype(np.int64)
        cols = rng.integers(0, 150, size=pv).astype(np.int64)
        astride, abase = fc + 3, 5
        a = rng.standard_normal(abase + max(n, 1) * astride + fc).astype(dtype)
        ostride, obase = pv * L + 3, 6
        out = rng.standard_normal(obase + fc * ostride + 3).astype(dtype)
        want, got = out.copy(), out.copy()
        args = (rows, n, 2, cols, seg, astride, abase, obase, ostride)
        mk.strip_reference(x, a, want, *args, pv, fc, r, mode, nf)
        direct._strip(pv, r, x, a, got, *args, mode, nf)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
        assert (got != out).sum() <= nf * pv * L                # nothing outside the block
        if n == 0:
            assert not got[obase:obase + pv * L].any()          # empty sum: 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(12))
def test_strips_match_the_references(seed, dtype):
    """Outputs whose rows fill whole vectors (or half of one) take the strips, forward and dX:
    widths of 1, 2 or 1/2 vectors, 1-3 or 16-17 input channels and 3-20 filters (strips of 4 and
    8 channels, the last one ragged), strides (1 or 2, 1), padding 0-2, dilation 1-2, bias or
    not, ReLU fused or not."""
    rng = np.random.default_rng(900 + seed)
    L = mk.lanes(dtype)
    k = int(rng.choice([1, 3, 5]))
    d = int(rng.choice([1, 2])) if k > 1 else 1
    p = int(rng.integers(0, 3)) if k > 1 else 0
    sh = int(rng.choice([1, 2]))
    Wo = [L // 2, L, 2 * L][seed % 3]
    Ho = [4, 2, 1][seed % 3] * int(rng.choice([1, 2, 3]))  # whole strips of 2 vectors, or of 4
    H, W = (Ho - 1) * sh + d * (k - 1) + 1 - 2 * p, Wo + d * (k - 1) - 2 * p
    if H < 1 or W < 1:
        H, W, p = (Ho - 1) * sh + d * (k - 1) + 1, Wo + d * (k - 1), 0
    C, Fo = int(rng.choice([1, 3, 16, 17])), int(rng.choice([3, 4, 5, 16, 20]))
    g = dict(N=int(rng.integers(1, 4)), H=H, W=W, k=(k, k), s=(sh, 1), p=(p, p), d=(d, d))
    geo = geometry.conv_output(H, W, (k, k), (sh, 1), (p, p, p, p), (d, d))
    assert (geo.Ho, geo.Wo) == (Ho, Wo)
    assert direct.strip_shape(Fo, Ho, Wo, 1, dtype)[0] > 0             # strips, forward
    x = rng.standard_normal((g["N"], C, H, W)).astype(dtype)
    w = rng.standard_normal((Fo, C, k, k)).astype(dtype)
    b = rng.standard_normal(Fo).astype(dtype) if seed % 2 else None
    expected, tol = assert_fast_conv_matches_the_references(x, w, b, g, rng, direct)
    w_aug = w.reshape(Fo, -1) if b is None else np.hstack([w.reshape(Fo, -1), b[:, None]])
    np.testing.assert_allclose(direct.forward(x, w_aug, geo, relu=True),
                               np.maximum(expected, 0), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(24))
def test_direct_conv_matches_the_references(seed, dtype):
    """Odd sizes, kernels 1-7, strides 1-3, padding 0-3, dilation 1-2, with and without bias;
    channel counts that fill one vector, two, or leave a ragged last block; dX by the tiles or,
    for strides and 1-3 input channels, by col2im."""
    g = conv_geometry(seed)
    if seed % 3 == 0:
        g["s"] = (1, 1)                             # more stride-1 cases, for the backward
    rng = np.random.default_rng(500 + seed)
    C = int(rng.choice([1, 3, 17]))
    Fo = int(rng.choice([5, 16, 33, 40]))
    x = rng.standard_normal((g["N"], C, g["H"], g["W"])).astype(dtype)
    w = rng.standard_normal((Fo, C, *g["k"])).astype(dtype)
    b = rng.standard_normal(Fo).astype(dtype) if seed % 2 else None
    assert_fast_conv_matches_the_references(x, w, b, g, rng, direct)


def test_backward_without_dx_or_dw_and_the_empty_batch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8, 6, 6)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    geo = geometry.conv_output(6, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1))
    dy = rng.standard_normal((3, 16, 6, 6)).astype(np.float32)
    dx, dw, db = direct.backward(x, w.reshape(16, -1), dy, geo, need_dx=False, has_bias=True)
    assert dx is None and dw.shape == (16, 72)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-5)
    dx, dw, db = direct.backward(x, w.reshape(16, -1), dy, geo, need_dw=False)
    assert dw is None and db is None and dx.shape == x.shape
    empty = np.zeros((0, 8, 6, 6), np.float32)
    assert direct.forward(empty, w.reshape(16, -1), geo).shape == (0, 16, 6, 6)
    dx, dw, db = direct.backward(empty, w.reshape(16, -1), np.zeros((0, 16, 6, 6), np.float32),
                                 geo, has_bias=True)
    assert dx.shape == empty.shape and not dw.any() and not db.any()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("C, stride", [(8, 1), (2, 1), (8, 2)])
def test_conv2d_takes_the_direct_path_and_the_paths_agree(monkeypatch, threads, C, stride):
    """conv2d's forward and dW take the direct path (dX too at stride 1 with 4+ input channels,
    else im2col's col2im); forcing the im2col path for all of it (MIN_TAPS raised) gives the same
    values and gradients (conv2d, conv2d_relu and conv2d_prelu)."""
    tr.set_num_threads(threads)
    calls = []
    original = direct.forward
    monkeypatch.setattr(direct, "forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    rng = np.random.default_rng(7)
    x0 = rng.standard_normal((9, C, 7, 6))
    w0 = rng.standard_normal((20, C, 3, 3))
    b0 = rng.standard_normal(20)
    s0 = rng.uniform(-0.5, 0.5, 20)

    def run():
        out = []
        for op in ("conv2d", "conv2d_relu", "conv2d_prelu"):
            x, w, b, s = (tr.Tensor(v, requires_grad=True) for v in (x0, w0, b0, s0))
            y = (F.conv2d_prelu(x, w, b, s, stride, padding=1) if op == "conv2d_prelu"
                 else getattr(F, op)(x, w, b, stride, padding=1))
            (y * y).sum().backward()
            out += [y.data, x.grad, w.grad, b.grad] + ([s.grad] if op == "conv2d_prelu" else [])
        return out

    direct_results = run()
    assert len(calls) == 3                                  # the direct path's forward
    assert direct.takes_dx(C, direct_geometry(C, stride), 7, 6) == (C >= 4 and stride == 1)
    monkeypatch.setattr(direct, "MIN_TAPS", 10 ** 9)
    for got, want in zip(direct_results, run()):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    assert len(calls) == 3                                  # the im2col path this time
    tr.set_num_threads(2)


def direct_geometry(C, stride):
    return geometry.conv_output(7, 6, (3, 3), (stride, stride), (1, 1, 1, 1), (1, 1))


def test_bench_names_the_path_each_shape_takes():
    from tinyrect.commands.bench import conv_path

    assert conv_path(16, 8, 3, 16) == "strips" and conv_path(3, 32, 3, 16) == "strips"
    assert conv_path(64, 4, 3, 64) == "tiles"                   # 4×4 maps: a quarter vector
    assert conv_path(16, 12, 3, 16) == "tiles" and conv_path(1, 12, 3, 8) == "tiles, dX col2im"
    assert conv_path(1, 16, 3, 16) == "strips"                  # dX: 4 vectors × 4 channels


@pytest.mark.parametrize("relu", [False, True])
def test_numba_threads_and_python_threads_give_the_same_gradients(monkeypatch, relu):
    """The chunks on numba's threads (one prange region) or on tinyrect's Python threads (before
    the region is compiled, or after a stall): the same values, up to the order of dW's sums."""
    from tinyrect import _threads

    tr.set_num_threads(2)
    rng = np.random.default_rng(11)
    x0, w0, b0 = rng.standard_normal((37, 8, 6, 5)), rng.standard_normal((20, 8, 3, 3)), rng.standard_normal(20)

    def run():
        x, w, b = (tr.Tensor(v, requires_grad=True) for v in (x0, w0, b0))
        y = (F.conv2d_relu if relu else F.conv2d)(x, w, b, padding=1)
        (y * y).sum().backward()
        return [y.data, x.grad, w.grad, b.grad]

    monkeypatch.setattr(_threads, "_compiled", lambda together, args: True)
    region = run()
    monkeypatch.setattr(_threads, "_compiled", lambda together, args: False)
    for got, want in zip(region, run()):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
