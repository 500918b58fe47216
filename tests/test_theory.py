"""The paper's variance formulas (tinyrect.variance.paper) and the padding-aware version, against closed
forms and hand-computed numbers."""
import math

import numpy as np
import pytest

from tinyrect import variance as T
from tinyrect import variance as P


def test_rectifier_gain_closed_forms():
    assert T.rectifier_gain(0.0) == 0.5                       # ReLU: E[x²] = ½ Var[y]  (the step into Eq. 8)
    assert T.rectifier_gain(1.0) == 1.0                       # a = 1: linear, Xavier's case
    assert T.rectifier_gain(0.25) == pytest.approx(0.5 * (1 + 0.0625))   # Eq. (15)
    assert T.rectifier_gain(None) == 1.0                      # no rectifier
    # channel-wise: mean over channels of (1+a_c²)/2
    assert T.rectifier_gain(np.array([0.0, 1.0])) == pytest.approx(0.75)


def test_rectifier_gain_monte_carlo():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(400_000)
    for a in (0.0, 0.25, 0.5):
        x = np.where(y > 0, y, a * y)
        assert np.mean(x ** 2) == pytest.approx(T.rectifier_gain(a) * y.var(), rel=0.01)


def test_factors_and_products():
    n = 9 * 64
    assert T.forward_factor(n, 2.0 / n) == pytest.approx(1.0)                # He: Eq. (10)
    assert T.forward_factor(n, 1.0 / n) == pytest.approx(0.5)                # Xavier under ReLU
    assert T.forward_factor(n, 1.0 / n, a=None) == pytest.approx(1.0)        # linear layer
    assert T.backward_factor(n, 2.0 / n) == pytest.approx(1.0)               # Eq. (14)
    a = 0.25
    assert T.forward_factor(n, T.he_std(n, a) ** 2, a) == pytest.approx(1.0)  # Eq. (15)
    # Eq. (9): L-1 = 29 Xavier factors give (1/2)^29
    ns = [n] * 29
    assert T.forward_product(ns, [1.0 / n] * 29) == pytest.approx(T.xavier_relu_product(30))
    assert T.log2_forward_product(ns, [1.0 / n] * 29) == pytest.approx(-29.0)
    assert T.log2_backward_product(ns, [2.0 / n] * 29) == pytest.approx(0.0)
    # the 0.01 Gaussian: log2 of (½ n 1e-4) per layer
    assert T.gaussian_log2_product(ns, 0.01) == pytest.approx(29 * math.log2(0.5 * n * 1e-4))
    with pytest.raises(ValueError, match="weight variances"):
        T.forward_product([1, 2], [1.0])
    with pytest.raises(ValueError, match="unknown init scheme"):
        T.init_variance("lecun", 9, 9)


def test_c2_over_dL_matches_the_product_of_fans():
    widths = [3, 16, 32, 32, 64, 128]   # c_1, d_1, ..., d_L
    ks = [7, 3, 3, 2, 3]
    n = [k * k * c for k, c in zip(ks, widths[:-1])]
    n_hat = [k * k * d for k, d in zip(ks, widths[1:])]
    # Eq. (14) init seen by the forward: Π_{l=2..L} ½ n_l · 2/n̂_l
    fwd = T.forward_product(n[1:], [2.0 / nh for nh in n_hat[1:]])
    assert fwd == pytest.approx(T.c2_over_dL(widths)) and fwd == pytest.approx(16 / 128)
    bwd = T.backward_product(n_hat[1:], [2.0 / nn for nn in n[1:]])
    assert bwd == pytest.approx(T.dL_over_c2(widths))
    # and the plain-net specs give the same through predict_specs
    specs = T.plain_net_specs(5, None, in_channels=3, widths=widths[1:], scheme="he_fan_out")
    assert 2 ** T.predict_specs(specs).forward_ratio_log2(1) == pytest.approx(16 / 128)


