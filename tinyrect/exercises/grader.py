"""`tinyrect check`: grade the classroom exercises, one student or a whole class.

    tinyrect check --list                      the exercises, one line each
    tinyrect check prelu                       ./prelu.py, else lessons/exercises/prelu.py
    tinyrect check --path my_answers/          every exercise file in that folder
    tinyrect check prelu --path class/ --csv grades.csv     a class folder: one line per student
    tinyrect check --solutions                 grade the reference solutions (instructor check)

Where the files are. A student's folder holds the exercise files under their own names (relu.py,
prelu.py, linear.py, conv.py, init.py, variance.py). A class folder holds one entry per student:
either a sub-folder named after the student (class/alice/prelu.py, ...; a file nested deeper, like
class/alice/exercises/prelu.py, is found too) or one Python file per student (class/bob.py) that
defines the functions of every exercise it answers. A folder that directly contains an exercise
file is one student's folder; any other folder is a class folder.

Exit code: 0 when every requested exercise passes (for every student), 1 otherwise, 2 on bad usage.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import importlib
import importlib.util
import io
import itertools
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EXERCISES = ("relu", "prelu", "linear", "conv", "init", "variance")
SOLUTIONS = Path(__file__).resolve().parent / "solutions"
_counter = itertools.count()


def exercise(name: str):
    """The checks module of one exercise (NAME, TITLE, FILENAME, FUNCTIONS, parts())."""
    return importlib.import_module(f"tinyrect.exercises.{name}")


@dataclass
class ExerciseResult:
    name: str
    path: Path | None
    status: str = "pass"            # "pass" | "fail" | "not implemented" | "missing" | "error"
    parts: list = field(default_factory=list)
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def max_error(self):
        errors = [p.error for p in self.parts if p.error is not None]
        return max(errors) if errors else None

    def first_hint(self) -> str:
        for part in self.parts:
            if part.status == "fail":
                return f"{part.func}: " + (part.hints[0] if part.hints else part.message)
        return self.message


# ----------------------------------------------------------------------------- loading safely
def defined_functions(path: Path) -> set:
    """Names of the top-level functions a file defines, read without running it (None: no parse)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, OSError):
        return None  # unreadable: importing it will say why
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def load_student_file(path: Path):
    """Import `path` under a fresh module name; returns (module, None) or (None, what went wrong).

    The file's folder is on sys.path while it is imported (so it may import its own helpers), the
    modules it imported from there are forgotten afterwards, no .pyc is written into the student's
    folder, and its prints are swallowed.
    """
    from tinyrect.exercises.checking import TIME_LIMIT, describe_exception, time_limit

    path = Path(path).resolve()
    name = f"tinyrect_student_{next(_counter)}_{''.join(ch if ch.isalnum() else '_' for ch in path.stem)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None, f"cannot import {path.name}: not a Python file"
    module = importlib.util.module_from_spec(spec)
    saved_path, saved_bytecode, before = list(sys.path), sys.dont_write_bytecode, set(sys.modules)
    sys.path.insert(0, str(path.parent))
    sys.dont_write_bytecode = True
    sys.modules[name] = module
    sink = io.StringIO()
    try:
        with time_limit(TIME_LIMIT), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            spec.loader.exec_module(module)
        return module, None
    except SyntaxError as exc:
        return None, f"{path.name} has a syntax error on line {exc.lineno}: {exc.msg}"
    except (Exception, SystemExit) as exc:
        return None, f"importing {path.name} raised {describe_exception(exc, str(path))}"
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        for added in set(sys.modules) - before:
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if added == name or origin.startswith(str(path.parent) + os.sep):
                sys.modules.pop(added, None)


# ----------------------------------------------------------------------------- grading
def uses_reference(path: Path) -> bool:
    """Does the file import tinyrect's reference solutions (or name their module at all)?"""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "exercises.solutions" in text or "exercises/solutions" in text or (
        "tinyrect.exercises" in text and "solutions" in text)


def _numpy_changes(saved: dict) -> list:
    """Names of NumPy's functions that a student's file replaced (then put back)."""
    changed = sorted(k for k, v in saved.items() if vars(np).get(k) is not v)
    for k in changed:
        setattr(np, k, saved[k])
    return changed


