"""The `tinyrect` command line: `cli.py` holds the table of commands; each command is a module
here with `add_arguments(parser)` and `run(args) -> int`. The framework itself (tensors, ops,
layers, the variance science, training, the reproduction, the grader) lives outside this folder
and never imports from it."""
