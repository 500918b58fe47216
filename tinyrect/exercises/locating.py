"""Where the exercises and the students' files are: the exercise modules, a student's folder, a
class folder (one sub-folder or one .py file per student), and the functions a file defines (read
with `ast`, never run in the grader's process)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

from tinyrect.exercises.catalogue import EXERCISES as CODE_EXERCISES
from tinyrect.exercises.questions import QUESTIONS

EXERCISES = CODE_EXERCISES + tuple(f"questions{lesson}" for lesson in sorted(QUESTIONS))
SOLUTIONS = Path(__file__).resolve().parent / "solutions"


def exercise(name: str):
    """The checks module of one exercise (NAME, TITLE, FILENAME, FUNCTIONS, LESSON, parts())."""
    if name.startswith("questions") and name[len("questions"):] in QUESTIONS:
        from tinyrect.exercises.questions import module
        return module(name[len("questions"):])
    try:
        return importlib.import_module(f"tinyrect.exercises.{name}")
    except ModuleNotFoundError as exc:
        if (exc.name or "").startswith("tinyrect.exercises.solutions"):
            raise MissingReference(f"the reference solutions (tinyrect/exercises/solutions/) are not installed, and "
                                   f"the grader computes the expected values of `{name}` from them: grade from an "
                                   f"install of the full repository (an instructor's copy)") from None
        raise


class MissingReference(RuntimeError):
    """The reference solutions the grader needs are absent (a copy of tinyrect without them)."""


def defined_functions(path: Path):
    """Names of the top-level functions (and assigned names, e.g. a questions file's q1) a file
    defines, read without running it (None: no parse)."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, OSError):
        return None  # unreadable: importing it will say why
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names | {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
                    if isinstance(t, ast.Name)}


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


def exercises_in_file(path: Path):
    """The exercises a single file answers: named after one, or defining any of its functions."""
    defined = defined_functions(path) or set()
    return [n for n in EXERCISES if n == Path(path).stem or set(exercise(n).FUNCTIONS) & defined]
