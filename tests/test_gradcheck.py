"""gradcheck itself: its default tolerance is pinned, and a slightly wrong backward fails it.

Many tests call `tr.gradcheck(...)` with the defaults and rely on them to catch a wrong
backward, so the defaults are part of the contract."""
import inspect

import numpy as np
import pytest

import tinyrect as tr
from tinyrect import Tensor


def scaled(factor, wrong_by=1.0, offset=0.0):
    """y = factor · x, whose backward is off by the factor `wrong_by` plus `offset`."""
    def fn(x):
        def backward(dout):
            return (dout * factor * wrong_by + offset,)
        return Tensor._from_op(x.data * factor, (x,), backward, "scaled")
    return fn


def x():
    return Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)


def test_the_default_tolerances_are_pinned():
    params = inspect.signature(tr.gradcheck).parameters
    assert (params["eps"].default, params["rtol"].default, params["atol"].default) == (1e-6, 1e-5, 1e-8)
    report = tr.gradcheck(scaled(3.0), [x()])
    assert (report.eps, report.rtol, report.atol) == (1e-6, 1e-5, 1e-8)


def test_a_correct_backward_passes_with_the_defaults():
    report = tr.gradcheck(scaled(3.0), [x()])
    assert report.passed and report.max_rel_error < 1e-8


@pytest.mark.parametrize("wrong_by", [1.01, 0.99, 1.001, 1.0001])
def test_a_backward_off_by_a_small_factor_fails_with_the_defaults(wrong_by):
    with pytest.raises(tr.GradcheckError, match="input 0"):
        tr.gradcheck(scaled(3.0, wrong_by), [x()])
    report = tr.gradcheck(scaled(3.0, wrong_by), [x()], raise_on_failure=False)
    assert not report.passed
    assert report.max_rel_error == pytest.approx(abs(1 - 1 / wrong_by) if wrong_by > 1
                                                 else 1 - wrong_by, rel=1e-3)


def test_a_tiny_spurious_gradient_fails_where_the_true_one_is_zero():
    """y = 0 · x has gradient 0; a backward giving 1e-6 is caught by atol = 1e-8."""
    report = tr.gradcheck(scaled(0.0, offset=1e-6), [x()], raise_on_failure=False)
    assert not report.passed


def test_bad_arguments_are_named():
    for kwargs, message in [(dict(eps=0), "eps must be a finite number > 0"),
                            (dict(eps=float("nan")), "eps must be"),
                            (dict(rtol=-1e-5), "rtol must be a finite number >= 0"),
                            (dict(atol=True), "atol must be")]:
        with pytest.raises(ValueError, match=message):
            tr.gradcheck(scaled(2.0), [x()], **kwargs)
    with pytest.raises(ValueError, match="no inputs"):
        tr.gradcheck(scaled(2.0), [])
    with pytest.raises(TypeError, match="inputs must be a Tensor or a list"):
        tr.gradcheck(scaled(2.0), "x")
    assert tr.gradcheck(scaled(2.0), x(), atol=0).passed     # a single Tensor is fine


def test_the_printed_verdict_agrees_with_passed():
    tiny = tr.gradcheck(scaled(0.0, offset=1e-9), [x()])      # |a - n| = 1e-9 <= atol: passes
    assert tiny.passed and tiny.max_rel_error == pytest.approx(1.0)
    assert "verdict: passed" in str(tiny) and "wrong" not in str(tiny)
    wrong = tr.gradcheck(scaled(3.0, 1.1), [x()], raise_on_failure=False)
    assert "verdict: the gradient is wrong" in str(wrong) and "WRONG" in str(wrong)
    assert "verdict: correct" in str(tr.gradcheck(scaled(3.0), [x()]))
