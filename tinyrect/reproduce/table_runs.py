"""The trained nets behind Tables 1 and 2, shared by the slopes and accuracy sections.

One (activation, seed) pair is trained once per `tinyrect reproduce` run: the slopes section
reads the PReLU coefficients of the PReLU nets, the accuracy section their test errors (and
trains the ReLU nets itself). The cache key includes everything that defines the run. Missing
runs are trained side by side (`parallel.run_jobs`, cfg["workers"] processes).
"""
from __future__ import annotations

import json

import numpy as np

from tinyrect import nn
from tinyrect.reproduce.fit import fit
from tinyrect.reproduce.models import slopes_net
from tinyrect.reproduce.pool import run_jobs

_KEYS = ("width", "fc_width", "epochs", "lr", "momentum", "weight_decay", "batch_size", "max_train")


def train_table_net(cfg: dict, data, activation: str, seed: int, on_step=None) -> dict:
    """Train `models.slopes_net` with `activation` and `seed`; return the run's numbers."""
    net = slopes_net(cfg["width"], data.input_shape, data.num_classes, activation, "he", seed=seed,
                     fc_width=cfg.get("fc_width"))
    result = fit(net, data, epochs=cfg["epochs"], lr=cfg["lr"], momentum=cfg["momentum"],
                 weight_decay=cfg["weight_decay"], batch_size=cfg["batch_size"], seed=seed,
                 on_step=on_step, max_train=cfg.get("max_train"))
    coefficients = [a.weight.data for a in net.acts if isinstance(a, nn.PReLU)]
    result.update(
        activation=activation, seed=seed, layer_names=net.names[:len(net.acts)],
        slopes=[round(float(np.mean(c)), 4) for c in coefficients],
        max_abs_a=float(max((np.abs(c).max() for c in coefficients), default=0.0)),
    )
    return result


def _key(cfg, data, activation, seed) -> str:
    return json.dumps([data.name, activation, seed] + [cfg.get(k) for k in _KEYS])


def table_runs(cfg: dict, data, activations, cache: dict, on_step=None, log=print) -> dict:
    """{(activation, seed): result} for every activation and cfg seed, training what is missing."""
    wanted = [(a, s) for a in activations for s in cfg["seeds"]]
    missing = [(a, s) for a, s in wanted if _key(cfg, data, a, s) not in cache]
    jobs = [(train_table_net, dict(cfg=cfg, data=data, activation=a, seed=s)) for a, s in missing]

    def done(i, r):
        log(f"  {r['activation']:13s} seed {r['seed']}: test error {r['test_error']:.4f} "
            f"({r['seconds']:.1f} s)")

    for (a, s), r in zip(missing, run_jobs(jobs, cfg.get("workers", 1), on_step, done)):
        cache[_key(cfg, data, a, s)] = r
    return {(a, s): cache[_key(cfg, data, a, s)] for a, s in wanted}
