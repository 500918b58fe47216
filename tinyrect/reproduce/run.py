"""`tinyrect reproduce`: the paper's Figures 2/3 and Tables 1/2, the variance argument of Sec. 2.2
and what the input's scale does to it, at small scale, written to a report folder. The sections
are the registry `tinyrect.reproduce.SECTIONS`.

    tinyrect reproduce --quick                 # a few minutes on a 2-core laptop
    tinyrect reproduce --out my_report --seeds 5 --sections depth,accuracy

Output (default `reproduce_output/`): report.md, PNG figures, results.json. The folder is built
in a temporary sibling and swapped in at the end, so it always holds ONE complete run: a rerun
replaces every file, and Ctrl-C leaves the previous output untouched (the interrupted run's
finished sections go to `<out>.partial/`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from tinyrect.reproduce import SECTIONS, presets
from tinyrect.serialization import UnwritableFolder, writable_folder
MARKER = ".tinyrect-reproduce"  # a folder holding this file may be replaced by a rerun


# ----------------------------------------------------------------------------- arguments
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _dataset(text: str) -> str:
    name, sep, path = text.partition(":")
    key = name.strip().lower()
    if key in ("digits", "shapes") and not path:
        return key
    if key in ("mnist", "fashion_mnist", "cifar10"):
        if not path:
            raise argparse.ArgumentTypeError(f"{key} needs a folder: --dataset {key}:PATH")
        return f"{key}:{path}"
    raise argparse.ArgumentTypeError(
        f"unknown data set {text!r}; choose digits, shapes, mnist:PATH, fashion_mnist:PATH or cifar10:PATH")


def _sections(text: str) -> list:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in chosen if s not in SECTIONS]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(bad) or repr(text)}; choose from {','.join(SECTIONS)}")
    return [s for s in SECTIONS if s in chosen]  # the report's order


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="smaller nets and fewer steps (about 3 minutes on 2 cores)")
    parser.add_argument("--out", metavar="DIR", default="reproduce_output",
                        help="report folder (default: reproduce_output/); replaced as a whole")
    parser.add_argument("--seeds", metavar="N", type=_positive_int, default=None,
                        help="seeds per configuration (default: 3; --quick: 1 for the depth section)")
    parser.add_argument("--dataset", metavar="SPEC", type=_dataset, default="digits",
                        help="digits (default), shapes, mnist:PATH, fashion_mnist:PATH, cifar10:PATH")
    parser.add_argument("--sections", metavar="LIST", type=_sections, default=list(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    parser.add_argument("--threads", metavar="N", type=_positive_int, default=None,
                        help="threads for numba and BLAS (default: 1: these nets' GEMMs are too small "
                             "for more threads to help, and on a busy machine they can be far slower)")
    parser.add_argument("--jobs", metavar="N", type=_positive_int, default=None,
                        help="training runs side by side, one single-threaded process each "
                             "(default: the number of cores, at most 4; 1 = all in this process)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # tests: tiny nets


# ----------------------------------------------------------------------------- output folder
def _check_out(out: Path) -> str | None:
    """Why `out` must not be replaced (None if it may): only our own report folders are."""
    if out.exists() and not out.is_dir():
        return f"--out {out} exists and is not a folder; choose another --out"
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        return (f"--out {out} is a non-empty folder that tinyrect reproduce did not write; it would be "
                f"replaced as a whole, so choose a new or empty folder")
    if out.resolve() in (Path.home().resolve(), Path("/").resolve(), Path.cwd().resolve()):
        return f"--out {out} would replace {out.resolve()}; choose a sub-folder"
    try:          # the report is built beside `out` and swapped in: its parent must be writable
        writable_folder(out.resolve().parent, "--out")
    except UnwritableFolder as err:
        return str(err)
    return None


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` by `tmp` with renames: `out` is never a mix of two runs."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, obj) -> None:
    text = json.dumps(obj, indent=1, allow_nan=True, default=_jsonable)
    path.write_text(text)


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    return str(value)


# ----------------------------------------------------------------------------- main
def run(args) -> int:
    out = Path(args.out).expanduser()
    problem = _check_out(out)
    if args.seeds is not None and args.seeds < 1:       # (argparse already rejects it)
        problem = f"--seeds must be at least 1, got {args.seeds}"
    if problem:
        print(f"tinyrect reproduce: {problem}", file=sys.stderr)
        return 2
    mode = "smoke" if args.smoke else ("quick" if args.quick else "full")
    try:
        from tinyrect.data import load_dataset

        data = load_dataset(args.dataset)
    except (FileNotFoundError, ValueError, OSError) as err:
        print(f"tinyrect reproduce: cannot load --dataset {args.dataset}: {err}", file=sys.stderr)
        return 2
    import tinyrect as tr

    tr.set_num_threads(args.threads or 1)
    jobs = args.jobs or (1 if mode == "smoke" else min(4, presets.cpu_count() or 1))
    config = presets.build(mode, args.seeds, data, args.sections, jobs)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    (tmp / MARKER).write_text("written by `tinyrect reproduce`; a rerun replaces this folder\n")
    results = {"config": presets.describe(config, mode, args, data)}
    figures = {}
    progress = _progress_bar(config, args.sections, args.no_progress)
    failed = []
    t_start = time.perf_counter()
    from tinyrect.reproduce.pool import pool

    workers = jobs if set(args.sections) - {"variance"} else 1       # the variance section runs here
    try:
        with pool(workers):
            for section in args.sections:
                _one_section(section, config[section], data, progress, results, figures, tmp, plt, failed)
    except KeyboardInterrupt:
        progress.close()
        results["config"]["seconds"]["total"] = round(time.perf_counter() - t_start, 1)
        results["config"]["interrupted"] = True
        partial = out.with_name(out.name + ".partial")
        _finish(tmp, results, figures, plt, partial=True)
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
        os.replace(tmp, partial)
        print(f"\ninterrupted (Ctrl-C): {out} was left as it was; the finished sections are in "
              f"{partial}", file=sys.stderr)
        return 130
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.close()
    results["config"]["seconds"]["total"] = round(time.perf_counter() - t_start, 1)
    _finish(tmp, results, figures, plt, partial=False)
    _swap_in(tmp, out)
    stale = out.with_name(out.name + ".partial")     # an earlier interrupted run's leftovers
    if (stale / MARKER).exists():
        shutil.rmtree(stale, ignore_errors=True)
    _print_summary(results, out)
    return 1 if failed else 0


def _one_section(section, cfg, data, progress, results, figures, folder, plt, failed):
    """Run, plot and time one section; a section that raises is reported, the others still run."""
    progress.set_description(section)
    t0 = time.perf_counter()
    _log(progress, f"[{section}] starting")
    module = SECTIONS[section]
    try:
        results[section] = module.run(cfg, data, on_step=lambda _i, _loss: progress.update(1),
                                      log=lambda text: _log(progress, text))
        figures[section] = module.plot(results[section], folder, plt)
    except Exception as err:  # KeyboardInterrupt is not an Exception: it stops the whole run
        traceback.print_exc()
        failed.append(section)
        results[section] = dict(error=f"{type(err).__name__}: {err}", claim_held=False, claims=[])
        figures[section] = []
    seconds = time.perf_counter() - t0
    results["config"]["seconds"][section] = round(seconds, 1)
    _log(progress, f"[{section}] done in {seconds:.1f} s")


def _finish(folder: Path, results, figures, plt, partial: bool) -> None:
    from tinyrect.reproduce import report

    _write_json(folder / "results.json", results)
    (folder / "report.md").write_text(report.render(results, figures, SECTIONS, partial=partial))


def _progress_bar(config, sections, disabled):
    from tqdm.auto import tqdm

    total = sum(SECTIONS[s].planned_steps(config[s]) for s in sections)
    return tqdm(total=total, unit="step", disable=disabled, dynamic_ncols=True, file=sys.stderr)


def _log(progress, text: str) -> None:
    progress.write(text, file=sys.stdout)


def _print_summary(results, out: Path) -> None:
    from tinyrect.reproduce.report import status

    print(f"\nreport: {out / 'report.md'}")
    secs = results["config"]["seconds"]
    for section in SECTIONS:
        if section in results:
            claims = results[section].get("claims", [])
            verdict = ", ".join(f"{c['name']} {status(c)}" for c in claims)
            print(f"  {section:11s} {secs.get(section, 0):7.1f} s   {verdict or results[section].get('error', '')}")
    print(f"  {'total':11s} {secs['total']:7.1f} s")
