"""`tinyrect check`: grade the classroom exercises, one student or a whole class.

    tinyrect check --list                      the exercises, one line each
    tinyrect check prelu                       ./prelu.py, else lessons/exercises/prelu.py
    tinyrect check --path my_answers/          every exercise file in that folder
    tinyrect check prelu --path class/ --csv grades.csv     a class folder: one line per student
    tinyrect check prelu --json results.json  also write Gradescope's autograder results.json
    tinyrect check --solutions                 grade the reference solutions (instructor check)

Where the files are. A student's folder holds the exercise files under their own names (relu.py,
prelu.py, linear.py, conv.py, init.py, variance.py). A class folder holds one entry per student:
either a sub-folder named after the student (class/alice/prelu.py, ...; a file nested deeper, like
class/alice/exercises/prelu.py, is found too) or one Python file per student (class/bob.py) that
defines the functions of every exercise it answers. A folder that directly contains an exercise
file is one student's folder; any other folder is a class folder.

How a file is graded. Each student file runs in its own fresh Python process (sandbox.py), started
once for all the exercises it answers; the grader makes the inputs, computes the expected values
and judges the answers in its own process (judging.py). Each function of an exercise has a
wall-clock limit for all its cases (--timeout), the process a memory limit (--memory); a student
whose code crashes, exits, hangs, floods its output or runs out of memory gets an ERROR with the
reason, and the rest of the class is graded as usual.

Exit code: 0 when every requested exercise passes (for every student), 1 otherwise, 2 on bad usage,
130 when interrupted (Ctrl-C; a class run writes the students graded so far first).
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from tinyrect.exercises.attempts import Attempts
from tinyrect.exercises.checking import PartResult
from tinyrect.exercises.judging import Prepared, blame_requirements, judge_part
from tinyrect.exercises.locating import (EXERCISES, SOLUTIONS, MissingReference, default_file, defined_functions,
                                         exercise, exercises_in_file, file_in_folder, is_student_folder,
                                         students_in)
from tinyrect.exercises.reports import (ExerciseResult, print_report, student_line, unwritable, write_csv,
                                       write_json)
from tinyrect.exercises.sandbox import MEMORY, TIMEOUT, Limits, StudentProcess

__all__ = ["EXERCISES", "SOLUTIONS", "ExerciseResult", "Settings", "add_arguments", "default_file", "exercise",
           "file_in_folder", "grade", "grade_file", "grade_student", "run", "students_in"]


@dataclasses.dataclass
class Settings:
    """How to grade: the child's limits and the inputs' seed (None: each exercise's fixed inputs).
    timeout None: the exercise module's TIMEOUT if it has one, else 10 s."""
    timeout: float | None = None
    memory: int = MEMORY
    allow_reference: bool = False   # the test suite builds wrong answers from the reference
    no_tinyrect: bool = False       # tinyrect unimportable in the student's process
    seed: int | None = None
    hint: int | str | None = None   # hint level (1 = gentlest; None: the explicit last; "auto": attempts.py)
    max_hint: int | None = None     # the instructor's cap on the level
    prepared: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)   # per run
    attempts: Attempts | None = dataclasses.field(default=None, repr=False, compare=False)   # --hint auto

    def limits(self, names=()) -> Limits:
        """The child's limits; exercises whose drivers run on tinyrect (NEEDS_TINYRECT) keep it importable."""
        needs = any(getattr(exercise(n), "NEEDS_TINYRECT", False) for n in names)
        return Limits(timeout=self.timeout or TIMEOUT, memory=self.memory,
                      block_reference=not self.allow_reference, block_tinyrect=self.no_tinyrect and not needs)

    def hint_level(self, key: str = "") -> int | None:
        asked = self.attempts.level(key) if self.hint == "auto" and self.attempts else self.hint
        return min((v for v in (asked, self.max_hint) if isinstance(v, int)), default=None)

    def seconds(self, name: str) -> float:
        return self.timeout or getattr(exercise(name), "TIMEOUT", None) or TIMEOUT


def prepared_parts(name: str, settings: Settings) -> list:
    """The exercise's parts with their expected values, computed once per run (`settings`)."""
    if name not in settings.prepared:
        make, seed = exercise(name).parts, settings.seed
        takes_seed = seed is not None and "seed" in inspect.signature(make).parameters
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            settings.prepared[name] = [Prepared(p) for p in (make(seed=seed) if takes_seed else make())]
    return settings.prepared[name]


