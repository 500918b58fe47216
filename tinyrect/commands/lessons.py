"""`tinyrect lessons` (list the numbered lessons) and `tinyrect lesson N` (run one; `--notebook`:
write it as an executed notebook, see tinyrect.commands.notebooks).

A lesson is a script `lessons/NN_name.py` whose first markdown cell is its title
(`# # 01 · Tensors and the tape`). `tinyrect lesson N` runs it in a subprocess with this same
Python, in the current folder (so its figures land in ./lesson_output/NN/ unless --out says
otherwise), and returns the lesson's exit code: non-zero when one of its numerical checks failed.

Where the lessons are looked up, first match wins:
  1. $TINYRECT_LESSONS_DIR, if set;
  2. <package>/lessons            (shipped inside the package, or a symlink);
  3. <package>/../lessons         (a source checkout, e.g. after `pip install -e .`);
  4. <sys.prefix>/share/tinyrect/lessons   (installed as data files by a regular `pip install .`).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

LESSON_GLOB = "[0-9][0-9]_*.py"
_TITLE = re.compile(r"^#\s*#\s+(.+?)\s*$")


def lessons_dir() -> Path | None:
    """The folder holding the lesson scripts, or None if none of the known places has any."""
    package = Path(__file__).resolve().parents[1]  # the tinyrect package folder
    candidates = []
    if os.environ.get("TINYRECT_LESSONS_DIR"):
        candidates.append(Path(os.environ["TINYRECT_LESSONS_DIR"]))
    candidates += [package / "lessons", package.parent / "lessons",
                   Path(sys.prefix) / "share" / "tinyrect" / "lessons"]
    for folder in candidates:
        if folder.is_dir() and any(folder.glob(LESSON_GLOB)):
            return folder
    return None


def lesson_title(path: Path) -> str:
    """The first markdown heading `# # NN · Title` of the script, without its number."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            match = _TITLE.match(line)
            if match:
                return re.sub(r"^\d+\s*[·:.\-–]\s*", "", match.group(1))
    return path.stem.split("_", 1)[-1].replace("_", " ")


def find_lessons(folder: Path | None = None) -> dict:
    """{number: path} of every `NN_name.py` in the lessons folder, sorted by number."""
    folder = lessons_dir() if folder is None else folder
    if folder is None:
        return {}
    found = {}
    for path in sorted(folder.glob(LESSON_GLOB)):
        found.setdefault(int(path.name[:2]), path)
    return found


def missing_lessons() -> int:
    """Say where lessons are looked for; the exit status 2."""
    print("tinyrect: no lessons found. They live in the lessons/ folder of a source checkout "
          "(install with `pip install -e .` from it), or set TINYRECT_LESSONS_DIR to that folder.",
          file=sys.stderr)
    return 2


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
    command = [sys.executable, str(found[number])]
    command += ["--quick"] if args.quick else []
    command += ["--show"] if args.show else []
    command += ["--quiet"] if getattr(args, "quiet", False) else []
    command += ["--out", str(args.out)] if args.out else []
    if getattr(args, "quiet", False):   # otherwise the lesson's own title cell says it
        print(f"running lesson {number:02d}: {lesson_title(found[number])}", flush=True)
    return subprocess.run(command).returncode
