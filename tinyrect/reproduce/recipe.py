"""How every reproduction trains one net: the paper's recipe (Sec. 3) through `tinyrect.train`.

SGD with momentum 0.9, weight decay on conv/fc weights only (`optim.param_groups_no_decay`: no
decay on biases or on PReLU's a, Sec. 2.1), a constant learning rate, mini-batches of 64, the
training images optionally shifted by ±1 pixel every epoch (`data.ShiftLoader`, the small-image
analogue of the paper's random crops), the test set untouched and evaluated after every epoch.
`train_run` returns a plain dict of numbers (JSON-ready, picklable for the process pool) that
records everything that defines the run: lr, input scale, augmentation and steps.
"""
from __future__ import annotations

import numpy as np

from tinyrect import optim
from tinyrect.data import ShiftLoader
from tinyrect.train import steps_per_epoch, train


def planned_steps(cfg: dict, runs: int) -> int:
    """Steps of `runs` runs of cfg's length (the progress bar's total; diverged runs stop sooner)."""
    return runs * cfg["epochs"] * steps_per_epoch(cfg["n_train"], cfg["batch_size"])


def scaled(data, input_scale):
    """(x_train, x_test) multiplied by `input_scale` (None or 1: the standardized images as they are).
    Sec. 2.2's "non-normalized input": the paper feeds mean-subtracted raw pixels (std ~60)."""
    if input_scale in (None, 1, 1.0):
        return data.x_train, data.x_test
    s = np.float32(input_scale)
    return data.x_train * s, data.x_test * s


def train_run(net, data, cfg: dict, seed: int, lr: float | None = None, input_scale=None,
              on_step=None, every_step=None) -> dict:
    """Train `net` (a models.Net) on `data` by cfg (epochs, batch_size, momentum, weight_decay,
    shift, max_train) at `lr` (default cfg["lr"]); its numbers.

    on_step(step, loss) after every step (progress bars); every_step(step) after every step too,
    for recording something of the net (e.g. PReLU coefficients). A non-finite loss stops the
    run (`diverged_at` = that 1-based step, a measurement, not a crash). Ctrl-C re-raises
    KeyboardInterrupt after the loop returns, so a sweep stops as a whole.
    """
    lr = cfg["lr"] if lr is None else lr
    x_train, x_test = scaled(data, input_scale)
    n = cfg.get("max_train") or len(data.y_train)
    loader = ShiftLoader(x_train[:n], data.y_train[:n], cfg["batch_size"], seed=seed,
                         shift=int(cfg.get("shift", 0)))
    opt = optim.SGD(optim.param_groups_no_decay(net.model, cfg["weight_decay"]), lr=lr,
                    momentum=cfg["momentum"])

    def step_hook(step, loss, _history):
        if on_step is not None:
            on_step(step, loss)
        if every_step is not None:
            every_step(step)

    h = train(net.model, (loader, (x_test, data.y_test)), cfg["epochs"], opt, batch_size=cfg["batch_size"],
              seed=seed, on_nonfinite="stop", progress=False, on_step=step_hook)
    if h.interrupted:
        raise KeyboardInterrupt
    diverged = h.diverged_at_step is not None
    test_errors = [round(1.0 - a, 5) for a in h.test_acc]
    return dict(
        losses=[round(v, 5) for v in h.step_loss], steps=h.steps, diverged_at=h.diverged_at_step,
        train_errors=[round(1.0 - a, 5) for a in h.train_acc], test_errors=test_errors,
        test_error=float("nan") if diverged or not test_errors else test_errors[-1],
        seconds=round(float(sum(h.epoch_time)), 2), lr=lr,
        input_scale=1.0 if input_scale is None else float(input_scale),
        augmentation=f"random shifts of up to ±{cfg['shift']} px" if cfg.get("shift") else "none",
        epochs=cfg["epochs"], batch_size=cfg["batch_size"], n_train=n)
