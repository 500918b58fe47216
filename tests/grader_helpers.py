"""Helpers shared by the grader's tests: run `tinyrect check` in-process, write a student file."""
import argparse
import textwrap

from tinyrect.exercises import grader


def check(argv):
    """Run `tinyrect check ARGV` without the rest of the CLI; returns the exit code."""
    parser = argparse.ArgumentParser()
    grader.add_arguments(parser)
    return grader.run(parser.parse_args(argv))


def write(folder, name, source):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path
