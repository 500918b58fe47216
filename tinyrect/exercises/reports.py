"""The results of `tinyrect check` and their three forms: the report a student reads (with their own
output under each verdict), the instructor's class CSV, and Gradescope's autograder results.json.
Files are written atomically (a temporary file in the same folder, renamed) with the permissions
the umask gives a new file."""
from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tinyrect.serialization import atomic_write

EXCERPT = 200   # characters of a student's output in the CSV


@dataclass
class ExerciseResult:
    name: str
    path: Path | None
    status: str = "pass"      # "pass" | "fail" | "error" | "not implemented" | "missing" | "not graded"
    parts: list = field(default_factory=list)   # checking.PartResult, one per function (always all)
    message: str = ""         # what applies to the whole exercise (a file that cannot be imported, ...)
    output: str = ""          # what the student's code printed (stdout and stderr), capped
    notes: list = field(default_factory=list)
    whole: bool = False       # every part shares the exercise's status and message

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def max_error(self):
        errors = [p.error for p in self.parts if p.error is not None]
        return max(errors) if errors else None

    @property
    def score(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def max_score(self) -> float:
        return sum(p.max_points for p in self.parts)

    def first_hint(self) -> str:
        if self.whole:
            return self.message
        for part in self.parts:
            if part.status == "error":
                return f"{part.func}: {part.message}"
        for part in self.parts:
            if part.status == "fail":
                return f"{part.func}: " + (part.hints[0] if part.hints else part.message)
        return self.message


# ----------------------------------------------------------------------------- the student's report
def status_word(status: str) -> str:
    return {"pass": "pass", "fail": "FAIL", "not implemented": "not implemented yet", "missing": "missing",
            "error": "ERROR", "not graded": "not graded"}[status]


def _display(path) -> str:
    """A path relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def print_report(results, out=None):
    out = out or sys.stdout
    for r in results:
        where = f"  ({_display(r.path)})" if r.path else ""
        print(f"{r.name:<9} {status_word(r.status)}{where}", file=out)
        if r.message and r.whole:
            print(f"    {r.message}", file=out)
        for p in [] if r.whole else r.parts:
            line = f"    {p.func:<24} {status_word(p.status):<20}"
            if p.error is not None and p.status in ("pass", "fail"):
                line += f" rel error {p.error:.1e}"
                if p.fd_error is not None:
                    line += f", vs finite differences {p.fd_error:.1e}"
            print(line.rstrip(), file=out)
            if p.status in ("fail", "error"):
                print(f"        {p.message}", file=out)
                for hint in p.hints:
                    print(f"        hint: {hint}", file=out)
        for note in r.notes:
            print(f"    note: {note}", file=out)
        if r.output:
            print("    your code printed:", file=out)
            for line in r.output.rstrip("\n").split("\n"):
                print(f"    | {line}", file=out)
    passed = sum(r.passed for r in results)
    print(f"{passed}/{len(results)} exercise{'s' if len(results) != 1 else ''} pass", file=out)


def student_line(student: str, results) -> str:
    passed = sum(r.passed for r in results)
    if len(results) > 1 and all(r.status == "error" for r in results) and len({r.message for r in results}) == 1:
        return f"{student:<20} {passed}/{len(results)}  ERROR ({_shorten(results[0].message, 120)})"
    notes = []
    for r in results:
        note = f"{r.name} {status_word(r.status)}"
        if r.status in ("fail", "error"):
            note += f" ({_shorten(r.first_hint(), 90)})"
        notes.append(note)
    return f"{student:<20} {passed}/{len(results)}  " + "; ".join(notes)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def excerpt(output: str, width: int = EXCERPT) -> str:
    return _shorten(" ".join(output.split()), width)


# ----------------------------------------------------------------------------- files
def unwritable(path) -> str:
    """Why a file could not be written at `path` ('' when it can): checked before grading, so that a
    class run never ends in an unwritable CSV."""
    path = Path(path)
    if path.is_dir():
        return "it is a folder"
    try:
        path.resolve().parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.resolve().parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return ""


def write_atomically(path, text: str) -> None:
    """`path` gets all of `text` or keeps what it had (serialization.atomic_write: a temporary file
    beside it, renamed over it, with the permissions the umask gives a new file)."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def write_csv(path, rows, names):
    """One row per student: student, passed, total, then per exercise its status, largest relative
    error and a note (the hint, and an excerpt of the student's output); then the score and the
    maximum score (points: each exercise module's weights per part), and one column of points per
    part, "exercise:function" (partial credit: 2 of 3 conv functions right score their points)."""
    header = ["student", "passed", "total"]
    for n in names:
        header += [n, f"{n}_rel_error", f"{n}_note"]
    parts = _part_columns(rows, names)
    header += ["score", "max_score"] + [f"{n}:{func}" for n, func in parts]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for student, results in rows:
        row = [student, sum(r.passed for r in results), len(results)]
        for r in results:
            err = r.max_error
            note = "" if r.passed else r.first_hint()
            if r.output:
                note += (" | " if note else "") + "output: " + excerpt(r.output)
            row += [r.status, "" if err is None else f"{err:.3e}", note]
        points = {(r.name, p.func): p.points for r in results for p in r.parts}
        row += [_number(sum(r.score for r in results)), _number(sum(r.max_score for r in results))]
        row += [_number(points[key]) if key in points else "" for key in parts]
        writer.writerow(row)
    write_atomically(path, buffer.getvalue())


def _part_columns(rows, names) -> list:
    """(exercise, part) in the order the parts were graded: one points column each (partial credit)."""
    seen = {}
    for _, results in rows:
        for r in results:
            for p in r.parts:
                seen.setdefault((r.name, p.func), None)
    return sorted(seen, key=lambda key: names.index(key[0]) if key[0] in names else len(names))


def _number(x: float) -> str:
    return f"{x:g}"


def gradescope_results(results, header: str = "") -> dict:
    """Gradescope's autograder results.json: one test per function of each exercise."""
    tests = []
    for r in results:
        for p in r.parts:
            lines = [f"{status_word(p.status)}: {p.message}" if p.message else status_word(p.status)]
            lines += [f"hint: {h}" for h in p.hints] + [f"note: {n}" for n in r.notes]
            if r.output:
                lines += ["", "your code printed:", r.output]
            tests.append({"name": f"{r.name}: {p.func}", "score": p.points, "max_score": p.max_points,
                          "status": "passed" if p.passed else "failed", "output": "\n".join(lines)})
    passed = sum(r.passed for r in results)
    summary = f"{passed}/{len(results)} exercise{'s' if len(results) != 1 else ''} pass"
    return {"score": sum(t["score"] for t in tests), "max_score": sum(t["max_score"] for t in tests),
            "output": (header + "\n" if header else "") + summary, "tests": tests}


def write_json(path, results, header: str = "") -> None:
    write_atomically(path, json.dumps(gradescope_results(results, header), indent=2) + "\n")
