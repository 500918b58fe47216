"""One thread setting for numba's kernels and BLAS, so they never oversubscribe the cores.

tinyrect parallelizes im2col/col2im/pooling with numba and leaves GEMMs to BLAS; the two never
run at the same time, so both may use all `n` threads. `set_num_threads(n)` sets both;
the default follows NUMBA_NUM_THREADS (else the core count).
"""
from __future__ import annotations

import os


def set_num_threads(n: int) -> None:
    """Use `n` threads in numba kernels and in BLAS (via threadpoolctl when available)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    import numba

    n_numba = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n_numba)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n, user_api="blas")
    except ImportError:  # threadpoolctl ships with scikit-learn; without it BLAS keeps its default
        pass
    os.environ["TINYRECT_NUM_THREADS"] = str(n)


def get_num_threads() -> int:
    import numba

    return numba.get_num_threads()
