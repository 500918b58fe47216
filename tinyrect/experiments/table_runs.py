"""The trained nets behind Tables 1 and 2, shared by the slopes and accuracy sections.

One (activation, seed) pair is trained once per `tinyrect reproduce` run: the slopes section
reads the PReLU coefficients of the PReLU nets, the accuracy section their test errors (and
trains the ReLU nets itself). The cache key includes everything that defines the run.
"""
from __future__ import annotations

import json

import numpy as np

from tinyrect import nn
from tinyrect.experiments.fit import fit
from tinyrect.experiments.models import slopes_net


def train_table_net(cfg: dict, data, activation: str, seed: int, cache: dict, on_step=None,
                    log=print) -> dict:
    """Train `models.slopes_net` with `activation` and `seed` (or return the cached result)."""
    keys = ("width", "fc_width", "epochs", "lr", "momentum", "weight_decay", "batch_size", "max_train")
    key = json.dumps([data.name, activation, seed] + [cfg.get(k) for k in keys])
    if key in cache:
        return cache[key]
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
    log(f"  {activation:13s} seed {seed}: test error {result['test_error']:.4f} "
        f"({result['seconds']:.1f} s)")
    cache[key] = result
    return result
