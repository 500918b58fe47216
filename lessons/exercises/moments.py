"""Exercise (lesson 10): what E[x²] and Var[x] are after a ReLU, and the scale of the input.
                                                            Check: tinyrect check moments
Eq. (7) writes Var[y_l] = n_l Var[w_l] E[x_l²], with E[x²] and not Var[x]: for a rectified
x = max(0, y) the two differ. Take y ~ N(0, σ²), compute both by integrating against the Gaussian
density, then see what a derivation with the wrong one would have given.

The paper also notes that the variance of the input is preserved to the last layer: raw inputs
that are `input_scale` times larger than normalized ones give logits that are input_scale times
larger. It suggests correcting this by scaling the weights of every layer by one common factor.
"""
import math  # noqa: F401


def relu_moments(sigma):
    """Return (E[x²], Var[x]) for x = max(0, y), y ~ N(0, sigma²), as two floats."""
    raise NotImplementedError("relu_moments")


def std_from_var(fan_in):
    """Return the std that Eq. (7)-(10)'s argument gives if Var[x] is used in place of E[x²]."""
    raise NotImplementedError("std_from_var")


def per_layer_factor(input_scale, L):
    """Return the factor by which to multiply every one of L layers' weights so that inputs
    input_scale times too large give the logits of normalized inputs."""
    raise NotImplementedError("per_layer_factor")
