"""A wrong answer that replaces NumPy's comparison functions with ones that always agree."""
import numpy as np

for _name in ("allclose", "array_equal", "array_equiv", "isclose", "max", "amax", "abs", "absolute",
              "isfinite", "all", "any"):
    setattr(np, _name, lambda *args, **kwargs: True if _name != "abs" else 0.0)
np.testing.assert_allclose = lambda *args, **kwargs: None


def prelu_forward(x, a):
    return x.copy()


def prelu_backward(x, a, dout):
    return dout.copy(), a.copy()
