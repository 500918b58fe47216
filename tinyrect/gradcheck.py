"""Finite-difference gradient checks: is a hand-derived backward right?

For each input x_j that requires grad, compare the analytic gradient of L = sum(fn(*inputs) * R)
(R a fixed random tensor, so every output element is tested with a different weight) against the
central difference  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps), computed in float64.

How worried to be, with the relative error  |a - n| / max(|a|, |n|, tiny):
  > 1e-2  the backward is wrong;   1e-4 .. 1e-2  suspicious (kinks, like ReLU at 0, cause this);
  < 1e-7  the backward is right (in float64 with eps=1e-6, expect 1e-8 .. 1e-11).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from tinyrect.tensor import Tensor

TINY = 1e-12


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the numerical one; the message says where."""


@dataclass
class InputReport:
    index: int
    name: str
    shape: tuple
    max_rel_error: float
    worst_element: tuple
    analytic: float
    numeric: float
    passed: bool


@dataclass
class GradcheckReport:
    inputs: list = field(default_factory=list)
    eps: float = 1e-6
    rtol: float = 1e-5
    atol: float = 1e-8

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.inputs)

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.inputs), default=0.0)

    def __str__(self) -> str:
        lines = [f"gradcheck (central differences, eps={self.eps:g}, float64)"]
        lines.append(f"  {'input':<12}{'shape':<18}{'max rel. error':>16}  {'verdict':<10}worst element")
        for r in self.inputs:
            verdict = "ok" if r.passed else "WRONG"
            lines.append(
                f"  {r.name:<12}{str(r.shape):<18}{r.max_rel_error:>16.2e}  {verdict:<10}"
                f"{r.worst_element}: analytic {r.analytic:.6g}, numeric {r.numeric:.6g}"
            )
        if self.passed and self.max_rel_error > 1e-4:   # only where |a - n| <= atol: round-off
            lines.append(f"  verdict: passed; the larger relative errors are at gradients within "
                         f"atol={self.atol:g} of the numerical ones (round-off near 0, not a bug)")
        else:
            lines.append("  " + verdict_for(self.max_rel_error))
        return "\n".join(lines)

    __repr__ = __str__


def verdict_for(rel_error: float) -> str:
    """A student-readable reading of a relative error, following CS231n's thresholds."""
    if rel_error > 1e-2:
        return "verdict: the gradient is wrong (relative error > 1e-2)"
    if rel_error > 1e-4:
        return "verdict: suspicious (1e-4 .. 1e-2): a bug, or a kink such as max(0, y) at y = 0"
    if rel_error > 1e-7:
        return "verdict: probably fine (1e-7 .. 1e-4); in float64 expect < 1e-7"
    return "verdict: correct (relative error < 1e-7)"


def _check_number(name: str, value, positive: bool) -> None:
    real = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not real or (value <= 0 if positive else value < 0):
        raise ValueError(f"gradcheck: {name} must be a finite number {'> 0' if positive else '>= 0'}"
                         f", got {value!r}")


def gradcheck(fn, inputs, eps: float = 1e-6, rtol: float = 1e-5, atol: float = 1e-8,
              names=None, seed: int = 0, raise_on_failure: bool = True) -> GradcheckReport:
    """Check the backward of `fn(*inputs)` by central finite differences in float64.

    `inputs` is a Tensor or a sequence of Tensors/arrays; those with requires_grad=True are
    checked (if none requires grad, all floating ones are). An element passes when
    |analytic - numeric| <= atol + rtol * |numeric|; the report gives the max relative error.
    Raises `GradcheckError` naming the input and the worst element unless `raise_on_failure=False`.
    """
    if isinstance(inputs, (Tensor, np.ndarray)):
        inputs = [inputs]
    if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
        raise TypeError(f"gradcheck: inputs must be a Tensor or a list of Tensors/arrays, got "
                        f"{type(inputs).__name__}")
    inputs = list(inputs)
    if not inputs:
        raise ValueError("gradcheck: no inputs; pass the Tensors fn takes, e.g. gradcheck(fn, [x])")
    _check_number("eps", eps, positive=True)
    _check_number("rtol", rtol, positive=False)
    _check_number("atol", atol, positive=False)
    tensors = []
    for x in inputs:
        # Fresh C-contiguous float64 copies: the perturbation below writes through a flat view,
        # which must be a view (not a copy) of the array fn reads.
        if isinstance(x, Tensor):
            tensors.append(Tensor(np.array(x.data, dtype=np.float64, order="C"),
                                  requires_grad=x.requires_grad) if x.dtype.kind == "f" else x)
        else:
            tensors.append(Tensor(np.array(x, dtype=np.float64, order="C")))
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        checked = [i for i, t in enumerate(tensors) if t.dtype.kind == "f"]
        for i in checked:
            tensors[i].requires_grad = True
    names = list(names) if names is not None else [f"input {i}" for i in range(len(tensors))]

    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(
            f"gradcheck: fn returned {out.dtype} for float64 inputs; the op does not keep float64 "
            "end to end (look for a hard-coded float32 cast), and finite differences need float64"
        )
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def output() -> np.ndarray:
        return np.array(fn(*tensors).data, dtype=np.float64)  # a copy: outputs may be views of x

    for t in tensors:
        t.grad = None
    out.backward(weights)
    report = GradcheckReport(eps=eps, rtol=rtol, atol=atol)
    for i in checked:
        t = tensors[i]
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        numeric = np.zeros_like(t.data)
        flat = t.data.reshape(-1)  # a view: perturb in place
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = output()
            flat[j] = original - eps
            minus = output()
            flat[j] = original
            # Difference the outputs first, then weight them: outputs that x_i does not touch
            # cancel exactly, so round-off does not grow with the size of the output.
            numeric.reshape(-1)[j] = np.sum((plus - minus) * weights) / (2 * eps)
        rel = np.abs(analytic - numeric) / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), TINY)
        ok = np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric)
        worst = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.size else ()
        report.inputs.append(InputReport(
            index=i, name=names[i], shape=t.shape,
            max_rel_error=float(rel.max()) if rel.size else 0.0,
            worst_element=tuple(int(k) for k in worst),
            analytic=float(analytic[worst]) if rel.size else 0.0,
            numeric=float(numeric[worst]) if rel.size else 0.0,
            passed=bool(ok.all()),
        ))
    if raise_on_failure and not report.passed:
        bad = next(r for r in report.inputs if not r.passed)
        raise GradcheckError(
            f"gradcheck failed for {bad.name} (shape {bad.shape}): at element {bad.worst_element} "
            f"the analytic gradient is {bad.analytic:.8g} but finite differences give "
            f"{bad.numeric:.8g} (relative error {bad.max_rel_error:.2e})\n{report}"
        )
    return report
