"""Shared test set-up. In CI (TINYRECT_REQUIRE_TORCH=1) the PyTorch oracle must be importable,
so the cross-checks run instead of silently skipping."""
import os

import matplotlib
import pytest

matplotlib.use("Agg")


def pytest_sessionstart(session):
    if os.environ.get("TINYRECT_REQUIRE_TORCH") == "1":
        try:
            import torch  # noqa: F401
        except ImportError as err:
            pytest.exit(f"TINYRECT_REQUIRE_TORCH=1 but torch cannot be imported ({err}); "
                        "install the oracle: pip install -e '.[test,oracle]'", returncode=3)
