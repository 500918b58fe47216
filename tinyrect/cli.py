"""The `tinyrect` command. Each subcommand lives in its own module, imported only when used,
so `tinyrect --help` stays fast. A subcommand module provides `add_arguments(parser)` and
`run(args) -> int` (the exit code)."""
from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
SUBCOMMANDS = {
    "reproduce": ("tinyrect.experiments.reproduce", "reproduce the paper's Figures 2/3 and Tables 1/2 at small scale"),
    "lessons": ("tinyrect.lessons_cli", "list the numbered lessons with their titles"),
    "lesson": ("tinyrect.lessons_cli", "run one lesson: tinyrect lesson N [--quick] [--show] [--out DIR]"),
    "check": ("tinyrect.exercises.grader", "grade classroom exercises (tinyrect check --list)"),
    "bench": ("tinyrect.bench", "benchmark conv2d and a training step against NumPy and PyTorch"),
    "demo": ("tinyrect.demo", "a 30-second tour: PReLU gradients checked, a 30-layer net's variance"),
}


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` subcommand's module is imported (to add its options)."""
    parser = argparse.ArgumentParser(
        prog="tinyrect",
        description="tinyrect: learn PReLU and He initialization (He et al., ICCV 2015) by building them.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name, _name=name)
        module = _load(module_name) if name == chosen else None
        if module is not None:
            adder = getattr(module, f"add_{name}_arguments", None) or getattr(module, "add_arguments")
            adder(p)
    return parser


def _version() -> str:
    from tinyrect import __version__

    return f"tinyrect {__version__}"


def _load(module_name: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            return None  # subcommand not built yet
        raise


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module = _load(args._module)
    if module is None:
        print(f"tinyrect {args._name}: not available in this version", file=sys.stderr)
        return 2
    runner = getattr(module, f"run_{args._name}", None) or getattr(module, "run")
    try:
        return int(runner(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): stopped; finished outputs were kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
