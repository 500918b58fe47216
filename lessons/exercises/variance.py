"""Exercise (lesson 05): how variance grows or vanishes through depth, Eq. (9) and Eq. (13).
                                                            Check: tinyrect check variance
A plain net of L layers, every layer with the same fan n (= k²c), the same weight variance Var[w]
and the same rectifier slope a (a = 0: ReLU). Start from one layer, Eq. (7)-(8):
Var[y_l] = n Var[w] E[x_l²] with x_l = f(y_{l-1}), and chain the layers from 1 to L (forward).
Backward, Eq. (11)-(12): Var[Δx_l] = n̂ Var[w] Var[Δy_l] with Δy_l = f'(y_l) Δx_{l+1}, chained from
L down to 2 (n̂ = k²d). Mind which layers the chain includes. Return plain Python floats.
"""


def forward_variance_ratio(n, var_w, a, L):
    """Return Var[y_L] / Var[y_1] for L layers of fan_in n, weight variance var_w, slope a."""
    raise NotImplementedError("forward_variance_ratio")


def backward_variance_ratio(n_hat, var_w, a, L):
    """Return Var[Δx_2] / Var[Δx_{L+1}] for L layers of fan_out n_hat, variance var_w, slope a."""
    raise NotImplementedError("backward_variance_ratio")
