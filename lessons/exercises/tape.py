"""Exercise (lesson 01): two new ops on tinyrect's tape.          Check: tinyrect check tape

Every differentiable op in tinyrect builds its output with

    type(x)._from_op(data, parents, backward, op_name)

where `data` is the output as a NumPy array, `parents` the tuple of input Tensors, and
`backward(dout)` a function you write: given dout = ∂L/∂output (an array of the output's shape)
it returns a tuple with ∂L/∂parent for each parent, in the order of `parents`. Look at how
`Tensor.exp` and `Tensor.__mul__` do it in tinyrect/tensor.py (you do not import tinyrect here:
`type(x)` is the Tensor class). Your ops receive Tensors; `x.data` is the array inside.

The grader builds float64 Tensors, calls your op, runs backward() with a random dout and compares
the output and the gradients that reach the inputs. Return new arrays, never write into dout.
"""
import numpy as np  # noqa: F401


def softplus(x):
    """y = log(1 + e^x) elementwise, as an op on the tape.

    Derive dy/dx yourself (chain rule), then write backward(dout). Stay finite for |x| up to 30.
    """
    raise NotImplementedError("softplus")


def mul(a, b):
    """y = a ⊙ b (elementwise, a and b of the same shape), as an op on the tape with two parents.

    The grader also calls mul(t, t) with the SAME tensor twice: the tape then adds the gradients of
    both uses (gradient accumulation). Before you run it, predict t.grad for y = t ⊙ t.
    """
    raise NotImplementedError("mul")
