"""Sizes of every reproduction, per mode: "full" (default), "quick" (--quick) and "smoke" (tests).

Settings from our own small-scale measurements, not the paper's (its ImageNet models trained
with lr 0.01, then 0.001 and 0.0001 on plateaus, Sec. 3): plain 3×3 ReLU nets of width 16 on
8×8 digits, flatten + fc head, SGD lr 0.002 (the rate we measured to train 30 plain layers here;
0.01 and 0.03 did not), momentum 0.9, weight decay 5e-4 (the paper's value; none on PReLU's a,
as in the paper, and none on biases, our choice), batch 64. The Table 1/2 net
(models.slopes_net) uses lr 0.01. The sizes below were chosen for run time, never to make a
claim come out one way or the other. One constraint is not negotiable: at lr 0.002 a 30-layer
He net needs some 50-100 steps before its loss starts to fall (measured: 36-91 steps over
seeds), so the depth section trains 6 epochs (138 steps) even with --quick (the full run:
8 epochs); --quick saves time with one seed and fewer depths there.

The variance section measures width 64 with many draws and a small batch: the spread comes from
the weight draws, not from the batch, and one net's log2 variance ratio scatters with a standard
deviation of about 2.2 at width 32 and 1.5 at width 64 (measured), so with few draws the bootstrap
interval of the mean misses the prediction too often (width 32, 16 draws: 54 of 64 subsets
covered it; width 64, 32 draws: 16 of 16).
"""
from __future__ import annotations

import copy
import sys

DEFAULT_SEEDS = {"full": 3, "quick": 3, "smoke": 2}
# --quick without --seeds trains each depth-section configuration with this many seeds only
# (the 22- and 30-layer nets dominate the run time); an explicit --seeds N applies everywhere.
QUICK_DEPTH_SEEDS = 1

_SCHEMES = ("he_fan_in", "he_fan_out", "xavier", "gaussian")
_TRAIN = dict(momentum=0.9, weight_decay=5e-4, batch_size=64, max_train=None)

PRESETS = {
    "full": dict(
        variance=dict(depth=30, widths=[64], batch=16, draws=64, schemes=list(_SCHEMES)),
        depth=dict(depths=[6, 10, 14, 22, 30], width=16, epochs=8, lr=0.002, inits=["he", "xavier"],
                   fig2_depth=22, fig3_depth=30, **_TRAIN),
        table=dict(width=16, fc_width=64, epochs=10, lr=0.01, **_TRAIN),
    ),
    "quick": dict(
        variance=dict(depth=30, widths=[64], batch=16, draws=32, schemes=list(_SCHEMES)),
        depth=dict(depths=[6, 22, 30], width=16, epochs=6, lr=0.002, inits=["he", "xavier"],
                   fig2_depth=22, fig3_depth=30, **_TRAIN),
        table=dict(width=8, fc_width=32, epochs=5, lr=0.01, **_TRAIN),
    ),
    "smoke": dict(
        variance=dict(depth=10, widths=[32], batch=16, draws=3, schemes=list(_SCHEMES)),
        depth=dict(depths=[3, 5], width=4, epochs=1, lr=0.002, inits=["he", "xavier"],
                   fig2_depth=3, fig3_depth=5, **dict(_TRAIN, max_train=192)),
        table=dict(width=4, fc_width=8, epochs=1, lr=0.01, **dict(_TRAIN, max_train=192)),
    ),
}


def build(mode: str, seeds: int | None, data) -> dict:
    """The configuration of every section for `mode`, with seeds 0..seeds-1 (None: the mode's
    default, which for --quick is QUICK_DEPTH_SEEDS in the depth section)."""
    config = copy.deepcopy(PRESETS[mode])
    n = seeds or DEFAULT_SEEDS[mode]
    config["table"]["seeds"] = list(range(n))
    config["depth"]["seeds"] = list(range(QUICK_DEPTH_SEEDS if (mode == "quick" and not seeds) else n))
    if data.name not in ("digits",) and mode != "smoke":
        # larger data sets: the same number of steps as digits (1,437 examples per epoch)
        for key in ("depth", "table"):
            config[key]["max_train"] = config[key]["max_train"] or 1437
    return config


def planned_steps(config: dict, sections, data) -> int:
    """Total training steps the progress bar counts (the variance section counts its nets)."""
    from tinyrect.reproduce import accuracy, depth, slopes
    from tinyrect.reproduce import variance as variance_section

    total = 0
    if "variance" in sections:
        total += variance_section.planned_steps(config["variance"])
    if "depth" in sections:
        total += depth.planned_steps(config["depth"], data)
    if "slopes" in sections:
        total += slopes.planned_steps(config["table"], data)
    if "accuracy" in sections:
        total += accuracy.planned_steps(config["table"], data, shared_with_slopes="slopes" in sections)
    return total


def describe(config: dict, mode: str, args, data) -> dict:
    """The `config` entry of results.json: what ran, on what, with which versions."""
    import platform

    import numba
    import numpy

    import tinyrect

    return dict(
        mode=mode, seeds=dict(depth=config["depth"]["seeds"], tables=config["table"]["seeds"]), dataset=args.dataset, data=repr(data),
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
