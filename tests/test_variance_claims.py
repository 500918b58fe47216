"""The variance claims of lessons 05-06, measured with fixed seeds at a CI-affordable size.

Over 16-64 weight draws of 30-layer plain 3×3 ReLU nets of width 32-64 on zero-padded 8×8 digits, the
log2 of the mean variance ratio must agree with the padding-aware prediction within its bootstrap
95% interval widened by ±0.5, for He, Xavier and the 0.01 Gaussian; the paper's unmodified
formula (no padding term) must miss. The batch is 16 images: the spread across draws comes from
the weights, not from the batch (the prediction uses the batch's own E[x²] map).
Why width 64 forward: one draw's forward log2 ratio scatters with sd ≈ 2.2 at width 32 and 1.6 at
width 64. Measured on 1,024 (width 32) and 512 (width 64) He draws (PyTorch as a scratch pad, same
16 digits; tinyrect's per-draw ratios agree with it to 7 digits), the log2 of the mean ratio was
-3.32 and -3.38 against the padding-aware -3.35, but at width 32 the bootstrap interval ±0.5 of a
32-draw subset covered it in only 26 of 32 disjoint subsets (16 draws: 54/64; 64 draws: 15/16),
at width 64 in 16/16 (32 draws) and 32/32 (16 draws); with circular padding (sd ≈ 1.9 at width
64) in 7 of 8 disjoint 32-draw subsets of 256 draws (log2 mean of all 256: -0.12, prediction 0).
So the forward checks use width 64 and 64 draws. The backward spread is smaller (sd ≈ 0.8 at
width 32), so 16 draws at width 32 suffice there. Seeds 0, 1, 2 are the first ones tried: the
first version (width 32, 32 draws) failed for seed 0 (He: -4.64, CI [-5.32, -4.11] vs -3.35);
the size was then changed for the coverage reason above, never the seeds.
"""
import json
import math

import numpy as np
import pytest

from tinyrect.variance import measure as V


def test_log2_mean_and_bootstrap():
    v = np.array([-3.0, 0.0, 1.0, -200.0])
    assert V.log2_mean(v) == pytest.approx(math.log2(np.mean(2.0 ** v)))
    lo, hi = V.bootstrap_ci(v, n_boot=500, seed=0)
    assert lo <= V.log2_mean(v) <= hi
    assert V.bootstrap_ci([1.0] * 8) == [1.0, 1.0]


@pytest.fixture(scope="module")
def forward_zero_padded():
    return V.measure(schemes=("he_fan_in", "xavier", "gaussian"), widths=(64,), draws=64, batch=16,
                     backward=False, seed=0)


def test_forward_matches_padding_aware_prediction(forward_zero_padded):
    checks = V.check_claims(forward_zero_padded)
    assert len(checks) == 3
    for c in checks:
        assert c["ok"], c["message"]
        assert c["paper_misses"], "the paper's formula should visibly miss on 8×8 zero-padded maps: " + c["message"]
    runs = {r["scheme"]: r for r in forward_zero_padded["runs"]}
    # He is flat in the paper's world, about -3.4 here; Xavier adds 28 halvings (layers 3..30)
    assert runs["he_fan_in"]["forward"]["paper"] == pytest.approx(0.0)
    assert runs["xavier"]["forward"]["paper"] == pytest.approx(-28.0)
    assert -3.6 < runs["he_fan_in"]["forward"]["padded"] < -3.2
    json.dumps(forward_zero_padded)                       # plain, serializable data


def test_backward_matches_padding_aware_prediction():
    res = V.measure(schemes=("he_fan_in",), widths=(32,), draws=16, batch=16, backward=True, seed=1)
    (fwd, bwd) = V.check_claims(res)
    assert bwd["direction"] == "backward" and bwd["ok"], bwd["message"]
    assert bwd["paper_misses"], bwd["message"]


def test_circular_padding_follows_the_paper():
    res = V.measure(schemes=("he_fan_in",), widths=(64,), draws=64, batch=16, backward=False,
                    padding_mode="circular", seed=2)
    (c,) = V.check_claims(res)
    assert c["ok"] and not c["paper_misses"], c["message"]
    assert res["runs"][0]["forward"]["padded"] == pytest.approx(0.0, abs=1e-9)


def test_layer_table_reports_log2_of_the_mean_ratio_per_layer():
    from tinyrect.variance import measure as V

    res = V.measure(schemes=("he_fan_in",), widths=(8,), draws=3, depth=5, batch=4, backward=True, seed=5)
    run = res["runs"][0]
    vy = np.array(run["log2_var_y"])
    expected = np.log2(np.mean(2.0 ** (vy[:, 4] - vy[:, 0])))
    table = V.layer_table(res, layers=(1, 5)).splitlines()
    assert table[2].split("|")[1].split()[0] == "0.00"
    assert float(table[3].split("|")[1].split()[0]) == pytest.approx(expected, abs=0.006)
    backward = V.layer_table(res, "backward", layers=(5,)).splitlines()
    assert backward[2].split("|")[1].split()[0] == "0.00"  # relative to the last layer
