"""The `tinyrect` command: one explicit table of commands (`COMMANDS`). Each command lives in its
own module of `tinyrect.commands`, imported only when used, so `tinyrect --help` stays fast."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

# The table of commands: name -> (module, its argument adder, its runner, one-line help).
# Modules are imported only when their command is chosen, so `tinyrect --help` stays fast.
COMMANDS = {
    "reproduce": ("tinyrect.commands.reproduce", "add_arguments", "run",
                  "reproduce the paper's Figures 2/3 and Tables 1/2 at small scale"),
    "lessons": ("tinyrect.commands.lessons", "add_lessons_arguments", "run_lessons",
                "list the numbered lessons with their titles"),
    "lesson": ("tinyrect.commands.lessons", "add_lesson_arguments", "run_lesson",
               "run one lesson, narrated: tinyrect lesson N [--quick] [--quiet] [--notebook] [--out DIR]"),
    "notebooks": ("tinyrect.commands.notebooks", "add_arguments", "run",
                  "write every lesson as an executed Jupyter notebook (needs the notebooks extra)"),
    "book": ("tinyrect.commands.book", "add_arguments", "run",
             "build the course as a static offline HTML site from the executed notebooks"),
    "check": ("tinyrect.commands.check", "add_arguments", "run",
              "grade classroom exercises (tinyrect check --list)"),
    "bench": ("tinyrect.commands.bench", "add_arguments", "run",
              "benchmark conv2d and a training step against NumPy and PyTorch"),
    "demo": ("tinyrect.commands.demo", "add_arguments", "run",
             "a 30-second tour: PReLU gradients checked, a 30-layer net's variance"),
}
SUBCOMMANDS = COMMANDS  # the table's former name


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the `chosen` command's module is imported (to add its options)."""
    parser = argparse.ArgumentParser(
        prog="tinyrect",
        description="tinyrect: learn PReLU and He initialization (He et al., ICCV 2015) by building them.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, adder, _runner, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_name=name)
        if name == chosen:
            getattr(importlib.import_module(module_name), adder)(p)
    return parser


def _version() -> str:
    from tinyrect import __version__

    return f"tinyrect {__version__}"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    module_name, _adder, runner, _help = COMMANDS[args._name]
    try:
        return int(getattr(importlib.import_module(module_name), runner)(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): stopped; finished outputs were kept", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tinyrect ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
