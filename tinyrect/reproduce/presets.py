"""Sizes of every reproduction, per mode: "full" (default), "quick" (--quick) and "smoke" (tests).

Settings come from the paper, not from the verdicts: lr 0.01 (Sec. 3) for the main runs of the
depth section and for the Table 1/2 net, momentum 0.9, weight decay 5e-4 on weights only (not on
biases or PReLU's a), batch 64 (the paper: 128 on ImageNet; our data set has 1,437 training
images), training images shifted by up to ±1 pixel every epoch (the small-image analogue of the
paper's random crops: long runs would otherwise memorize 1,437 images). Run lengths come from
measurements: a 22-layer Xavier net on digits first gets its loss below 0.9 ln 10 after some 750
steps at lr 0.01 (one seed, no augmentation), so the full depth section trains 40 epochs
(920 steps); a run that ends while its loss still falls says "not enough steps" instead of
passing for a stall. The rest of the full mode is sized for the time budget (about 20 minutes on
2 free cores: a step of a 22-layer net takes some 75 ms on one core), which is why the lr sweep
(0.002 besides the paper's 0.01, the rate the deepest He nets were measured to need) and the
input-scale section use one seed. --quick (about 3 minutes) trains the 22- and 30-layer nets for
10 epochs: too short for Xavier at 22 layers or for the PReLU coefficients to settle, and its
report says so. The shifts are part of the recipe because the paper augments its data; they
were chosen before any verdict was seen. They do change what a run shows: a 22-layer Xavier net at
lr 0.01 (seed 0, 50 epochs) started at step 458 and converged on the plain images, and did not
start within 1,150 steps on shifted ones (our measurement), so the full mode repeats the 22- and
30-layer main runs without augmentation for one seed (`control`) and the report shows both.

The variance section measures width 64 with many draws and a small batch: the spread comes from
the weight draws, not from the batch, and one net's log2 variance ratio scatters with a standard
deviation of about 2.2 at width 32 and 1.5 at width 64 (measured), so with few draws the bootstrap
interval of the mean misses the prediction too often (width 32, 16 draws: 54 of 64 subsets
covered it; width 64, 32 draws: 16 of 16).
"""
from __future__ import annotations

import copy
import sys

DEFAULT_SEEDS = {"full": 3, "quick": 2, "smoke": 2}
# without --seeds, the depth section's main runs use this many seeds (the 22- and 30-layer nets
# dominate the run time); an explicit --seeds N applies everywhere.
DEPTH_SEEDS = {"full": 2, "quick": 1, "smoke": 2}

_SCHEMES = ("he_fan_in", "he_fan_out", "xavier", "gaussian")
_TRAIN = dict(momentum=0.9, weight_decay=5e-4, batch_size=64, max_train=None, shift=1)

PRESETS = {
    "full": dict(
        variance=dict(depth=30, widths=[64], batch=16, draws=64, schemes=list(_SCHEMES)),
        depth=dict(depths=[6, 14, 22, 30], width=16, epochs=40, lr=0.01, lrs=[0.01, 0.002],
                   sweep_seeds=1, control=dict(depths=[22, 30], seeds=1), inits=["he", "xavier"],
                   fig2_depth=22, fig3_depth=30, **_TRAIN),
        input_scale=dict(depth=22, scales=[1, 60], lrs=[0.01, 0.002], seeds=1),
        table=dict(width=16, fc_width=64, epochs=40, lr=0.01, **_TRAIN),
    ),
    "quick": dict(
        variance=dict(depth=30, widths=[64], batch=16, draws=32, schemes=list(_SCHEMES)),
        depth=dict(depths=[22, 30], width=16, epochs=10, lr=0.01, lrs=[0.01], sweep_seeds=1,
                   inits=["he", "xavier"], fig2_depth=22, fig3_depth=30, **_TRAIN),
        input_scale=dict(depth=22, scales=[1, 60], lrs=[0.01], seeds=1),
        table=dict(width=8, fc_width=32, epochs=10, lr=0.01, **_TRAIN),
    ),
    "smoke": dict(
        variance=dict(depth=10, widths=[32], batch=16, draws=3, schemes=list(_SCHEMES)),
        depth=dict(depths=[3, 5], width=4, epochs=2, lr=0.01, lrs=[0.01, 0.002], sweep_seeds=1,
                   control=dict(depths=[3], seeds=1), inits=["he", "xavier"], fig2_depth=3, fig3_depth=5,
                   **dict(_TRAIN, max_train=192)),
        input_scale=dict(depth=3, scales=[1, 60], lrs=[0.01], seeds=1),
        table=dict(width=4, fc_width=8, epochs=2, lr=0.01, **dict(_TRAIN, max_train=192)),
    ),
}


def build(mode: str, seeds: int | None, data, sections=(), workers: int = 1) -> dict:
    """{section: its cfg} for `mode`, with seeds 0..seeds-1 (None: the mode's default; the depth
    section's main runs then use DEPTH_SEEDS, the input-scale section the first `seeds` of those).
    Every training cfg gets `n_train` (the examples per epoch) and `workers` (processes side by
    side); the slopes and accuracy sections share one table cfg (the same trained nets), and
    accuracy's `shared_with_slopes` says whether the slopes section trains the PReLU nets."""
    preset = copy.deepcopy(PRESETS[mode])
    preset["table"]["seeds"] = list(range(seeds or DEFAULT_SEEDS[mode]))
    preset["depth"]["seeds"] = list(range(seeds or DEPTH_SEEDS[mode]))
    for key in ("depth", "table"):
        cfg = preset[key]
        if data.name not in ("digits",) and mode != "smoke":
            # larger data sets: the same number of steps as digits (1,437 examples per epoch)
            cfg["max_train"] = cfg["max_train"] or 1437
        cfg["n_train"] = min(len(data.y_train), cfg["max_train"] or len(data.y_train))
        cfg["workers"] = workers
    scale = preset["input_scale"]         # the depth section's nets and recipe, at other input scales
    n_scale = None if seeds else scale.pop("seeds")
    scale = dict(preset["depth"], **scale)
    scale["seeds"] = scale["seeds"][:n_scale]
    if "depth" in sections:               # standardized runs the depth section trains are reused
        from tinyrect.reproduce import depth

        done = {(d, i, s, lr) for d, i, s, lr in depth.grid(preset["depth"])}
        scale["reused_runs"] = sum((scale["depth"], i, s, lr) in done for i in scale["inits"]
                                   for s in scale["seeds"] for lr in scale["lrs"] if 1 in scale["scales"])
    return dict(variance=preset["variance"], depth=preset["depth"], input_scale=scale,
                slopes=preset["table"], accuracy=dict(preset["table"], shared_with_slopes="slopes" in sections))


def describe(config: dict, mode: str, args, data) -> dict:
    """The `config` entry of results.json: what ran, on what, with which versions."""
    import platform

    import numba
    import numpy

    import tinyrect

    return dict(
        mode=mode, seeds=dict(depth=config["depth"]["seeds"], tables=config["slopes"]["seeds"]),
        dataset=args.dataset, data=repr(data),
        sections=list(args.sections), command=" ".join(["tinyrect"] + sys.argv[1:]),
        versions=dict(tinyrect=tinyrect.__version__, numpy=numpy.__version__, numba=numba.__version__,
                      python=platform.python_version()),
        threads=tinyrect.get_num_threads(), workers=config["depth"].get("workers", 1),
        cpu_count=cpu_count(), load_average=_load(),
        settings={k: v for k, v in config.items()}, seconds={},
    )


def cpu_count():
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _load():
    import os

    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None
