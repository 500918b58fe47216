"""Probes: per-layer statistics against a hand computation, and proof that they change nothing."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import nn
from tinyrect import variance as probes
from tinyrect import variance as theory


def _two_layer(seed=0):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    model[0].weight.data = rng.standard_normal((4, 5))
    model[0].bias.data = np.array([-100.0, 0.1, 0.0, 0.2])   # unit 0 is dead on every input
    model[2].weight.data = rng.standard_normal((3, 4))
    model[2].bias.data = np.zeros(3)
    x = rng.standard_normal((16, 5))
    return model, x


def test_probes_match_a_hand_computation():
    model, x = _two_layer()
    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[2].weight.data, model[2].bias.data
    res = probes.record(model, x, seed=3)

    # the same pass by hand (the backward starts from the same seeded Gaussian gradient)
    y1 = x @ W1.T + b1
    x2 = np.maximum(y1, 0)
    y2 = x2 @ W2.T + b2
    g = np.random.default_rng(3).standard_normal(y2.shape)
    dy2 = g
    dx2 = dy2 @ W2
    dy1 = dx2 * (y1 > 0)
    dx1 = dy1 @ W1
    dW1, dW2 = dy1.T @ x, dy2.T @ x2

    r1, r2 = res[0], res[1]
    assert (r1.n, r1.n_hat, r2.n, r2.n_hat) == (5, 4, 4, 3)
    assert r1.var_w == pytest.approx(np.mean(W1 ** 2)) and r1.mean_w == pytest.approx(W1.mean())
    assert r1.ex2 == pytest.approx(np.mean(x ** 2)) and r2.ex2 == pytest.approx(np.mean(x2 ** 2))
    assert r1.mean_x == pytest.approx(x.mean()) and r2.mean_x == pytest.approx(x2.mean())
    assert r1.var_y == pytest.approx(y1.var()) and r2.var_y == pytest.approx(y2.var())
    assert r1.mean_y == pytest.approx(y1.mean())
    assert r2.var_dy == pytest.approx(dy2.var()) and r1.var_dy == pytest.approx(dy1.var())
    assert r2.var_dx == pytest.approx(dx2.var()) and r1.var_dx == pytest.approx(dx1.var())
    assert r1.mean_dy == pytest.approx(dy1.mean())
    assert r1.grad_data == pytest.approx(dW1.std() / W1.std())
    assert r2.grad_data == pytest.approx(dW2.std() / W2.std())
    # dead units: unit 0 never fires; the fraction counts every never-positive unit
    assert r1.dead == pytest.approx(1 - (y1 > 0).any(axis=0).mean()) and r1.dead >= 0.25
    assert np.isnan(r2.dead)               # no rectifier after the last layer
    text = str(res)
    assert "Var[y]" in text and len(text.splitlines()) == 3
    assert res.to_dict()["layers"][0]["l"] == 1


def test_record_restores_existing_gradients_and_forward_only_mode():
    model, x = _two_layer()
    model[0].weight.grad = np.full((4, 5), 7.0)
    res = probes.record(model, x)
    assert np.all(model[0].weight.grad == 7.0) and model[2].weight.grad is None
    fwd = probes.record(model, x, backward=False)
    assert fwd[1].var_y == pytest.approx(res[1].var_y) and np.isnan(fwd[1].var_dx)
    with pytest.raises(ValueError, match="labels"):
        probes.record(model, x, loss="cross_entropy")


def _conv_net():
    tr.init.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.PReLU(4),
        nn.Conv2d(4, 4, 3, padding=1, padding_mode="circular"), nn.ReLU(),
        nn.Flatten(), nn.Linear(4 * 5 * 5, 3),
    )


def _pass(model, x, labels):
    for p in model.parameters():
        p.grad = None
    out = model(tr.Tensor(x))
    tr.functional.cross_entropy(out, labels).backward()
    return out.data.copy(), [p.grad.copy() for p in model.parameters()]


def test_probes_do_not_change_the_computation():
    model = _conv_net()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 2, 5, 5)).astype(np.float32)
    labels = rng.integers(0, 3, 6)
    out0, grads0 = _pass(model, x, labels)
    with probes.Probe(model) as probe:
        out1, grads1 = _pass(model, x, labels)
    out2, grads2 = _pass(model, x, labels)          # hooks removed again
    assert np.array_equal(out0, out1) and np.array_equal(out0, out2)
    for g0, g1, g2 in zip(grads0, grads1, grads2):
        assert np.array_equal(g0, g1) and np.array_equal(g0, g2)
    res = probe.result()
    assert len(res) == 3 and np.isnan(res[0].var_dx)   # the raw input did not require grad
    hand = _by_hand(model, x, labels)
    for field in ("var_y", "ex2", "var_dy"):
        np.testing.assert_allclose(res.array(field), hand[field], rtol=1e-5, err_msg=field)
    np.testing.assert_allclose(res.array("var_dx")[1:], hand["var_dx"][1:], rtol=1e-5)
    assert res[0].dead == hand["dead"][0] and res[1].dead == hand["dead"][1]
    ce = probes.record(model, x, loss="cross_entropy", labels=labels)   # input requires grad
    np.testing.assert_allclose(ce.array("var_dx"), hand["var_dx"], rtol=1e-5)
    np.testing.assert_allclose(ce.array("var_dy"), hand["var_dy"], rtol=1e-5)


def _by_hand(model, x, labels):
    """The conv net's pass layer by layer, keeping every gradient; statistics with NumPy."""
    for p in model.parameters():
        p.grad = None
    inp = tr.Tensor(x, requires_grad=True)
    y1 = model[0](inp)
    x2 = model[1](y1)
    y2 = model[2](x2)
    x3 = model[4](model[3](y2))
    y3 = model[5](x3)
    for t in (y1, x2, y2, x3, y3):
        t.retain_grad()
    tr.functional.cross_entropy(y3, labels).backward()
    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    ys, xs = [y1, y2, y3], [inp, x2, x3]
    never_positive = lambda y: 1.0 - (f64(y.data) > 0).any(axis=0).mean()  # noqa: E731
    return {"var_y": [f64(y.data).var() for y in ys], "ex2": [np.mean(f64(t.data) ** 2) for t in xs],
            "var_dy": [f64(y.grad).var() for y in ys], "var_dx": [f64(t.grad).var() for t in xs],
            "dead": [never_positive(y1), never_positive(y2)]}


