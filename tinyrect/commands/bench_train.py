"""Training-step benchmarks: one SGD step of the nets the reproduce sections train, tinyrect vs the
same net in PyTorch (same layers, same weights, same batch, same thread count).

    plain30   the 30-layer plain ReLU net of Fig. 3 (29 conv 3×3 of width 16 + fc), 8×8 inputs
    prelu14   the 14-layer net of Table 1 with channel-wise PReLU (width 32), 16×16 inputs

    from tinyrect.commands.bench_train import bench_train_step
    r = bench_train_step(repeats=10, threads=2)
    r["nets"]["plain30"]["ratio"]            # tinyrect time / PyTorch time (median steps)

One step = forward, cross-entropy, backward, SGD update with momentum 0.9 and weight decay 5e-4
(not on biases and PReLU coefficients). The two frameworks' steps alternate, so both see the same
load on a shared machine; we report the MEDIAN of `repeats` timed steps after 3 warm-up steps (the
first includes numba's compilation or cache load) and the end of any compilation numba runs in
the background (tinyrect._threads.wait_for_compilation).

Peak memory (`memory=True`): each framework runs in a fresh process; after warm-up steps on a
batch of 2 (kernels loaded, optimizer state allocated) and the end of numba's background
compilation, the process's peak resident memory is reset, one full step runs, and the step's
memory is the new peak minus the resident memory before it (Linux only: /proc/self/status).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

import numpy as np

from tinyrect._threads import compile_soon, wait_for_compilation

NETS = {
    "plain30": dict(builder="plain_net", depth=30, width=16, activation="relu", size=8, batch=64,
                    text="30-layer plain net, ReLU, width 16"),
    "prelu14": dict(builder="slopes_net", width=32, activation="prelu_channel", size=16, batch=64,
                    text="14-layer net, channel-wise PReLU, width 32"),
}
CLASSES = 10


def build_net(name: str):
    """The tinyrect net `name` of NETS (reproduce/models.py builds it, seed 0)."""
    from tinyrect.reproduce import models

    spec = NETS[name]
    shape = (1, spec["size"], spec["size"])
    if spec["builder"] == "plain_net":
        return models.plain_net(spec["depth"], spec["width"], shape, CLASSES, spec["activation"], "he",
                                seed=0)
    return models.slopes_net(spec["width"], shape, CLASSES, spec["activation"], "he", seed=0)


def torch_twin(model):
    """The same layers in PyTorch, with a copy of tinyrect's weights."""
    import torch

    from tinyrect import nn

    layers = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            t = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                                m.dilation, bias=m.bias is not None, padding_mode=m.padding_mode)
        elif isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        elif isinstance(m, nn.PReLU):
            t = torch.nn.PReLU(m.num_parameters)
        elif isinstance(m, nn.ReLU):
            t = torch.nn.ReLU()
        elif isinstance(m, nn.MaxPool2d):
            t = torch.nn.MaxPool2d(m.kernel_size, m.stride, m.padding)
        elif isinstance(m, nn.Flatten):
            t = torch.nn.Flatten(m.start_dim)
        else:
            raise TypeError(f"torch_twin: no PyTorch counterpart for {type(m).__name__}")
        for name in ("weight", "bias"):
            ours = getattr(m, name, None)
            if ours is not None:
                getattr(t, name).data = torch.tensor(np.array(ours.data))
        layers.append(t)
    return torch.nn.Sequential(*layers)


def _data(name: str, batch: int | None = None):
    spec = NETS[name]
    rng = np.random.default_rng(0)
    n = batch or spec["batch"]
    x = rng.standard_normal((n, 1, spec["size"], spec["size"])).astype(np.float32)
    return x, rng.integers(0, CLASSES, n).astype(np.int64)


def tinyrect_step(name: str, net=None):
    """step(x, y): one SGD step of the tinyrect net `name`."""
    import tinyrect as tr
    from tinyrect import functional as F
    from tinyrect import optim

    net = net or build_net(name)
    opt = optim.SGD(optim.param_groups_no_decay(net.model, 5e-4), lr=0.002, momentum=0.9)

    def step(x, y):
        loss = F.cross_entropy(net(tr.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def torch_step(name: str, net=None):
    """step(x, y): one SGD step of the PyTorch twin of the net `name`."""
    import torch

    model = torch_twin((net or build_net(name)).model)
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}],
                          lr=0.002, momentum=0.9)

    def step(x, y):
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _timed(step, x, y) -> float:
    t0 = time.perf_counter()
    step(x, y)
    return time.perf_counter() - t0


