"""Exercise: how variance grows or vanishes through depth, Eq. (9) and Eq. (13).
                                                            Check: tinyrect check variance
A plain net of L layers, every layer with the same fan n (= k²c), the same weight variance Var[w]
and the same rectifier slope a (a = 0: ReLU; a PReLU keeps ½(1 + a²) of the variance, Eq. 15).
Forward, Eq. (9):   Var[y_L] = Var[y_1] · Π_{l=2..L} ½ (1 + a²) n Var[w]
Backward, Eq. (13): Var[Δx_2] = Var[Δx_{L+1}] · Π_{l=2..L} ½ (1 + a²) n̂ Var[w]   (n̂ = k²d)
The products run over l = 2..L: L - 1 equal factors (and the empty product, 1, when L = 1).
Return plain Python floats.
"""


def forward_variance_ratio(n, var_w, a, L):
    """Return Var[y_L] / Var[y_1] of Eq. (9) for L layers of fan_in n, weight variance var_w, slope a."""
    raise NotImplementedError("forward_variance_ratio")


def backward_variance_ratio(n_hat, var_w, a, L):
    """Return Var[Δx_2] / Var[Δx_{L+1}] of Eq. (13) for L layers of fan_out n_hat, variance var_w, slope a."""
    raise NotImplementedError("backward_variance_ratio")
