"""Plug a student's own pieces into tinyrect: `tinyrect.exercises.use(...)`.

A student who solved the prelu, conv and init exercises in NumPy can train a real net with them:

    from tinyrect.exercises import use
    mine = use("my_answers/")                 # a folder with prelu.py, conv.py, init.py
    mine = use(dict(prelu_forward=..., ...))  # or the functions themselves (or a module)
    mine.gradcheck()                          # finite differences through the tape, per op
    net = mine.plain_net(depth=4, width=16, activation="prelu", init="he")

`use` wraps prelu_forward/prelu_backward and conv2d_forward/conv2d_backward as ops on the tape,
exactly as tinyrect registers its own ops (Tensor._from_op with a backward closure), and uses
he_std/xavier_std for the initial weights. The student's functions work in float64 (the exercise
contract); the wrappers convert tinyrect's float32 in and out.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

PIECES = ("prelu_forward", "prelu_backward", "conv2d_forward", "conv2d_backward", "he_std", "xavier_std")


def _load(path: Path):
    name = f"tinyrect_plugged_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return vars(module)


def _namespace(source) -> dict:
    if isinstance(source, dict):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            found = {}
            for stem in ("prelu", "conv", "init"):
                if (path / f"{stem}.py").is_file():
                    found.update(_load(path / f"{stem}.py"))
            return found
        if path.is_file():
            return _load(path)
        raise FileNotFoundError(f"use: {path} does not exist; give a folder with your prelu.py, conv.py and "
                                f"init.py, one .py file, a module, or a dict of functions")
    return vars(source)


def use(source) -> "Pieces":
    """The student's pieces from a folder, a .py file, a module or a dict (see the module docstring)."""
    ns = _namespace(source)
    missing = [p for p in PIECES if not callable(ns.get(p))]
    if missing:
        raise ValueError(f"use: no function {', '.join(missing)} in {source!r}: the pieces are "
                         f"{', '.join(PIECES)} (the prelu, conv and init exercises)")
    return Pieces(*(ns[p] for p in PIECES))


class Pieces:
    """A student's functions as tinyrect ops and layers."""

    def __init__(self, prelu_forward, prelu_backward, conv2d_forward, conv2d_backward, he_std, xavier_std):
        self.fns = dict(zip(PIECES, (prelu_forward, prelu_backward, conv2d_forward, conv2d_backward,
                                     he_std, xavier_std)))

    def prelu(self, x, a):
        """Eq. (1) with the student's forward; the backward closure calls the student's backward."""
        from tinyrect.tensor import Tensor
        x64, a64 = np.asarray(x.data, np.float64), np.asarray(a.data, np.float64).reshape(-1)
        out = np.asarray(self.fns["prelu_forward"](x64, a64), np.float64)

        def backward(dout):
            dx, da = self.fns["prelu_backward"](x64, a64, np.asarray(dout, np.float64))
            return np.asarray(dx, x.dtype), np.asarray(da, a.dtype).reshape(a.shape)

        return Tensor._from_op(out.astype(x.dtype), (x, a), backward, "student_prelu")

    def conv2d(self, x, w, b, stride=1, padding=0):
        """Cross-correlation with the student's forward and backward (im2col + one matrix product)."""
        from tinyrect.tensor import Tensor
        x64, w64, b64 = (np.asarray(t.data, np.float64) for t in (x, w, b))
        out = np.asarray(self.fns["conv2d_forward"](x64, w64, b64, stride, padding), np.float64)

        def backward(dout):
            dx, dw, db = self.fns["conv2d_backward"](x64, w64, b64, np.asarray(dout, np.float64), stride, padding)
            return np.asarray(dx, x.dtype), np.asarray(dw, w.dtype), np.asarray(db, b.dtype)

        return Tensor._from_op(out.astype(x.dtype), (x, w, b), backward, "student_conv2d")

    def gradcheck(self, seed=0) -> dict:
        """tinyrect's finite-difference check of each plugged op, in float64; {op: report}."""
        from tinyrect.gradcheck import gradcheck
        from tinyrect.tensor import Tensor
        rng = np.random.default_rng(seed)

        def leaf(*shape):
            return Tensor(rng.standard_normal(shape), requires_grad=True)

        x = np.sign(rng.standard_normal((2, 3, 4, 5))) * (0.1 + rng.random((2, 3, 4, 5)))  # away from 0
        return {
            "prelu (channel-wise)": gradcheck(self.prelu, [Tensor(x, requires_grad=True),
                                                           Tensor(np.array([0.25, -0.3, 1.5]), requires_grad=True)],
                                              raise_on_failure=False),
            "prelu (channel-shared)": gradcheck(self.prelu, [Tensor(x, requires_grad=True),
                                                             Tensor(np.array([0.4]), requires_grad=True)],
                                                raise_on_failure=False),
            "conv2d": gradcheck(lambda a, w, b: self.conv2d(a, w, b, 2, 1), [leaf(2, 3, 6, 5), leaf(4, 3, 3, 3), leaf(4)],
                                raise_on_failure=False),
        }

    def plain_net(self, depth, width=16, activation="relu", init="he", seed=0, in_shape=(1, 8, 8), classes=10):
        """(depth-1) × [conv 3×3 pad 1 → rectifier] + flatten + fc, every conv and PReLU the student's,
        every weight drawn with the student's he_std (slope a of the PReLU's initial value, 0.25) or
        xavier_std. A tinyrect nn.Module: train it like any other."""
        from tinyrect import nn
        from tinyrect.nn.module import Parameter

        pieces, rng = self, np.random.default_rng(seed)
        slope = 0.25 if activation == "prelu" else 0.0

        def std(fan_in, fan_out):
            if init == "he":
                return float(pieces.fns["he_std"](fan_in, slope))
            return float(pieces.fns["xavier_std"](fan_in, fan_out))

        class Conv(nn.Module):
            def __init__(self, c_in, c_out):
                super().__init__()
                shape = (c_out, c_in, 3, 3)
                self.weight = Parameter((rng.standard_normal(shape) * std(9 * c_in, 9 * c_out)).astype(np.float32))
                self.bias = Parameter(np.zeros(c_out, np.float32))

            def forward(self, x):
                return pieces.conv2d(x, self.weight, self.bias, 1, 1)

        class PReLU(nn.Module):
            def __init__(self, channels):
                super().__init__()
                self.weight = Parameter(np.full(channels, 0.25, np.float32))

            def forward(self, x):
                return pieces.prelu(x, self.weight)

        layers, c = [], in_shape[0]
        for _ in range(depth - 1):
            layers += [Conv(c, width), PReLU(width) if activation == "prelu" else nn.ReLU()]
            c = width
        fc = nn.Linear(width * in_shape[1] * in_shape[2], classes)
        fc.weight.data[...] = rng.standard_normal(fc.weight.shape) * std(fc.weight.shape[1], classes)
        return nn.Sequential(*layers, nn.Flatten(), fc)