def test_update_tracker_and_plot(tmp_path):
    model, x = _two_layer()
    import matplotlib.image

    tracker = probes.UpdateTracker(model)
    opt = tr.optim.SGD(model.parameters(), lr=0.1)
    expected = []
    for _ in range(3):
        model.zero_grad()
        out = model(tr.Tensor(x))
        (out * out).mean().backward()
        before = [model[0].weight.data.copy(), model[2].weight.data.copy()]
        opt.step()
        after = [model[0].weight.data, model[2].weight.data]
        expected.append([np.log10(np.std(a - b) / np.std(a)) for a, b in zip(after, before)])
        assert tracker.step() == pytest.approx(expected[-1])
    np.testing.assert_allclose(tracker.array(), expected)
    tracker.plot(tmp_path / "updates.png")
    res = probes.record(model, x)
    res.plot(tmp_path / "var.png", prediction=theory.predict(model))
    for name in ("updates.png", "var.png"):          # real images with something drawn on them
        image = matplotlib.image.imread(tmp_path / name)
        assert image.ndim == 3 and image.shape[0] > 100 and image[..., :3].std() > 0.05


def test_theory_reads_a_tinyrect_model():
    tr.init.manual_seed(0)
    layers = [nn.Conv2d(1, 8, 3, padding=1, bias=False)]
    for _ in range(3):
        layers += [nn.LeakyReLU(0.1), nn.Conv2d(8, 8, 3, padding=1, bias=False)]
    model = nn.Sequential(*layers, nn.PReLU(8, init=0.5))
    specs = theory.layer_specs(model)
    assert [s.a_before for s in specs] == [None, 0.1, 0.1, 0.1]
    assert [s.a_after for s in specs][:3] == [0.1, 0.1, 0.1]
    assert np.allclose(specs[-1].a_after, 0.5)
    assert specs[1].n == 72 and specs[1].padding == 1 and specs[1].var_w == pytest.approx(
        np.mean(model[2].weight.data.astype(np.float64) ** 2))
    by_scheme = theory.predict(model, scheme="he_fan_in")
    assert by_scheme.forward_ratio_log2() == pytest.approx(0.0)      # Eq. (15) with a = 0.1
    with pytest.raises(ValueError, match="not covered"):
        theory.layer_specs(nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2)))
