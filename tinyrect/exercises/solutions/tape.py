"""Reference solution: two new ops on tinyrect's tape (lesson 01), registered as tinyrect's own
ops are, with Tensor._from_op(data, parents, backward, op)."""
import numpy as np


def softplus(x):
    """y = log(1 + e^x) (np.logaddexp(0, x): no overflow for large x); dy/dx = σ(x) = 1/(1 + e^-x).
    backward(dout) returns (dout · σ(x),): one gradient per parent."""
    s = np.exp(-np.logaddexp(0.0, -x.data))   # σ(x), computed without overflow

    def backward(dout):
        return (dout * s,)

    return type(x)._from_op(np.logaddexp(0.0, x.data), (x,), backward, "softplus")


def mul(a, b):
    """y = a ⊙ b (same shapes): da = dout ⊙ b, db = dout ⊙ a. When a and b are the same tensor the
    tape adds the two gradients (da + db = 2·a ⊙ dout): the backward must not write into dout."""
    a_data, b_data = a.data, b.data

    def backward(dout):
        return dout * b_data, dout * a_data

    return type(a)._from_op(a_data * b_data, (a, b), backward, "mul")
