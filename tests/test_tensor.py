"""The tape: every Tensor op's hand-derived backward against finite differences, dtypes, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import tinyrect as tr
from tinyrect import Tensor
from tinyrect.tensor import unbroadcast


def rand(*shape, seed=0, positive=False):
    rng = np.random.default_rng(seed + 17 * len(shape))
    x = rng.standard_normal(shape)
    return np.abs(x) + 0.5 if positive else x


def t(*shape, seed=0, positive=False):
    return Tensor(rand(*shape, seed=seed, positive=positive), requires_grad=True)


# ----------------------------------------------------------------------------- gradcheck, each op
BINARY_CASES = [  # (shape a, shape b): equal shapes, then every broadcasting pattern
    ((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3)), ((5,), ()),
]


@pytest.mark.parametrize("shape_a,shape_b", BINARY_CASES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
def test_binary_ops_gradcheck_with_broadcasting(op, shape_a, shape_b):
    a, b = t(*shape_a, seed=1, positive=True), t(*shape_b, seed=2, positive=True)
    fns = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}
    report = tr.gradcheck(fns[op], [a, b])
    assert report.passed and report.max_rel_error < 1e-7


@pytest.mark.parametrize("fn", [
    lambda x: -x, lambda x: x.exp(), lambda x: x.log(), lambda x: x.pow(3), lambda x: x.pow(-1.5),
    lambda x: x ** 2, lambda x: 2.0 ** x, lambda x: 3.0 - x, lambda x: 2.0 / x, lambda x: 1.5 * x + 2,
    lambda x: x.sum(), lambda x: x.sum(axis=0), lambda x: x.sum(axis=(0, 2), keepdims=True),
    lambda x: x.mean(), lambda x: x.mean(axis=-1), lambda x: x.max(axis=1), lambda x: x.max(),
    lambda x: x.reshape(4, 6), lambda x: x.reshape(-1), lambda x: x.transpose(2, 0, 1),
    lambda x: x.T, lambda x: x.transpose(0, 2), lambda x: x[1], lambda x: x[:, 1:3, ::2],
    lambda x: x[np.array([0, 1, 1, 0])], lambda x: x[x.data > 0.8], lambda x: x.relu(),
    lambda x: x.double(),
], ids=lambda f: "")
def test_unary_ops_gradcheck(fn):
    x = t(2, 3, 4, seed=3, positive=True)
    assert tr.gradcheck(fn, [x]).max_rel_error < 1e-7


@pytest.mark.parametrize("shape_a,shape_b", [
    ((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2)),
])
def test_matmul_gradcheck(shape_a, shape_b):
    a, b = t(*shape_a, seed=4), t(*shape_b, seed=5)
    assert tr.gradcheck(lambda a, b: a @ b, [a, b]).max_rel_error < 1e-7


def test_ndarray_on_the_left_dispatches_to_tensor():
    a = t(3, 4)
    for out in (np.ones(4) + a, np.ones(4) * a, np.ones((2, 3)) @ a, 1.0 - a):
        assert isinstance(out, Tensor) and out.requires_grad


def test_cross_entropy_and_log_softmax_gradcheck():
    logits = t(5, 4, seed=6)
    labels = np.array([0, 3, 1, 1, 2])
    assert tr.gradcheck(lambda z: tr.functional.cross_entropy(z, labels), [logits]).passed
    assert tr.gradcheck(lambda z: tr.functional.log_softmax(z, axis=0), [logits]).passed


def test_cross_entropy_is_stable_for_huge_logits():
    logits = Tensor(np.array([[1000.0, 0.0], [0.0, -1000.0]]), requires_grad=True)
    loss = tr.functional.cross_entropy(logits, np.array([0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isclose(loss.item(), 500.0)
    assert np.all(np.isfinite(logits.grad))


# ----------------------------------------------------------------------------- hypothesis
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_broadcast_mul_add_random_shapes(data):
    shape_a, shape_b = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    a = Tensor(rng.standard_normal(shape_a), requires_grad=True)
    b = Tensor(rng.standard_normal(shape_b), requires_grad=True)
    report = tr.gradcheck(lambda a, b: (a * b + a) * (b - 0.5), [a, b])
    # passed: |analytic - numeric| <= atol + rtol·|numeric| everywhere. The relative error alone
    # is not asserted tightly: on a near-zero gradient entry (hypothesis found one of 6.8e-6)
    # round-off in the difference quotient gives ~1e-6 relative error although both agree to 1e-11.
    assert report.passed and report.max_rel_error < 1e-4


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_unbroadcast_sums_back_to_the_input_shape(shape, seed):
    rng = np.random.default_rng(seed)
    target = (2,) + tuple(1 if rng.random() < 0.5 else n for n in shape)
    grad = rng.standard_normal((2,) + shape)
    reduced = unbroadcast(grad, target[1:])
    assert reduced.shape == target[1:]
    assert np.isclose(reduced.sum(), grad.sum())


@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_sum_mean_backward_random_shapes(shape, seed):
    x = Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    axis = seed % len(shape)
    assert tr.gradcheck(lambda x: x.mean(axis=axis) * x.sum(axis=axis), [x]).max_rel_error < 1e-6


# ----------------------------------------------------------------------------- the tape itself
def test_deep_chain_beyond_recursion_limit():
    x = Tensor(np.array([1.0]), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    assert np.isclose(x.grad[0], 1.0001 ** 5000)


def test_gradient_accumulates_over_backward_calls_and_shared_nodes():
    x = t(3)
    y = x * x + x  # x used three times
    y.sum().backward()
    first = x.grad.copy()
    np.testing.assert_allclose(first, 2 * x.data + 1)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, first + 2)


def test_gradient_accumulates_in_place_like_pytorch_and_never_into_the_callers_array():
    x = t(3)
    dout = np.ones(3)
    (x * 1.0).backward(dout)
    grad = x.grad
    assert grad is not dout                       # the first gradient is a copy
    (x * 1.0).backward(dout)
    assert x.grad is grad                         # then accumulated in place, as in PyTorch
    np.testing.assert_array_equal(grad, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(dout, [1.0, 1.0, 1.0])
    x.grad = np.zeros(3, np.float32)              # a user-set grad of another dtype: a new sum
    (x * 1.0).backward(dout)
    assert x.grad.dtype == np.float64 and np.allclose(x.grad, 1.0)


def test_getitem_repeated_indices_add_up():
    x = t(4)
    x[np.array([1, 1, 1, 3])].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 1])


def test_no_grad_records_nothing():
    x = t(3)
    with tr.no_grad():
        y = x * 2
    assert not y.requires_grad and y.is_leaf
    assert tr.is_grad_enabled()


def test_hooks_see_and_may_replace_the_gradient():
    x = t(3)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.copy()))
    y.register_hook(lambda g: g * 0)
    y.sum().backward()
    np.testing.assert_array_equal(seen[0], np.ones(3))
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_retain_grad_keeps_intermediate_gradients():
    x = t(3)
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad, 2 * y.data)


# ----------------------------------------------------------------------------- dtypes
def test_float32_is_the_default_and_float64_is_kept():
    assert Tensor([1.0, 2.0]).dtype == np.float32 and Tensor(2.5).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.int64  # as torch.tensor: Python ints stay integers
    assert Tensor(np.zeros(3, dtype=np.float16)).dtype == np.float32
    x64 = Tensor(np.ones(3), requires_grad=True)
    y = (x64 * 0.5 + 1).exp().log().sum() / 3
    assert y.dtype == np.float64
    y.backward()
    assert x64.grad.dtype == np.float64
    x32 = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    z = (x32 * 0.5 + 1.0) ** 2 / 3.0
    assert z.dtype == np.float32
    z.sum().backward()
    assert x32.grad.dtype == np.float32


def test_mixing_float32_and_float64_follows_numpy_promotion():
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    out = a * b
    assert out.dtype == np.result_type(np.float32, np.float64) == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 or a.grad.dtype == np.float64  # value checked below
    np.testing.assert_allclose(a.grad, 1.0)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point.*astype"):
        Tensor(np.arange(3), requires_grad=True)
    assert Tensor(np.arange(3)).dtype.kind == "i"  # integer arrays without grad are kept (labels)


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("value", [np.array([1 + 2j, 3.0]), [1j, 2.0], np.complex64(1.0)])
def test_complex_data_is_refused_with_the_conversion_to_use(value, requires_grad):
    with pytest.raises(TypeError, match=r"complex.*\.real.*np\.abs"):
        Tensor(value, requires_grad=requires_grad)
    with pytest.raises(TypeError, match=r"complex.*\.real"):
        tr.as_tensor(value)
    with pytest.raises(TypeError, match="complex"):
        t(2) * value  # also as the other operand of an op
    with pytest.raises(TypeError, match="complex64 is complex.*float32"):
        Tensor([1.0, 2.0], dtype=np.complex64)


def test_non_numeric_and_ragged_data_are_refused():
    for value in (None, {"a": 1}, "abc", [object()]):
        with pytest.raises(TypeError, match="tensors hold numbers.*numeric array"):
            Tensor(value)
    with pytest.raises(ValueError, match="nested lists have different lengths"):
        Tensor([[1.0, 2.0], [3.0]])
    assert Tensor(np.array([True, False])).dtype == np.bool_     # masks and labels stay allowed
    assert Tensor(np.uint8([1, 2])).dtype == np.uint8


def test_ops_on_parameters_give_plain_tensors_and_relu_is_a_method():
    w = tr.nn.Parameter(np.array([[-1.0, 2.0]], dtype=np.float32))
    for out in (w * 2, w.T, w[0], w.sum(), w.reshape(2), w.relu()):
        assert type(out) is Tensor
    w.relu().sum().backward()
    np.testing.assert_array_equal(w.grad, [[0.0, 1.0]])


# ----------------------------------------------------------------------------- errors
def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 2\)"):
        t(3, 4) @ t(5, 2)


def test_broadcast_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(3,\)"):
        t(3, 4) + t(3)


def test_backward_on_non_scalar_explains_what_to_pass():
    y = t(2, 3) * 2
    with pytest.raises(RuntimeError, match=r"gradient argument.*\(2, 3\).*sum\(\)"):
        y.backward()
    y.backward(np.ones((2, 3)))  # an ndarray gradient is accepted


def test_backward_twice_through_freed_graph_says_so():
    x = t(3)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    z = (x * 2).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, 2 + 4)


def test_detect_anomaly_names_the_op():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = x.log().sum()  # d log(x)/dx = 1/x is Inf at 0
    with pytest.raises(tr.AnomalyError, match="'log' produced Inf"):
        with tr.detect_anomaly():
            y.backward()
    x.grad = None
    x.log().sum().backward()  # without anomaly mode: no error, Inf in .grad
    assert np.isinf(x.grad[0])


def test_gradcheck_report_names_input_and_element_on_failure():
    def wrong_square(x):
        def backward(dout):
            return (dout * x.data,)  # should be 2 x
        return Tensor._from_op(x.data ** 2, (x,), backward, "wrong_square")

    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(tr.GradcheckError, match=r"gradcheck failed for weights \(shape \(3,\)\): at element"):
        tr.gradcheck(wrong_square, [x], names=["weights"])
    report = tr.gradcheck(wrong_square, [x], raise_on_failure=False)
    assert not report.passed and "WRONG" in str(report) and "wrong" in str(report)


def test_gradcheck_rejects_float32_only_ops():
    def casts_to_float32(x):
        return x.astype(np.float32) * 2
    with pytest.raises(TypeError, match="float64"):
        tr.gradcheck(casts_to_float32, [t(3)])


# ----------------------------------------------------------------------------- against PyTorch
@pytest.mark.torch
@pytest.mark.parametrize("seed", range(6))
def test_random_composite_expressions_match_torch_autograd(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    a0, b0, c0 = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.random((4, 1)) + 0.5

    def expression(lib, a, b, c):
        h = (a @ b) * c - a.sum(1, keepdims=True) if lib == "tr" else (a @ b) * c - a.sum(1, keepdim=True)
        h = (h.exp() + 1).log() / c ** 1.5
        h = h[1:, ::2] if lib == "tr" else h[1:, 0::2]
        return (h * h).mean() + (c.log() * 3).sum()

    ta, tb, tc = (Tensor(v, requires_grad=True) for v in (a0, b0, c0))
    out = expression("tr", ta, tb, tc)
    out.backward()
    pa, pb, pc = (torch.tensor(v, requires_grad=True) for v in (a0, b0, c0))
    expected = expression("torch", pa, pb, pc)
    expected.backward()
    assert abs(out.item() - expected.item()) <= 1e-9 * abs(expected.item())
    for mine, theirs in ((ta, pa), (tb, pb), (tc, pc)):
        ref = theirs.grad.numpy()
        rel = np.max(np.abs(mine.grad - ref) / np.maximum(np.abs(ref), 1e-12))
        assert rel <= 1e-9, rel


def test_gradcheck_on_non_contiguous_and_float32_inputs():
    base = np.random.default_rng(7).standard_normal((4, 3))
    x = Tensor(base.T, requires_grad=True)  # a transposed (non-contiguous) view
    assert not x.data.flags["C_CONTIGUOUS"]
    assert tr.gradcheck(lambda x: (x * x).sum(axis=0), [x]).max_rel_error < 1e-7
    x32 = Tensor(base.astype(np.float32), requires_grad=True)  # checked in float64 all the same
    assert tr.gradcheck(lambda x: x.exp(), [x32]).max_rel_error < 1e-7
