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
