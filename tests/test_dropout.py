"""Dropout: inverted scaling, the same mask in the backward, identity in eval mode, torch's API."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import functional as F
from tinyrect import nn


def test_kept_elements_are_scaled_and_the_backward_uses_the_same_mask():
    x = tr.Tensor(np.ones((200, 50)), requires_grad=True)
    y = F.dropout(x, 0.3, rng=np.random.default_rng(0))
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02                     # 10,000 draws: sd 0.005
    y.backward(np.full(y.shape, 2.0))
    np.testing.assert_allclose(x.grad, np.where(kept, 2 / 0.7, 0.0))


def test_expected_value_is_kept_and_gradcheck_with_a_fixed_mask():
    x = tr.Tensor(np.random.default_rng(1).standard_normal(100_000))
    y = F.dropout(x, 0.5, rng=np.random.default_rng(2))
    assert abs(y.data.mean() - x.data.mean()) < 0.02
    small = tr.Tensor(np.random.default_rng(3).standard_normal((3, 4)), requires_grad=True)
    tr.gradcheck(lambda t: F.dropout(t, 0.4, rng=np.random.default_rng(7)), [small])


def test_eval_mode_p0_p1_dtype_and_errors():
    x = tr.Tensor(np.ones((4, 3), np.float32))
    layer = nn.Dropout(0.5)
    assert layer(x).dtype == np.float32
    layer.eval()
    assert layer(x) is x and F.dropout(x, 0.9, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).data == 0)
    assert repr(layer) == "Dropout(p=0.5)"
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError):
        nn.Dropout(-0.1)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.dropout(tr.Tensor(np.arange(3)), 0.5)


def test_the_default_generator_follows_manual_seed():
    x = tr.Tensor(np.ones(1000))
    tr.init.manual_seed(5)
    a = F.dropout(x, 0.5).data
    tr.init.manual_seed(5)
    np.testing.assert_array_equal(a, F.dropout(x, 0.5).data)
