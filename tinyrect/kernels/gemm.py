"""Matrix products on tinyrect's threads: the rows of the result split into chunks, each chunk
one single-threaded BLAS GEMM (tinyrect/_threads.py says why BLAS's own threads are avoided).

    matmul(a, b)[r0:r1] = a[r0:r1] @ b          (the rows are independent)

A product too small to be worth a thread hand-off runs as one chunk, still single-threaded.
The plain twin is NumPy's `a @ b`; tests compare the two.
"""
from __future__ import annotations

import numpy as np

from tinyrect._threads import get_num_threads, parallel_map

MIN_CHUNK_FLOPS = 1 << 23   # smallest chunk worth handing to another thread (~0.1 ms of GEMM)


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for 2-D a (M, K) and b (K, N), row blocks of a on tinyrect's threads."""
    M, K = a.shape
    N = b.shape[1]
    out = np.empty((M, N), dtype=np.result_type(a.dtype, b.dtype))
    n = int(max(1, min(get_num_threads(), M, 2 * M * K * N // MIN_CHUNK_FLOPS)))

    def rows(i):
        r0, r1 = M * i // n, M * (i + 1) // n
        np.matmul(a[r0:r1], b, out=out[r0:r1])

    parallel_map(rows, range(n))
    return out
