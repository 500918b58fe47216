"""A small training loop: mini-batch SGD with a progress bar, per-step and per-epoch metrics,
learning-rate schedules, atomic checkpoints, clean Ctrl-C, and a decision about non-finite losses.

    import tinyrect as tr
    from tinyrect.data import digits
    from tinyrect.train import train
    ds = digits()
    opt = tr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    history = train(model, ds, epochs=8, optimizer=opt, batch_size=64)
    history.test_acc[-1], history.to_dict()

What one step does (the paper trains this way, Sec. 3, with mini-batch 128 on ImageNet):
logits = model(x); loss = cross_entropy(logits, y); zero_grad; loss.backward(); optimizer.step().
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path

import numpy as np

from tinyrect.optim import NonFiniteLossError
from tinyrect.serialization import atomic_write
from tinyrect.tensor import Tensor, no_grad


class DivergedError(NonFiniteLossError):
    """Training diverged: the loss (or a gradient, caught by the optimizer) became NaN or Inf.
    `.step` is the 1-based step where it happened, `.epoch` its epoch, `.history` everything
    measured before it. A subclass of tinyrect.optim.NonFiniteLossError."""

    def __init__(self, message, step, epoch, history):
        super().__init__(message)
        self.step, self.epoch, self.history = step, epoch, history


@dataclasses.dataclass
class History:
    """What `train` measured.

    step_loss[i]: training loss of step i+1 (the mini-batch mean, before that step's update).
    Per-epoch lists (one entry per finished epoch; `epoch` holds the 1-based epoch numbers):
      train_loss, train_acc: running averages over the epoch's mini-batches, measured while the
        weights changed during the epoch (the usual, free estimate; no extra pass);
      test_loss, test_acc: a full pass over the test set after the epoch (None if no test set);
      lr: learning rate of the first parameter group during the epoch; epoch_time: wall-clock
      seconds of the epoch, its evaluation included.
    steps: optimizer steps taken. stop_reason: 'completed', 'max_steps', 'callback',
    'interrupted' (Ctrl-C; the unfinished epoch is not in the per-epoch lists, its steps are in
    step_loss) or 'diverged' (diverged_at_step = the step whose loss, or whose gradient, was
    non-finite; that step's update was NOT applied and its loss is not in step_loss;
    diverged_reason says what happened).
    """

    step_loss: list = dataclasses.field(default_factory=list)
    epoch: list = dataclasses.field(default_factory=list)
    train_loss: list = dataclasses.field(default_factory=list)
    train_acc: list = dataclasses.field(default_factory=list)
    test_loss: list = dataclasses.field(default_factory=list)
    test_acc: list = dataclasses.field(default_factory=list)
    lr: list = dataclasses.field(default_factory=list)
    epoch_time: list = dataclasses.field(default_factory=list)
    steps: int = 0
    stop_reason: str = "completed"
    interrupted: bool = False
    diverged_at_step: int | None = None
    diverged_reason: str | None = None
    config: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-safe dict (non-finite floats become None, as JSON has no NaN)."""
        return _json_safe(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def save_json(self, path) -> Path:
        """Write `to_dict()` as JSON, atomically (serialization.atomic_write)."""
        path = Path(path)
        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(self.to_dict(), indent=1))
        return path

    def summary(self) -> str:
        """One line: the last epoch's metrics, the step count and why training stopped."""
        last = _epoch_line(self) if self.epoch else "no finished epoch"
        diverged = f" at step {self.diverged_at_step}" if self.diverged_at_step else ""
        return f"{last} ({self.steps} steps, {self.stop_reason}{diverged})"


def _epoch_line(h: History) -> str:
    line = f"epoch {h.epoch[-1]}: train loss {h.train_loss[-1]:.4f}, train acc {h.train_acc[-1]:.3f}"
    if h.test_acc[-1] is not None:
        line += f", test loss {h.test_loss[-1]:.4f}, test acc {h.test_acc[-1]:.3f}"
    return line


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


# ----------------------------------------------------------------------------- loss-curve summaries
def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimizer steps in one epoch of `n_train` examples (the last batch may be partial)."""
    return -(-n_train // batch_size)


def first_below(losses, threshold: float):
    """First step (0-based index into `losses`) whose training loss is below `threshold`, or None."""
    for i, v in enumerate(losses):
        if v < threshold:
            return i
    return None


def tail_mean(losses, n: int = 20) -> float:
    """Mean of the last `n` training losses (a run's "final training loss"); NaN if there are none."""
    if not losses:
        return float("nan")
    return float(np.mean(losses[-n:]))


# ----------------------------------------------------------------------------- evaluation
def _set_mode(model, training: bool) -> None:
    """model.train() / model.eval() when the model has them (a bare function-like model may not)."""
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def evaluate(model, x, y, batch_size: int = 512, loss_fn=None) -> tuple[float, float]:
    """Mean loss and accuracy of `model` on (x, y), in eval mode and under `no_grad()` (no graph is
    recorded). The model's previous train/eval mode is restored afterwards."""
    from tinyrect.functional import cross_entropy

    loss_fn = loss_fn or cross_entropy
    x, y = np.asarray(getattr(x, "data", x)), np.asarray(getattr(y, "data", y))
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"evaluate: need as many labels as inputs (and at least one), got {len(x)} "
                         f"inputs and {len(y)} labels")
    batches = ((x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(y), batch_size))
    return _evaluate_batches(model, batches, loss_fn)


def _evaluate_batches(model, batches, loss_fn) -> tuple[float, float]:
    was_training = getattr(model, "training", True)
    _set_mode(model, False)
    total_loss, correct, count = 0.0, 0, 0
    try:
        with no_grad():
            for xb, yb in batches:
                yb = np.asarray(yb)
                logits = model(Tensor(xb))
                total_loss += float(loss_fn(logits, yb).item()) * len(yb)
                correct += int((logits.data.argmax(axis=1) == yb).sum())
                count += len(yb)
    finally:
        _set_mode(model, was_training)
    if count == 0:
        raise ValueError("evaluate: the evaluation data yielded no examples")
    return total_loss / count, correct / count


# ----------------------------------------------------------------------------- training
def _split_data(data, batch_size, seed, eval_batch_size):
    """-> (train iterable of (x, y) batches, test iterable factory or None)."""
    from tinyrect.data import DataLoader

    if hasattr(data, "x_train"):  # a Dataset
        train_loader = DataLoader(data.x_train, data.y_train, batch_size, shuffle=True, seed=seed)
        test = (data.x_test, data.y_test)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        train_loader, test = data
    else:
        train_loader, test = data, None
    if test is None:
        return train_loader, None
    if isinstance(test, (tuple, list)) and len(test) == 2 and isinstance(test[0], np.ndarray):
        xt, yt = test
        return train_loader, lambda: ((xt[i:i + eval_batch_size], yt[i:i + eval_batch_size])
                                      for i in range(0, len(yt), eval_batch_size))
    return train_loader, lambda: iter(test)


def _set_lr(optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def _current_lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    return float(groups[0]["lr"]) if groups else getattr(optimizer, "lr", None)


def save_checkpoint(model, path) -> Path:
    """`tinyrect.save(model.state_dict(), path)`: atomic (a temporary file in the same folder,
    renamed onto `path` when complete), so a crash never leaves a half-written checkpoint.
    Restore with model.load_state_dict(tinyrect.load(path))."""
    import tinyrect

    return Path(tinyrect.save(model.state_dict(), path))


def train(model, data, epochs: int, optimizer, lr_schedule=None, *, batch_size: int = 64,
          seed: int = 0, eval_batch_size: int = 512, loss_fn=None, max_steps: int | None = None,
          on_nonfinite: str = "raise", log_every: int | None = None, checkpoint_path=None,
          progress: bool = True, desc: str = "train", on_step=None, on_epoch_end=None) -> History:
    """Train `model` for `epochs` epochs (or `max_steps` steps, whichever comes first).

    data: a Dataset (mini-batches of `batch_size`, reshuffled every epoch from `seed`; its test
      split is evaluated after every epoch), or (train_loader, test) where test is a loader, an
      (x, y) pair of arrays, or None, or just a train loader. Loaders yield (x, y) ndarrays.
    optimizer: has zero_grad(), step() and param_groups (e.g. tinyrect.optim.SGD).
    lr_schedule: an object with .step() (e.g. tinyrect.optim.StepLR), stepped after every epoch,
      or a function epoch -> lr (epoch counted from 0), set on every param group before the epoch.
    loss_fn: loss(logits, labels) -> scalar Tensor (default tinyrect.functional.cross_entropy).
    on_nonfinite: 'raise' (DivergedError naming the step; its .history keeps the rest) or
      'stop' (return the history with stop_reason 'diverged' and diverged_at_step set): experiments
      that sweep init or learning rate use 'stop' to record divergence without crashing.
    log_every: print a line every k steps (mean loss of those k steps, lr) and a line per epoch.
    checkpoint_path: save the weights there after every epoch (atomic; see save_checkpoint).
    progress: show a tqdm progress bar (False for tests and scripts that print their own lines).
    on_step(step, loss, history), on_epoch_end(epoch, history): callbacks; return True to stop
      (stop_reason 'callback').
    Ctrl-C (KeyboardInterrupt) stops cleanly: the history so far is returned with
    interrupted=True. If it lands inside optimizer.step() the weights may be partly updated.
    A sweep over many runs should check `history.interrupted` and stop its own loop too.
    """
    from tqdm.auto import tqdm

    from tinyrect.functional import cross_entropy

    if on_nonfinite not in ("raise", "stop"):
        raise ValueError(f"train: on_nonfinite must be 'raise' or 'stop', got {on_nonfinite!r}")
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"train: epochs must be a positive integer, got {epochs!r}")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"train: max_steps must be a positive integer or None, got {max_steps!r}")
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError("train: optimizer must have step() and zero_grad(), e.g. "
                        "tinyrect.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)")
    loss_fn = loss_fn or cross_entropy
    train_loader, test_batches = _split_data(data, batch_size, seed, eval_batch_size)
    steps_per_epoch = len(train_loader) if hasattr(train_loader, "__len__") else None
    total = epochs * steps_per_epoch if steps_per_epoch is not None else None
    if max_steps is not None:
        total = min(total, max_steps) if total is not None else max_steps
    history = History(config=dict(epochs=epochs, batch_size=batch_size, seed=seed, max_steps=max_steps,
                                  steps_per_epoch=steps_per_epoch))
    bar = tqdm(total=total, desc=desc, unit="step", disable=not progress, dynamic_ncols=True)
    say = tqdm.write if (progress or log_every) else (lambda *_: None)
    window = []
    try:
        for epoch in range(1, epochs + 1):
            if lr_schedule is not None and not hasattr(lr_schedule, "step"):
                _set_lr(optimizer, float(lr_schedule(epoch - 1)))
            lr = _current_lr(optimizer)
            start, loss_sum, correct, seen = time.perf_counter(), 0.0, 0, 0
            _set_mode(model, True)
            stop = None
            for xb, yb in train_loader:
                yb = np.asarray(yb)
                logits = model(Tensor(xb))
                loss = loss_fn(logits, yb)
                value = float(loss.item())
                reason = None if math.isfinite(value) else f"the loss is {value}"
                if reason is None:
                    optimizer.zero_grad()
                    loss.backward()
                    try:
                        optimizer.step()  # tinyrect's SGD refuses a non-finite gradient, untouched
                    except FloatingPointError as err:
                        reason = str(err)
                if reason is not None:
                    step = history.steps + 1
                    history.diverged_at_step, history.stop_reason = step, "diverged"
                    history.diverged_reason = reason
                    message = (f"training diverged at step {step} (epoch {epoch}): {reason}; the "
                               "update was not applied. Lower the learning rate, check the "
                               "initialization (Sec. 2.2: a per-layer scale above 1 grows "
                               "exponentially with depth) and the input scale")
                    if on_nonfinite == "raise":
                        raise DivergedError(message, step, epoch, history)
                    say(f"stopped: {message}")
                    stop = "diverged"
                    break
                history.steps += 1
                history.step_loss.append(value)
                loss_sum += value * len(yb)
                correct += int((logits.data.argmax(axis=1) == yb).sum())
                seen += len(yb)
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{value:.4f}", refresh=False)
                if log_every:
                    window.append(value)
                    if history.steps % log_every == 0:
                        say(f"step {history.steps} (epoch {epoch}): loss {np.mean(window):.4f}, lr {lr:g}")
                        window = []
                if on_step is not None and on_step(history.steps, value, history):
                    stop = "callback"
                    break
                if max_steps is not None and history.steps >= max_steps:
                    stop = "max_steps"
                    break
            if stop == "diverged":
                break
            if seen:  # record the epoch (a partial one when max_steps or a callback stopped it)
                test_loss, test_acc = _evaluate_batches(model, test_batches(), loss_fn) if test_batches else (None, None)
                history.epoch.append(epoch)
                history.train_loss.append(loss_sum / seen)
                history.train_acc.append(correct / seen)
                history.test_loss.append(test_loss)
                history.test_acc.append(test_acc)
                history.lr.append(lr)
                history.epoch_time.append(time.perf_counter() - start)
                say(_epoch_line(history))
                if checkpoint_path is not None:
                    save_checkpoint(model, checkpoint_path)
            if lr_schedule is not None and hasattr(lr_schedule, "step"):
                lr_schedule.step()
            if stop is None and on_epoch_end is not None and on_epoch_end(epoch, history):
                stop = "callback"
            if stop is not None:
                history.stop_reason = stop
                break
    except KeyboardInterrupt:
        history.interrupted, history.stop_reason = True, "interrupted"
        say(f"interrupted (Ctrl-C) after {history.steps} steps; returning what was measured")
    finally:
        bar.close()
    return history


_REMOVED = {  # names of the old second training loop (tinyrect.experiments.fit), and their successors
    "fit": "tinyrect.train.train (the one training loop) or tinyrect.reproduce.recipe.train_run "
           "(the paper's recipe on a reproduce net)",
    "make_sgd": "tinyrect.optim.SGD(tinyrect.optim.param_groups_no_decay(model, weight_decay), ...)",
}


def __getattr__(name):
    """The old loop's helpers that have no direct equivalent say where their job went."""
    if name in _REMOVED:
        raise AttributeError(f"{name} was removed when the two training loops became one; use {_REMOVED[name]}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
