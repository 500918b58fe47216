"""The variance figures read at a glance, and measured numbers never print as "-0.00"."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from tinyrect.formatting import number  # noqa: E402
from tinyrect.variance import measure as V  # noqa: E402
from tinyrect.variance.plots import plot_overview  # noqa: E402


@pytest.mark.parametrize("x, spec, text", [(-0.001, ".2f", "0.00"), (-0.004, ">7.2f", "   0.00"),
                                           (-0.004, "+.2f", "+0.00"), (-0.0, ".1f", "0.0"),
                                           (-0.02, ".2f", "-0.02"), (-1e-9, ".1e", "-1.0e-09"),
                                           (float("-inf"), ".2f", "-inf"), (3.14159, ".3f", "3.142")])
def test_number_never_prints_a_negative_zero(x, spec, text):
    assert number(x, spec) == text


@pytest.fixture(scope="module")
def small():
    return V.measure(schemes=V.SCHEMES, widths=(8,), draws=3, depth=10, batch=4, seed=0)


def test_overview_gives_he_its_own_axis_labelled_as_the_tables(small):
    fig = plot_overview(small)
    axes = fig.axes
    assert len(axes) == 4, "forward and backward, every init on top and He alone below"
    top, he = axes[0], axes[2]
    assert top.get_ylabel() == "log2 Var[y_l] / Var[y_2]" and axes[1].get_ylabel() == "log2 Var[Δx_l] / Var[Δx_L]"
    labels = [t.get_text() for t in he.get_legend().get_texts()]
    assert any("He fan_in" in t for t in labels) and any("He fan_out" in t for t in labels)
    assert not any("Xavier" in t or "Gaussian" in t for t in labels), "the He axis shows only He"
    lo, hi = he.get_ylim()
    spread = top.get_ylim()[1] - top.get_ylim()[0]
    assert hi - lo < spread / 3, "the He axis zooms in: its padding term is visible"
    runs = [r for r in small["runs"] if r["scheme"].startswith("he")]
    assert all(lo < r["forward"]["padded"] < hi for r in runs)
    # fan_in and fan_out measured means sit side by side, not on top of each other
    he_means = [line.get_xdata() for line in he.get_lines() if line.get_linestyle() == "None"]
    assert len(he_means) == 2 and (he_means[0] != he_means[1]).all()
    plt.close(fig)


def test_reference_lines_are_in_the_legend(small):
    fig = V.plot_runs(small, direction="forward")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"padding-aware prediction", "the paper's Eq. (9)", "one weight draw"} <= set(labels)
    plt.close(fig)
