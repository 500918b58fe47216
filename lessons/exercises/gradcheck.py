"""Exercise (lesson 02): a finite-difference gradient of your own.   Check: tinyrect check gradcheck

Lesson 02 checks every hand-written backward against finite differences. Write that check's core:
the gradient of a scalar function f at x, estimated entry by entry from values of f alone.

Start from the Taylor series f(x + ε e_i) = f(x) + ε ∂f/∂x_i + ε²/2 ∂²f/∂x_i² + O(ε³) and choose a
difference whose error shrinks like ε² (the grader uses ε = 1e-4 and compares with the exact
gradient to a relative error of 1e-6).
"""
import numpy as np  # noqa: F401


def numerical_gradient(f, x, eps=1e-6):
    """Return g of x's shape (float64) with g[i] ≈ ∂f/∂x[i].

    f: a function of one float64 array (of x's shape) returning a float. x: float64, any shape.
    x must be left exactly as you received it.
    """
    raise NotImplementedError("numerical_gradient")
