"""The exercises' common vocabulary: an exercise's parts, their cases and catalogue of mistakes, and
the small measures every judgement uses.

An exercise is a list of `Part`s, one per function the student writes. A part owns its test
`Case`s (inputs chosen so that the typical wrong answers differ from the right one: batch > 1,
inputs exactly 0, slopes a != 0.25, a > 1, odd strides, non-square images), the reference solution,
a catalogue of `Variant`s (known wrong implementations, each with the hint a TA would give) and its
`points` (its weight in a score). A `Reply` is what one call of a student's function did, as the
sandboxed child process reports it (sandbox.py); judging.py turns the replies into a `PartResult`,
diagnosis.py names the mistake.

The error measure: relative error = max|yours - ref| / max(|yours|, |ref|) (largest elements), which
must be below TOL = 1e-9 (float64: a right answer, whatever order it sums in, is ~1e-15; float32
arithmetic hidden inside a float64 answer is ~1e-7 and fails).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


TOL = 1e-9         # relative error above which an output is wrong (float64)
FD_TOL = 1e-6      # against central differences (exact for piecewise-linear ops, up to rounding)
FD_ENTRIES = 24    # entries per input checked by finite differences, chosen at random (seeded)
MATCH_TOL = 1e-8   # a catalogue variant "is" the student's answer when this close to it
TIME_LIMIT = 10.0  # seconds of wall clock per function of an exercise (all its cases)
MEMORY_HINT = "each student's process may use at most the memory limit (tinyrect check --memory BYTES)"


@dataclass
class Case:
    """One set of inputs. `args` are passed positionally, `kwargs` by name."""
    label: str
    args: tuple
    names: tuple
    kwargs: dict = field(default_factory=dict)
    smooth: bool = False   # no input at a kink: finite differences are exact here


@dataclass
class Variant:
    """A known wrong implementation (same signature as the reference) and its hint.

    Or, with `region` instead of `fn`: a function of the inputs giving a boolean mask of the output's
    shape; the hint applies when every wrong entry lies inside it (e.g. "wrong only where y == 0").
    """
    hint: str
    fn: Callable | None = None
    outputs: tuple | None = None   # the outputs it explains (None: any)
    region: Callable | None = None
    nudges: tuple = ()             # gentler hints: level 1, level 2, ...; `hint` is the last level

    def at(self, level: int | None) -> str:   # 1 = gentlest; None or past the last: `hint`
        texts = (*self.nudges, self.hint)
        return texts[-1] if level is None else texts[max(1, min(level, len(texts))) - 1]


@dataclass
class Part:
    func: str                      # the student's function name
    reference: Callable
    cases: list
    outputs: tuple = ("out",)      # names of the returned values, in order
    kind: str = "array"            # "array" | "scalar" | "ints"
    catalogue: list = field(default_factory=list)
    shape_hint: Callable | None = None      # (output name, got shape, expected shape, case) -> str
    exception_hint: Callable | None = None  # (exception, case) -> str
    fd_forward: Callable | None = None      # reference forward, for finite differences
    tol: float = TOL
    points: float = 1.0            # the part's weight in a score (all or nothing per part)
    driver: Callable | None = None  # a function of drivers.py: called as driver(student_fn, *args, **kwargs)
    judge: Callable | None = None   # judge(cases, outputs) -> None or (message, hint), in place of the reference
    requires: str = ""             # a part this one builds on: if that one fails, "fix it first"
    label: str = ""                # the name shown, when several parts call one function


@dataclass
class PartResult:
    func: str
    status: str                    # "pass" | "fail" | "error" | "not implemented" | "missing"
    error: float | None = None     # max relative error vs the reference
    fd_error: float | None = None  # max relative error vs finite differences
    message: str = ""
    hints: list = field(default_factory=list)
    max_points: float = 1.0

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def points(self) -> float:
        return self.max_points if self.passed else 0.0


@dataclass
class Reply:
    """What one call of a student's function did. status: "ok" | "not implemented" | "raised" |
    "missing" | "not callable" (reported by the child) | "timeout" | "died" (the grader's verdict)."""
    status: str
    value: object = None
    after: tuple = ()                 # the arguments (positional, then keyword) after the call
    exception: BaseException | None = None
    problem: str = ""                 # raised: the exception described; timeout/died: the reason
    numpy_changed: tuple = ()         # names in NumPy's namespace the student's code replaced
    refused: tuple = ()               # why imports the student's code tried were refused


# ----------------------------------------------------------------------------- small helpers
def rel_error(got, want) -> float:
    """max |got - want| / max(|got|, |want|) over the arrays' largest elements; 0 when equal."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = float(np.max(np.abs(got - want))) if got.size else 0.0
    if diff == 0.0:
        return 0.0
    scale = max(float(np.max(np.abs(got))), float(np.max(np.abs(want))))
    return diff / scale if scale > 0 else math.inf


def shapes_of(case: Case) -> str:
    """'x (2, 3), a (1,) = [-0.35], stride=2' -- what a student needs to reproduce a failure."""
    parts = []
    for name, value in list(zip(case.names, case.args)) + list(case.kwargs.items()):
        if isinstance(value, np.ndarray):
            text = f"{name} {value.shape}"
            if value.size <= 4 and name in ("a", "b"):
                text += " = " + np.array2string(value, precision=3, separator=", ")
            parts.append(text)
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def copy_value(value):
    """A copy of an array (so that a call cannot change the case); other values as they are."""
    return value.copy() if isinstance(value, np.ndarray) else value


def as_outputs(value, part: Part) -> tuple:
    """A function's return value as a tuple with one entry per output of the part."""
    return tuple(value) if len(part.outputs) > 1 else (value,)


# ----------------------------------------------------------------------------- finite differences
def numerical_gradients(forward, args, kwargs, dout, eps=1e-6, max_entries=None, seed=0):
    """Central differences of L = sum(forward(*args) * dout) w.r.t. every array in args.

    With max_entries, only that many entries per input (chosen at random, seeded) are computed;
    returns (grads, picked) then, picked[k] the flat indices computed for input k (others are 0).
    """
    grads, picked = [], []
    rng = np.random.default_rng(seed)
    for k, arg in enumerate(args):
        arg = np.array(arg, dtype=np.float64)
        grad = np.zeros_like(arg)
        flat, gflat = arg.reshape(-1), grad.reshape(-1)
        call_args = list(args)
        call_args[k] = arg
        entries = np.arange(flat.size)
        if max_entries is not None and flat.size > max_entries:
            entries = np.sort(rng.choice(flat.size, max_entries, replace=False))
        picked.append(entries)
        for i in entries:
            old = flat[i]
            flat[i] = old + eps
            plus = np.sum(forward(*call_args, **kwargs) * dout)
            flat[i] = old - eps
            minus = np.sum(forward(*call_args, **kwargs) * dout)
            flat[i] = old
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return (tuple(grads), picked) if max_entries is not None else tuple(grads)
