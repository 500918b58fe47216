"""`tinyrect lessons` (list the numbered lessons) and `tinyrect lesson N` (run one; `--notebook`:
write it as an executed notebook, see tinyrect.commands.notebooks).

A lesson is a script `lessons/NN_name.py` whose first markdown cell is its title
(`# # 01 · Tensors and the tape`). `tinyrect lesson N` runs it in a subprocess with this same
Python, in the current folder (so its figures land in ./lesson_output/NN/ unless --out says
otherwise), and returns the lesson's exit code: non-zero when one of its numerical checks failed.
The lesson files are found by tinyrect.commands.lesson_files.
"""
from __future__ import annotations

import subprocess
import sys

from tinyrect.commands.lesson_files import (  # noqa: F401
    LESSON_GLOB, find_lessons, lesson_title, lessons_dir, missing_lessons,
)


# ----------------------------------------------------------------------------- tinyrect lessons
def add_lessons_arguments(parser) -> None:
    parser.add_argument("--paths", action="store_true", help="print full paths instead of file names")


def run_lessons(args) -> int:
    found = find_lessons()
    if not found:
        return missing_lessons()
    for number, path in found.items():
        shown = path if getattr(args, "paths", False) else path.name
        print(f"{number:02d}  {lesson_title(path):<58} {shown}")
    print(f"\nrun one with: tinyrect lesson N [--quick] [--quiet] [--show] [--out DIR]   "
          f"(lessons in {path.parent})")
    return 0


# ----------------------------------------------------------------------------- tinyrect lesson N
def add_lesson_arguments(parser) -> None:
    parser.add_argument("number", help="the lesson's number, e.g. 1 or 01 (see `tinyrect lessons`)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (seconds; used by CI)")
    parser.add_argument("--show", action="store_true", help="open the figures in windows at the end")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the measurements (checks, tables), not the lesson's text")
    parser.add_argument("--notebook", action="store_true",
                        help="write the lesson as an executed Jupyter notebook instead "
                             "(needs: pip install -e \".[notebooks]\")")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="folder for the figures (default: ./lesson_output/NN/); with --notebook, "
                             "for the notebook (default: ./notebooks/)")


def run_lesson(args) -> int:
    found = find_lessons()
    if not found:
        return missing_lessons()
    valid = ", ".join(f"{n:02d}" for n in found)
    try:
        number = int(str(args.number))
    except ValueError:
        number = None
    if number not in found:
        print(f"tinyrect lesson: there is no lesson {args.number!r}; valid numbers are {valid} "
              "(list them with titles: tinyrect lessons)", file=sys.stderr)
        return 2
    if getattr(args, "notebook", False):
        from tinyrect.commands.notebooks import run_one

        return run_one(number, args.out, quick=args.quick)
    from tinyrect.commands.notebooks import not_a_folder

    if args.out and not_a_folder(args.out, "lesson"):
        return 2
    command = [sys.executable, str(found[number])]
    command += ["--quick"] if args.quick else []
    command += ["--show"] if args.show else []
    command += ["--quiet"] if getattr(args, "quiet", False) else []
    command += ["--out", str(args.out)] if args.out else []
    if getattr(args, "quiet", False):   # otherwise the lesson's own title cell says it
        print(f"running lesson {number:02d}: {lesson_title(found[number])}", flush=True)
    return subprocess.run(command).returncode
