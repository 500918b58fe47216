"""The grading engine every exercise shares: call a student's function safely, compare its answer
with the reference solution and with finite differences, and name the mistake.

An exercise is a list of `Part`s, one per function the student writes. A part owns its test
`Case`s (inputs chosen so that the typical wrong answers differ from the right one: batch > 1,
inputs exactly 0, slopes a != 0.25, a > 1, odd strides, non-square images), the reference solution,
and a catalogue of `Variant`s: known wrong implementations, each with the hint a TA would give.

Grading one part:
  1. call the student's function on every case, on copies of the inputs, with stdout captured and a
     time limit; anything malformed (exception, wrong type/shape/dtype, NaN, an input modified in
     place) is reported with the case's shapes;
  2. compare each output with the reference: relative error = max|yours - ref| / max(|yours|, |ref|)
     (largest elements), which must be below TOL = 1e-9 (float64: a right answer, whatever order it
     sums in, is ~1e-15; float32 arithmetic hidden inside a float64 answer is ~1e-7 and fails);
  3. backward parts: also compare with central differences of the reference forward, on the cases
     that stay away from kinks;
  4. a wrong output is diagnosed (diagnosis.py): a catalogue variant that reproduces the student's
     answer names the mistake; else a region, a sign flip, a factor, or the worst entry.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import signal
import threading
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

TOL = 1e-9         # relative error above which an output is wrong (float64)
FD_TOL = 1e-6      # against central differences (exact for piecewise-linear ops, up to rounding)
FD_ENTRIES = 24    # entries per input checked by finite differences, chosen at random (seeded)
MATCH_TOL = 1e-8   # a catalogue variant "is" the student's answer when this close to it
TIME_LIMIT = 10.0  # seconds per call of a student's function


class StudentTimeout(Exception):
    """The student's function ran longer than the time limit."""


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
    """One function to write. A `driver` wraps the call (e.g. builds Tensors, runs backward); a
    `judge` grades the outputs on their own (a measurement, a choice graded on its result) in place
    of the comparison with the reference, which then only gives the expected shapes."""
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
    points: float = 1.0                     # this part's weight in the exercise's score
    driver: Callable | None = None          # called as driver(student_fn, *args, **kwargs) if given
    judge: Callable | None = None           # judge(cases, outputs) -> None or (message, hint)
    requires: str = ""                      # a part this one builds on (see blame_requirements)
    label: str = ""                         # the name shown, when several parts call one function


@dataclass
class PartResult:
    func: str
    status: str                    # "pass" | "fail" | "not implemented" | "missing"
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


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise StudentTimeout after `seconds` (Unix main thread only; elsewhere no limit)."""
    usable = (seconds and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _alarm(signum, frame):
        raise StudentTimeout(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def describe_exception(exc: BaseException, student_file: str | None) -> str:
    """'ValueError: operands could not be broadcast ... (line 12: `return x * a`)'."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if student_file:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == student_file]
        if frames:
            text += f" (line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`)"
    return text


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


# ----------------------------------------------------------------------------- calling a student
@dataclass
class Outcome:
    values: tuple | None = None   # one entry per output, normalized
    kind: str = "ok"              # "ok" | "not implemented" | "problem"
    problem: str = ""
    hint: str = ""
    timed_out: bool = False
    issues: list = field(default_factory=list)   # (output name, problem, hint) of malformed outputs


def call_student(fn, case: Case, part: Part, expected: tuple, student_file=None,
                 seconds=TIME_LIMIT) -> Outcome:
    args = tuple(_copy(v) for v in case.args)
    kwargs = {k: _copy(v) for k, v in case.kwargs.items()}
    where = f"with {shapes_of(case)}"
    sink = io.StringIO()
    try:
        with time_limit(seconds), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = part.driver(fn, *args, **kwargs) if part.driver else fn(*args, **kwargs)
    except NotImplementedError:
        return Outcome(kind="not implemented")
    except (Exception, SystemExit) as exc:
        hint = part.exception_hint(exc, case) if part.exception_hint else ""
        if isinstance(exc, StudentTimeout):
            hint = "an endless loop? If your code is only slow, raise the limit: tinyrect check --timeout SECONDS"
        return Outcome(kind="problem", problem=f"raised {describe_exception(exc, student_file)} {where}",
                       hint=hint, timed_out=isinstance(exc, StudentTimeout))
    for name, before, after in zip(case.names + tuple(case.kwargs), case.args + tuple(case.kwargs.values()),
                                   args + tuple(kwargs.values())):
        if isinstance(before, np.ndarray) and not (after.shape == before.shape
                                                   and np.array_equal(after, before, equal_nan=True)):
            return Outcome(kind="problem", problem=f"modified its input `{name}` in place {where}",
                           hint=f"work on a copy (e.g. `{name} = {name}.copy()`) or build a new array "
                                f"(np.where, np.maximum); never write into the arrays you are given")
    names = part.outputs
    if len(names) > 1:
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = f"a {type(result).__name__}" + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
            return Outcome(kind="problem", problem=f"returned {got} {where}; expected a tuple ({', '.join(names)})")
        result = tuple(result)
    else:
        result = (result,)
    values, issues = [], []
    for name, value, want in zip(names, result, expected):
        checked = _check_value(name, value, want, part, case, where)
        if isinstance(checked, Outcome):   # this output is malformed; the others are still graded
            issues.append((name, checked.problem, checked.hint))
            checked = None
        values.append(checked)
    return Outcome(values=tuple(values), kind="ok" if not issues else "partial", issues=issues)