def test_predict_specs_cumulative_products():
    specs = T.plain_net_specs(30, 32, scheme="xavier")
    pred = T.predict_specs(specs)
    assert pred.forward_ratio_log2() == pytest.approx(-29.0)                  # (½)^(L-1)
    assert pred.forward_ratio_log2(2, 30) == pytest.approx(-28.0)
    assert pred.backward_ratio_log2(2) == pytest.approx(-29.0)               # Eq. (13)
    assert T.predict_specs(T.plain_net_specs(30, 32)).forward_ratio_log2() == pytest.approx(0.0)
    assert "log2 Var[y_l]" in pred.table()
    # PReLU-aware init (Eq. 15) is flat for its own slope; ReLU's 2/n with a = 0.25 gains (1+a²)/layer
    prelu = T.predict_specs(T.plain_net_specs(30, 32, a=0.25, scheme="he_fan_in"))
    assert prelu.forward_ratio_log2() == pytest.approx(0.0)
    ignored = T.plain_net_specs(30, 32, a=0.25, scheme="he_fan_in")
    for s in ignored:
        s.var_w = 2.0 / s.n
    assert T.predict_specs(ignored).forward_ratio_log2() == pytest.approx(29 * math.log2(1.0625))


def test_tap_matrix():
    A = P.tap_matrix(4, 3, 1, 1)
    assert A.tolist() == [[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]
    C = P.tap_matrix(4, 3, 1, 1, "circular")
    assert (C.sum(axis=1) == 3).all() and (C.sum(axis=0) == 3).all()
    S = P.tap_matrix(5, 3, 2, 1)
    assert S.shape == (3, 5) and S.tolist()[0] == [1, 1, 0, 0, 0]


def test_padded_forward_maps_by_hand():
    # one 3×3 layer on a 3×3 all-ones input, padding 1: the corners see 4 taps, edges 6, centre 9
    spec = T.plain_net_specs(1, 1, scheme="xavier_fan_in")   # Var[w] = 1/9, c = 1
    V = P.padded_forward_maps(spec, np.ones((3, 3)))[0]
    assert V * 9 == pytest.approx(np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]))


@pytest.mark.parametrize("size, expected", [(8, -3.45), (16, -1.21), (32, -0.52)])
def test_padding_aware_numbers(size, expected):
    """30 layers, 3×3, zero padding 1, He fan_in: log2 Var[y_30]/Var[y_2] (uniform input)."""
    specs = T.plain_net_specs(30, 32)
    log2 = P.padded_forward_prediction(specs, input_size=(size, size))
    assert round(log2[29] - log2[1], 2) == expected


def test_circular_padding_and_linear_layers_follow_the_paper():
    for scheme in ("he_fan_in", "xavier", "gaussian"):
        specs = T.plain_net_specs(30, 32, scheme=scheme, padding_mode="circular")
        paper = T.predict_specs(specs)
        fwd = P.padded_forward_prediction(specs, input_size=(8, 8))
        bwd = P.padded_backward_prediction(specs, input_size=(8, 8))
        assert fwd == pytest.approx(paper.log2_forward, abs=1e-9)
        assert bwd == pytest.approx(paper.log2_backward, abs=1e-9)
    # fully connected: every output sees every input, no border effect
    lin = [T.LayerSpec(i, "linear", "Linear", 50, 50, 1, 50, 50, 2 / 50, None if i == 0 else 0.0, 0.0)
           for i in range(10)]
    fwd = P.padded_forward_prediction(lin, input_size=(1, 1))
    assert fwd == pytest.approx(T.predict_specs(lin).log2_forward, abs=1e-9)


def test_padded_backward_is_the_transpose():
    """Σ_p V(p)·G(p) is the same whichever way a single linear map is applied (adjointness)."""
    rng = np.random.default_rng(1)
    spec = T.plain_net_specs(1, 4, in_channels=4, scheme="he_fan_in", a=0.0)
    spec[0].var_w, spec[0].a_after = 1.0, None
    M = rng.random((6, 6))
    G = rng.random((6, 6))
    V = P.padded_forward_maps(spec, M)[0] / spec[0].c                # A M Aᵀ
    back = P.padded_backward_maps(spec, (6, 6), G)[0] / spec[0].d    # Aᵀ G A
    assert np.sum(V * G) == pytest.approx(np.sum(M * back))


def test_padded_prediction_differs_from_paper_on_small_maps():
    specs = T.plain_net_specs(30, 32, scheme="xavier")
    pred = P.padded_predict(specs, input_size=(8, 8))
    paper = T.predict_specs(specs)
    assert pred.forward_ratio_log2(2, 30) == pytest.approx(-28.0 - 3.4458, abs=1e-3)
    assert paper.forward_ratio_log2(2, 30) == pytest.approx(-28.0)
    assert pred.backward_ratio_log2(2, 30) < paper.backward_ratio_log2(2, 30) - 3