# ----------------------------------------------------------------------------- grading
def grade(name: str, path, seconds=None, allow_reference=False, settings: Settings | None = None) -> ExerciseResult:
    """Grade one exercise in one file (path None or absent: 'missing'). allow_reference=True lets the
    file import tinyrect.exercises.solutions (the test suite builds wrong answers that way)."""
    settings = settings or Settings(timeout=seconds, allow_reference=allow_reference)
    if path is None or not Path(path).is_file():
        return _whole(name, path, "missing", f"no {exercise(name).FILENAME} found", settings)
    return grade_file(path, [name], settings)[0]


def grade_file(path, names, settings: Settings | None = None) -> list:
    """Grade the exercises `names` answered by one file, all in one student process."""
    settings, path = settings or Settings(), Path(path)
    if path.resolve().parent == SOLUTIONS:   # the reference itself (an instructor's check)
        settings = dataclasses.replace(settings, allow_reference=True)
    defined = defined_functions(path)
    results, todo = {}, []
    for name in names:
        ex = exercise(name)
        if defined is not None and not set(ex.FUNCTIONS) & defined and path.stem != name:
            results[name] = _whole(name, path, "missing", f"{path.name} defines none of {', '.join(ex.FUNCTIONS)}",
                                   settings)
        else:
            todo.append(name)
    if todo:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            results.update(_run_file(path, todo, settings))
    return [results[n] for n in names]


def _whole(name, path, status, message, settings, output="") -> ExerciseResult:
    """A result whose every part shares one status and message (missing file, import failed, ...)."""
    parts = [PartResult(p.part.func, status, message=message, max_points=p.part.points)
             for p in prepared_parts(name, settings)]
    return ExerciseResult(name, path, status, parts, message=message, output=output, whole=True)


def _start(path, settings, cpu, names=()):
    """A started student process, or (None, the reason it could not import the file)."""
    process = StudentProcess(path, settings.limits(names), cpu)
    loaded = process.start()
    if loaded.status == "ok":
        return process, "", loaded
    process.close()
    if loaded.status == "raised":
        problem = loaded.problem
        reason = f"{path.name} {problem}" if problem.startswith("has a syntax error") else f"importing {path.name} {problem}"
    else:
        reason = f"importing {path.name}: your code {loaded.problem}"
    return None, reason, loaded


def _run_file(path: Path, names, settings: Settings) -> dict:
    preps = {n: prepared_parts(n, settings) for n in names}
    cpu = sum(settings.seconds(n) * len(preps[n]) for n in names) + settings.seconds(names[0])
    process, reason, loaded = _start(path, settings, cpu, names)
    output = process.take_output().text() if process else ""
    if process is None:
        return {n: _whole(n, path, "error", reason, settings, output if i == 0 else "") for i, n in enumerate(names)}
    results = {}
    try:
        for name in names:
            result = ExerciseResult(name, path, output=output)
            changed, refused = set(loaded.numpy_changed), set(loaded.refused)
            for prep in preps[name]:
                if process is not None and process.dead is not None:   # killed by the previous part
                    process.close()
                    process, reason, loaded = _start(path, settings, cpu, names)
                if process is None:
                    result.parts.append(PartResult(prep.part.func, "error", message=reason,
                                                   max_points=prep.part.points))
                    continue
                replies = _run_part(process, prep, settings.seconds(name))
                changed.update(n for r in replies for n in r.numpy_changed)
                refused.update(n for r in replies for n in r.refused)
                key = Attempts.key(path, name, prep.part.func)
                result.parts.append(_judge(prep, replies, settings.hint_level(key)))
                if settings.attempts is not None and result.parts[-1].status != "not implemented":
                    settings.attempts.record(key, result.parts[-1].passed)
            blame_requirements([p.part for p in preps[name]], result.parts)
            if process is not None:
                result.output = (result.output + process.take_output().text()).strip("\n")
            if changed:
                result.notes.append(f"your code replaces NumPy's own {', '.join('np.' + c for c in sorted(changed))}: "
                                    f"this only changes your own results; do not assign to np.*")
            result.notes += [f"your code tried an import that was refused: {m}" for m in sorted(refused)]
            _settle(result)
            results[name] = result
            output = ""
    finally:
        if process is not None:
            process.close()
    return results


