"""`python -m tinyrect ...` is the same as the `tinyrect` console script."""
import sys

from tinyrect.commands.cli import main

sys.exit(main())
