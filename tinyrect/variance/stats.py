"""The statistics of the many-draw measurement (tinyrect.variance.measure): the log2 of a mean
of ratios given their log2 values, and its bootstrap interval over the draws."""
from __future__ import annotations

import numpy as np


def log2_mean(log2_values) -> float:
    """log2 of the mean of 2**v, computed without under/overflow (log-sum-exp in base 2)."""
    v = np.asarray(log2_values, dtype=np.float64)
    m = v.max()
    return float(m + np.log2(np.mean(np.exp2(v - m))))


def bootstrap_ci(log2_values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> list:
    """Bootstrap interval of log2(mean of 2**v) over the draws (resampling draws)."""
    v = np.asarray(log2_values, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    m = v.max()
    stats = m + np.log2(np.mean(np.exp2(v[idx] - m), axis=1))
    lo, hi = np.percentile(stats, [50 * (1 - level), 50 * (1 + level)])
    return [float(lo), float(hi)]
