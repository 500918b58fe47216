"""Dropout (Srivastava et al. 2014), as the paper uses it on fc1 and fc2 (Sec. 3: 50%).

Training: each element is kept with probability 1 - p and scaled by 1 / (1 - p) ("inverted"
dropout, as PyTorch), so the expected output equals the input and evaluation needs no rescaling:

    y = x · m / (1 - p),   m ~ Bernoulli(1 - p), one draw per element, new every call
    Backward: dx = dout · m / (1 - p)   (the same mask: dropped units get no gradient)

Evaluation (training=False, what `model.eval()` sets for nn.Dropout): y = x.
For the variance derivation (lesson 05): dropout multiplies E[x²] by 1 / (1 - p) in training, so a
net that is He-initialized for evaluation runs 2× hotter per dropout layer while training at p = ½.
"""
from __future__ import annotations

import numbers

import numpy as np

from tinyrect import random
from tinyrect.tensor import Tensor, as_tensor


def dropout(x, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 - p) (training only).

    rng: the generator for the mask (default: tinyrect's, seeded by tinyrect.manual_seed).
    """
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: input must be float32 or float64, got {x.dtype}")
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p is the probability of dropping an element and must be in "
                         f"[0, 1], got {p!r}")
    if not training or p == 0:
        return x
    if p == 1:   # everything dropped, as torch (no division by zero)
        scaled_mask = np.zeros(x.shape, dtype=x.dtype)
    else:
        keep = random.generator(rng).random(x.shape) >= p
        scaled_mask = keep.astype(x.dtype) / x.dtype.type(1 - p)

    def backward(dout):
        """dx = dout · m / (1 - p)."""
        return (dout * scaled_mask,)

    return Tensor._from_op(x.data * scaled_mask, (x,), backward, "dropout")
