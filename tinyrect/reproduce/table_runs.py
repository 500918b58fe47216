"""The trained nets behind Tables 1 and 2, shared by the slopes and accuracy sections.

One (activation, seed) pair is trained once per process (`pool.run_cached`): the slopes section
reads the PReLU coefficients of the PReLU nets, the accuracy section their test errors (and
trains the ReLU nets itself). Every run records its PReLU coefficients along the way (the mean a
of every layer, every `record_every` steps: the trajectories of the slopes figure).
"""
from __future__ import annotations

import json

import numpy as np

from tinyrect import nn
from tinyrect.reproduce.models import slopes_net
from tinyrect.reproduce.pool import run_cached
from tinyrect.reproduce.recipe import train_run

_KEYS = ("width", "fc_width", "epochs", "lr", "momentum", "weight_decay", "batch_size", "max_train", "shift")
RECORD_EVERY = 5          # steps between two recorded sets of coefficients
RUN_KEYS = ("lr", "input_scale", "augmentation", "steps", "epochs", "diverged_at")   # copied into results


def train_table_net(cfg: dict, data, activation: str, seed: int, on_step=None) -> dict:
    """Train `models.slopes_net` with `activation` and `seed`; return the run's numbers, with
    `trajectory` = [(step, [mean a per layer])] for PReLU nets."""
    net = slopes_net(cfg["width"], data.input_shape, data.num_classes, activation, "he", seed=seed,
                     fc_width=cfg.get("fc_width"))
    prelus = [a for a in net.acts if isinstance(a, nn.PReLU)]
    trajectory = [(0, net.slopes())] if prelus else []

    def record(step):
        if prelus and step % RECORD_EVERY == 0:
            trajectory.append((step, [round(v, 5) for v in net.slopes()]))

    result = train_run(net, data, cfg, seed, on_step=on_step, every_step=record)
    if prelus and trajectory[-1][0] != result["steps"]:
        trajectory.append((result["steps"], [round(v, 5) for v in net.slopes()]))
    coefficients = [a.weight.data for a in prelus]
    result.update(
        activation=activation, seed=seed, layer_names=net.names[:len(net.acts)],
        slopes=[round(float(np.mean(c)), 4) for c in coefficients], trajectory=trajectory,
        max_abs_a=float(max((np.abs(c).max() for c in coefficients), default=0.0)),
    )
    return result


def table_runs(cfg: dict, data, activations, on_step=None, log=print) -> dict:
    """{(activation, seed): result} for every activation and cfg seed, training what is missing."""
    wanted = [(a, s) for a in activations for s in cfg["seeds"]]
    jobs = [(train_table_net, dict(cfg=cfg, data=data, activation=a, seed=s)) for a, s in wanted]
    keys = [json.dumps(["table", data.name, a, s] + [cfg.get(k) for k in _KEYS]) for a, s in wanted]

    def done(_i, r):
        log(f"  {r['activation']:13s} seed {r['seed']}: test error {r['test_error']:.4f} "
            f"({r['seconds']:.1f} s)")

    return dict(zip(wanted, run_cached(jobs, keys, cfg.get("workers", 1), on_step, done)))