def test_bad_input_messages():
    with pytest.raises(ValueError, match="input_size"):
        P.padded_forward_prediction(T.plain_net_specs(2, 4))
    with pytest.raises(ValueError, match="padding_mode"):
        P.tap_matrix(4, 3, 1, 1, "reflect")
    with pytest.raises(ValueError, match="slopes"):
        T.log2_forward_product([9, 9], [0.1, 0.1], [0.0])


def test_layer_specs_read_a_torch_model_too():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1, bias=False), torch.nn.PReLU(1, 0.25),
                                torch.nn.Conv2d(8, 8, 3, padding=1, bias=False, padding_mode="circular"),
                                torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 64, 10))
    specs = T.layer_specs(model)
    assert [s.kind for s in specs] == ["conv", "conv", "linear"]
    assert specs[0].a_after == pytest.approx(0.25) and specs[1].a_before == pytest.approx(0.25)
    assert specs[1].padding_mode == "circular" and specs[2].a_before == 0.0 and specs[2].a_after is None
    assert specs[2].n == 512 and specs[2].n_hat == 10
    w = model[2].weight.detach().numpy().astype(np.float64)
    assert specs[1].var_w == pytest.approx(np.mean(w ** 2))
    var_w = [float(np.mean(model[i].weight.detach().numpy().astype(np.float64) ** 2))
             for i in (0, 2, 5)]
    pred = P.padded_predict(model, input_size=(8, 8))
    # By hand. Forward: circular padding and the fc layer see every input pixel k² resp. once,
    # so the paper's factors hold exactly: ½(1+a²)·n·Var[w].
    f2 = math.log2(0.5 * (1 + 0.25 ** 2) * 72 * var_w[1])
    f3 = f2 + math.log2(0.5 * 512 * var_w[2])
    assert pred.log2_forward == pytest.approx([0.0, f2, f3], abs=1e-12)
    # Backward: fc: n̂ Var[w] (no rectifier after); circular conv: ½·n̂·Var[w]; the first conv
    # has zero padding, so an input pixel of the 8×8 map is covered by 2 or 3 windows per axis:
    # (2 + 6·3 + 2)² / 64 = 7.5625 taps on average instead of 9, times d = 8 channels.
    b3 = math.log2(10 * var_w[2])
    b2 = b3 + math.log2(0.5 * 72 * var_w[1])
    b1 = b2 + math.log2(0.5 * (1 + 0.25 ** 2) * 8 * 7.5625 * var_w[0])
    assert pred.log2_backward == pytest.approx([b1, b2, b3], abs=1e-12)


def test_prediction_for_a_three_layer_net_by_hand():
    """conv 3→4 (w = 0.2), ReLU, conv 4→6 (w = -0.1), PReLU a = 0.5, fc 24→5 (w = 0.05)."""
    from tinyrect import nn

    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.ReLU(),
                          nn.Conv2d(4, 6, 3, bias=False), nn.PReLU(1, init=0.5),
                          nn.Flatten(), nn.Linear(24, 5, bias=False)).double()
    for layer, w in ((model[0], 0.2), (model[2], -0.1), (model[5], 0.05)):
        layer.weight.data[...] = w                    # Var[w] = w²: 0.04, 0.01, 0.0025
    pred = T.predict(model)
    assert [(s.n, s.n_hat) for s in pred.specs] == [(27, 36), (36, 54), (24, 5)]
    # forward factors ½(1+a²)·n·Var[w], a of the rectifier BEFORE (none before layer 1)
    assert pred.forward_factors == pytest.approx([27 * 0.04, 0.5 * 36 * 0.01, 0.625 * 24 * 0.0025])
    assert pred.forward_factors == pytest.approx([1.08, 0.18, 0.0375])
    assert pred.log2_forward == pytest.approx([0.0, math.log2(0.18), math.log2(0.00675)])
    # backward factors ½(1+a²)·n̂·Var[w], a of the rectifier AFTER (none after the fc)
    assert pred.backward_factors == pytest.approx([0.72, 0.3375, 0.0125])
    assert pred.log2_backward == pytest.approx(
        [math.log2(0.0030375), math.log2(0.00421875), math.log2(0.0125)])
    assert pred.forward_ratio_log2() == pytest.approx(math.log2(0.00675))       # Eq. (9)
    assert pred.backward_ratio_log2() == pytest.approx(math.log2(0.00421875))   # Eq. (13), Δx_2
