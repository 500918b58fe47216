"""The tape: how `loss.backward()` turns every op's hand-written backward into gradients.

Each Tensor made by an op remembers its parents and a `backward(dout)` function
(`Tensor._from_op` in tensor.py). `backward(root, grad)` below
  1. orders the graph so that every node comes before its parents (`topological_order`,
     an iterative depth-first search: no recursion limit, a 1,000-layer chain is fine);
  2. walks that order once, calling each node's backward on the gradient that reached it and
     adding the results into its parents' gradients (a node used twice gets both: the sum rule);
  3. stores the total in `.grad` of every leaf (and of nodes that asked with `retain_grad()`),
     accumulating in place over backward calls, as PyTorch does;
  4. frees the graph (each backward is replaced by one that says so) unless retain_graph=True.

Also here: the switches `no_grad()` (record nothing) and `detect_anomaly()` (stop at the first
NaN/Inf a backward produces, naming the op), and `unbroadcast`, the one helper that undoes NumPy
broadcasting in the backward of every elementwise op.
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np

_grad_enabled = True
_anomaly_mode = False


# ----------------------------------------------------------------------------- global switches
@contextlib.contextmanager
def no_grad():
    """Inside `with tinyrect.no_grad():` no graph is recorded (inference, weight updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def detect_anomaly():
    """Opt-in check: raise as soon as a backward function produces NaN or Inf, naming that op.

    Off by default because checking every gradient costs a pass over every array.
    """
    global _anomaly_mode
    previous, _anomaly_mode = _anomaly_mode, True
    try:
        yield
    finally:
        _anomaly_mode = previous


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared in a backward pass while `detect_anomaly()` was active."""


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo NumPy broadcasting in a backward pass.

    If x of `shape` was broadcast to grad.shape in the forward pass, each element of x was used
    once per copy, so dL/dx = sum of dL/dout over every broadcast axis:
    leading axes that broadcasting added are summed away, and axes where x had size 1 are summed
    with keepdims. This one helper serves every elementwise op.
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


# ----------------------------------------------------------------------------- the tape
def backward(root, grad, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) · grad into `.grad` of every leaf of root's graph that needs it.

    grad is dL/d(root) as an array of root's shape. Frees the graph unless retain_graph.
    """
    order = topological_order(root)
    grads = {id(root): grad}
    for node in order:
        g = grads.pop(id(node), None)
        if g is None:
            continue
        for hook in node._hooks:
            replaced = hook(g)
            if replaced is not None:
                g = np.asarray(replaced)
        if node._backward is None or node._retain:  # a leaf, or asked to keep its .grad
            _accumulate_grad(node, g)
        if node._backward is None:
            continue
        parent_grads = node._backward(g)  # raises if an earlier backward freed the graph
        if _anomaly_mode:
            _check_finite(node, parent_grads)
        for parent, pg in zip(node._parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg
        if not retain_graph:
            node._backward = functools.partial(_freed, node._op)
            node._parents = ()


def topological_order(root) -> list:
    """Nodes from root back to the leaves, each after every node that uses it (iterative DFS)."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order[::-1]


def _accumulate_grad(node, g) -> None:
    """node.grad += g, in place as in PyTorch (no new array per backward call) when node.grad is
    tinyrect's own writeable array of the same shape and dtype; otherwise a new sum. The first
    gradient is copied, so later in-place additions never write into an array of the graph."""
    grad = node.grad
    if grad is None:
        node.grad = g.copy()
    elif (isinstance(grad, np.ndarray) and grad.shape == g.shape and grad.dtype == g.dtype
          and grad.flags.writeable):
        np.add(grad, g, out=grad)
    else:
        node.grad = grad + g


def _freed(op: str, dout):
    raise RuntimeError(
        f"trying to backward through the graph a second time (through '{op}'): its saved "
        "values were freed after the first backward(). Call backward(retain_graph=True) the first "
        "time if you need to backward twice, or recompute the forward pass."
    )


def _check_finite(node, parent_grads) -> None:
    for i, g in enumerate(parent_grads):
        if g is not None and not np.all(np.isfinite(g)):
            kind = "NaN" if np.isnan(g).any() else "Inf"
            raise AnomalyError(
                f"detect_anomaly: the backward of '{node._op}' produced {kind} in the gradient of "
                f"its input #{i} (shape {np.shape(g)}); the forward output of '{node._op}' had "
                f"{'non-finite values' if not np.all(np.isfinite(node.data)) else 'finite values'}"
            )
