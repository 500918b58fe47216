"""A training-step benchmark: the 30-layer plain net of Fig. 3 (width 16), one SGD step on a batch
of 64 8×8 images, tinyrect vs the same net in PyTorch (same shapes, same thread count).

    from tinyrect.commands.bench_train import bench_train_step
    r = bench_train_step(repeats=10, threads=2)
    r["tinyrect_ms"], r["torch_ms"], r["ratio"]      # ratio = tinyrect / PyTorch (target <= 1.5)

One step = forward (29 conv 3×3 + ReLU, flatten, fc), cross-entropy, backward, SGD update with
momentum and weight decay. We report the MEDIAN of `repeats` timed steps after 3 warm-up steps
(the first includes numba's compilation or cache load); the two frameworks' steps alternate, so
both see the same load on a shared machine, where the median is less noisy than the mean.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

SHAPE = dict(depth=30, width=16, batch=64, size=8, classes=10)


def _time_steps(step, repeats: int, warmup: int = 3) -> list:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def _tinyrect_step(x, y):
    import tinyrect as tr
    from tinyrect import functional as F
    from tinyrect.reproduce.fit import make_sgd
    from tinyrect.reproduce.models import plain_net

    net = plain_net(SHAPE["depth"], SHAPE["width"], (1, SHAPE["size"], SHAPE["size"]), SHAPE["classes"],
                    "relu", "he", seed=0)
    opt = make_sgd(net, lr=0.002, momentum=0.9, weight_decay=5e-4)
    xt = tr.Tensor(x)

    def step():
        loss = F.cross_entropy(net(xt), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _torch_step(x, y):
    import torch

    layers, c = [], 1
    for _ in range(SHAPE["depth"] - 1):
        layers += [torch.nn.Conv2d(c, SHAPE["width"], 3, padding=1), torch.nn.ReLU()]
        c = SHAPE["width"]
    layers += [torch.nn.Flatten(), torch.nn.Linear(c * SHAPE["size"] ** 2, SHAPE["classes"])]
    model = torch.nn.Sequential(*layers)
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}],
                          lr=0.002, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def bench_train_step(repeats: int = 10, threads: int | None = None) -> dict:
    """Median milliseconds per training step, tinyrect and PyTorch (None if torch is missing)."""
    import tinyrect as tr

    if threads is not None:
        tr.set_num_threads(threads)
    threads = tr.get_num_threads()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SHAPE["batch"], 1, SHAPE["size"], SHAPE["size"])).astype(np.float32)
    y = rng.integers(0, SHAPE["classes"], SHAPE["batch"]).astype(np.int64)
    ours_step = _tinyrect_step(x, y)
    result = dict(shape=dict(SHAPE), threads=threads, repeats=repeats, tinyrect_ms=None, torch_ms=None,
                  ratio=None)
    try:
        import torch
    except ImportError:
        result["tinyrect_ms"] = round(statistics.median(_time_steps(ours_step, repeats)) * 1e3, 2)
        return result
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        torch.manual_seed(0)
        theirs_step = _torch_step(x, y)
        # interleaved, so that both see the same machine load (it changes on a shared machine)
        _time_steps(ours_step, 0, warmup=3)
        _time_steps(theirs_step, 0, warmup=3)
        ours, theirs = [], []
        for _ in range(repeats):
            ours += _time_steps(ours_step, 1, warmup=0)
            theirs += _time_steps(theirs_step, 1, warmup=0)
    finally:
        torch.set_num_threads(previous)
    ours_ms, theirs_ms = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
    result.update(tinyrect_ms=round(ours_ms, 2), torch_ms=round(theirs_ms, 2),
                  ratio=round(ours_ms / theirs_ms, 2), torch_version=torch.__version__)
    return result


def format_result(r: dict) -> str:
    """One line for `tinyrect bench`."""
    s = r["shape"]
    head = (f"train step, {s['depth']}-layer plain net, width {s['width']}, batch {s['batch']} of "
            f"{s['size']}×{s['size']}, {r['threads']} thread(s): tinyrect {r['tinyrect_ms']:.1f} ms")
    if r["torch_ms"] is None:
        return head + " (PyTorch not installed: no comparison)"
    return head + f", PyTorch {r['torch_ms']:.1f} ms, ratio {r['ratio']:.2f} (target <= 1.5)"