def grade(name: str, path, seconds=None, allow_reference=False) -> ExerciseResult:
    """Grade one exercise in one file (path None or absent: 'missing').

    allow_reference=True lets the file import tinyrect.exercises.solutions (the test suite builds
    wrong answers from the right ones that way); a student's file that does so fails.
    NumPy's floating-point warnings are silenced while grading: a student's NaN is reported as such.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _grade(name, path, seconds, allow_reference)


def _grade(name, path, seconds, allow_reference) -> ExerciseResult:
    from tinyrect.exercises.checking import TIME_LIMIT, grade_part

    ex = exercise(name)
    if path is None or not Path(path).is_file():
        return ExerciseResult(name, path, "missing", message=f"no {ex.FILENAME} found")
    path = Path(path)
    defined = defined_functions(path)
    if defined is not None and not set(ex.FUNCTIONS) & defined and path.stem != name:
        return ExerciseResult(name, path, "missing", message=f"{path.name} defines none of {', '.join(ex.FUNCTIONS)}")
    if not allow_reference and path.resolve().parent != SOLUTIONS and uses_reference(path):
        return ExerciseResult(name, path, "fail", message=f"{path.name} uses tinyrect's reference solutions "
                                                          f"(tinyrect.exercises.solutions): write your own")
    saved = dict(vars(np))

    def numpy_replaced():
        changed = _numpy_changes(saved)
        return changed and ExerciseResult(name, path, "error", message=f"{path.name} replaces NumPy's own "
                                          f"{', '.join('np.' + c for c in changed)}; grading stopped "
                                          f"(do not assign to np.*)")

    module, problem = load_student_file(path)
    stop = numpy_replaced()
    if stop or module is None:
        return stop or ExerciseResult(name, path, "error", message=problem)
    result = ExerciseResult(name, path)
    for part in ex.parts():
        result.parts.append(grade_part(getattr(module, part.func, None), part, str(path.resolve()),
                                       seconds or TIME_LIMIT))
        stop = numpy_replaced()
        if stop:
            return stop
    statuses = {p.status for p in result.parts}
    if statuses == {"pass"}:
        result.status = "pass"
    elif statuses <= {"pass", "not implemented"}:
        result.status, result.message = "not implemented", "not implemented yet"
    else:
        result.status = "fail"
    return result


def default_file(name: str):
    """./<file> when it holds this exercise's functions, else lessons/exercises/<file>."""
    filename = exercise(name).FILENAME
    for folder in (Path.cwd(), Path.cwd() / "lessons" / "exercises"):
        candidate = folder / filename
        if candidate.is_file():
            defined = defined_functions(candidate)
            if defined is None or set(exercise(name).FUNCTIONS) & defined:
                return candidate
    return None


def is_student_folder(folder: Path) -> bool:
    return any((folder / exercise(n).FILENAME).is_file() for n in EXERCISES)


