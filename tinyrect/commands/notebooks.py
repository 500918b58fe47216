"""Lessons as executed Jupyter notebooks: `tinyrect lesson N --notebook [--out DIR]` (one) and
`tinyrect notebooks [--out DIR]` (all of them).

jupytext reads the percent-format script into a notebook, nbclient executes it in a fresh
Python kernel whose working folder is DIR, and nbformat writes DIR/NN_name.ipynb (atomically)
with every output and figure inline. `_lesson.py` is copied next to the notebooks, so a student
opening DIR in Jupyter can re-run them as they are; the lessons' figure files land in
DIR/lesson_output/NN/. Needs the optional extra: pip install -e ".[notebooks]".
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tinyrect.serialization import UnwritableFolder, atomic_write, writable_folder
from tinyrect.commands.lesson_files import find_lessons, lesson_title, missing_lessons

EXTRA = 'pip install -e ".[notebooks]"'
FLAGS_ENV = "TINYRECT_LESSON_FLAGS"       # read by lessons/_lesson.py inside a kernel
INLINE = "module://matplotlib_inline.backend_inline"
TIMEOUT = 3600                           # seconds per cell: a hang guard, not a budget


class NotebookError(RuntimeError):
    """A lesson's notebook failed to execute (the notebook is still written, with the error)."""


def missing_tools() -> list:
    """Names of the notebook tools that are not installed ([] when all are)."""
    import importlib.util

    return [m for m in ("jupytext", "nbformat", "nbclient", "nbconvert", "ipykernel")
            if importlib.util.find_spec(m) is None]


def tools_message(missing) -> str:
    return (f"tinyrect: notebooks need {', '.join(missing)} (not installed). Install the "
            f"optional extra from the tinyrect folder: {EXTRA}")


def _this_python_kernel(folder: Path):
    """A kernel manager that starts ipykernel with this very Python (where tinyrect is installed),
    whatever kernel named "python3" the user's Jupyter may have registered elsewhere."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    (folder / "python3").mkdir()
    (folder / "python3" / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def build_notebook(path: Path, out: Path, quick: bool = False, timeout: int = TIMEOUT) -> Path:
    """Execute lesson `path` as a notebook in `out`; write and return out/<stem>.ipynb.

    Raises NotebookError (after writing the notebook with its error output) when a cell fails,
    e.g. a check of the lesson failed."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    helper = Path(path).with_name("_lesson.py")
    if helper.exists() and helper.resolve() != (out / "_lesson.py").resolve():
        shutil.copy2(helper, out / "_lesson.py")
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    env = dict(os.environ, MPLBACKEND=INLINE)
    env[FLAGS_ENV] = "--quick" if quick else ""
    error = None
    with tempfile.TemporaryDirectory() as specs:
        client = NotebookClient(nb, km=_this_python_kernel(Path(specs)), timeout=timeout,
                                kernel_name="python3", resources={"metadata": {"path": str(out)}})
        try:
            client.execute(env=env, stderr=subprocess.DEVNULL)   # the kernel's own log lines
        except CellExecutionError as exc:
            error = exc
    merge_streams(nb)
    target = out / f"{Path(path).stem}.ipynb"
    with atomic_write(target, "w", encoding="utf-8") as f:
        nbformat.write(nb, f)
    if error is not None:
        what = f"{getattr(error, 'ename', 'error')}: {getattr(error, 'evalue', '')}".strip(": ")
        raise NotebookError(f"{Path(path).name}: a cell failed ({what}); "
                            f"the notebook with the error is {target}")
    return target


def merge_streams(nb) -> None:
    """Join the consecutive stdout (stderr) pieces of each cell into one output, keeping only the
    last state of a line redrawn with carriage returns (progress bars): a table printed in two
    flushes reads as one block."""
    redrawn = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (output.output_type == "stream" and last is not None and last.output_type == "stream"
                    and last.name == output.name):
                last.text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = redrawn.sub("", output.text)
        if "outputs" in cell:
            cell.outputs = merged


def build_all(out: Path, quick: bool = False, numbers=None, log=None) -> tuple:
    """Execute every lesson (or `numbers`) as a notebook into `out`: ({number: path}, [errors]);
    a lesson that failed is in both (its notebook shows the error)."""
    from tqdm import tqdm

    found = find_lessons()
    chosen = [n for n in found if numbers is None or n in numbers]
    written, errors = {}, []
    log = log or tqdm.write                      # a line above the progress bar
    for number in tqdm(chosen, desc="notebooks", unit="lesson", file=sys.stderr):
        try:
            written[number] = build_notebook(found[number], out, quick=quick)
            log(f"{number:02d}  {lesson_title(found[number]):<58} {written[number]}")
        except NotebookError as exc:
            errors.append(str(exc))
            log(f"{number:02d}  FAILED: {exc}")
            target = Path(out) / f"{found[number].stem}.ipynb"
            if target.is_file():           # written with the error output: still worth a look
                written[number] = target
    return written, errors


# ----------------------------------------------------------------------------- tinyrect notebooks
def add_arguments(parser) -> None:
    parser.add_argument("--out", metavar="DIR", default="notebooks",
                        help="folder for the executed notebooks (default: ./notebooks/)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (as in CI)")


def not_a_folder(out, command: str) -> bool:
    """True (and say so) when --out cannot be a folder tinyrect writes in: an existing file, a
    place that cannot be created or written (serialization.writable_folder creates it if missing)."""
    if out is None:
        return False
    try:
        writable_folder(out, "--out")
    except UnwritableFolder as err:
        print(f"tinyrect {command}: {err}", file=sys.stderr)
        return True
    return False


def run(args) -> int:
    missing = missing_tools()
    if missing:
        print(tools_message(missing), file=sys.stderr)
        return 2
    if not_a_folder(args.out, "notebooks"):
        return 2
    if not find_lessons():
        return missing_lessons()
    written, errors = build_all(Path(args.out), quick=args.quick)
    print(f"\n{len(written)} notebooks executed into {args.out}/ (open them with Jupyter)")
    return 1 if errors else 0


def run_one(number: int, out, quick: bool) -> int:
    """`tinyrect lesson N --notebook`: the one lesson's executed notebook."""
    missing = missing_tools()
    if missing:
        print(tools_message(missing), file=sys.stderr)
        return 2
    if not_a_folder(out, "lesson"):
        return 2
    path = find_lessons()[number]
    print(f"executing lesson {number:02d} as a notebook: {lesson_title(path)}", flush=True)
    try:
        target = build_notebook(path, Path(out or "notebooks"), quick=quick)
    except NotebookError as exc:
        print(f"tinyrect lesson: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {target} (outputs and figures inline; open it with Jupyter)")
    return 0
