"""Checks for the deep-net exercise (lesson 08): choose an init and a learning rate with which a
30-layer plain ReLU net trains on digits.

choose(fan_ins, fan_outs) -> (stds, lr): one weight std per layer and one learning rate. Graded on
the result: the grader (not the student's process) builds the net, 29 × [fc 64 → 64, ReLU] + fc 64
→ 10 on the 8×8 digits flattened, draws w ~ N(0, std_l²) with a seed shown in the output, trains it
with SGD (momentum 0.9, batch 64) for EPOCHS epochs, and passes when the test accuracy reaches
PASS_ACCURACY. A stalled or diverged run is diagnosed from the per-layer factors ½ n_l std_l² of
Eq. (9) and the learning rate. It takes about two seconds.
"""
from __future__ import annotations

import math

import numpy as np

from tinyrect.exercises.checking import Case, Part
from tinyrect.exercises.solutions import deep as ref

NAME = "deep"
TITLE = "choose init and learning rate so a 30-layer plain net trains on digits (graded on the result)"
FILENAME = "deep.py"
FUNCTIONS = ("choose",)
LESSON = "08"
POINTS = {"choose": 3.0}
DEPTH, WIDTH, EPOCHS, BATCH, PASS_ACCURACY = 30, 64, 20, 64, 0.85


def train_plain(stds, lr, seed, epochs=EPOCHS):
    """Train the 30-layer plain net with these stds and this lr; returns (test accuracy, final loss
    or nan if it diverged)."""
    import tinyrect as tr
    from tinyrect import nn
    from tinyrect.data import digits
    from tinyrect.functional import cross_entropy
    from tinyrect.optim import NonFiniteLossError
    from tinyrect.train import evaluate

    ds = digits()
    x, y = ds.x_train.reshape(len(ds.x_train), -1), ds.y_train
    rng = np.random.default_rng(seed)
    fan_ins, fan_outs = fans()
    layers = []
    for i, (n_in, n_out) in enumerate(zip(fan_ins, fan_outs)):
        layer = nn.Linear(n_in, n_out)
        layer.weight.data[...] = rng.standard_normal(layer.weight.shape) * stds[i]
        layer.bias.data[...] = 0
        layers += [layer, nn.ReLU()] if i < len(fan_ins) - 1 else [layer]
    model = nn.Sequential(*layers)
    opt = tr.optim.SGD(model.parameters(), lr=float(lr), momentum=0.9)
    loss = math.nan
    with np.errstate(all="ignore"):
        try:
            for _ in range(epochs):
                perm = rng.permutation(len(x))
                for start in range(0, len(x), BATCH):
                    idx = perm[start:start + BATCH]
                    out = cross_entropy(model(tr.Tensor(x[idx])), y[idx])
                    loss = float(out.data)
                    if not math.isfinite(loss):
                        return 0.0, math.nan
                    opt.zero_grad()
                    out.backward()
                    opt.step()
        except (NonFiniteLossError, FloatingPointError):
            return 0.0, math.nan
        _, acc = evaluate(model, ds.x_test.reshape(len(ds.x_test), -1), ds.y_test)
    return float(acc), loss


def fans():
    fan_ins = [64] + [WIDTH] * (DEPTH - 1)
    fan_outs = [WIDTH] * (DEPTH - 1) + [10]
    return np.array(fan_ins), np.array(fan_outs)


def _judge(cases, outputs):
    stds, lr = outputs[0]
    lr = float(lr)
    if np.any(stds <= 0) or lr <= 0:
        return "every std and the learning rate must be positive", ""
    seed = cases[0].kwargs.get("seed", 0) if cases[0].kwargs else 0
    fan_ins, _ = fans()
    factors = 0.5 * fan_ins[1:] * stds[1:] ** 2
    gain = float(np.exp(np.mean(np.log(factors))))           # geometric mean of ½ n_l std_l²
    acc, loss = train_plain(stds, lr, seed)
    if acc >= PASS_ACCURACY:
        return None
    over = f"Eq. (9)'s per-layer factor ½ n std² is {gain:.3g} on average: {gain ** (DEPTH - 1):.3g} over {DEPTH - 1} layers"
    if gain < 0.8:
        hint = f"the signal vanishes: {over}. Choose the std so that ½ n_l Var[w_l] = 1 (Eq. 10)"
    elif gain > 1.25:
        hint = f"the signal explodes: {over}. Choose the std so that ½ n_l Var[w_l] = 1 (Eq. 10)"
    elif not math.isfinite(loss):
        hint = f"the init keeps the variance ({over}) but training diverged: lower the learning rate"
    elif lr > 0.01:
        hint = (f"the init keeps the variance ({over}) but the net did not learn: a learning rate of {lr:g} is "
                f"too large for a {DEPTH}-layer plain net (units die or the loss jumps): try smaller ones")
    else:
        hint = (f"the init keeps the variance ({over}) but the net learned too little in {EPOCHS} epochs: "
                f"a deep plain net needs a small rate, but not too small (try a few between 1e-3 and 1e-2)")
    what = "diverged (loss NaN/inf)" if not math.isfinite(loss) else f"test accuracy {acc:.3f} (final loss {loss:.3f})"
    return (f"trained {EPOCHS} epochs with seed {seed}: {what}; needs test accuracy >= {PASS_ACCURACY}", hint)


def _reference(fan_ins, fan_outs, seed=0):
    return drive(ref.choose, fan_ins, fan_outs)


def drive(fn, fan_ins, fan_outs, seed=0):
    stds, lr = fn(fan_ins, fan_outs)
    return stds, np.float64(lr) if isinstance(lr, (int, float, np.floating, np.integer)) else lr


def parts(seed=8):
    fan_ins, fan_outs = fans()
    train_seed = int(np.random.default_rng(seed).integers(1, 10 ** 6))
    case = Case(f"{DEPTH} layers, width {WIDTH}", (fan_ins, fan_outs), ("fan_ins", "fan_outs"), {"seed": train_seed})
    return [Part("choose", _reference, [case], ("stds", "lr"), judge=_judge, driver=drive, points=POINTS["choose"])]
