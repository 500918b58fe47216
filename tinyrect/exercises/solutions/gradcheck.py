"""Reference solution: a finite-difference gradient of your own (lesson 02)."""
import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central differences: g_i = (f(x + ε e_i) − f(x − ε e_i)) / (2ε), error O(ε²) (a one-sided
    difference is O(ε)). x is never modified: the perturbation happens on a copy and is undone."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad
