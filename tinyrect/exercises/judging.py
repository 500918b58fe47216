"""Judging a student's answers, in the grader's own process, from the replies alone.

The student's function runs in a separate process (sandbox.py, child.py), which sends back, for
each case, a `Reply`: the values it returned and the arguments as they were after the call, or what
went wrong. `judge_part` then, for one part:
  1. reports anything malformed (exception, crash, time out, wrong type/shape/dtype, NaN, an input
     modified in place) with the case's shapes;
  2. compares each output with the reference (checking.rel_error below TOL);
  3. backward parts: also compares with central differences of the reference forward, on the cases
     that stay away from kinks;
  4. diagnoses a wrong output (diagnosis.py): a catalogue variant that reproduces the student's
     answer names the mistake; else a region, a sign flip, a factor, or the worst entry.
The reference values and finite differences are computed once per part (`Prepared`) and shared by
every student of a run. `grade_part(fn, part)` calls a trusted function in this process instead
(the test suite grades the catalogue's own variants that way).
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import math
from dataclasses import dataclass, field

import numpy as np

from tinyrect.exercises import child
from tinyrect.exercises.checking import (FD_ENTRIES, FD_TOL, MEMORY_HINT, Case, Part, PartResult, Reply,
                                         as_outputs, copy_value, numerical_gradients, rel_error, shapes_of)
from tinyrect.exercises.diagnosis import diagnose


def call_in_process(fn, case: Case, student_file=None, driver=None) -> Reply:
    """Call a trusted function here (through the part's driver, if any), on copies of the case's
    inputs, its prints swallowed."""
    if fn is None:
        return Reply("missing")
    if not callable(fn) and driver is None:
        return Reply("not callable", problem=type(fn).__name__)
    args = [copy_value(v) for v in case.args]
    kwargs = {k: copy_value(v) for k, v in case.kwargs.items()}
    target = fn if driver is None else (lambda *a, **k: driver(fn, *a, **k))
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        header, value = child.call(target, args, kwargs, student_file, catch=(Exception, SystemExit))
    if header["status"] == "raised":
        return Reply("raised", exception=value, problem=header["exception"]["text"])
    return Reply(header["status"], value=value, after=tuple(args) + tuple(kwargs.values()))


# ----------------------------------------------------------------------------- one reply
@dataclass
class Outcome:
    values: tuple | None = None   # one entry per output, normalized (None: that output is malformed)
    kind: str = "ok"              # "ok" | "partial" | "not implemented" | "problem" | "error"
    problem: str = ""
    hint: str = ""
    issues: list = field(default_factory=list)   # (output name, problem, hint) of malformed outputs


STOP_HINTS = {
    "timeout": "an endless loop? If your code is only slow, raise the limit: tinyrect check --timeout SECONDS",
    "exit": "do not end the process (os._exit, sys.exit, signals) in an exercise: return your answer",
    "flood": "remove the prints inside loops: the grader shows the first 20 kB of your output",
}


def outcome(reply: Reply, case: Case, part: Part, expected: tuple) -> Outcome:
    """Judge the form of one reply: errors, in-place edits, types, shapes, dtypes, NaN."""
    where = f"with {shapes_of(case)}"
    if reply.status == "not implemented":
        return Outcome(kind="not implemented")
    if reply.status in ("timeout", "died"):
        hint = STOP_HINTS["timeout"] if reply.status == "timeout" else (
            STOP_HINTS["exit"] if "exit code" in reply.problem or "ended the process with" in reply.problem else
            STOP_HINTS["flood"] if "flooded" in reply.problem else MEMORY_HINT if "memory" in reply.problem else "")
        return Outcome(kind="error", problem=f"your code {reply.problem} ({where})", hint=hint)
    if reply.status == "raised":
        hint = part.exception_hint(reply.exception, case) if part.exception_hint else ""
        if isinstance(reply.exception, MemoryError):
            hint = MEMORY_HINT
        return Outcome(kind="problem", problem=f"raised {reply.problem} {where}", hint=hint)
    if reply.status != "ok":
        return Outcome(kind="problem", problem=f"the grader got an unexpected reply ({reply.status}) {where}")
    befores = tuple(case.args) + tuple(case.kwargs.values())
    for name, before, after in zip(case.names + tuple(case.kwargs), befores, reply.after):
        if isinstance(before, np.ndarray) and not (isinstance(after, np.ndarray) and after.shape == before.shape
                                                   and np.array_equal(after, before, equal_nan=True)):
            return Outcome(kind="problem", problem=f"modified its input `{name}` in place {where}",
                           hint=f"work on a copy (e.g. `{name} = {name}.copy()`) or build a new array "
                                f"(np.where, np.maximum); never write into the arrays you are given")
    result, names = reply.value, part.outputs
    if len(names) > 1:
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = f"a {child.type_name(result)}" + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
            return Outcome(kind="problem", problem=f"returned {got} {where}; expected a tuple ({', '.join(names)})")
        result = tuple(result)
    else:
        result = (result,)
    values, issues = [], []
    for name, value, want in zip(names, result, expected):
        checked = check_value(name, value, want, part, case, where)
        if isinstance(checked, Outcome):   # this output is malformed; the others are still graded
            issues.append((name, checked.problem, checked.hint))
            checked = None
        values.append(checked)
    return Outcome(values=tuple(values), kind="ok" if not issues else "partial", issues=issues)


def check_value(name, value, want, part, case, where):
    """The value normalized (a float, a tuple of ints, a float64 array), or an Outcome saying why not."""
    if part.kind == "scalar":
        if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
            value = value.reshape(())[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            return Outcome(kind="problem", problem=f"returned {child.type_name(value)} {_short(value)} {where}; "
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
    if isinstance(value, (np.generic, float, int)) and not isinstance(value, (bool, np.bool_)):
        value = np.asarray(value)   # a number where an array belongs: reported as a shape () below
    if not isinstance(value, np.ndarray):
        return Outcome(kind="problem", problem=f"{name} is a {child.type_name(value)} {where}; "
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


# ----------------------------------------------------------------------------- judging a part
class Prepared:
    """A part with the reference's outputs on every case, computed once, and its finite differences
    computed on first use: shared by every student of a run."""

    def __init__(self, part: Part):
        self.part = part
        self.expected = [as_outputs(part.reference(*[copy_value(a) for a in c.args],
                                                   **{k: copy_value(v) for k, v in c.kwargs.items()}), part)
                         for c in part.cases]
        self._fd = {}

    def finite_differences(self, i: int):
        """(numeric gradients, picked entries) of the reference forward on case i."""
        if i not in self._fd:
            case = self.part.cases[i]
            self._fd[i] = numerical_gradients(self.part.fd_forward, case.args[:-1], case.kwargs, case.args[-1],
                                              max_entries=FD_ENTRIES, seed=i)
        return self._fd[i]


def grade_part(fn, part: Part, student_file=None, seconds=None, hint_level=None) -> PartResult:
    """Grade a trusted function in this process (`seconds` is ignored: kept for old callers)."""
    prepared = Prepared(part)
    return judge_part(prepared, [call_in_process(fn, case, student_file, part.driver) for case in part.cases],
                      hint_level)


def _more(items) -> str:
    return f" (and {len(items) - 1} more case{'s' if len(items) > 2 else ''})" if len(items) > 1 else ""


def judge_part(prepared: Prepared, replies: list, hint_level: int | None = None) -> PartResult:
    """The verdict on one part from the replies of the student's function, one per case (fewer when
    the process stopped: a time out or a crash ends the part). hint_level 1, 2, ... gives the
    catalogue's gentler hints (None: the explicit last level); the result is named by the part's label."""
    part = prepared.part
    if hint_level is not None:
        part = dataclasses.replace(part, catalogue=[dataclasses.replace(v, hint=v.at(hint_level), nudges=())
                                                    for v in part.catalogue])
    result = _judge_part(part, prepared, replies)
    result.func = part.label or part.func
    return result


def blame_requirements(parts, results) -> None:
    """A failing part that builds on a failed one (Part.requires) is told to fix that one first,
    instead of a diagnosis computed from the broken piece's output (e.g. conv2d after im2col)."""
    failed = {p.func for p, r in zip(parts, results) if r.status != "pass"}
    for part, result in zip(parts, results):
        if result.status == "fail" and part.requires in failed:
            result.hints = [f"fix {part.requires} first: this function builds on it, so its mistakes show up "
                            f"here too"]


