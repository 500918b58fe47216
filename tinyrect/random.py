"""tinyrect's default random generator: one stream that init, dropout (and data) draw from.

Every function that draws random numbers takes `rng` (an np.random.Generator) or `seed`; without
either it draws from the default generator here. It starts from seed 0 in every process, so a
lesson prints the same numbers on every run (PyTorch instead seeds its default generator
randomly per process), and `manual_seed(s)` resets it.
"""
from __future__ import annotations

import numbers

import numpy as np

_default_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the default generator (used when no `rng`/`seed` is passed) to `seed`; returns it."""
    global _default_rng
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _default_rng = np.random.default_rng(int(seed))
    return _default_rng


def default_generator() -> np.random.Generator:
    """The generator used when no `rng`/`seed` is passed (replaced by each manual_seed call)."""
    return _default_rng


def generator(rng: np.random.Generator | None = None, seed: int | None = None) -> np.random.Generator:
    """The generator to draw from: `rng` if given, a fresh one from `seed` if given, else the
    default generator. Passing both is an error."""
    if rng is not None and seed is not None:
        raise ValueError("pass either rng (an np.random.Generator) or seed, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be an np.random.Generator (np.random.default_rng(seed)), "
                            f"got {type(rng).__name__}")
        return rng
    return np.random.default_rng(seed) if seed is not None else _default_rng