def _judge(prep: Prepared, replies, hint_level=None) -> PartResult:
    """judge_part, and should judging itself fail (a flaw in an exercise's hint code), an error for
    this part only: one student's odd answer never stops a class run."""
    try:
        return judge_part(prep, replies, *([] if hint_level is None else [hint_level]))
    except Exception as exc:
        return PartResult(prep.part.func, "error", max_points=prep.part.points,
                          message=f"the grader could not judge this answer ({type(exc).__name__}: {exc}); "
                                  f"please report it to your instructor")


def _run_part(process, prep: Prepared, seconds: float) -> list:
    deadline = time.monotonic() + seconds
    replies = []
    for case in prep.part.cases:
        driver = prep.part.driver.__name__ if prep.part.driver else None
        replies.append(process.call(prep.part.func, case.args, case.kwargs, deadline, seconds, driver))
        if replies[-1].status in ("timeout", "died", "missing", "not callable"):
            break
    return replies


def _settle(result: ExerciseResult) -> None:
    statuses = {p.status for p in result.parts}
    if statuses == {"pass"}:
        result.status = "pass"
    elif "error" in statuses:
        result.status = "error"
    elif statuses <= {"pass", "not implemented"}:
        result.status, result.message = "not implemented", "not implemented yet"
    else:
        result.status = "fail"


