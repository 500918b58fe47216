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


def full_variant(variant, part):
    """A catalogue variant as a complete student function: outputs it leaves as None come from the
    reference."""
    def fn(*args, **kwargs):
        got = variant.fn(*args, **kwargs)
        if len(part.outputs) == 1:
            return got
        ref = part.reference(*args, **kwargs)
        return tuple(r if g is None else g for g, r in zip(got, ref))
    return fn
