"""Grader code that runs around a student's function, inside the student's process.

A part with a driver (Part.driver, one of the functions below) is called as
driver(student_fn, *args, **kwargs) instead of student_fn(*args, **kwargs): the driver builds
what the student's function takes (Tensors, a Python function), runs it, and returns plain arrays,
which travel back to the grader and are judged there like any answer. The child process loads this
file by its path before the student's file and before any import is blocked (it imports only NumPy
at the top; the tape and capstone drivers import tinyrect when they run, so those exercises are
graded with tinyrect importable). The grader uses the same functions for its reference values.
"""
from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------------------- a value, not a function
def answer(value):
    """A question's answer: the value itself; `...` (not answered yet) is 'not implemented'."""
    if value is Ellipsis:
        raise NotImplementedError("not answered yet")
    return value


def answer_int(value):
    return (answer(value),)


# ----------------------------------------------------------------------------- ops on the tape (lesson 01)
def _leaf(array):
    from tinyrect.tensor import Tensor
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def _output(y, name):
    from tinyrect.tensor import Tensor
    if not isinstance(y, Tensor):
        raise TypeError(f"{name} must return a Tensor made by type(x)._from_op(data, parents, backward, op), "
                        f"not a {type(y).__name__}")
    if not y.requires_grad:
        raise ValueError(f"the Tensor {name} returned is not on the tape (no parents that need a gradient): "
                         f"build it with type(x)._from_op(data, (x,), backward, '{name}')")
    return y


def _grad(t, name):
    if t.grad is None:
        raise ValueError(f"no gradient reached {name}: backward(dout) must return one gradient per parent, "
                         f"in the order of the parents tuple")
    return np.array(t.grad, dtype=np.float64)


def tape_unary(op, x, dout):
    """y = op(x) on float64 leaves, y.backward(dout): (y, ∂L/∂x)."""
    t = _leaf(x)
    y = _output(op(t), "softplus")
    y.backward(np.array(dout))
    return np.array(y.data, dtype=np.float64), _grad(t, "x")


def tape_binary(op, a, b, dout, same=False):
    """y = op(a, b) (or op(a, a) when `same`: the tape accumulates both uses), y.backward(dout)."""
    ta = _leaf(a)
    tb = ta if same else _leaf(b)
    y = _output(op(ta, tb), "mul")
    y.backward(np.array(dout))
    return np.array(y.data, dtype=np.float64), _grad(ta, "a"), _grad(tb, "b")


# ----------------------------------------------------------------------------- gradcheck (lesson 02)
W = np.linspace(-1.5, 2.0, 12)


def cubic(x):
    return float(np.sum(x ** 3 - 2 * x))


def softplus_dot(x):
    return float(np.sum(np.logaddexp(0.0, x) * W[: x.size].reshape(x.shape)))


def tanh_quad(x):
    return float(np.tanh(x.ravel() @ x.ravel() / 4) + np.prod(x.ravel()[:2]))


TEST_FUNCTIONS = (cubic, softplus_dot, tanh_quad)   # a case names one by its index (only numbers travel)


def with_test_function(fn, f, x, eps=1e-4):
    """The student's numerical_gradient(f, x, eps), f the test function TEST_FUNCTIONS[f]."""
    return fn(TEST_FUNCTIONS[int(f)], x, eps)


# ----------------------------------------------------------------------------- the capstone
def _pieces(fn):
    from tinyrect.exercises.plug import use
    return use(fn())


def plugged_prelu(fn, x, a, dout):
    """The student's PReLU plugged into the tape: (y, ∂L/∂x, ∂L/∂a)."""
    tx, ta = _leaf(x), _leaf(a)
    y = _pieces(fn).prelu(tx, ta)
    y.backward(np.array(dout))
    return y.data, _grad(tx, "x"), _grad(ta, "a")


def plugged_conv(fn, x, w, b, dout, stride=1, padding=0):
    """The student's conv2d plugged into the tape: (y, ∂L/∂x, ∂L/∂w, ∂L/∂b)."""
    tx, tw, tb = _leaf(x), _leaf(w), _leaf(b)
    y = _pieces(fn).conv2d(tx, tw, tb, stride, padding)
    y.backward(np.array(dout))
    return y.data, _grad(tx, "x"), _grad(tw, "w"), _grad(tb, "b")


def table2(fn, seed):
    """[ReLU, PReLU] test accuracies of a small conv net built from the student's pieces."""
    from tinyrect.exercises.plug import table2 as run
    return run(_pieces(fn), seed)


def fig3(fn, seed):
    """[He, Xavier] test accuracies of a 30-layer plain net initialized with the student's stds."""
    from tinyrect.exercises.plug import fig3 as run
    return run(_pieces(fn), seed)
