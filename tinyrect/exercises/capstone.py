"""Checks for the capstone: the student's own PReLU, convolution and init train nets in tinyrect.

The student's capstone.py defines pieces(), returning their functions (prelu_forward/backward,
conv2d_forward/backward, he_std, xavier_std; usually imported from their exercise files). The
drivers (drivers.py) run in the graded process: they plug the pieces into tinyrect with `use` and return
plain arrays, which the grader judges:
  1. PReLU on the tape and 2. conv2d on the tape: forward and the gradients that reach every input,
     against the reference (the plug-in path itself);
  3. Table 2 at small scale: a 3-layer conv net (width 8) on digits, ReLU vs the student's PReLU,
     one epoch each; passes when both reach TABLE2_MIN test accuracy and PReLU is within
     TABLE2_MARGIN of ReLU. (At this size the difference between the two is about the size of the
     seed-to-seed spread, so the band asks "trains as well", not for the paper's 1.1-point gain.)
  4. Fig. 3 at small scale: the 30-layer plain net of the deep exercise with the student's he_std
     and xavier_std; passes when He reaches FIG3_HE_MIN and Xavier stays below FIG3_XAVIER_MAX
     (it stalls: Eq. (9)'s 2^-29).
The training runs inside the student's process, so its two numbers could be forged by a student
who works at it; parts 1-2 cannot (they are compared with the grader's own values).
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises import drivers
from tinyrect.exercises.checking import Case, Part

NAME = "capstone"
TITLE = "your PReLU, conv and init in tinyrect: gradchecked ops, Table 2 and Fig. 3 at small scale"
FILENAME = "capstone.py"
FUNCTIONS = ("pieces",)
LESSON = "09"
NEEDS_TINYRECT = True   # the drivers (grader code) import tinyrect inside the graded process
TIMEOUT = 180           # seconds: four short trainings
POINTS = {"PReLU on the tape": 1.0, "conv2d on the tape": 1.0, "Table 2": 2.0, "Fig. 3": 2.0}
# Bands, from the reference pieces (our measurements): Table 2 over seeds 0-24, ReLU 0.831-0.919, PReLU
# 0.869-0.936 (PReLU - ReLU from -0.008 to +0.053); Fig. 3's training (deep's) with He 0.731-0.956 over
# seeds 0-39, with Xavier 0.100-0.239 over seeds 0-4 and 10-19.
TABLE2_MIN, TABLE2_MARGIN, FIG3_HE_MIN, FIG3_XAVIER_MAX = 0.75, 0.05, 0.6, 0.4


def _judge_table2(cases, outputs):
    relu, prelu = (float(v) for v in outputs[0][0])
    if min(relu, prelu) >= TABLE2_MIN and prelu >= relu - TABLE2_MARGIN:
        return None
    return (f"test accuracy ReLU {relu:.3f}, your PReLU {prelu:.3f} (seed {cases[0].args[0]}); needs both >= "
            f"{TABLE2_MIN} and PReLU within {TABLE2_MARGIN} of ReLU",
            "the pieces pass their own exercises? Run tinyrect check prelu conv init, then "
            "use(...).gradcheck() on your pieces")


def _judge_fig3(cases, outputs):
    he, xavier = (float(v) for v in outputs[0][0])
    if he >= FIG3_HE_MIN and xavier <= FIG3_XAVIER_MAX:
        return None
    return (f"30-layer plain net: test accuracy with your He std {he:.3f}, with your Xavier std {xavier:.3f} "
            f"(seed {cases[0].args[0]}); expected He >= {FIG3_HE_MIN} and Xavier <= {FIG3_XAVIER_MAX} (stalled)",
            "check he_std and xavier_std with tinyrect check init")


def _reference_pieces():
    from tinyrect.exercises.plug import use
    from tinyrect.exercises.solutions import conv, init, prelu
    return use({**vars(prelu), **vars(conv), **vars(init)})


def parts(seed=2015):
    rng = np.random.default_rng(seed)
    prelu_cases = []
    for shape, a in [((4, 3), [0.25, -0.4, 1.3]), ((2, 3, 4, 5), [0.6]), ((2, 2, 3, 3), [0.1, 2.0])]:
        x = np.sign(rng.standard_normal(shape)) * (0.1 + rng.random(shape))
        prelu_cases.append(Case(f"x {shape}", (x, np.array(a), rng.standard_normal(shape)), ("x", "a", "dout")))
    conv_cases = []
    for shape, (f, k), stride, padding in [((2, 3, 6, 5), (4, 3), 1, 1), ((1, 2, 7, 7), (3, 3), 2, 0)]:
        ho = (shape[2] + 2 * padding - k) // stride + 1
        wo = (shape[3] + 2 * padding - k) // stride + 1
        conv_cases.append(Case(f"x {shape}", (rng.standard_normal(shape), rng.standard_normal((f, shape[1], k, k)),
                                              rng.standard_normal(f), rng.standard_normal((shape[0], f, ho, wo))),
                               ("x", "w", "b", "dout"), {"stride": stride, "padding": padding}))
    train_seed = int(rng.integers(1, 10 ** 6))
    def ref_prelu(x, a, dout):
        return drivers.plugged_prelu(lambda: _reference_pieces().fns, x, a, dout)

    def ref_conv(x, w, b, dout, stride=1, padding=0):
        return drivers.plugged_conv(lambda: _reference_pieces().fns, x, w, b, dout, stride, padding)

    run = [Case(f"seed {train_seed}", (train_seed,), ("seed",))]
    return [
        Part("pieces", ref_prelu, prelu_cases, ("out", "dx", "da"), driver=drivers.plugged_prelu, label="PReLU on the tape",
             points=POINTS["PReLU on the tape"]),
        Part("pieces", ref_conv, conv_cases, ("out", "dx", "dw", "db"), driver=drivers.plugged_conv,
             label="conv2d on the tape", points=POINTS["conv2d on the tape"]),
        Part("pieces", lambda s: np.zeros(2), run, ("accuracies",), driver=drivers.table2, judge=_judge_table2,
             label="Table 2", points=POINTS["Table 2"]),
        Part("pieces", lambda s: np.zeros(2), run, ("accuracies",), driver=drivers.fig3, judge=_judge_fig3,
             label="Fig. 3", points=POINTS["Fig. 3"]),
    ]
