"""Checks for the capstone: the student's own PReLU, convolution and init train nets in tinyrect.

The student's capstone.py defines pieces(), returning their functions (prelu_forward/backward,
conv2d_forward/backward, he_std, xavier_std; usually imported from their exercise files). The
drivers below run in the graded process: they plug the pieces into tinyrect with `use` and return
plain arrays, which the grader judges:
  1. PReLU on the tape and 2. conv2d on the tape: forward and the gradients that reach every input,
     against the reference (the plug-in path itself);
  3. Table 2 at small scale: a 3-layer conv net (width 8) on digits, ReLU vs the student's PReLU,
     one epoch each; passes when both reach TABLE2_MIN test accuracy and PReLU is within
     TABLE2_MARGIN of ReLU. (At this size the difference between the two is within seed-to-seed
     noise, so the band asks "trains as well", not the paper's 1.2-point gain.)
  4. Fig. 3 at small scale: the 30-layer plain net of the deep exercise with the student's he_std
     and xavier_std; passes when He reaches FIG3_HE_MIN and Xavier stays below FIG3_XAVIER_MAX
     (it stalls: Eq. (9)'s 2^-29).
The training runs inside the student's process, so its two numbers could be forged by a student
who works at it; parts 1-2 cannot (they are compared with the grader's own values).
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises import deep
from tinyrect.exercises.checking import Case, Part

NAME = "capstone"
TITLE = "your PReLU, conv and init in tinyrect: gradchecked ops, Table 2 and Fig. 3 at small scale"
FILENAME = "capstone.py"
FUNCTIONS = ("pieces",)
LESSON = "09"
NEEDS_TINYRECT = True   # the drivers (grader code) import tinyrect inside the graded process
TIMEOUT = 180           # seconds: four short trainings
POINTS = {"PReLU on the tape": 1.0, "conv2d on the tape": 1.0, "Table 2": 2.0, "Fig. 3": 2.0}
TABLE2_MIN, TABLE2_MARGIN, FIG3_HE_MIN, FIG3_XAVIER_MAX = 0.85, 0.05, 0.85, 0.3


def _pieces(fn):
    from tinyrect.exercises.plug import use
    return use(fn())


def _leaf(a):
    from tinyrect.tensor import Tensor
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def drive_prelu(fn, x, a, dout):
    tx, ta = _leaf(x), _leaf(a)
    y = _pieces(fn).prelu(tx, ta)
    y.backward(np.array(dout))
    return y.data, tx.grad, ta.grad


def drive_conv(fn, x, w, b, dout, stride=1, padding=0):
    tx, tw, tb = _leaf(x), _leaf(w), _leaf(b)
    y = _pieces(fn).conv2d(tx, tw, tb, stride, padding)
    y.backward(np.array(dout))
    return y.data, tx.grad, tw.grad, tb.grad


def _fit(net, seed, epochs=1, lr=0.01):
    import tinyrect as tr
    from tinyrect.data import digits
    from tinyrect.functional import cross_entropy
    from tinyrect.train import evaluate
    ds, rng = digits(), np.random.default_rng(seed)
    opt = tr.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    for _ in range(epochs):
        perm = rng.permutation(len(ds.x_train))
        for start in range(0, len(perm), 64):
            idx = perm[start:start + 64]
            loss = cross_entropy(net(tr.Tensor(ds.x_train[idx])), ds.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return evaluate(net, ds.x_test, ds.y_test)[1]


def table2(pieces, seed):
    """Test accuracy of a 3-layer conv net (width 8) after one epoch: [ReLU, the student's PReLU]."""
    return np.array([_fit(pieces.plain_net(3, 8, activation, "he", seed), seed) for activation in ("relu", "prelu")])


def fig3(pieces, seed):
    """Test accuracy of deep's 30-layer plain net, stds from the student's he_std / xavier_std: [He, Xavier]."""
    fan_ins, fan_outs = deep.fans()
    he = np.array([pieces.fns["he_std"](int(n), 0.0) for n in fan_ins], dtype=np.float64)
    xavier = np.array([pieces.fns["xavier_std"](int(i), int(o)) for i, o in zip(fan_ins, fan_outs)], dtype=np.float64)
    return np.array([deep.train_plain(stds, 0.002, seed)[0] for stds in (he, xavier)])


def drive_table2(fn, seed):
    return table2(_pieces(fn), seed)


def drive_fig3(fn, seed):
    return fig3(_pieces(fn), seed)


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
    ref = _reference_pieces

    def ref_prelu(x, a, dout):
        return drive_prelu(lambda: ref().fns, x, a, dout)

    def ref_conv(x, w, b, dout, stride=1, padding=0):
        return drive_conv(lambda: ref().fns, x, w, b, dout, stride, padding)

    run = [Case(f"seed {train_seed}", (train_seed,), ("seed",))]
    return [
        Part("pieces", ref_prelu, prelu_cases, ("out", "dx", "da"), driver=drive_prelu, label="PReLU on the tape",
             points=POINTS["PReLU on the tape"]),
        Part("pieces", ref_conv, conv_cases, ("out", "dx", "dw", "db"), driver=drive_conv,
             label="conv2d on the tape", points=POINTS["conv2d on the tape"]),
        Part("pieces", lambda s: np.zeros(2), run, ("accuracies",), driver=drive_table2, judge=_judge_table2,
             label="Table 2", points=POINTS["Table 2"]),
        Part("pieces", lambda s: np.zeros(2), run, ("accuracies",), driver=drive_fig3, judge=_judge_fig3,
             label="Fig. 3", points=POINTS["Fig. 3"]),
    ]
