"""One thread setting for tinyrect's kernels, numba and BLAS, so they never oversubscribe the cores.

How tinyrect uses n threads (`set_num_threads(n)`; the default follows TINYRECT_NUM_THREADS,
else NUMBA_NUM_THREADS, else the number of cores):

  * conv2d and pooling split the batch into chunks and run the chunks on a pool of n Python
    threads (`parallel_map`). Each chunk does all of its work, numba kernel (im2col, col2im,
    pooling; they release the GIL) and GEMM alike, in its own thread, with BLAS limited to one
    thread while the pool runs. So exactly n threads compute at any time, and no thread spins at
    a barrier waiting for a kernel or a GEMM it does not need. The obvious alternative, numba
    `prange` inside each kernel and BLAS threads for each GEMM, one after the other, suffers
    twice: OpenBLAS's idle workers keep spinning (~0.1 s) after each GEMM, stealing cores from
    the next numba kernel, and any pause of one thread (another process on a shared machine)
    stalls every barrier. Measured on a shared 2-core machine (load average about 5), conv2d
    forward+backward of (N, C, H, K, F) = (64, 32, 32, 3, 32): 3.1 s with prange + BLAS threads,
    0.23 s with the chunk pool (same kernels, `tinyrect bench`);
  * outside the pool (e.g. `linear`, `x @ w`) BLAS uses n threads, and numba `prange` kernels
    (the PReLU kernels) use min(n, NUMBA_NUM_THREADS).
"""
from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

_state = {"n": None, "pool": None, "pool_pid": None, "controller": None}


def _default_threads() -> int:
    for var in ("TINYRECT_NUM_THREADS", "NUMBA_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use `n` threads in tinyrect's thread pool, in numba kernels and in BLAS."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    controller = _blas_controller()
    if controller is not None:
        controller.limit(limits=n, user_api="blas")  # stays in force (not used as a context)
    if _state["pool"] is not None and _state["n"] != n:
        _state["pool"].shutdown(wait=True)
        _state["pool"] = None
    _state["n"] = n
    os.environ["TINYRECT_NUM_THREADS"] = str(n)


def get_num_threads() -> int:
    if _state["n"] is None:
        _state["n"] = _default_threads()
    return _state["n"]


def _blas_controller():
    """threadpoolctl's controller of the loaded BLAS (threadpoolctl ships with scikit-learn)."""
    if _state["controller"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


def _pool() -> ThreadPoolExecutor:
    if _state["pool"] is None or _state["pool_pid"] != os.getpid():  # a fork has no threads
        _state["pool"] = ThreadPoolExecutor(get_num_threads(), thread_name_prefix="tinyrect")
        _state["pool_pid"] = os.getpid()
    return _state["pool"]


def parallel_map(fn, items) -> list:
    """[fn(item) for item in items], on the thread pool, with BLAS single-threaded meanwhile.

    fn must release the GIL for the work to run in parallel (numba nogil kernels and NumPy's
    matmul do). With one thread or one item it simply runs here, in the calling thread.
    The BLAS limit is process-wide while the pool runs: BLAS calls that other Python threads
    make at the same moment also run single-threaded. Not re-entrant: fn must not call it.
    """
    items = list(items)
    if get_num_threads() == 1 or len(items) <= 1:
        return [fn(item) for item in items]
    controller = _blas_controller()
    limit = controller.limit(limits=1, user_api="blas") if controller else contextlib.nullcontext()
    with limit:
        return list(_pool().map(fn, items))


if "TINYRECT_NUM_THREADS" in os.environ or "NUMBA_NUM_THREADS" in os.environ:
    try:
        set_num_threads(_default_threads())
    except ValueError:  # a malformed variable: keep the libraries' defaults
        pass
