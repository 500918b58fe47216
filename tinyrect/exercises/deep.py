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
from tinyrect.exercises.plug import DEPTH, EPOCHS, WIDTH, fans, train_plain
from tinyrect.exercises.solutions import deep as ref

NAME = "deep"
TITLE = "choose init and learning rate so a 30-layer plain net trains on digits (graded on the result)"
FILENAME = "deep.py"
FUNCTIONS = ("choose",)
LESSON = "08"
POINTS = {"choose": 3.0}
PASS_ACCURACY = 0.6   # measured with the reference (He, lr 0.002): 0.731-0.956 over seeds 0-39; Xavier 0.10-0.24


def _judge(cases, outputs, seed):
    stds, lr = outputs[0]
    lr = float(lr)
    if np.any(stds <= 0) or lr <= 0:
        return "every std and the learning rate must be positive", ""
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


def _reference(fan_ins, fan_outs):
    stds, lr = ref.choose(fan_ins, fan_outs)
    return stds, np.float64(lr)


def parts(seed=8):
    fan_ins, fan_outs = fans()
    train_seed = int(np.random.default_rng(seed).integers(1, 10 ** 6))
    case = Case(f"{DEPTH} layers, width {WIDTH}, training seed {train_seed}", (fan_ins, fan_outs),
                ("fan_ins", "fan_outs"))
    return [Part("choose", _reference, [case], ("stds", "lr"), points=POINTS["choose"],
                 judge=lambda cases, outputs: _judge(cases, outputs, train_seed))]
