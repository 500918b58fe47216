"""`tinyrect bench`: how fast is tinyrect's conv2d, next to pure NumPy and PyTorch?

For each float32 shape (N, C, H=W, K, F) with padding K//2 and stride 1 it times conv2d forward
and forward+backward (dX, dW, db) of
  * tinyrect  (the paths conv2d takes for the shape, shown in the `path` column: `strips`,
              the direct path of tinyrect/kernels/direct.py with its forward and dX by strips
              (vectors of output pixels) and dW by tiles (vectors of channels); `tiles`: all
              three by tiles, for maps whose rows do not fill whole vectors; `..., dX col2im`:
              dX of a layer with 1-3 input channels by im2col's col2im(W_colᵀ·dY),
              tinyrect/kernels/conv.py),
  * numpy     (the baseline below: sliding_window_view + matmul, with its own hand backward),
  * torch     (PyTorch CPU, when installed),
alternating the three in one process with the same thread count (the machine may be shared:
alternating spreads the noise over all three), and prints medians, the ratios tinyrect/torch
and numpy/tinyrect, their geometric means, and tinyrect's GFLOP/s next to this machine's
float32 GEMM rate (a 1024³ matmul, measured between the shapes of the same run). On a busy
machine also look at the ratio of the fastest calls (printed last): it is closest to what a
quiet machine would show.

Adding a benchmark: write `fn(args) -> (result_dict, text)` and call
`register_benchmark("name", fn, "help")` in this module (see `_train_step` at the bottom); it
then runs after the conv benchmark, and `--only name` runs it alone.
"""
from __future__ import annotations

import json
import math
import time

import numpy as np

from tinyrect._threads import compile_soon, wait_for_compilation

DEFAULT_SHAPES = [(64, 32, 32, 3, 32), (128, 16, 16, 3, 16), (64, 16, 8, 3, 16), (64, 3, 32, 3, 16)]
BENCHMARKS: dict = {}  # name -> (fn(args) -> (dict, str), help)
# Before each timed call, the same contender runs untimed for at least WARM seconds. BLAS and
# OpenMP worker threads keep spinning for a while after they finish (OpenBLAS: up to ~0.1 s);
# measured right after another library, a contender would share the cores with those spinning
# threads (measured here: PyTorch and the NumPy baseline up to 10-100x slower, tinyrect less).
# Warming up for WARM seconds lets that tail die out and brings caches to the steady state a
# training loop sees. (Sleeping instead was tried: calls right after a sleep ran up to 2.6x slower.)
WARM = 0.15


def register_benchmark(name: str, fn, help: str = "") -> None:
    """Add a benchmark to `tinyrect bench`: fn(args) returns (JSON-able dict, printable text)."""
    BENCHMARKS[name] = (fn, help)


# ----------------------------------------------------------------------------- the NumPy baseline
def numpy_conv_forward(x, w, b, p):
    """im2col with sliding_window_view (one strided copy) and one matmul; stride 1."""
    N, C, H, W = x.shape
    F, _, K, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (K, K), axis=(2, 3))  # N,C,Ho,Wo,K,K
    Ho, Wo = win.shape[2:4]
    cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(C * K * K, N * Ho * Wo)    # the copy
    y = (w.reshape(F, -1) @ cols).reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3) + b[None, :, None, None]
    return y, cols


def numpy_conv_backward(dy, x_shape, w, p, cols):
    """dW = dY·colsᵀ, dcols = Wᵀ·dY, dX = col2im by a loop over the K·K kernel offsets."""
    N, C, H, W = x_shape
    F, _, K, _ = w.shape
    Ho, Wo = dy.shape[2:]
    dy2 = dy.transpose(1, 0, 2, 3).reshape(F, -1)
    dw = (dy2 @ cols.T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ dy2).reshape(C, K, K, N, Ho, Wo)
    dxp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dy.dtype)
    for i in range(K):
        for j in range(K):
            dxp[:, :, i:i + Ho, j:j + Wo] += dcols[:, i, j].transpose(1, 0, 2, 3)
    return dxp[:, :, p:p + H, p:p + W], dw, dy.sum(axis=(0, 2, 3))


