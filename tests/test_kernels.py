"""The numba kernels against their plain-loop references (tinyrect/kernels/reference.py), the
numba cache-folder fallback, the thread setting, and NUMBA_DISABLE_JIT=1."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import tinyrect
from tinyrect.kernels import ensure_numba_cache_dir
from tinyrect.kernels import im2col as kim
from tinyrect.kernels import pooling as kpool
from tinyrect.kernels import reference as ref


def conv_geometry(seed, tiny=False):
    """A random small convolution geometry (kernel 1-7, stride 1-3, padding 0-3, dilation 1-2,
    H and W drawn separately). tiny=True keeps the input small, for finite differences."""
    rng = np.random.default_rng(seed)
    kh, kw = rng.choice([1, 2, 3, 5, 7], size=2)
    sh, sw = rng.integers(1, 4, size=2)
    ph, pw = rng.integers(0, 4, size=2)
    dh, dw = rng.integers(1, 3, size=2)
    if tiny:
        dh, dw = (1 if kh > 3 else dh), (1 if kw > 3 else dw)
    extra = 3 if tiny else 5
    H = max(1, dh * (kh - 1) + 1 - 2 * ph) + int(rng.integers(0, extra))
    W = max(1, dw * (kw - 1) + 1 - 2 * pw) + int(rng.integers(0, extra))
    N, C = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return dict(N=N, C=C, H=H, W=W, k=(int(kh), int(kw)), s=(int(sh), int(sw)),
                p=(int(ph), int(pw)), d=(int(dh), int(dw)))


def fast_im2col(x, g):
    Ho = ref.output_size(x.shape[2], g["k"][0], g["s"][0], g["p"][0], g["d"][0])
    Wo = ref.output_size(x.shape[3], g["k"][1], g["s"][1], g["p"][1], g["d"][1])
    cols = np.full((x.shape[1] * g["k"][0] * g["k"][1], x.shape[0] * Ho * Wo), np.nan, x.dtype)
    args = (*g["k"], g["s"][0], g["s"][1], g["p"][0], g["p"][1], g["d"][0], g["d"][1], Ho, Wo)
    kim.im2col(x, *args, cols)
    return cols, args


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(25))
def test_im2col_and_col2im_match_reference(seed, dtype):
    g = conv_geometry(seed)
    rng = np.random.default_rng(100 + seed)
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(dtype)
    cols, args = fast_im2col(x, g)
    expected = ref.im2col_reference(x, g["k"], g["s"], g["p"], g["d"])
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, expected)

    dcols = rng.standard_normal(cols.shape).astype(dtype)
    dx = np.full(x.shape, np.nan, dtype)
    kim.col2im(dcols, *args, dx)
    expected_dx = ref.col2im_reference(dcols, x.shape, g["k"], g["s"], g["p"], g["d"])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, expected_dx, rtol=tol, atol=tol)


def same_width_geometry(seed):
    """A random stride-1 geometry with Wo == W (2·pw = dw·(kw - 1)), the case that takes the
    kernels' one-long-copy path; H, ph and dh are free, so Ho may differ from H."""
    rng = np.random.default_rng(seed)
    kh, kw = (int(k) for k in rng.choice([1, 2, 3, 5, 7], size=2))
    dh, dw = (int(d) for d in rng.integers(1, 3, size=2))
    if dw * (kw - 1) % 2:      # an even kernel extent cannot be centred: use dilation 2
        dw = 2
    ph, pw = int(rng.integers(0, 4)), dw * (kw - 1) // 2
    H = max(1, dh * (kh - 1) + 1 - 2 * ph) + int(rng.integers(0, 6))
    W = int(rng.integers(1, 12))
    N, C = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return dict(N=N, C=C, H=H, W=W, k=(kh, kw), s=(1, 1), p=(ph, pw), d=(dh, dw))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(30))
