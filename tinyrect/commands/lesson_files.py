"""Where the numbered lessons are, and their titles (shared by `tinyrect lessons`, `lesson`,
`notebooks` and `book`).

Where the lessons are looked up, first match wins:
  1. $TINYRECT_LESSONS_DIR, if set;
  2. <package>/lessons            (shipped inside the package, or a symlink);
  3. <package>/../lessons         (a source checkout, e.g. after `pip install -e .`);
  4. <sys.prefix>/share/tinyrect/lessons   (installed as data files by a regular `pip install .`).
"""
from __future__ import annotations

import os
import re
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
