"""Exercise (lesson 08): make a 30-layer plain net train.            Check: tinyrect check deep

The grader builds a 30-layer plain ReLU net on the 8×8 digits flattened to 64 inputs:
29 × [fully connected → ReLU] of width 64, then a fully connected layer to the 10 classes; no
batch norm, no skip connections, bias 0. It draws layer l's weights from N(0, stds[l]²), trains
20 epochs with SGD (momentum 0.9, batch 64, your learning rate) and passes when the test accuracy
reaches 0.6 (a stalled net stays near 0.1). Your choices are graded on that result (about two
seconds of training).

Use lesson 05's Eq. (9) for the stds, and lesson 08's measurements for the learning rate.
"""
import numpy as np  # noqa: F401


def choose(fan_ins, fan_outs):
    """Return (stds, lr): an array of 30 weight stds (one per layer) and one learning rate.

    fan_ins, fan_outs: integer arrays of length 30, layer l's inputs and outputs (64 → 64 ... → 10).
    """
    raise NotImplementedError("choose")
