"""Tensor and the tape: tinyrect's reverse-mode automatic differentiation.

A `Tensor` wraps a NumPy array (`.data`). Every differentiable operation builds its output with
`Tensor._from_op(data, parents, backward, op)`, where `backward(dout)` is a small hand-written
function that maps the gradient of the loss with respect to the output (dout, same shape as the
output) to the gradients with respect to each parent (a tuple, one entry per parent, `None` where
a parent needs no gradient). Each backward states its formula in its docstring, next to the code.

`loss.backward()` hands the graph to tinyrect/autograd.py (the tape): it visits the nodes in
reverse topological order (computed iteratively, so a 1,000-layer chain is fine), adds up the
gradient that reaches every node, and stores it in `.grad` of each leaf that has
`requires_grad=True`. This file holds the Tensor and its arithmetic ops; the reductions and
shape ops (sum, mean, max, reshape, transpose, indexing) are in tensor_shape.py, a base class of
Tensor. Each op's backward sits beside its forward. The rectifiers (`x.relu()`) are attached to
Tensor by tinyrect.functional, which builds on this file (this file imports nothing above it).

dtypes: data created by tinyrect is float32 by default (like PyTorch); float64 stays float64 end
to end. Mixing float32 and float64 in one op follows NumPy's promotion rules: the result is
float64. Python scalars never change a tensor's dtype (`x * 2.0` keeps float32).
"""
from __future__ import annotations

import numbers

import numpy as np

from tinyrect import autograd
from tinyrect.autograd import (  # noqa: F401  (the public names, importable from here too)
    AnomalyError, detect_anomaly, is_grad_enabled, no_grad, unbroadcast,
)
from tinyrect.tensor_shape import ShapeOps

# ----------------------------------------------------------------------------- helpers
def _broadcast_shape(op: str, a: np.ndarray, b: np.ndarray) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together "
            "(trailing dimensions must be equal or 1); reshape one operand, e.g. with "
            ".reshape(...) to add size-1 axes"
        ) from None


def _to_array(value, dtype=None) -> np.ndarray:
    """Array for new tensor data, with PyTorch's defaults: Python floats (and lists of them) and
    float16 arrays become float32; float64 arrays stay float64; Python ints stay int64 (labels).
    Complex values are refused: tinyrect's ops and their backwards are written for real numbers."""
    if isinstance(value, Tensor):
        value = value.data
    from_python = not isinstance(value, (np.ndarray, np.generic))
    try:
        array = np.asarray(value)
    except ValueError:
        raise ValueError(f"cannot make a tensor from this {type(value).__name__}: its nested "
                         "lists have different lengths; every row must have the same length") from None
    if array.dtype.kind == "c":
        raise TypeError(
            f"tinyrect tensors hold real numbers, got complex data (dtype {array.dtype}); convert "
            "first, e.g. Tensor(z.real) for the real part or Tensor(np.abs(z)) for the magnitude")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"tinyrect tensors hold numbers, got a {type(value).__name__} (NumPy dtype "
                        f"{array.dtype}); pass a number, a list of numbers or a numeric array")
    if dtype is not None:
        if np.dtype(dtype).kind == "c":
            raise TypeError(f"tinyrect tensors hold real numbers; dtype {np.dtype(dtype)} is "
                            "complex: use a float dtype such as np.float32 or np.float64")
        array = array.astype(dtype, copy=False)
    if dtype is None and array.dtype.kind == "f" and array.dtype != np.float32:
        if from_python or array.dtype != np.float64:
            array = array.astype(np.float32)
    return array


def as_tensor(value, like: "Tensor | None" = None) -> "Tensor":
    """Return `value` as a Tensor (no copy when it already is one).

    A Python scalar combined with a tensor `like` takes that tensor's dtype, so `x * 0.5` keeps
    float32, as NumPy 2 (NEP 50) and PyTorch do.
    """
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, numbers.Real) and like.dtype.kind == "f":
        return Tensor(np.asarray(value, dtype=like.dtype))
    return Tensor(value)


