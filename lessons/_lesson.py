"""The little helper every lesson imports: command-line flags, figures, numerical checks.

A lesson is a percent-format script (`# %%` cells) that runs with `python lessons/NN_name.py`
from any folder, through `tinyrect lesson N`, or cell by cell in Jupyter / VS Code. Its skeleton:

    # %% [markdown]
    # # 05 · Forward variance, Eq. (7)-(10)
    # One paragraph on what this lesson shows.

    # %%
    import _lesson
    args = _lesson.setup("05")          # parses --quick --show --out; Agg backend unless --show
    import matplotlib.pyplot as plt     # import pyplot AFTER setup()
    import tinyrect as tr

    n = 200 if args.quick else 2000     # --quick: smaller sizes for CI
    fig, ax = plt.subplots()
    ...
    _lesson.savefig(fig, "variance.png")   # -> lesson_output/05/variance.png, path printed
    _lesson.check(abs(ratio - 1) < 0.1, f"Var[y_L]/Var[y_1] = {ratio:.3f} is within 10% of 1")
    _lesson.finish()                        # exit code 1 if any check failed

    # %% [markdown]
    # ## Exercises
    # 1. ...

Flags: `--quick` (shrink sizes, for CI), `--show` (open figure windows at `finish()`),
`--out DIR` (where figures go; default `lesson_output/NN/` under the current folder).
API (stable; only additions allowed): setup, savefig, check, finish, timeit, out_dir, failures.

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
import sys
import time
from pathlib import Path

# A source checkout has tinyrect/ beside lessons/: make it importable even when not installed
# (appended, so an installed tinyrect, e.g. `pip install -e .`, still wins).
_ROOT = Path(__file__).resolve().parent.parent
if (_ROOT / "tinyrect" / "__init__.py").exists() and str(_ROOT) not in sys.path:
    sys.path.append(str(_ROOT))

_state = {"number": "00", "out": None, "show": False, "checks": 0, "failures": [], "t0": None}


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def setup(number: str | int | None = None, argv=None) -> argparse.Namespace:
    """Parse the lesson's flags and prepare matplotlib; call it before importing pyplot.

    `number` ("05") names the default output folder `lesson_output/05/`; if omitted it is taken
    from the running script's file name (`05_forward_variance.py`). Returns the parsed flags:
    `.quick` (bool), `.show` (bool), `.out` (a Path, created).
    """
    if number is None:
        main_file = getattr(sys.modules.get("__main__"), "__file__", "") or ""
        match = re.match(r"(\d+)_", Path(main_file).name)
        number = match.group(1) if match else "00"
    number = f"{int(number):02d}" if str(number).isdigit() else str(number)
    parser = argparse.ArgumentParser(description=f"tinyrect lesson {number}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for CI (a few seconds)")
    parser.add_argument("--show", action="store_true", help="open the figures in windows at the end")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"folder for the figures (default: lesson_output/{number}/)")
    if _in_notebook() and argv is None:
        args, _ = parser.parse_known_args([])  # a kernel's own argv is not ours
    else:
        args = parser.parse_args(argv)
    args.out = Path(args.out) if args.out else Path("lesson_output") / number
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.show and not _in_notebook():
        import matplotlib

        matplotlib.use("Agg")  # headless: write files, open no window
    _state.update(number=number, out=args.out, show=args.show, checks=0, failures=[],
                  t0=time.perf_counter())
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
    print(f"saved figure: {path}")
    if not _state["show"] and not _in_notebook():
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def check(condition, message: str) -> bool:
    """Print `PASS  message` or `FAIL  message`; failures make `finish()` exit non-zero."""
    ok = bool(condition)
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
    """Print a summary; exit with status 1 if any check failed. With --show, show the figures."""
    elapsed = time.perf_counter() - (_state["t0"] or time.perf_counter())
    n, failed = _state["checks"], _state["failures"]
    if _state["show"]:
        import matplotlib.pyplot as plt

        plt.show()
    if failed:
        print(f"\nlesson {_state['number']}: {len(failed)} of {n} checks FAILED ({elapsed:.1f} s):")
        for message in failed:
            print(f"  - {message}")
        sys.stdout.flush()
        sys.exit(1)
    print(f"\nlesson {_state['number']}: all {n} checks passed ({elapsed:.1f} s); "
          f"figures in {_state['out']}")
