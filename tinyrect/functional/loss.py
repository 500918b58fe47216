"""Losses. cross_entropy is computed through a numerically stable log-softmax."""
from __future__ import annotations

import numpy as np

from tinyrect.tensor import Tensor, as_tensor


def log_softmax(x, axis: int = -1) -> Tensor:
    """log_softmax(z)_i = z_i - log Σ_j exp(z_j), computed as (z - m) - log Σ exp(z - m), m = max z
    (the log-sum-exp trick: exp never sees a large positive number, so it cannot overflow).

    Backward: with p = softmax(z) = exp(y),  dz = dy - p · Σ_j dy_j.
    """
    x = as_tensor(x)
    z = x.data
    shifted = z - z.max(axis=axis, keepdims=True)
    y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(dout):
        """dz = dy - softmax(z) * sum(dy over the class axis)."""
        return (dout - np.exp(y) * dout.sum(axis=axis, keepdims=True),)

    return Tensor._from_op(y, (x,), backward, "log_softmax")


def cross_entropy(logits, labels, reduction: str = "mean") -> Tensor:
    """Mean negative log-likelihood of integer `labels` (shape N) under softmax(`logits`) (N×K).

    L = -(1/N) Σ_n log softmax(z_n)[t_n].  Backward (through log_softmax and indexing):
    dz_n = (softmax(z_n) - onehot(t_n)) / N.
    """
    logits = as_tensor(logits)
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be 2-D (N, classes), got shape {logits.shape}")
    if labels.shape != (logits.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(
            f"cross_entropy: labels must be integers of shape ({logits.shape[0]},), got "
            f"{labels.dtype} of shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {logits.shape[1] - 1}], got range "
            f"[{labels.min()}, {labels.max()}]"
        )
    picked = log_softmax(logits, axis=1)[np.arange(len(labels)), labels]
    if reduction == "sum":
        return -picked.sum()
    if reduction == "none":
        return -picked
    return -picked.mean()


def mse_loss(prediction, target) -> Tensor:
    """L = mean((p - t)²); backward dp = 2 (p - t) / count (through sub, pow and mean)."""
    prediction = as_tensor(prediction)
    diff = prediction - as_tensor(target, like=prediction)
    return (diff * diff).mean()