def _check_value(name, value, want, part, case, where):
    if part.kind == "scalar":
        if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
            value = value.reshape(())[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return Outcome(kind="problem", problem=f"returned {type(value).__name__} {_short(value)} {where}; "
                                                   f"expected one real number")
        value = float(value)
        if not math.isfinite(value):
            return Outcome(kind="problem", problem=f"returned {value} {where}")
        return value
    if part.kind == "ints":
        try:
            value = tuple(value)
            ok = len(value) == len(want) and all(float(v) == int(v) for v in value)
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            return Outcome(kind="problem", problem=f"returned {_short(value)} {where}; expected a tuple of "
                                                   f"{len(want)} whole numbers")
        return tuple(int(v) for v in value)
    # arrays
    if isinstance(value, (np.generic, float, int)) and not isinstance(value, (bool, np.bool_)):
        value = np.asarray(value)   # a number where an array belongs: reported as a shape () below
    if not isinstance(value, np.ndarray):
        return Outcome(kind="problem", problem=f"{name} is a {type(value).__name__} {where}; "
                                               f"return a NumPy array (np.asarray)")
    if value.shape != want.shape:
        hint = part.shape_hint(name, value.shape, want.shape, case) if part.shape_hint else ""
        return Outcome(kind="problem", hint=hint or generic_shape_hint(value.shape, want.shape),
                       problem=f"{name} has shape {value.shape}, expected {want.shape} {where}")
    if value.dtype != np.float64:
        why = ("a boolean/integer array: did you return a mask without multiplying it by the values?"
               if value.dtype.kind in "biu" else "keep float64 end to end: do not cast or create float32 arrays")
        return Outcome(kind="problem", problem=f"{name} has dtype {value.dtype}, expected float64 {where}",
                       hint=why)
    bad = ~np.isfinite(value)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Outcome(kind="problem", problem=f"{name} contains {value[index]} at index {index} {where}",
                       hint="NaN or inf: a division by zero, or an uninitialized np.empty entry you never filled")
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def generic_shape_hint(got, want) -> str:
    if tuple(got) == tuple(want)[::-1]:
        return "your array is transposed"
    if len(got) == len(want) + 1 and tuple(got[1:]) == tuple(want):
        return "there is one axis too many: did you forget to sum over the batch (axis 0)?"
    return ""


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


# ----------------------------------------------------------------------------- grading a part
def grade_part(fn, part: Part, student_file=None, seconds=TIME_LIMIT, hint_level=None) -> PartResult:
    """Grade one part; hint_level 1, 2, ... picks gentler hints (None: the explicit last level)."""
    result = _grade_part(fn, part, student_file, seconds, hint_level)
    result.max_points, result.func = part.points, part.label or part.func
    return result


def _grade_part(fn, part, student_file, seconds, hint_level) -> PartResult:
    if fn is None:
        return PartResult(part.func, "missing", message=f"no function `{part.func}` in the file")
    if not callable(fn) and part.driver is None:
        return PartResult(part.func, "fail", message=f"`{part.func}` is a {type(fn).__name__}, not a function")
    if hint_level is not None:
        part = dataclasses.replace(part, catalogue=[dataclasses.replace(v, hint=v.at(hint_level), nudges=())
                                                    for v in part.catalogue])
    expected = [_as_outputs(part.reference(*c.args, **c.kwargs), part) for c in part.cases]
    outcomes = []
    for case, want in zip(part.cases, expected):
        outcomes.append(call_student(fn, case, part, want, student_file, seconds))
        if outcomes[-1].timed_out:
            break  # an endless loop: do not wait for it once per case
    if all(o.kind == "not implemented" for o in outcomes):
        return PartResult(part.func, "not implemented", message="not implemented yet")
    if any(o.kind == "not implemented" for o in outcomes):
        case = part.cases[[o.kind for o in outcomes].index("not implemented")]
        return PartResult(part.func, "fail", message=f"raised NotImplementedError with {shapes_of(case)}",
                          hints=["this case is not handled yet"])
    result = PartResult(part.func, "pass")
    problems = []   # (problem, hint): the first whole-call failure, then the first per malformed output
    failed_calls = [o for o in outcomes if o.kind == "problem"]
    if failed_calls:
        more = f" (and {len(failed_calls) - 1} more case{'s' if len(failed_calls) > 2 else ''})" \
            if len(failed_calls) > 1 else ""
        problems.append((failed_calls[0].problem + more, failed_calls[0].hint))
    for name in part.outputs:
        issues = [(p, h) for o in outcomes for n, p, h in o.issues if n == name]
        if issues:
            more = f" (and {len(issues) - 1} more case{'s' if len(issues) > 2 else ''})" if len(issues) > 1 else ""
            problems.append((issues[0][0] + more, issues[0][1]))
    for problem, hint in problems:
        result.status = "fail"
        result.message += ("; " if result.message else "") + problem
        if hint and hint not in result.hints:
            result.hints.append(hint)
    if part.judge is not None:   # graded on the result, not against the reference
        if not problems:
            verdict = part.judge(part.cases, [o.values for o in outcomes])
            if verdict is not None:
                result.status, result.message = "fail", verdict[0]
                result.hints += [verdict[1]] if verdict[1] else []
        return result
    # compare the well-formed outputs with the reference, output by output
    from tinyrect.exercises.diagnosis import diagnose  # here: diagnosis.py builds on this module
    details = []
    for k, name in enumerate(part.outputs):
        good = [i for i, o in enumerate(outcomes) if o.values is not None and o.values[k] is not None]
        errors = [_error(outcomes[i].values[k], expected[i][k], part.kind) for i in good]
        worst = max(errors, default=0.0)
        if good:
            result.error = max(result.error or 0.0, worst)
        if worst > part.tol:
            result.status = "fail"
            bad = [i for i, e in zip(good, errors) if e > part.tol]
            which = (f"wrong on every input" if len(bad) == len(errors) else
                     f"wrong on {len(bad)} of {len(errors)} inputs, first with {shapes_of(part.cases[bad[0]])}")
            details.append(f"{name}: {which}" if part.kind == "ints" else f"{name}: rel error {worst:.1e} ({which})")
            hint = diagnose(part, k, [part.cases[i] for i in good], [outcomes[i].values[k] for i in good],
                            [expected[i][k] for i in good])
            hint = f"{name}: {hint}" if len(part.outputs) > 1 else hint
            if hint not in result.hints and not any(hint.endswith(h) for h in result.hints if h):
                result.hints.append(hint)
        elif len(part.outputs) > 1 and good:
            details.append(f"{name} ok")
    if result.status == "fail" and details and not problems:
        result.message = "; ".join(details)
    elif problems and any(not d.endswith(" ok") for d in details):
        result.message += "; where it ran: " + "; ".join(d for d in details if not d.endswith(" ok"))
    good = [i for i, o in enumerate(outcomes) if o.kind == "ok"]
    # finite differences of the reference forward (backward parts only)
    if part.fd_forward is not None and result.status == "pass":
        fd_errors = []
        for i in good:
            case = part.cases[i]
            if not case.smooth:
                continue
            numeric, picked = numerical_gradients(part.fd_forward, case.args[:-1], case.kwargs, case.args[-1],
                                                  max_entries=FD_ENTRIES, seed=i)
            fd_errors += [rel_error(np.ravel(a)[m], np.ravel(n)[m])
                          for a, n, m in zip(outcomes[i].values, numeric, picked)]
        result.fd_error = max(fd_errors, default=None)
        if result.fd_error is not None and result.fd_error > FD_TOL:
            result.status = "fail"
            result.message = f"disagrees with finite differences (rel error {result.fd_error:.1e})"
    return result


def blame_requirements(parts, results) -> None:
    """A failing part that builds on a failed one (Part.requires) is told to fix that one first,
    instead of a diagnosis computed from the broken piece's output (e.g. conv after im2col)."""
    failed = {r.func for r in results if r.status != "pass"}
    for part, result in zip(parts, results):
        if result.status == "fail" and part.requires in failed:
            result.hints = [f"fix {part.requires} first: this function probably calls it, so its "
                            f"mistakes show up here too"]


def _as_outputs(value, part):
    return tuple(value) if len(part.outputs) > 1 else (value,)


def _error(got, want, kind) -> float:
    if kind == "ints":  # 0 when equal, else the relative error of the worst entry
        return rel_error(np.array(got, dtype=np.float64), np.array(want, dtype=np.float64))
    return rel_error(got, want)
