"""Reference solution: the paper's variance products, Eq. (9) forward and Eq. (13) backward,
with the PReLU factor of Eq. (15)."""


def forward_variance_ratio(n, var_w, a, L):
    """Var[y_L] / Var[y_1] = Π_{l=2..L} ½(1 + a²) n Var[w]   (Eq. 9 with Eq. 15's PReLU factor),
    every layer with the same n (= k²c), Var[w] and slope a: L - 1 equal factors (1 when L = 1)."""
    return (0.5 * (1.0 + a * a) * n * var_w) ** (L - 1)


def backward_variance_ratio(n_hat, var_w, a, L):
    """Var[Δx_2] / Var[Δx_{L+1}] = Π_{l=2..L} ½(1 + a²) n̂ Var[w]   (Eq. 13), n̂ = k²d constant."""
    return (0.5 * (1.0 + a * a) * n_hat * var_w) ** (L - 1)