def grade_student(entry: Path, names, settings: Settings | None = None) -> list:
    """A student's folder (one file per exercise) or single file, one process per file."""
    settings = settings or Settings()
    if not entry.is_dir():
        return grade_file(entry, names, settings)
    files, results = {}, {}
    for name in names:
        path = file_in_folder(entry, name)
        if path is None:
            results[name] = _whole(name, None, "missing", f"no {exercise(name).FILENAME} found", settings)
        else:
            files.setdefault(path, []).append(name)
    for path, group in files.items():
        results.update(zip(group, grade_file(path, group, settings)))
    return [results[n] for n in names]


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
    parser.add_argument("--json", metavar="FILE", help="write one student's result as Gradescope's autograder "
                                                         "results.json (one test per function)")
    parser.add_argument("--timeout", type=_positive, default=None, metavar="SECONDS",
                        help=f"wall-clock limit for each function of an exercise, all its cases (default {TIMEOUT:g})")
    parser.add_argument("--memory", type=_memory, default=MEMORY, metavar="BYTES",
                        help="address-space limit of each student's process, e.g. 2G, 512M (default 2G)")
    parser.add_argument("--no-tinyrect", action="store_true",
                        help="make tinyrect itself unimportable in the students' files (answers in NumPy only); "
                             "on by default for a class folder (except tape and capstone, which run on tinyrect)")
    parser.add_argument("--allow-tinyrect", action="store_true",
                        help="a class folder: let the students' files import tinyrect")
    parser.add_argument("--hint", type=_hint, default=None, metavar="LEVEL", help="hint level: 1 a nudge, 2 more, "
                        "3 the explicit hint (default); auto: one level more after each failed attempt")
    parser.add_argument("--max-hint", type=int, choices=(1, 2, 3), default=None, metavar="LEVEL",
                        help="the instructor's cap on the hint level (e.g. 1 in an exam)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="draw the test inputs with this seed (default: a new one per run, shown with the results)")
    parser.epilog = "Exit code 0 only when every requested exercise passes; 1 otherwise, 2 on bad usage, 130 on Ctrl-C."


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds (e.g. --timeout 10)")
    return value


def _hint(text: str):
    if text not in ("1", "2", "3", "auto"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a hint level: 1, 2, 3 or auto")
    return text if text == "auto" else int(text)


def _memory(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    try:
        value = float(text[:-1]) * units[text[-1].upper()] if text[-1:].upper() in units else float(text)
    except ValueError:
        value = -1.0
    if value < 64 * 2**20:
        raise argparse.ArgumentTypeError(f"{text!r} is not a memory size of at least 64M (e.g. --memory 2G)")
    return int(value)


def run(args) -> int:
    try:
        return _run(args)
    except MissingReference as exc:
        return _usage(str(exc))


def _run(args) -> int:
    if args.list:
        for n in EXERCISES:
            ex = exercise(n)
            print(f"{n:<11} lesson {ex.LESSON}  {ex.TITLE}")
            print(f"{'':<21} {ex.FILENAME}: {', '.join(ex.FUNCTIONS)}")
        return 0
    unknown = [n for n in args.exercise if n not in EXERCISES]
    if unknown:
        return _usage(f"unknown exercise {', '.join(unknown)}; choose from {', '.join(EXERCISES)} "
                      f"(tinyrect check --list)")
    names = list(dict.fromkeys(args.exercise)) or list(EXERCISES)
    for flag, target in (("--csv", args.csv), ("--json", args.json)):
        problem = target and unwritable(target)
        if problem:
            return _usage(f"cannot write {target} ({problem}); give {flag} a file in a folder you can write to")
    args.seed = seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big") % 10 ** 6
    settings = Settings(timeout=args.timeout, memory=args.memory, no_tinyrect=args.no_tinyrect, seed=seed,
                        hint=args.hint, max_hint=args.max_hint, attempts=Attempts() if args.hint == "auto" else None)
    try:
        if args.solutions:
            settings.allow_reference = True
            return _finish_single([grade(n, SOLUTIONS / exercise(n).FILENAME, settings=settings) for n in names], args)
        if args.path is None:
            results = [grade(n, default_file(n), settings=settings) for n in names]
            for r in results:
                if r.status == "missing":
                    r.message = (f"no {exercise(r.name).FILENAME} with the exercise's functions in "
                                 f"{Path.cwd()} or lessons/exercises/; use --path FILE_OR_FOLDER")
            return _finish_single(results, args)
        path = Path(args.path)
        if not path.exists():
            return _usage(f"{path} does not exist; give a student's file or folder, or a class folder")
        if path.is_file():
            names = names if args.exercise else exercises_in_file(path)
            if not names:
                return _usage(f"{path} defines none of the exercises' functions; name the exercise "
                              f"(tinyrect check prelu --path {path})")
            return _finish_single(grade_file(path, names, settings), args)
        if is_student_folder(path):
            return _finish_single(grade_student(path, names, settings), args)
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): grading stopped, nothing written", file=sys.stderr)
        return 130
    if args.json:
        return _usage("--json writes one student's result; for a class folder use --csv")
    settings.no_tinyrect = not args.allow_tinyrect   # class mode: answers in NumPy, not by wrapping tinyrect
    return _grade_class(path, names, args, settings)


def _usage(message: str) -> int:
    print(f"tinyrect check: {message}", file=sys.stderr)
    return 2


def _finish_single(results, args) -> int:
    print_report(results)
    label = "solutions" if args.solutions else Path(args.path).stem if args.path else Path.cwd().name
    if args.seed is not None:
        print(f"inputs drawn with --seed {args.seed} (rerun with it to get the same inputs)")
    if args.csv:
        write_csv(Path(args.csv), [(label, results)], [r.name for r in results])
        print(f"wrote {args.csv}")
    if args.json:
        write_json(Path(args.json), results, header="" if args.seed is None else f"inputs drawn with --seed {args.seed}")
        print(f"wrote {args.json}")
    return 0 if all(r.passed for r in results) else 1


def _grade_class(folder: Path, names, args, settings: Settings) -> int:
    students = students_in(folder)
    if not students:
        return _usage(f"{folder} holds no student sub-folders or .py files")
    target = Path(args.csv or "grades.csv")
    rows, interrupted = [], False
    try:
        for student, entry in students:
            results = grade_student(entry, names, settings)
            rows.append((student, results))
            print(student_line(student, results), flush=True)
    except KeyboardInterrupt:
        interrupted = True
        for student, _ in students[len(rows):]:
            rows.append((student, [ExerciseResult(n, None, "not graded", message="not graded: the run was interrupted")
                                   for n in names]))
    write_csv(target, rows, names)
    graded = len(rows) if not interrupted else sum(r.status != "not graded" for _, rs in rows for r in rs[:1])
    if interrupted:
        print(f"\ninterrupted (Ctrl-C): {graded} of {len(rows)} students graded; the others are marked "
              f"'not graded' in {target}", file=sys.stderr)
        return 130
    everyone = sum(all(r.passed for r in results) for _, results in rows)
    print(f"{everyone}/{len(rows)} students pass every exercise ({', '.join(names)}); wrote {target}; "
          f"inputs drawn with --seed {settings.seed}")
    return 0 if everyone == len(rows) else 1