# ----------------------------------------------------------------------------- Tensor
class Tensor(ShapeOps):
    """An n-dimensional array that remembers how it was computed.

    Parameters: `data` (array-like), `requires_grad` (accumulate a gradient in `.grad` when
    `backward()` runs), `dtype` (default: float32, or float64 if the input is float64).
    """

    __array_priority__ = 1000  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "convert first, e.g. Tensor(x.astype(np.float32), requires_grad=True)"
            )
        self.requires_grad = bool(requires_grad)
        self.grad: np.ndarray | None = None
        self._parents: tuple = ()
        self._backward = None
        self._op = "leaf"
        self._hooks: list = []
        self._retain = False

    @staticmethod
    def _from_op(data: np.ndarray, parents: tuple, backward, op: str) -> "Tensor":
        """Output of a differentiable op (always a plain Tensor, also when a parent is a
        Parameter). Records the graph only if some parent needs a gradient."""
        out = Tensor.__new__(Tensor)
        out.data = np.asarray(data)
        out.grad = None
        out._hooks = []
        out._retain = False
        out._op = op
        out.requires_grad = autograd.is_grad_enabled() and any(p.requires_grad for p in parents)
        if out.requires_grad:
            out._parents, out._backward = tuple(parents), backward
        else:
            out._parents, out._backward = (), None
        return out

    # ---- array-like attributes
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._backward is None)

    def __len__(self):
        return len(self.data)

    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> float:
        return self.data.item()

    def detach(self) -> "Tensor":
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    def retain_grad(self) -> None:
        """Keep `.grad` on this non-leaf tensor after backward (as in PyTorch)."""
        self._retain = True

    def register_hook(self, hook) -> None:
        """Call `hook(grad)` when this tensor's gradient is complete during backward.

        If the hook returns an array, it replaces the gradient (PyTorch semantics). Probes use
        this to read Var[dL/dy] without changing anything.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        self._hooks.append(hook)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, separator=", ", precision=4, threshold=20)
        return f"tensor({body}, dtype={self.dtype}{grad})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        return bool(self.data)

    # ---- the backward pass
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) * grad into `.grad` of every leaf that requires grad.

        `grad` is dL/d(self); it may be omitted only when self is a scalar (then it is 1).
        The graph is freed afterwards unless `retain_graph=True`.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of this computation "
                "has requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs a gradient argument for a non-scalar output of shape "
                    f"{self.shape}: pass dL/d(output) with that shape, e.g. "
                    "out.backward(np.ones(out.shape)), or reduce first with out.sum().backward()"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(): gradient has shape {grad.shape}, expected {self.shape}")

        autograd.backward(self, grad, retain_graph)

    def _topological_order(self) -> list:
        """Nodes from self back to the leaves, each after every node that uses it."""
        return autograd.topological_order(self)

    # ---- elementwise arithmetic (each with its hand-derived backward)
    def __add__(self, other):
        other = as_tensor(other, like=self)
        _broadcast_shape("add", self.data, other.data)
        a_shape, b_shape = self.shape, other.shape

        def backward(dout):
            """y = a + b:  da = dout,  db = dout  (summed over broadcast axes)."""
            return unbroadcast(dout, a_shape), unbroadcast(dout, b_shape)

        return Tensor._from_op(self.data + other.data, (self, other), backward, "add")

    def __sub__(self, other):
        other = as_tensor(other, like=self)
        _broadcast_shape("sub", self.data, other.data)
        a_shape, b_shape = self.shape, other.shape

        def backward(dout):
            """y = a - b:  da = dout,  db = -dout."""
            return unbroadcast(dout, a_shape), unbroadcast(-dout, b_shape)

        return Tensor._from_op(self.data - other.data, (self, other), backward, "sub")

    def __mul__(self, other):
        other = as_tensor(other, like=self)
        _broadcast_shape("mul", self.data, other.data)
        a, b = self.data, other.data

        def backward(dout):
            """y = a * b:  da = dout * b,  db = dout * a."""
            return unbroadcast(dout * b, a.shape), unbroadcast(dout * a, b.shape)

        return Tensor._from_op(a * b, (self, other), backward, "mul")

    def __truediv__(self, other):
        other = as_tensor(other, like=self)
        _broadcast_shape("div", self.data, other.data)
        a, b = self.data, other.data

        def backward(dout):
            """y = a / b:  da = dout / b,  db = -dout * a / b**2."""
            return unbroadcast(dout / b, a.shape), unbroadcast(-dout * a / (b * b), b.shape)

        return Tensor._from_op(a / b, (self, other), backward, "div")

    def __neg__(self):
        def backward(dout):
            """y = -a:  da = -dout."""
            return (-dout,)

        return Tensor._from_op(-self.data, (self,), backward, "neg")

    def __radd__(self, other):
        return as_tensor(other, like=self).__add__(self)

    def __rsub__(self, other):
        return as_tensor(other, like=self).__sub__(self)

    def __rmul__(self, other):
        return as_tensor(other, like=self).__mul__(self)

    def __rtruediv__(self, other):
        return as_tensor(other, like=self).__truediv__(self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            return _tensor_power(self, exponent)
        return self.pow(exponent)

    def __rpow__(self, base):
        return _tensor_power(as_tensor(base, like=self), self)

    def pow(self, p: float):
        """y = a ** p for a constant p:  da = dout * p * a**(p-1)."""
        if not isinstance(p, numbers.Number):
            raise TypeError(f"pow() takes a Python number exponent, got {type(p).__name__}")
        a = self.data
        p = a.dtype.type(p) if a.dtype.kind == "f" else p

        def backward(dout):
            """y = a**p:  da = dout * p * a**(p - 1)."""
            return (dout * p * a ** (p - 1),)

        return Tensor._from_op(a ** p, (self,), backward, "pow")

    def exp(self):
        y = np.exp(self.data)

        def backward(dout):
            """y = exp(a):  da = dout * y."""
            return (dout * y,)

        return Tensor._from_op(y, (self,), backward, "exp")

    def log(self):
        a = self.data

        def backward(dout):
            """y = log(a):  da = dout / a."""
            return (dout / a,)

        return Tensor._from_op(np.log(a), (self,), backward, "log")

    # ---- matrix product
    def __matmul__(self, other):
        other = as_tensor(other)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands must have at least 1 dimension (use * for scalars)")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: the last axis of the "
                f"first ({a.shape[-1]}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the second "
                f"({b.shape[-2 if b.ndim > 1 else 0]})"
            )

        def backward(dout):
            """Y = A @ B:  dA = dY Bᵀ,  dB = Aᵀ dY  (batched, with 1-D operands promoted)."""
            a2 = a[None, :] if a.ndim == 1 else a
            b2 = b[:, None] if b.ndim == 1 else b
            batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
            d = dout.reshape(batch + (a2.shape[-2], b2.shape[-1]))  # restore the promoted axes
            da = d @ np.swapaxes(b2, -1, -2)
            db = np.swapaxes(a2, -1, -2) @ d
            da = unbroadcast(da, a2.shape).reshape(a.shape)
            db = unbroadcast(db, b2.shape).reshape(b.shape)
            return da, db

        return Tensor._from_op(a @ b, (self, other), backward, "matmul")

    def __rmatmul__(self, other):
        return as_tensor(other).__matmul__(self)

    # ---- comparisons give plain arrays (no gradient flows through them)
    def __gt__(self, other):
        return self.data > (other.data if isinstance(other, Tensor) else other)

    def __lt__(self, other):
        return self.data < (other.data if isinstance(other, Tensor) else other)

    def __ge__(self, other):
        return self.data >= (other.data if isinstance(other, Tensor) else other)

    def __le__(self, other):
        return self.data <= (other.data if isinstance(other, Tensor) else other)

    def astype(self, dtype):
        """Differentiable dtype cast: the gradient is cast back to the input's dtype."""
        src = self.dtype

        def backward(dout):
            """y = cast(a):  da = cast_back(dout)."""
            return (dout.astype(src),)

        return Tensor._from_op(self.data.astype(dtype), (self,), backward, "astype")

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)


def _tensor_power(base: Tensor, exponent: Tensor) -> Tensor:
    _broadcast_shape("pow", base.data, exponent.data)
    a, p = base.data, exponent.data
    y = a ** p

    def backward(dout):
        """y = a**p:  da = dout * p * a**(p-1),  dp = dout * y * log(a)."""
        da = unbroadcast(dout * p * a ** (p - 1), a.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            dp = unbroadcast(dout * y * np.log(a), p.shape) if exponent.requires_grad else None
        return da, dp

    return Tensor._from_op(y, (base, exponent), backward, "pow")


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Alias of `Tensor(...)`, as `torch.tensor`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)
