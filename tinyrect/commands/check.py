"""`tinyrect check`: the command's entry. The grader (inputs, expected values, verdicts, hints,
the CSV) lives in `tinyrect.exercises`."""
from tinyrect.exercises.grader import add_arguments, run  # noqa: F401