def bench_net(name: str, repeats: int, use_torch: bool) -> dict:
    """Median milliseconds per step of the net `name`, tinyrect and PyTorch alternating."""
    x, y = _data(name)
    steps = {"tinyrect": tinyrect_step(name)}
    if use_torch:
        steps["torch"] = torch_step(name)
    times = {k: [] for k in steps}
    compile_soon()                     # time the parallel regions, as a long run would use them
    for step in steps.values():
        for _ in range(3):
            step(x, y)
    wait_for_compilation()             # numba's parallel regions, compiled in the background
    for step in steps.values():
        step(x, y)
    for _ in range(repeats):           # interleaved: both see the same machine load
        for k, step in steps.items():
            times[k].append(_timed(step, x, y))
    ms = {k: statistics.median(t) * 1e3 for k, t in times.items()}
    ratio = ms["tinyrect"] / ms["torch"] if use_torch else None
    return dict(tinyrect_ms=round(ms["tinyrect"], 2), torch_ms=round(ms["torch"], 2) if use_torch else None,
                ratio=None if ratio is None else round(ratio, 3))


def step_memory(framework: str, name: str, threads: int) -> dict:
    """In this (fresh) process: the peak resident memory of one training step, in MB."""
    import tinyrect as tr

    tr.set_num_threads(threads)
    if framework == "torch":
        import torch

        torch.set_num_threads(threads)
    make = tinyrect_step if framework == "tinyrect" else torch_step
    step = make(name)
    compile_soon()
    for _ in range(3):                              # kernels loaded, optimizer state allocated
        step(*_data(name, batch=2))
    wait_for_compilation()                          # the steady state: no compiler running
    step(*_data(name, batch=2))
    x, y = _data(name)
    before = _status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
        fh.write("5")
    step(x, y)
    return dict(peak_mb=round((_status_kb("VmHWM") - before) / 1024, 1))


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def measure_memory(framework: str, name: str, threads: int) -> float | None:
    """step_memory in a fresh Python process (None where /proc is missing or the child fails)."""
    code = ("import json, sys; from tinyrect.commands.bench_train import step_memory; "
            "print(json.dumps(step_memory(sys.argv[1], sys.argv[2], int(sys.argv[3]))))")
    try:
        out = subprocess.run([sys.executable, "-c", code, framework, name, str(threads)],
                             capture_output=True, text=True, timeout=600, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])["peak_mb"]
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError):
        return None


def bench_train_step(repeats: int = 10, threads: int | None = None, nets=tuple(NETS),
                     rounds: int = 1, memory: bool = True, use_torch: bool = True) -> dict:
    """{"threads", "repeats", "nets": {name: {tinyrect_ms, torch_ms, ratio, rounds, memory...}}}.

    With rounds > 1 every net is measured `rounds` times (the rounds interleaved over the nets)
    and the round with the median ratio is reported, every round's ratio beside it."""
    import tinyrect as tr

    if threads is not None:
        tr.set_num_threads(threads)
    threads = tr.get_num_threads()
    try:
        import torch
    except ImportError:
        torch = None
    torch = torch if use_torch else None
    if torch is not None:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
    try:
        runs = {name: [] for name in nets}
        for _ in range(rounds):
            for name in nets:
                runs[name].append(bench_net(name, repeats, torch is not None))
    finally:
        if torch is not None:
            torch.set_num_threads(previous)
    result = dict(threads=threads, repeats=repeats, rounds=rounds, nets={},
                  torch_version=None if torch is None else torch.__version__)
    for name, rs in runs.items():
        key = "ratio" if torch is not None else "tinyrect_ms"
        median = sorted(rs, key=lambda r: r[key])[len(rs) // 2]
        entry = dict(NETS[name], **median, all_rounds=rs)
        if memory:
            entry["tinyrect_mb"] = measure_memory("tinyrect", name, threads)
            entry["torch_mb"] = measure_memory("torch", name, threads) if torch is not None else None
        result["nets"][name] = entry
    return result


def format_result(r: dict) -> str:
    """Lines for `tinyrect bench`: per net the median-round times, ratio, every round, memory."""
    lines = [f"one SGD step (batch 64), {r['threads']} thread(s), median of {r['repeats']} steps"
             + (f", median round of {r['rounds']}" if r["rounds"] > 1 else "")]
    for name, e in r["nets"].items():
        head = (f"{name:<9}{e['text']}, {e['size']}×{e['size']}: tinyrect {e['tinyrect_ms']:.1f} ms")
        if e["torch_ms"] is None:
            lines.append(head + " (PyTorch not installed: no comparison)")
            continue
        lines.append(head + f", PyTorch {e['torch_ms']:.1f} ms, tinyrect/torch {e['ratio']:.2f}")
        if r["rounds"] > 1:
            lines.append(f"{'':<9}every round, tinyrect/torch: "
                         + ", ".join(f"{x['ratio']:.2f}" for x in e["all_rounds"]))
        if e.get("tinyrect_mb") is not None and e.get("torch_mb"):
            lines.append(f"{'':<9}peak memory of a step: tinyrect {e['tinyrect_mb']:.1f} MB, PyTorch "
                         f"{e['torch_mb']:.1f} MB, tinyrect/torch {e['tinyrect_mb'] / e['torch_mb']:.2f}")
    return "\n".join(lines)