# ----------------------------------------------------------------------------- small experiments
DEPTH, WIDTH, EPOCHS, BATCH = 30, 64, 20, 64   # the deep exercise's 30-layer plain net on digits


def fans():
    """Fan-in and fan-out of the 30 layers of the deep exercise's plain net (64 → 64 ... → 10)."""
    return np.array([64] + [WIDTH] * (DEPTH - 1)), np.array([WIDTH] * (DEPTH - 1) + [10])


def train_plain(stds, lr, seed, epochs=EPOCHS):
    """29 × [fc 64 → 64, ReLU] + fc → 10 on the 8×8 digits flattened, layer l's weights N(0, stds[l]²),
    bias 0, SGD (momentum 0.9, batch 64, rate lr). Returns (test accuracy, last loss; nan if it
    diverged)."""
    import math

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
        layer = nn.Linear(int(n_in), int(n_out))
        layer.weight.data[...] = rng.standard_normal(layer.weight.shape) * float(stds[i])
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
    return float(evaluate(net, ds.x_test, ds.y_test)[1])


def table2(pieces: Pieces, seed) -> np.ndarray:
    """Table 2 at small scale: test accuracy of a 3-layer conv net (width 8, the student's convs) after
    one epoch on digits, [with ReLU, with the student's PReLU]."""
    return np.array([_fit(pieces.plain_net(3, 8, activation, "he", seed), seed) for activation in ("relu", "prelu")])


def fig3(pieces: Pieces, seed) -> np.ndarray:
    """Fig. 3 at small scale: test accuracy of the 30-layer plain net (train_plain, lr 0.002) with the
    student's he_std and xavier_std, [He, Xavier]."""
    fan_ins, fan_outs = fans()
    he = [pieces.fns["he_std"](int(n), 0.0) for n in fan_ins]
    xavier = [pieces.fns["xavier_std"](int(i), int(o)) for i, o in zip(fan_ins, fan_outs)]
    return np.array([train_plain(np.array(s, dtype=np.float64), 0.002, seed)[0] for s in (he, xavier)])