def test_same_width_fast_path_matches_reference(seed, dtype):
    """Stride 1 with Wo == W (3x3 with padding 1, ...) copies whole planes shifted (im2col.py);
    its padding fix-ups and plane clipping must give exactly the reference's columns."""
    g = same_width_geometry(seed)
    rng = np.random.default_rng(200 + seed)
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"])).astype(dtype)
    cols, args = fast_im2col(x, g)                 # the general kernel, for the shape
    kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo = args
    assert kim.is_same_width(sh, sw, Wo, g["W"])
    cols[...] = np.nan
    kim.im2col_same_width(x, kh, kw, ph, pw, dh, dw, Ho, cols)
    np.testing.assert_array_equal(cols, ref.im2col_reference(x, g["k"], g["s"], g["p"], g["d"]))
    dcols = rng.standard_normal(cols.shape).astype(dtype)
    expected_dx = ref.col2im_reference(dcols.copy(), x.shape, g["k"], g["s"], g["p"], g["d"])
    dx = np.full(x.shape, np.nan, dtype)
    kim.col2im_same_width(dcols, kh, kw, ph, pw, dh, dw, Ho, dx)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, expected_dx, rtol=tol, atol=tol)


def test_same_width_col2im_of_neighbouring_samples_stays_in_its_planes():
    """Chunks of a batch run col2im in parallel threads on neighbouring planes of one dx: the
    shifted copy must not write outside its own sample, not even a harmless 0."""
    g = dict(k=(3, 3), s=(1, 1), p=(1, 1), d=(1, 1))
    x = np.zeros((3, 2, 5, 4))
    cols, args = fast_im2col(x, g)
    dx = np.full(x.shape, 7.0)
    kim.col2im_same_width(np.ones((cols.shape[0], cols.shape[1] // 3)), 3, 3, 1, 1, 1, 1, 5, dx[1:2])
    assert np.all(dx[0] == 7.0) and np.all(dx[2] == 7.0)
    np.testing.assert_array_equal(dx[1:2], ref.col2im_reference(
        np.ones((cols.shape[0], cols.shape[1] // 3)), (1, 2, 5, 4), g["k"], g["s"], g["p"], g["d"]))


def test_square_kernel_on_non_square_image_checks_height_and_width_separately():
    """The classic bug: testing the column index against the kernel HEIGHT (or H) instead of W.
    A tall 7x3 image with a wide 2x3 kernel and padding (0, 1) only works if each axis is right."""
    x = np.arange(2 * 7 * 3, dtype=np.float64).reshape(1, 2, 7, 3)
    g = dict(k=(2, 3), s=(2, 1), p=(0, 1), d=(1, 1))
    cols, _ = fast_im2col(x, g)
    np.testing.assert_array_equal(cols, ref.im2col_reference(x, g["k"], g["s"], g["p"], g["d"]))
    assert cols.shape == (2 * 2 * 3, 3 * 3)  # Ho = (7 - 2) // 2 + 1 = 3, Wo = 3 + 2 - 3 + 1 = 3


def test_im2col_of_a_chunk_is_a_block_of_columns():
    """conv2d runs im2col on chunks of the batch: samples 2..3 give columns 2P..4P of the whole."""
    g = conv_geometry(3)
    x = np.random.default_rng(0).standard_normal((5, g["C"], g["H"], g["W"]))
    full, _ = fast_im2col(x, g)
    part, _ = fast_im2col(x[2:4], g)
    P = full.shape[1] // 5
    np.testing.assert_array_equal(part, full[:, 2 * P:4 * P])


@pytest.mark.parametrize("seed", range(6))
def test_col2im_is_the_adjoint_of_im2col(seed):
    """<im2col(x), c> = <x, col2im(c)>: the property that makes dX = col2im(W_colᵀ dY) right."""
    g = conv_geometry(seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"]))
    cols, args = fast_im2col(x, g)
    c = rng.standard_normal(cols.shape)
    back = np.empty_like(x)
    kim.col2im(c, *args, back)
    assert np.isclose(np.sum(cols * c), np.sum(x * back), rtol=1e-10)


# ----------------------------------------------------------------------------- pooling kernels
POOL_CASES = [  # (H, W, kernel, stride, padding)
    (6, 6, (2, 2), (2, 2), (0, 0)),   # the textbook case
    (7, 5, (3, 3), (1, 1), (1, 1)),   # overlapping windows, padding
    (8, 6, (3, 2), (2, 1), (1, 0)),   # overlapping in height only, non-square
    (9, 7, (2, 2), (3, 3), (0, 0)),   # stride > kernel: skipped pixels get no gradient
    (5, 9, (3, 3), (2, 3), (1, 1)),
    (4, 4, (4, 4), (1, 1), (2, 2)),   # padding = kernel/2
    (1, 6, (1, 3), (1, 2), (0, 1)),   # single row
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("H,W,k,s,p", POOL_CASES)
def test_pooling_kernels_match_reference(H, W, k, s, p, dtype):
    rng = np.random.default_rng(H * 31 + W)
    x = rng.permutation(2 * 3 * H * W).reshape(2, 3, H, W).astype(dtype) / 7  # no ties
    Ho, Wo = ref.output_size(H, k[0], s[0], p[0]), ref.output_size(W, k[1], s[1], p[1])
    geom = (k[0], k[1], s[0], s[1], p[0], p[1], Ho, Wo)

    out = np.empty((2, 3, Ho, Wo), dtype)
    argmax = np.empty(out.shape, np.int64)
    kpool.max_pool_forward(x, *geom, out, argmax)
    ref_out, ref_arg = ref.max_pool_forward_reference(x, k, s, p)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(argmax, ref_arg)

    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = np.full(x.shape, np.nan, dtype)
    kpool.max_pool_backward(dout, argmax, dx)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, ref.max_pool_backward_reference(dout, argmax, x.shape), atol=tol)

    kpool.avg_pool_forward(x, *geom, out)
    np.testing.assert_allclose(out, ref.avg_pool_forward_reference(x, k, s, p), rtol=tol)
    kpool.avg_pool_backward(dout, *geom[:6], dx)
    np.testing.assert_allclose(dx, ref.avg_pool_backward_reference(dout, x.shape, k, s, p),
                               rtol=tol, atol=tol)


def test_max_pool_kernel_propagates_nan():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    out, arg = np.empty((1, 1, 1, 1)), np.empty((1, 1, 1, 1), np.int64)
    kpool.max_pool_forward(x, 2, 2, 2, 2, 0, 0, 1, 1, out, arg)
    assert np.isnan(out[0, 0, 0, 0]) and arg[0, 0, 0, 0] == 2


def test_reference_conv_matches_im2col_times_weights():
    g = conv_geometry(7)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((g["N"], g["C"], g["H"], g["W"]))
    w = rng.standard_normal((4, g["C"], *g["k"]))
    y = ref.conv2d_reference(x, w, None, g["s"], g["p"], g["d"])
    cols = ref.im2col_reference(x, g["k"], g["s"], g["p"], g["d"])
    y2 = (w.reshape(4, -1) @ cols).reshape(4, g["N"], *y.shape[2:]).transpose(1, 0, 2, 3)
    np.testing.assert_allclose(y, y2, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- environment
def test_unwritable_cache_folders_fall_back_to_a_temporary_folder(tmp_path, monkeypatch):
    import numba

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")  # makedirs below a regular file fails, even for root
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)  # restored afterwards
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fallback = ensure_numba_cache_dir([str(blocker / "x"), str(blocker / "y")])
    assert fallback is not None and os.path.isdir(fallback)
    assert numba.config.CACHE_DIR == fallback
    assert any("NUMBA_CACHE_DIR" in str(w.message) for w in caught)
    assert ensure_numba_cache_dir([str(tmp_path)]) is None  # a writable folder: nothing to do


def test_set_num_threads():
    import numba

    before = tinyrect.get_num_threads()
    try:
        tinyrect.set_num_threads(1)
        assert numba.get_num_threads() == 1
    finally:
        tinyrect.set_num_threads(before)
    with pytest.raises(ValueError, match="positive integer"):
        tinyrect.set_num_threads(0)


def test_parallel_map_keeps_order_and_runs_blas_single_threaded():
    """No oversubscription: while the pool's n threads run, each one's GEMMs use one BLAS thread."""
    pytest.importorskip("threadpoolctl")
    from tinyrect._threads import _blas_controller, parallel_map

    def blas_threads(i):  # NumPy's BLAS (the one loaded when tinyrect was imported)
        return i, max(lib["num_threads"] for lib in _blas_controller().select(user_api="blas").info())

    before = tinyrect.get_num_threads()
    try:
        tinyrect.set_num_threads(2)
        results = parallel_map(blas_threads, range(6))
        assert [i for i, _ in results] == list(range(6))
        assert all(n == 1 for _, n in results)
        assert parallel_map(blas_threads, [7]) == [(7, 1)]   # one item: still one BLAS thread
    finally:
        tinyrect.set_num_threads(before)


def test_conv_and_pooling_give_the_same_numbers_with_one_or_two_threads():
    from tinyrect import functional as F

    rng = np.random.default_rng(5)
    x = tinyrect.Tensor(rng.standard_normal((9, 3, 10, 7)), requires_grad=True)
    w = tinyrect.Tensor(rng.standard_normal((4, 3, 3, 2)), requires_grad=True)
    before, results = tinyrect.get_num_threads(), []
    try:
        for n in (1, 2):
            tinyrect.set_num_threads(n)
            x.grad = w.grad = None
            y = F.max_pool2d(F.conv2d(x, w, padding=1), 2, stride=1)
            y.backward(np.ones(y.shape))
            results.append((y.data, x.grad, w.grad))
    finally:
        tinyrect.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_everything_works_with_numba_disabled(tmp_path):
    """NUMBA_DISABLE_JIT=1 (how students debug a kernel) runs the same code as plain Python."""
    script = textwrap.dedent("""
        import numba, numpy as np, tinyrect as tr
        from tinyrect import functional as F
        from tinyrect.kernels import direct, im2col, microkernel, reference as ref
        assert numba.config.DISABLE_JIT and not hasattr(im2col.im2col, "py_func")
        assert direct._tile1 is microkernel.tile_reference      # the tile: its NumPy twin
        rng = np.random.default_rng(0)
        x = tr.Tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
        w = tr.Tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)
        y = F.conv2d(x, w, stride=(1, 2), padding=1)
        assert np.allclose(y.data, ref.conv2d_reference(x.data, w.data, None, (1, 2), (1, 1)))
        assert F.avg_pool2d(y, 2, stride=1, padding=1).shape == (2, 3, 6, 4)
        tr.gradcheck(lambda a, b: F.max_pool2d(F.conv2d(a, b, padding=1), 2, 1), [x, w])
        w3 = tr.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
        y3 = F.conv2d(x, w3, padding=1)          # stride 1, Wo == W: col2im's shifted-copy kernel
        assert np.allclose(y3.data, ref.conv2d_reference(x.data, w3.data, None, (1, 1), (1, 1)))
        tr.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), [x, w3])
        tr.gradcheck(lambda a, b: F.conv2d_relu(a, b, padding=1), [x, w3])   # fused epilogues
        s = tr.Tensor(np.array([0.25, 0.0, -0.5]), requires_grad=True)
        tr.gradcheck(lambda a, b, c: F.conv2d_prelu(a, b, None, c, padding=1), [x, w3, s])
        x8 = tr.Tensor(rng.standard_normal((2, 8, 5, 4)), requires_grad=True)   # dX by the tiles
        w8 = tr.Tensor(rng.standard_normal((3, 8, 3, 3)), requires_grad=True)
        y8 = F.conv2d(x8, w8, padding=1)
        assert np.allclose(y8.data, ref.conv2d_reference(x8.data, w8.data, None, (1, 1), (1, 1)))
        tr.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), [x8, w8])
        assert direct._strip2 is direct._strip4_rows2 is microkernel.strip_reference
        x16 = tr.Tensor(rng.standard_normal((2, 2, 4, 8)), requires_grad=True)  # rows of 8:
        w16 = tr.Tensor(rng.standard_normal((5, 2, 3, 3)), requires_grad=True)  # the strips
        y16 = F.conv2d_relu(x16, w16, padding=1)                # (float64: 8 lanes, r = 1)
        assert np.allclose(y16.data, np.maximum(ref.conv2d_reference(
            x16.data, w16.data, None, (1, 1), (1, 1)), 0))
        tr.gradcheck(lambda a, b: F.conv2d(a, b, padding=1), [x16, w16])
        print("ok")
    """)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_benchmark_baseline_computes_the_same_convolution():
    """The pure-NumPy baseline of `tinyrect bench` must compute what conv2d computes, or the
    speed comparison means nothing."""
    from tinyrect.commands import bench
    from tinyrect import functional as F

    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    X, W, B = (tinyrect.Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(X, W, B, padding=1)
    dy = rng.standard_normal(y.shape)
    y.backward(dy)
    y_np, cols = bench.numpy_conv_forward(x, w, b, 1)
    np.testing.assert_allclose(y_np, y.data, rtol=1e-10, atol=1e-10)
    for ours, theirs in zip((X.grad, W.grad, B.grad), bench.numpy_conv_backward(dy, x.shape, w, 1, cols)):
        np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-10)
    assert bench._parse_shapes("8,3,8,3,4; 2,1,5,1,1") == [(8, 3, 8, 3, 4), (2, 1, 5, 1, 1)]
    with pytest.raises(ValueError, match="N,C,H,K,F"):
        bench._parse_shapes("8,3,8")
    with pytest.raises(ValueError, match=r"4-D \(N, C, H, W\)"):
        F.conv2d(np.zeros((0, 3)), w)
    empty = F.conv2d(tinyrect.Tensor(np.zeros((0, 3, 5, 5)), requires_grad=True), W, B, padding=1)
    empty.sum().backward()
    assert empty.shape == (0, 4, 5, 5)


def test_benchmark_rounds_show_the_median_round(monkeypatch, capsys):
    """`tinyrect bench --rounds 3` repeats the conv benchmark and prints every round's means."""
    from tinyrect.commands import bench
    from tinyrect.commands.cli import main

    monkeypatch.setattr(bench, "WARM", 0.0)
    monkeypatch.setattr(bench, "gemm_gflops", lambda repeats=5, n=1024: 100.0)
    assert main(["bench", "--only", "conv", "--no-torch", "--repeats", "1", "--rounds", "3",
                 "--shapes", "2,1,5,3,2"]) == 0
    out = capsys.readouterr().out
    assert "all 3 rounds" in out and out.count("  round ") == 3 and "(2, 1, 5, 3, 2)" in out
    with pytest.raises(SystemExit, match="--rounds must be >= 1"):
        main(["bench", "--rounds", "0"])
    with pytest.raises(SystemExit, match="--threads must be >= 1"):
        main(["bench", "--threads", "0"])


def test_train_step_benchmark_reports_both_nets_without_targets(monkeypatch):
    """`tinyrect bench --only train-step`: a line per net, every round, and no project jargon;
    the peak memory of a step is measured in a fresh process (Linux)."""
    from tinyrect.commands import bench_train

    result = bench_train.bench_train_step(repeats=1, threads=1, rounds=2, memory=False,
                                          use_torch=False)
    assert set(result["nets"]) == {"plain30", "prelu14"}
    assert all(len(e["all_rounds"]) == 2 and e["tinyrect_ms"] > 0 for e in result["nets"].values())
    text = bench_train.format_result(result)
    assert "plain30" in text and "prelu14" in text and "target" not in text.lower()
    if sys.platform.startswith("linux"):
        assert bench_train.measure_memory("tinyrect", "plain30", 1) > 1.0   # MB: activations


def test_bench_names_the_blas_kernels_and_hints_only_on_a_mismatch():
    from tinyrect.commands import bench

    assert isinstance(bench.blas_kernels(), str)
    cpu = "flags : fpu sse avx2 avx512f avx512bw avx512dq avx512vl fma"
    assert "OPENBLAS_CORETYPE=SkylakeX" in bench.blas_hint("openblas Haswell", cpu)
    assert bench.blas_hint("openblas SkylakeX", cpu) is None
    assert bench.blas_hint("openblas Haswell", "flags : fpu sse avx2 fma") is None
    assert bench.blas_hint("mkl", cpu) is None
