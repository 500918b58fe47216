"""numba fast paths, each beside the slow, obvious reference that tests compare it against.

  im2col.py      im2col / col2im for convolution as one GEMM        (reference.py: the loops)
  conv.py        conv2d's forward/backward: im2col + GEMM by chunks (reference.py: conv2d_reference,
                 on tinyrect's threads                               conv2d_backward_reference)
  direct.py      conv2d's forward, dW and (stride 1) dX: tiles and  (reference.py: the same two)
                 strips read from a padded copy of x, no X_col
  padded.py      that padded copy, and where each tap reads in it
  microkernel.py the register-blocked tile and strip under          (tile_reference,
                 direct.py, built in LLVM IR through numba's        strip_reference: NumPy)
                 @intrinsic
  gemm.py        matrix products by row blocks on the threads       (NumPy's a @ b)
  pooling.py     max pooling (with arg-max) and average pooling     (reference.py: the loops)
  rectifiers.py  PReLU forward/backward                             (its *_reference twins)

Every kernel is a module-level `@njit(cache=True)` function: compiled once, on first use, and
cached on disk so later processes load machine code instead of compiling. `NUMBA_DISABLE_JIT=1`
turns them all into plain Python (slow, but you can put a print or a breakpoint in a kernel).

Where the compiled code is cached: numba tries $NUMBA_CACHE_DIR, then the `__pycache__` folder
beside this file, then a user-wide folder (~/.cache/numba). When none of those is writable
numba would refuse to import with "cannot cache function ...: no locator available"; instead,
`ensure_numba_cache_dir()` below points numba at a private folder in the temporary directory
and warns once.
"""
from __future__ import annotations

import os
import tempfile
import warnings


def _writable(folder: str) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def _candidate_cache_dirs() -> list:
    """The folders numba itself would try, in its order."""
    import numba

    folders = [numba.config.CACHE_DIR] if numba.config.CACHE_DIR else []
    folders.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__"))
    try:
        from numba.misc.appdirs import AppDirs

        folders.append(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    except ImportError:  # pragma: no cover (older/newer numba layout)
        pass
    return folders


def ensure_numba_cache_dir(candidates=None) -> str | None:
    """Make sure numba has a writable cache folder; return the fallback folder if one was set.

    `candidates` (for tests) replaces the list of folders numba would try.
    """
    import numba

    if numba.config.DISABLE_JIT:
        return None
    folders = _candidate_cache_dirs() if candidates is None else list(candidates)
    if any(_writable(f) for f in folders if f):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    fallback = os.path.join(tempfile.gettempdir(), f"tinyrect-numba-cache-{uid}")
    if not _writable(fallback):
        fallback = tempfile.mkdtemp(prefix="tinyrect-numba-cache-")
    numba.config.CACHE_DIR = fallback
    warnings.warn(
        f"tinyrect: no writable numba cache folder among {folders}; caching compiled kernels in "
        f"{fallback} instead. Set NUMBA_CACHE_DIR to a writable folder to choose another.",
        RuntimeWarning, stacklevel=2,
    )
    return fallback


ensure_numba_cache_dir()