def _judge_part(part: Part, prepared: Prepared, replies: list) -> PartResult:
    expected = prepared.expected
    base = dict(max_points=part.points)
    if replies and replies[0].status == "missing":
        return PartResult(part.func, "missing", message=f"no function `{part.func}` in the file", **base)
    if replies and replies[0].status == "not callable":
        return PartResult(part.func, "fail", message=f"`{part.func}` is a {replies[0].problem}, not a function", **base)
    outcomes = [outcome(r, c, part, e) for r, c, e in zip(replies, part.cases, expected)]
    stopped = [o for o in outcomes if o.kind == "error"]
    if stopped:
        return PartResult(part.func, "error", message=stopped[0].problem,
                          hints=[stopped[0].hint] if stopped[0].hint else [], **base)
    if all(o.kind == "not implemented" for o in outcomes):
        return PartResult(part.func, "not implemented", message="not implemented yet", **base)
    if any(o.kind == "not implemented" for o in outcomes):
        case = part.cases[[o.kind for o in outcomes].index("not implemented")]
        return PartResult(part.func, "fail", message=f"raised NotImplementedError with {shapes_of(case)}",
                          hints=["this case is not handled yet"], **base)
    result = PartResult(part.func, "pass", **base)
    problems = []   # (problem, hint): the first whole-call failure, then the first per malformed output
    failed_calls = [o for o in outcomes if o.kind == "problem"]
    if failed_calls:
        problems.append((failed_calls[0].problem + _more(failed_calls), failed_calls[0].hint))
    for name in part.outputs:
        issues = [(p, h) for o in outcomes for n, p, h in o.issues if n == name]
        if issues:
            problems.append((issues[0][0] + _more(issues), issues[0][1]))
    for problem, hint in problems:
        result.status = "fail"
        result.message += ("; " if result.message else "") + problem
        if hint and hint not in result.hints:
            result.hints.append(hint)
    if part.judge is not None:   # graded on the result (a measurement, a choice), not against the reference
        verdict = None if problems else part.judge(part.cases, [o.values for o in outcomes])
        if verdict is not None:
            result.status, result.message = "fail", verdict[0]
            result.hints += [verdict[1]] if verdict[1] else []
        return result
    _compare(part, outcomes, expected, result, problems)
    if part.fd_forward is not None and result.status == "pass":
        fd_errors = []
        for i, o in enumerate(outcomes):
            if o.kind == "ok" and part.cases[i].smooth:
                numeric, picked = prepared.finite_differences(i)
                fd_errors += [rel_error(np.ravel(a)[m], np.ravel(n)[m]) for a, n, m in zip(o.values, numeric, picked)]
        result.fd_error = max(fd_errors, default=None)
        if result.fd_error is not None and result.fd_error > FD_TOL:
            result.status = "fail"
            result.message = f"disagrees with finite differences (rel error {result.fd_error:.1e})"
    return result


def _compare(part, outcomes, expected, result, problems) -> None:
    """Compare the well-formed outputs with the reference, output by output, and diagnose."""
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
            which = ("wrong on every input" if len(bad) == len(errors) else
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


def _error(got, want, kind) -> float:
    if kind == "ints":  # 0 when equal, else the relative error of the worst entry
        return rel_error(np.array(got, dtype=np.float64), np.array(want, dtype=np.float64))
    return rel_error(got, want)
