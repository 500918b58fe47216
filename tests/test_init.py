"""init: gains and fans vs torch, empirical std vs formula, in-place semantics, errors."""
import math

import numpy as np
import pytest

import tinyrect as tr
from tinyrect import init, nn

GAIN_CASES = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
              ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
              ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
              ("leaky_relu", 0.25), ("leaky_relu", 1), ("leaky_relu", -0.5), ("selu", None)]


@pytest.mark.parametrize("name,param", GAIN_CASES)
def test_gain_matches_torch(name, param):
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_gain_formulas():
    assert init.calculate_gain("relu") == math.sqrt(2)                       # Eq. (10)
    assert init.calculate_gain("leaky_relu", 0.25) == math.sqrt(2 / 1.0625)  # Eq. (15)
    assert init.calculate_gain("prelu") == init.calculate_gain("leaky_relu", 0.25)
    assert init.calculate_gain("leaky_relu", 1.0) == 1.0                     # a = 1: Xavier's case


def test_unknown_nonlinearity_names_the_valid_ones():
    with pytest.raises(ValueError, match="'swish'.*valid names: linear.*relu, leaky_relu"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize("shape", [(7, 3), (16, 8, 3, 3), (5, 2, 7), (4, 6, 2, 3, 5), (1, 1)])
def test_fans_match_torch(shape):
    torch = pytest.importorskip("torch")
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fans(np.empty(shape)) == expected


def test_conv_fans_are_the_papers_n_and_n_hat():
    w = np.empty((64, 32, 3, 3))      # d = 64 filters over c = 32 channels, k = 3
    assert init.calculate_fans(w) == (9 * 32, 9 * 64)   # n_l = k²c, n̂_l = k²d


def test_empty_or_1d_weights_error():
    with pytest.raises(ValueError, match="fan_in \\(0\\)"):
        init.kaiming_normal_(np.empty((4, 0, 3, 3)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_normal_(np.empty(5))
    with pytest.raises(ValueError, match="'fan_in' .* 'fan_out'"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_avg")


SHAPE = (250, 400)   # 10⁵ elements, fan_in 400, fan_out 250


@pytest.mark.parametrize("fn,kwargs,std", [
    (init.kaiming_normal_, dict(nonlinearity="relu"), math.sqrt(2 / 400)),
    (init.kaiming_normal_, dict(nonlinearity="relu", mode="fan_out"), math.sqrt(2 / 250)),
    (init.kaiming_normal_, dict(a=0.25), math.sqrt(2 / (1.0625 * 400))),         # Eq. (15)
    (init.kaiming_uniform_, dict(nonlinearity="relu"), math.sqrt(2 / 400)),
    (init.kaiming_uniform_, dict(a=math.sqrt(5)), math.sqrt(1 / (3 * 400))),     # torch default
    (init.xavier_normal_, dict(), math.sqrt(2 / 650)),
    (init.xavier_uniform_, dict(gain=2.0), 2 * math.sqrt(2 / 650)),
    (init.normal_, dict(std=0.01), 0.01),
    (init.uniform_, dict(a=-1.0, b=1.0), math.sqrt(1 / 3)),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empirical_std_within_3_percent(fn, kwargs, std, dtype):
    w = tr.Tensor(np.empty(SHAPE, dtype=dtype))
    assert fn(w, seed=1, **kwargs) is w
    assert w.dtype == dtype
    assert abs(w.data.std() / std - 1) < 0.03
    assert abs(w.data.mean()) < 0.03 * std


def test_in_place_on_parameter_and_ndarray():
    p = nn.Parameter(np.zeros((20, 30), np.float32))
    data = p.data
    init.kaiming_normal_(p)
    assert p.data is data and p.data.std() > 0
    a = np.zeros((20, 30))
    assert init.xavier_uniform_(a) is a and a.std() > 0
    init.constant_(a, 3.0)
    assert np.all(a == 3)
    init.zeros_(p)
    assert np.all(p.data == 0)
    init.ones_(p)
    assert np.all(p.data == 1)
    with pytest.raises(TypeError, match="float32 or float64"):
        init.normal_(np.zeros(3, dtype=np.int64))


def test_reproducible_with_seed_rng_and_manual_seed():
    a, b = np.empty((8, 9)), np.empty((8, 9), np.float32)
    init.kaiming_normal_(a, seed=3)
    init.kaiming_normal_(b, rng=np.random.default_rng(3))
    np.testing.assert_allclose(a, b, rtol=1e-6)   # same values in float32 and float64
    init.manual_seed(5)
    first = nn.Conv2d(3, 4, 3).weight.data.copy()
    init.manual_seed(5)
    np.testing.assert_array_equal(nn.Conv2d(3, 4, 3).weight.data, first)
    with pytest.raises(ValueError, match="not both"):
        init.normal_(a, rng=np.random.default_rng(0), seed=0)


def test_default_layer_init_is_he_fan_in():
    conv = nn.Conv2d(64, 32, 3, seed=0)    # fan_in = 9 · 64 = 576, 18,432 weights
    assert abs(conv.weight.data.std() / math.sqrt(2 / 576) - 1) < 0.03
    assert np.all(conv.bias.data == 0)
    fc = nn.Linear(500, 200, seed=0)
    assert abs(fc.weight.data.std() / math.sqrt(2 / 500) - 1) < 0.03


def test_init_and_dropout_share_one_default_generator():
    import tinyrect.random as trandom
    assert init.manual_seed is trandom.manual_seed is tr.manual_seed
    tr.manual_seed(7)
    assert init.default_generator() is trandom.default_generator()
    w, x = np.empty((4, 5)), tr.Tensor(np.ones(6))
    init.normal_(w)
    mask = tr.functional.dropout(x, 0.5).data
    expected = np.random.default_rng(7)   # one stream: init's draws first, then dropout's
    np.testing.assert_array_equal(w, expected.standard_normal((4, 5)))
    np.testing.assert_array_equal(mask, (expected.random(6) >= 0.5) * 2.0)
    with pytest.raises(ValueError, match="non-negative integer"):
        tr.manual_seed(-1)


def test_he_std_is_the_papers_formula_and_feeds_the_gains():
    assert init.he_std(576) == pytest.approx(0.0589255650988789)        # sqrt(2/576), Eq. (10)
    assert init.he_std(100, 0.25) == pytest.approx(0.1371988681140071)  # sqrt(2/106.25), Eq. (15)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.25) == pytest.approx(init.he_std(1, 0.25))
    w = np.empty((64, 32, 3, 3))
    init.kaiming_normal_(w, a=0.25, mode="fan_out", seed=0)             # fan_out = 64 · 9
    assert abs(w.std() / init.he_std(576, 0.25) - 1) < 0.02
    for bad in (0, -3, "9", True):
        with pytest.raises(ValueError, match="fan must be a positive number"):
            init.he_std(bad)
    with pytest.raises(ValueError, match="negative slope"):
        init.he_std(9, float("nan"))
