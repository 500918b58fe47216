"""One training run, the way every reproduction trains: plain mini-batch SGD with momentum.

`fit(net, data, ...)` trains a `models.Net` on a `tinyrect.data.Dataset` and returns a plain
dict of numbers (JSON-ready): the training loss of every step, the test error at the end, the
step where training diverged (if it did), and the wall time. The paper's recipe (Sec. 3): SGD,
momentum 0.9, weight decay 5e-4, none on PReLU's a (Sec. 2.1); ours also spares the biases and
keeps the learning rate constant (the runs are short).
"""
from __future__ import annotations

import math
import time

import numpy as np

import tinyrect as tr
from tinyrect import functional as F
from tinyrect.data import DataLoader
from tinyrect.reproduce.models import Net, param_groups


def make_sgd(net: Net, lr: float, momentum: float, weight_decay: float, decay_slopes: bool = False):
    """tinyrect.optim.SGD over `param_groups(net, ...)` (no decay on biases / PReLU a)."""
    from tinyrect import optim

    return optim.SGD(param_groups(net, weight_decay, decay_slopes), lr=lr, momentum=momentum,
                     weight_decay=weight_decay)


def evaluate(net: Net, x: np.ndarray, y: np.ndarray, batch_size: int = 500) -> tuple[float, float]:
    """(mean cross-entropy loss, error rate) of `net` on (x, y), without recording a graph."""
    net.model.eval()
    total_loss, wrong = 0.0, 0
    with tr.no_grad():
        for i in range(0, len(y), batch_size):
            logits = net(tr.Tensor(x[i:i + batch_size]))
            yb = y[i:i + batch_size]
            total_loss += float(F.cross_entropy(logits, yb, reduction="sum").item())
            wrong += int((logits.data.argmax(axis=1) != yb).sum())
    net.model.train()
    return total_loss / len(y), wrong / len(y)


def fit(net: Net, data, *, epochs: int, lr: float, momentum: float = 0.9,
        weight_decay: float = 5e-4, batch_size: int = 64, seed: int = 0,
        decay_slopes: bool = False, on_step=None, eval_each_epoch: bool = False,
        max_train: int | None = None) -> dict:
    """Train `net` for `epochs` passes over data.x_train; return the run's numbers.

    on_step(step, loss) is called after every step (progress bars). A non-finite loss stops the
    run at once (`diverged_at` = that step; the paper's point about unstable deep nets is a
    measurement, not a crash). `max_train` trains on the first N examples only (smoke tests).
    """
    x, y = data.x_train, data.y_train
    if max_train:
        x, y = x[:max_train], y[:max_train]
    loader = DataLoader(x, y, batch_size=batch_size, shuffle=True, seed=seed)
    opt = make_sgd(net, lr, momentum, weight_decay, decay_slopes)
    losses, test_errors, diverged_at = [], [], None
    t0 = time.perf_counter()
    step = 0
    for _epoch in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(net(tr.Tensor(xb)), yb)
            value = float(loss.item())
            if not math.isfinite(value):
                diverged_at = step
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(value)
            step += 1
            if on_step is not None:
                on_step(step, value)
        if diverged_at is not None:
            break
        if eval_each_epoch:
            test_errors.append(evaluate(net, data.x_test, data.y_test)[1])
    seconds = time.perf_counter() - t0
    if diverged_at is None:
        test_loss, test_error = evaluate(net, data.x_test, data.y_test)
    else:
        test_loss, test_error = float("nan"), float("nan")
    return dict(losses=[round(v, 5) for v in losses], test_loss=test_loss, test_error=test_error,
                test_errors_per_epoch=test_errors, diverged_at=diverged_at, steps=len(losses),
                seconds=round(seconds, 2))


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return -(-n_train // batch_size)


def first_below(losses, threshold: float):
    """First step (0-based) whose training loss is below `threshold`, or None."""
    for i, v in enumerate(losses):
        if v < threshold:
            return i
    return None


def tail_mean(losses, n: int = 20) -> float:
    """Mean of the last `n` training losses (the 'final training loss' of a run); NaN if none."""
    if not losses:
        return float("nan")
    return float(np.mean(losses[-n:]))