# ----------------------------------------------------------------------------- measuring
def gemm_gflops(repeats: int = 5, n: int = 1024) -> float:
    """This machine's float32 GEMM rate (median of `repeats` n³ products), in GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / float(np.median(times)) / 1e9


def _contenders(shape, use_torch: bool):
    """{name: (forward(), forward_backward())} closures for one shape."""
    import tinyrect as tr
    from tinyrect.functional import conv2d

    N, C, H, K, F = shape
    p = K // 2
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, H)).astype(np.float32)
    w = (rng.standard_normal((F, C, K, K)) / math.sqrt(C * K * K)).astype(np.float32)
    b = np.zeros(F, np.float32)
    X, Wt, B = (tr.Tensor(a, requires_grad=True) for a in (x, w, b))
    dy = rng.standard_normal((N, F, H + 2 * p - K + 1, H + 2 * p - K + 1)).astype(np.float32)

    def tr_fwd():
        with tr.no_grad():
            conv2d(X, Wt, B, padding=p)

    def tr_fb():
        conv2d(X, Wt, B, padding=p).backward(dy)

    def np_fb():
        _, cols = numpy_conv_forward(x, w, b, p)
        numpy_conv_backward(dy, x.shape, w, p, cols)

    out = {"tinyrect": (tr_fwd, tr_fb), "numpy": (lambda: numpy_conv_forward(x, w, b, p), np_fb)}
    if use_torch:
        import torch

        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        dyt = torch.tensor(dy)

        def t_fwd():
            with torch.no_grad():
                torch.nn.functional.conv2d(xt, wt, bt, padding=p)

        def t_fb():
            torch.nn.functional.conv2d(xt, wt, bt, padding=p).backward(dyt)

        out["torch"] = (t_fwd, t_fb)
    return out


def bench_conv(shapes=DEFAULT_SHAPES, repeats: int = 10, use_torch: bool = True) -> dict:
    """Median (and min) seconds per call for every (shape, contender, pass), measured
    alternately; the GEMM rate is measured between shapes, and its median reported."""
    rows, gemm = [], []
    compile_soon()                   # time the parallel regions, as a long run would use them
    for shape in shapes:
        gemm.append(gemm_gflops(repeats=3))
        fns = _contenders(shape, use_torch)
        N, C, H, K, F = shape
        row = {"shape": list(shape), "gflop_fwd": 2 * N * F * C * K * K * H * H / 1e9,
               "path": conv_path(C, H, K, F)}
        for kind, idx in (("fwd", 0), ("fwd+bwd", 1)):
            times = {name: [] for name in fns}
            for f in fns.values():   # warm-up (and numba's first compile)
                for _ in range(4):
                    f[idx]()
            wait_for_compilation()   # the parallel regions numba compiles in the background
            for _ in range(repeats):
                for name, f in fns.items():
                    start = time.perf_counter()
                    f[idx]()                     # untimed warm-up, at least once and WARM seconds
                    while time.perf_counter() - start < WARM:
                        f[idx]()
                    t0 = time.perf_counter()
                    f[idx]()
                    times[name].append(time.perf_counter() - t0)
            row[kind] = {name: float(np.median(t)) for name, t in times.items()}
            row[kind + " min"] = {name: float(np.min(t)) for name, t in times.items()}
        rows.append(row)
    return {"rows": rows, "gemm_gflops": float(np.median(gemm))}


def conv_path(C: int, H: int, K: int, F: int) -> str:
    """Which fast paths conv2d takes for C input channels, an H×H input, a K×K kernel with
    padding K//2, stride 1, and F filters: 'im2col' (kernels/conv.py), or the direct path
    (kernels/direct.py) with its forward and dX by 'strips' or 'tiles' (dW always by tiles),
    written 'strips' when both take strips, else e.g. 'tiles, dX col2im' (dX by kernels/conv.py)."""
    from tinyrect.functional.geometry import conv_output
    from tinyrect.kernels import direct

    p = K // 2
    g = conv_output(H, H, (K, K), (1, 1), (p, p, p, p), (1, 1))
    if not direct.suits(C, g):
        return "im2col"

    def kind(channels, h, w):
        return "strips" if direct.strip_shape(channels, h, w, 1, np.float32)[0] else "tiles"

    forward = kind(F, g.Ho, g.Wo)
    dx = kind(C, H, H) if direct.takes_dx(C, g, H, H) else "col2im"
    return forward if dx == forward else f"{forward}, dX {dx}"


def _geomean(values):
    values = [v for v in values if v is not None]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def geometric_means(result: dict, kind: str = "fwd+bwd") -> tuple:
    """(tinyrect/torch, numpy/tinyrect) geometric means over the shapes of one bench_conv result,
    of the medians (`kind` "fwd" or "fwd+bwd") or of the fastest calls ("fwd min", ...)."""
    rows = result["rows"]
    to_torch = _geomean([r[kind]["tinyrect"] / r[kind]["torch"] for r in rows if "torch" in r[kind]])
    return to_torch, _geomean([r[kind]["numpy"] / r[kind]["tinyrect"] for r in rows])


def blas_kernels() -> str:
    """Which BLAS and which of its kernel families NumPy uses here, e.g. 'openblas Haswell'."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown BLAS"
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(sorted({f"{i.get('internal_api')} {i.get('architecture') or ''}".strip()
                             for i in libs})) or "unknown BLAS"


