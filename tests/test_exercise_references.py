"""The reference solutions are right (finite differences, PyTorch, tinyrect's own ops), and the
diagnosis names a flipped sign and a constant factor."""
import math

import dataclasses

import numpy as np
import pytest

from tinyrect.exercises import grader
from tinyrect.exercises.checking import Case, Part, Variant, numerical_gradients, rel_error
from tinyrect.exercises.judging import grade_part


def test_reference_gradients_match_finite_differences_on_kinks_free_inputs():
    from tinyrect.exercises.solutions import conv, prelu
    rng = np.random.default_rng(0)
    x = np.sign(rng.standard_normal((2, 3, 4, 5))) * (0.1 + rng.random((2, 3, 4, 5)))
    for a in (np.array([1.3]), np.array([0.2, -0.7, 1.9])):
        dout = rng.standard_normal(x.shape)
        numeric = numerical_gradients(prelu.prelu_forward, (x, a), {}, dout)
        for got, num in zip(prelu.prelu_backward(x, a, dout), numeric):
            assert rel_error(got, num) < 1e-8
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    dout = rng.standard_normal((2, 4, 2, 3))
    numeric = numerical_gradients(conv.conv2d_forward, (x, w, b), {"stride": 2, "padding": 1}, dout)
    for got, num in zip(conv.conv2d_backward(x, w, b, dout, stride=2, padding=1), numeric):
        assert rel_error(got, num) < 1e-8


def test_reference_solutions_agree_with_torch():
    torch = pytest.importorskip("torch")
    from tinyrect.exercises.solutions import conv, init, prelu
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 7))
    x[0, 0, 0, :3] = 0.0
    a = np.array([0.3, -0.4, 1.6])
    dout = rng.standard_normal(x.shape)
    xt, at = torch.tensor(x, requires_grad=True), torch.tensor(a, requires_grad=True)
    yt = torch.nn.functional.prelu(xt, at)
    yt.backward(torch.tensor(dout))
    dx, da = prelu.prelu_backward(x, a, dout)
    assert rel_error(prelu.prelu_forward(x, a), yt.detach().numpy()) < 1e-14
    assert rel_error(dx, xt.grad.numpy()) < 1e-14 and rel_error(da, at.grad.numpy()) < 1e-12
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=2, padding=1)
    d = rng.standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(d))
    assert rel_error(conv.conv2d_forward(x, w, b, 2, 1), yt.detach().numpy()) < 1e-13
    for ours, theirs in zip(conv.conv2d_backward(x, w, b, d, 2, 1), (xt.grad, wt.grad, bt.grad)):
        assert rel_error(ours, theirs.numpy()) < 1e-13
    cols = torch.nn.functional.unfold(torch.tensor(x), 3, padding=1, stride=2)   # (N, C*k*k, L)
    assert rel_error(conv.im2col(x, 3, 2, 1), cols.permute(1, 0, 2).reshape(27, -1).numpy()) == 0.0
    wt = torch.empty(64, 3, 7, 7)
    assert init.compute_fans(wt.shape) == torch.nn.init._calculate_fan_in_and_fan_out(wt)
    gain = torch.nn.init.calculate_gain("leaky_relu", 0.25)
    assert math.isclose(init.he_std(147, 0.25), gain / math.sqrt(147), rel_tol=1e-14)


def test_reference_solutions_agree_with_tinyrect_functional():
    """Cross-check with tinyrect's own autograd ops, once they exist (they are written in parallel)."""
    import tinyrect as tr
    from tinyrect.exercises.solutions import conv, prelu
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 5))
    x[0, 1, 0, :2] = 0.0
    a = np.array([0.3, -0.4, 1.6])
    dout = rng.standard_normal(x.shape)
    try:
        xt, at = tr.Tensor(x, requires_grad=True), tr.Tensor(a, requires_grad=True)
        y = tr.functional.prelu(xt, at)
    except NotImplementedError:
        pytest.skip("tinyrect.functional.prelu is not written yet")
    y.backward(dout)
    dx, da = prelu.prelu_backward(x, a, dout)
    assert rel_error(y.data, prelu.prelu_forward(x, a)) < 1e-14
    assert rel_error(xt.grad, dx) < 1e-14 and rel_error(at.grad, da) < 1e-12
    w, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    try:
        out = tr.functional.conv2d(tr.Tensor(x), tr.Tensor(w), tr.Tensor(b), stride=2, padding=1)
    except NotImplementedError:
        pytest.skip("tinyrect.functional.conv2d is not written yet")
    assert rel_error(out.data, conv.conv2d_forward(x, w, b, 2, 1)) < 1e-13


# --------------------------------------------------------------------------- diagnosis: sign and factor
def _scaled(part, factor):
    def fn(*args, **kwargs):
        got = part.reference(*args, **kwargs)
        return tuple(factor * g for g in got) if len(part.outputs) > 1 else factor * got
    return fn


PARTS = [(name, i) for name in grader.EXERCISES if name not in ("deep", "capstone") and not name.startswith("questions")
         for i, part in enumerate(grader.exercise(name).parts()) if part.kind != "ints" and part.judge is None]


@pytest.mark.parametrize("name,index", PARTS, ids=[f"{n}-{i}" for n, i in PARTS])
def test_a_flipped_sign_and_a_constant_factor_are_named(name, index):
    # a driver part's reference is already driven: grade it as a plain function
    part = dataclasses.replace(grader.exercise(name).parts()[index], driver=None)
    for factor, hint in ((-1.0, "the sign is flipped"), (1.5, "the right one times 1.5: a missing or extra constant")):
        result = grade_part(_scaled(part, factor), part)
        assert result.status == "fail"
        assert len(result.hints) == len(part.outputs), result.hints
        assert all(hint in h for h in result.hints), (factor, result.hints)


def test_an_exact_sign_flip_beats_a_variant_that_explains_only_some_entries():
    x = np.array([[-1.0, 2.0, -3.0, 4.0]])
    part = Part("double", lambda x: 2 * x, [Case("", (x,), ("x",))], catalogue=[
        Variant("wrong on the positive side", lambda x: np.where(x > 0, -2 * x, 2 * x))])
    assert grade_part(lambda x: -2 * x, part).hints == ["the sign is flipped"]
    assert grade_part(lambda x: 6 * x, part).hints[0].startswith("your answer is the right one times 3")
    assert grade_part(lambda x: np.where(x > 0, -2 * x, 2 * x), part).hints == ["wrong on the positive side"]
