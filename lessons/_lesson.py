"""The little helper every lesson imports: flags, narration, figures, numerical checks.

A lesson is a percent-format script (`# %%` cells) that runs with `python lessons/NN_name.py`
from any folder, through `tinyrect lesson N`, or cell by cell in Jupyter / VS Code. Its skeleton:

    # %% [markdown]
    # # 05 · Forward variance, Eq. (7)-(10)
    # One paragraph on what this lesson shows.

    # %%
    import _lesson
    args = _lesson.setup("05")          # parses the flags; Agg backend unless --show
    import matplotlib.pyplot as plt     # import pyplot AFTER setup()
    import tinyrect as tr

    n = 200 if args.quick else 2000     # --quick: smaller sizes for CI
    fig, ax = plt.subplots()
    ...
    _lesson.savefig(fig, "variance.png")   # -> lesson_output/05/variance.png, path printed
    _lesson.check(abs(ratio - 1) < 0.1, f"Var[y_L]/Var[y_1]: measured {_lesson.num(ratio, '.3f')}, "
                  "Eq. (10) predicts 1", "within 10% of the prediction")
    _lesson.finish()                        # exit code 1 if any check failed

    # %% [markdown]
    # ## Exercises
    # 1. ...

Run as a script, the lesson reads as the lesson: each markdown cell's text is printed (wrapped
for the terminal) when the code reaches it, before that code's output, and the cells after
`finish()` (the exercises) at the end. `--quiet` prints only the code's output.
Flags: `--quick` (shrink sizes, for CI), `--show` (open figure windows at `finish()`),
`--out DIR` (where figures go; default `lesson_output/NN/` under the current folder), `--quiet`.
Inside a Jupyter kernel the kernel's own command line is ignored: the flags come from the
environment variable TINYRECT_LESSON_FLAGS (e.g. "--quick"; empty: the defaults), figures show
inline, and a failed check raises LessonFailed instead of exiting.
API (stable; only additions allowed): setup, savefig, check, finish, timeit, out_dir, failures,
num, cells, render_markdown, LessonFailed.

Paper or ours. The lessons teach He et al. 2015 and add to it, and the reader must always know
which is which. A statement of the paper cites its place (Sec. 2.2, Eq. (10), Table 1, Fig. 3),
and a quotation attributed to the paper is its own words. What this project adds is marked **[ours]**
(in printed text: [ours]): the zero-padding-aware prediction, the finite-width spread, the
input-scale measurements, the learning rates we measured to work, and any other measurement of
ours. Lessons 04 on state this in their first cell.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import sys
import textwrap
import threading
import time
from pathlib import Path

# A source checkout has tinyrect/ beside lessons/: make it importable even when not installed
# (appended, so an installed tinyrect, e.g. `pip install -e .`, still wins).
_ROOT = Path(__file__).resolve().parent.parent
if (_ROOT / "tinyrect" / "__init__.py").exists() and str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

FLAGS_ENV = "TINYRECT_LESSON_FLAGS"
_state = {"number": "00", "out": None, "show": False, "quiet": False, "checks": 0, "failures": [],
          "figures": [], "t0": None, "narrator": None}


class LessonFailed(AssertionError):
    """Raised by finish() inside a notebook when a check failed (a script exits with status 1)."""


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def num(x, spec: str = ".2f") -> str:
    """A measured number for a message: format(x, spec), never "-0.00" (tinyrect.formatting)."""
    from tinyrect.formatting import number

    return number(x, spec)


# ----------------------------------------------------------------------------- cells and narration
_CELL = re.compile(r"^# %%(.*)$")


def cells(source: str) -> list:
    """Split a percent-format script into cells: [{"kind", "start", "end", "text"}], where start
    and end are 1-based line numbers (the `# %%` marker line and the cell's last line) and text
    is the cell's content (markdown without the leading "# ")."""
    lines = source.splitlines()
    marks = [i for i, line in enumerate(lines) if _CELL.match(line)]
    found = []
    for k, i in enumerate(marks):
        end = marks[k + 1] if k + 1 < len(marks) else len(lines)
        body = lines[i + 1:end]
        kind = "markdown" if "[markdown]" in lines[i] else "code"
        if kind == "markdown":
            body = [re.sub(r"^# ?", "", line) if line.startswith("#") else line for line in body]
        found.append({"kind": kind, "start": i + 1, "end": end, "text": "\n".join(body).strip("\n")})
    return found


def render_markdown(text: str, width: int | None = None) -> str:
    """A markdown cell for the terminal: paragraphs and list items wrapped to `width`, headings
    underlined, indented formulas and tables kept as they are, ** emphasis removed."""
    width = width or min(100, shutil.get_terminal_size((100, 24)).columns)
    out, para = [], []

    def flush():
        if para:
            item = re.match(r"(\s*)((?:[-*]|\d+\.)\s+)?", para[0])
            lead, marker = item.group(1), item.group(2) or ""
            out.append(textwrap.fill(" ".join(p.strip() for p in para), width, initial_indent=lead,
                                     subsequent_indent=lead + " " * len(marker), break_on_hyphens=False))
            para.clear()

    for line in text.replace("**", "").splitlines():
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            flush()
            title = heading.group(2)
            out += ["", title, ("=" if len(heading.group(1)) == 1 else "-") * min(len(title), width)]
        elif not line.strip():
            flush()
            if out and out[-1] != "":
                out.append("")
        elif line.startswith("    ") or line.lstrip().startswith("|"):
            flush()
            out.append(line)
        elif re.match(r"\s*(?:[-*]|\d+\.)\s+", line):
            flush()
            para.append(line)
        else:
            para.append(line)
    flush()
    return "\n".join(out).strip("\n")


def _say(cell: dict, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write("\n" + render_markdown(cell["text"]) + "\n\n")
    stream.flush()


class _Narrator:
    """sys.stdout while a lesson script runs: before any output, and every 0.2 s from a helper
    thread (so the text of a slow cell shows while it computes), it prints the markdown cells the
    lesson's top-level code has passed (read from the lesson frame's current line). No tracing:
    the lesson runs at full speed."""

    def __init__(self, stream, frame, pending):
        self._stream, self._frame, self._pending = stream, frame, pending
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="lesson-narrator", daemon=True)
        self._thread.start()

    def catch_up(self, line=None) -> None:
        with self._lock:
            line = self._frame.f_lineno if line is None else line
            while self._pending and self._pending[0]["start"] < line:
                _say(self._pending.pop(0), self._stream)

    def _watch(self):
        while not self._stop.wait(0.2):
            self.catch_up()

    def write(self, text):
        with self._lock:
            self.catch_up()
            return self._stream.write(text)

    def close(self) -> list:
        """Stop narrating; restore sys.stdout; return the markdown cells not reached yet."""
        self.catch_up()
        self._stop.set()
        self._thread.join()
        if sys.stdout is self:
            sys.stdout = self._stream
        return self._pending

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _start_narration(frame) -> None:
    """Narrate the lesson whose top-level frame is `frame`: the markdown above its current line
    now, the rest as the code reaches it."""
    if frame is None:
        return
    try:
        source = Path(frame.f_code.co_filename).read_text(encoding="utf-8")
    except OSError:
        return
    narrator = _Narrator(sys.stdout, frame, [c for c in cells(source) if c["kind"] == "markdown"])
    narrator.catch_up()
    sys.stdout = _state["narrator"] = narrator


def _lesson_frame():
    """The frame of the lesson script that called setup() (the __main__ module's top level)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") != "__main__":
        frame = frame.f_back
    return frame if frame is not None and frame.f_code.co_name == "<module>" else None


# ----------------------------------------------------------------------------- setup and checks
def setup(number: str | int | None = None, argv=None) -> argparse.Namespace:
    """Parse the lesson's flags and prepare matplotlib; call it before importing pyplot.

    `number` ("05") names the default output folder `lesson_output/05/`; if omitted it is taken
    from the running script's file name (`05_forward_variance.py`). Returns the parsed flags:
    `.quick`, `.show`, `.quiet` (bools), `.out` (a Path, created).
    """
    if number is None:
        main_file = getattr(sys.modules.get("__main__"), "__file__", "") or ""
        match = re.match(r"(\d+)_", Path(main_file).name)
        number = match.group(1) if match else "00"
    number = f"{int(number):02d}" if str(number).isdigit() else str(number)
    parser = argparse.ArgumentParser(description=f"tinyrect lesson {number}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI (a few seconds)")
    parser.add_argument("--show", action="store_true", help="open the figures in windows at the end")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the measurements, not the lesson's text")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"folder for the figures (default: lesson_output/{number}/)")
    if _state["narrator"] is not None:      # setup() called again in the same process
        _state["narrator"].close()
        _state["narrator"] = None
    notebook = _in_notebook()
    if notebook and argv is None:     # a kernel's own argv is not ours
        args = parser.parse_args(shlex.split(os.environ.get(FLAGS_ENV, "")))
    else:
        args = parser.parse_args(argv)
    args.out = Path(args.out) if args.out else Path("lesson_output") / number
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.show and not notebook:
        import matplotlib

        matplotlib.use("Agg")  # headless: write files, open no window
    if notebook:   # show what the script prints: no "Out[..]: True" after a cell ending in check()
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.ast_node_interactivity = "none"
    _state.update(number=number, out=args.out, show=args.show, quiet=args.quiet, checks=0,
                  failures=[], figures=[], t0=time.perf_counter())
    if not notebook and not args.quiet and argv is None:
        _start_narration(_lesson_frame())
    return args


def out_dir() -> Path:
    """The folder figures are written to (after `setup()`)."""
    if _state["out"] is None:
        raise RuntimeError("call _lesson.setup('NN') at the top of the lesson first")
    return _state["out"]


def savefig(fig, name: str) -> Path:
    """Write `fig` to out_dir()/name atomically (temporary file, then rename); print the path."""
    path = out_dir() / name
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=110, bbox_inches="tight")
    os.replace(tmp, path)
    if name not in _state["figures"]:
        _state["figures"].append(name)
    print(f"saved figure: {path}")
    if not _state["show"] and not _in_notebook():
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def check(condition, message: str, criterion: str | None = None) -> bool:
    """Print `PASS  message` or `FAIL  message`; failures make `finish()` fail.

    `message` says what was compared (measured and expected values); `criterion`, if given, the
    tolerance, printed as "..., held: <criterion>" (or "not held: <criterion>")."""
    ok = bool(condition)
    if criterion:
        message = f"{message}; {'held' if ok else 'not held'}: {criterion}"
    _state["checks"] += 1
    if not ok:
        _state["failures"].append(message)
    print(f"{'PASS' if ok else 'FAIL'}  {message}")
    return ok


def failures() -> list:
    """Messages of the checks that failed so far."""
    return list(_state["failures"])


def timeit(fn, repeat: int = 5, number: int = 1) -> float:
    """Best of `repeat` wall times (seconds) of `number` calls to fn(), divided by `number`."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def finish() -> None:
    """Print a summary (checks, the figures saved, the exercises); with --show, show the figures.
    A failed check exits with status 1 (raises LessonFailed inside a notebook)."""
    elapsed = time.perf_counter() - (_state["t0"] or time.perf_counter())
    n, failed, number = _state["checks"], _state["failures"], _state["number"]
    narrator, _state["narrator"] = _state["narrator"], None
    exercises = narrator.close() if narrator is not None else []
    if _state["show"]:
        import matplotlib.pyplot as plt

        plt.show()
    figures = _state["figures"]
    saved = (f"{len(figures)} figure{'s' * (len(figures) != 1)} saved in {_state['out']}: "
             + ", ".join(figures)) if figures else "no figures saved"
    if failed:
        print(f"\nlesson {number}: {len(failed)} of {n} checks FAILED ({elapsed:.1f} s):")
        for message in failed:
            print(f"  - {message}")
        print(saved)
        sys.stdout.flush()
        if _in_notebook():
            raise LessonFailed(f"lesson {number}: {len(failed)} of {n} checks failed")
        sys.exit(1)
    print(f"\nlesson {number}: all {n} checks passed ({elapsed:.1f} s)\n{saved}")
    if _in_notebook():
        return                      # the exercises are the notebook's next cell
    if exercises and not _state["quiet"]:
        for cell in exercises:
            _say(cell)
    print(f"exercises: the last cell of lesson {number}; graded exercises: `tinyrect check --list`"
          if _state["quiet"] or not exercises else
          "graded exercises (stubs in lessons/exercises/): `tinyrect check --list`")