def blas_hint(kernels: str, cpuinfo: str | None = None) -> str | None:
    """A tip when OpenBLAS runs its AVX2 kernels (Haswell, Zen) on a CPU with AVX-512: it did
    not recognise the CPU (seen on virtual machines that hide the CPU model)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo") as fh:
                cpuinfo = fh.read()
        except OSError:
            return None
    flags = set(cpuinfo.split())
    avx512 = {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags
    if avx512 and "openblas" in kernels and any(k in kernels for k in ("Haswell", "Zen")):
        return ("note: this CPU has AVX-512 but OpenBLAS runs its AVX2 kernels; start Python with "
                "OPENBLAS_CORETYPE=SkylakeX to use its AVX-512 ones (compare the GEMM rate above)")
    return None


def format_conv(result: dict) -> str:
    peak = result["gemm_gflops"]
    kernels = result.get("blas", "unknown BLAS")
    lines = [f"conv2d float32, padding K//2, stride 1; {result['threads']} thread(s); "
             f"median of {result['repeats']}; float32 GEMM (1024³) here: {peak:.0f} GFLOP/s "
             f"({kernels})",
             f"{'(N, C, H, K, F)':<22}{'pass':<9}{'path':<18}{'tinyrect':>10}{'numpy':>10}"
             f"{'torch':>10}{'tr/torch':>10}{'np/tr':>8}{'GFLOP/s':>9}{'% GEMM':>8}"]
    for row in result["rows"]:
        for kind, flop_factor in (("fwd", 1), ("fwd+bwd", 3)):
            t = row[kind]
            torch_t = t.get("torch")
            gflops = flop_factor * row["gflop_fwd"] / t["tinyrect"]
            lines.append(
                f"{str(tuple(row['shape'])):<22}{kind:<9}{row.get('path', '?'):<18}"
                f"{1e3 * t['tinyrect']:>8.2f}ms"
                f"{1e3 * t['numpy']:>8.2f}ms"
                + (f"{1e3 * torch_t:>8.2f}ms{t['tinyrect'] / torch_t:>10.2f}" if torch_t
                   else f"{'-':>10}{'-':>10}")
                + f"{t['numpy'] / t['tinyrect']:>8.2f}{gflops:>9.1f}{100 * gflops / peak:>7.0f}%")
    for kind in ("fwd", "fwd+bwd"):
        g_torch, g_np = geometric_means(result, kind)
        best = geometric_means(result, kind + " min")[0]
        lines.append(f"geometric mean {kind:<8}: tinyrect/torch "
                     + (f"{g_torch:.2f}" if g_torch else "-") + f", numpy/tinyrect {g_np:.2f}"
                     + (f"   (ratio of the fastest calls, tinyrect/torch: {best:.2f})" if best else ""))
    hint = blas_hint(kernels)
    return "\n".join(lines + ([hint] if hint else []))


def _conv(args):
    shapes = args.shapes or DEFAULT_SHAPES
    repeats = args.repeats or (3 if args.quick else 10)
    try:
        import torch
        if args.threads:
            torch.set_num_threads(args.threads)
        use_torch = not args.no_torch
    except ImportError:
        use_torch = False
    rounds = []
    for _ in range(args.rounds):
        result = bench_conv(shapes, repeats, use_torch)
        result.update(repeats=repeats, threads=_threads_in_use(), blas=blas_kernels())
        rounds.append(result)
    if len(rounds) == 1:
        return rounds[0], format_conv(rounds[0])
    # several rounds: a shared machine's speed drifts by minutes, so show the round whose
    # forward+backward ratio is the median one, and every round's geometric means
    key = 0 if use_torch else 1
    order = sorted(range(len(rounds)), key=lambda i: geometric_means(rounds[i])[key])
    median = rounds[order[len(order) // 2]]
    lines = [format_conv(median), f"\nall {len(rounds)} rounds, geometric means (the table above is "
             f"the median round by forward+backward {'tinyrect/torch' if use_torch else 'numpy/tinyrect'}):"]
    for i, r in enumerate(rounds):
        text = []
        for kind in ("fwd", "fwd+bwd"):
            g_torch, g_np = geometric_means(r, kind)
            text.append(f"{kind} tinyrect/torch " + (f"{g_torch:.2f}" if g_torch else "-")
                        + f", numpy/tinyrect {g_np:.2f}")
        lines.append(f"  round {i + 1}: " + "; ".join(text))
    return {"median_round": median, "rounds": rounds}, "\n".join(lines)


def _threads_in_use() -> int:
    import tinyrect

    return tinyrect.get_num_threads()


# ----------------------------------------------------------------------------- CLI
def _parse_shapes(text: str):
    try:
        shapes = [tuple(int(v) for v in s.split(",")) for s in text.split(";") if s.strip()]
    except ValueError:
        shapes = []
    if not shapes or any(len(s) != 5 or min(s) < 1 for s in shapes):
        raise ValueError(f"--shapes: expected 'N,C,H,K,F;N,C,H,K,F...' with positive ints, got {text!r}")
    return shapes


def add_arguments(parser) -> None:
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per contender (default 10, --quick 3)")
    parser.add_argument("--threads", type=int, default=None, help="threads for numba, BLAS and torch (default: as now)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat each benchmark this many times and show the median round "
                             "(shared machines drift; default 1)")
    parser.add_argument("--shapes", type=str, default=None,
                        help="conv shapes 'N,C,H,K,F;...' (default: 4 shapes of the paper's small nets)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--only", action="append", default=None,
                        help=f"run only these benchmarks (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", type=str, default=None, help="also write all results to this JSON file")


def run(args) -> int:
    import tinyrect

    if args.repeats is not None and args.repeats < 1:
        raise SystemExit("tinyrect bench: --repeats must be >= 1")
    if getattr(args, "rounds", 1) < 1:
        raise SystemExit("tinyrect bench: --rounds must be >= 1")
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit(f"tinyrect bench: --threads must be >= 1 (got {args.threads}); "
                             "leave it out to use every core")
        tinyrect.set_num_threads(args.threads)
    if isinstance(args.shapes, str):
        try:
            args.shapes = _parse_shapes(args.shapes)
        except ValueError as err:
            raise SystemExit(f"tinyrect bench: {err}") from None
    names = args.only or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"tinyrect bench: unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}")
    results = {}
    for name in names:
        try:
            result, text = BENCHMARKS[name][0](args)
        except ImportError as err:  # a benchmark whose module is not built yet
            result, text = {"skipped": str(err)}, f"skipped: {err}"
        results[name] = result
        print(f"== {name} ==\n{text}\n", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


def _train_step(args):
    """The training-step benchmarks of tinyrect/commands/bench_train.py (both nets, peak memory)."""
    from tinyrect.commands.bench_train import bench_train_step, format_result

    result = bench_train_step(repeats=args.repeats or (3 if args.quick else 10), threads=args.threads,
                              rounds=args.rounds, use_torch=not args.no_torch)
    return result, format_result(result)


register_benchmark("conv", _conv, "conv2d forward and forward+backward vs NumPy and PyTorch")
register_benchmark("train-step", _train_step,
                   "one training step of the 30-layer plain net and the 14-layer PReLU net vs PyTorch")
