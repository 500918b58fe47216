"""`tinyrect reproduce`: the command's entry. The reproduction itself (sections, report, the
atomic output folder) lives in `tinyrect.reproduce`."""
from tinyrect.reproduce.run import add_arguments, run  # noqa: F401