def file_in_folder(folder: Path, name: str):
    """folder/<file>, or the first <file> found deeper (a student who zipped a sub-folder)."""
    filename = exercise(name).FILENAME
    if (folder / filename).is_file():
        return folder / filename
    found = sorted(p for p in folder.rglob(filename) if "__pycache__" not in p.parts
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return found[0] if found else None


def students_in(folder: Path):
    """(student name, folder or file) for each entry of a class folder, sorted by name."""
    entries = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() or entry.suffix == ".py":
            entries.append((entry.stem if entry.is_file() else entry.name, entry))
    return entries


def grade_student(entry: Path, names, seconds=None) -> list:
    if entry.is_dir():
        return [grade(n, file_in_folder(entry, n), seconds) for n in names]
    return [grade(n, entry, seconds) for n in names]


# ----------------------------------------------------------------------------- printing
def _status_word(status: str) -> str:
    return {"pass": "pass", "fail": "FAIL", "not implemented": "not implemented yet",
            "missing": "missing", "error": "ERROR"}[status]


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
        print(f"{r.name:<9} {_status_word(r.status)}{where}", file=out)
        if r.status in ("missing", "error"):
            print(f"    {r.message}", file=out)
            continue
        for p in r.parts:
            line = f"    {p.func:<24} {_status_word(p.status):<20}"
            if p.error is not None and p.status in ("pass", "fail"):
                line += f" rel error {p.error:.1e}"
                if p.fd_error is not None:
                    line += f", vs finite differences {p.fd_error:.1e}"
            print(line.rstrip(), file=out)
            if p.status == "fail":
                print(f"        {p.message}", file=out)
                for hint in p.hints:
                    print(f"        hint: {hint}", file=out)
    passed = sum(r.passed for r in results)
    print(f"{passed}/{len(results)} exercise{'s' if len(results) != 1 else ''} pass", file=out)


def student_line(student: str, results) -> str:
    passed = sum(r.passed for r in results)
    if len(results) > 1 and all(r.status == "error" for r in results) and len({r.message for r in results}) == 1:
        return f"{student:<20} 0/{len(results)}  ERROR ({_shorten(results[0].message, 120)})"
    notes = []
    for r in results:
        note = f"{r.name} {_status_word(r.status)}"
        if r.status in ("fail", "error"):
            note += f" ({_shorten(r.first_hint(), 90)})"
        notes.append(note)
    return f"{student:<20} {passed}/{len(results)}  " + "; ".join(notes)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def write_csv(path: Path, rows, names):
    """One row per student; written to a temporary file in the same folder, then renamed."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["student", "passed", "total"]
    for n in names:
        header += [n, f"{n}_rel_error", f"{n}_note"]
    handle = tempfile.NamedTemporaryFile("w", newline="", encoding="utf-8", dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for student, results in rows:
                row = [student, sum(r.passed for r in results), len(results)]
                for r in results:
                    err = r.max_error
                    row += [r.status, "" if err is None else f"{err:.3e}",
                            "" if r.passed else r.first_hint()]
                writer.writerow(row)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------- the command
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", nargs="*", metavar="EXERCISE",
                        help=f"which exercises to grade: {', '.join(EXERCISES)} (default: all)")
    parser.add_argument("--path", metavar="FILE_OR_DIR", help="a student's file or folder, or a class folder "
                                       "(one sub-folder or .py file per student)")
    parser.add_argument("--list", action="store_true", help="list the exercises and exit")
    parser.add_argument("--solutions", action="store_true",
                        help="grade the reference solutions (instructor check)")
    parser.add_argument("--csv", metavar="FILE", help="write a CSV summary (class folders: "
                                                       "default grades.csv in the current folder)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit per call of a student's function (default 10)")
    parser.epilog = "Exit code 0 only when every requested exercise passes."


def run(args) -> int:
    if args.list:
        for n in EXERCISES:
            ex = exercise(n)
            print(f"{n:<9} {ex.FILENAME:<12} {ex.TITLE}")
            print(f"{'':<22} functions: {', '.join(ex.FUNCTIONS)}")
        return 0
    unknown = [n for n in args.exercise if n not in EXERCISES]
    if unknown:
        print(f"tinyrect check: unknown exercise {', '.join(unknown)}; choose from {', '.join(EXERCISES)} "
              f"(tinyrect check --list)", file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.exercise)) or list(EXERCISES)
    if args.solutions:
        results = [grade(n, SOLUTIONS / exercise(n).FILENAME, args.timeout) for n in names]
        return _finish_single(results, args)
    if args.path is None:
        results = [grade(n, default_file(n), args.timeout) for n in names]
        for r in results:
            if r.status == "missing":
                r.message = (f"no {exercise(r.name).FILENAME} with the exercise's functions in "
                             f"{Path.cwd()} or lessons/exercises/; use --path FILE_OR_FOLDER")
        return _finish_single(results, args)
    path = Path(args.path)
    if not path.exists():
        print(f"tinyrect check: {path} does not exist; give a student's file or folder, or a class folder",
              file=sys.stderr)
        return 2
    if path.is_file():
        if not args.exercise:
            defined = defined_functions(path) or set()
            names = [n for n in EXERCISES if n == path.stem or set(exercise(n).FUNCTIONS) & defined]
            if not names:
                print(f"tinyrect check: {path} defines none of the exercises' functions; name the exercise "
                      f"(tinyrect check prelu --path {path})", file=sys.stderr)
                return 2
        return _finish_single([grade(n, path, args.timeout) for n in names], args)
    if is_student_folder(path):
        return _finish_single([grade(n, file_in_folder(path, n), args.timeout) for n in names], args)
    return _grade_class(path, names, args)


def _finish_single(results, args) -> int:
    print_report(results)
    if args.csv:
        label = "solutions" if args.solutions else Path(args.path).stem if args.path else Path.cwd().name
        write_csv(Path(args.csv), [(label, results)], [r.name for r in results])
        print(f"wrote {args.csv}")
    return 0 if all(r.passed for r in results) else 1


def _grade_class(folder: Path, names, args) -> int:
    students = students_in(folder)
    if not students:
        print(f"tinyrect check: {folder} holds no student sub-folders or .py files", file=sys.stderr)
        return 2
    rows = []
    for student, entry in students:
        results = grade_student(entry, names, args.timeout)
        rows.append((student, results))
        print(student_line(student, results), flush=True)
    target = Path(args.csv or "grades.csv")
    write_csv(target, rows, names)
    everyone = sum(all(r.passed for r in results) for _, results in rows)
    print(f"{everyone}/{len(rows)} students pass every exercise ({', '.join(names)}); wrote {target}")
    return 0 if everyone == len(rows) else 1
