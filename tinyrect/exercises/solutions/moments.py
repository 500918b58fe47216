"""Reference solution: E[x²] vs Var[x] after a ReLU, and scaling non-normalized inputs (lesson 10)."""
import math


def relu_moments(sigma):
    """y ~ N(0, σ²), x = max(0, y). By symmetry E[x²] = ½ E[y²] = σ²/2 (Eq. 8). E[x] = σ/sqrt(2π)
    (∫_0^∞ y φ(y/σ)/σ dy), so Var[x] = E[x²] − E[x]² = σ²(½ − 1/(2π)) ≈ 0.341 σ².
    Returns (E[x²], Var[x])."""
    return 0.5 * sigma * sigma, sigma * sigma * (0.5 - 1.0 / (2.0 * math.pi))


def std_from_var(fan_in):
    """The std one would derive by (wrongly) putting Var[x] in Eq. (7) in place of E[x²]:
    n Var[w] (½ − 1/(2π)) = 1."""
    return 1.0 / math.sqrt(fan_in * (0.5 - 1.0 / (2.0 * math.pi)))


def per_layer_factor(input_scale, L):
    """Inputs `input_scale` times larger than normalized ones keep that scale to the last layer
    (the variance is preserved); spreading the correction over the L layers multiplies every
    layer's weights by (1/input_scale)^(1/L) (the paper's (1/128)^(1/L) for pixels in [-128, 128])."""
    return (1.0 / input_scale) ** (1.0 / L)
