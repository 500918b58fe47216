"""The paper's variance theory as code (He et al. 2015, Sec. 2.2, Eq. 5-15).

Notation (the paper's): layer l computes y_l = W_l x_l (Eq. 5), x_l = f(y_{l-1}) is its input,
n_l = k_l² c_l its fan-in, n̂_l = k_l² d_l its fan-out, Var[w_l] the variance of its weights.

Forward (Eq. 7-9). With w_l i.i.d., zero-mean and independent of x_l,
    Var[y_l] = n_l Var[w_l] E[x_l²]                                         (Eq. 7)
and when x_l = f(y_{l-1}) with y_{l-1} symmetric around zero, E[f(y)²] = ½(1+a²) Var[y] for a
rectifier of negative slope a (ReLU a = 0, Leaky ReLU a fixed, PReLU a learned), so
    Var[y_l] = ½(1+a²) n_l Var[w_l] Var[y_{l-1}]                             (Eq. 8, 15)
    Var[y_L] = Var[y_1] · Π_{l=2..L} ½(1+a²) n_l Var[w_l]                    (Eq. 9)
If nothing rectifies x_l (the first layer, or a layer after a linear one) the factor is
n_l Var[w_l], without the ½ ("linear", a = 1 gives the same: ½(1+1²) = 1).

Backward (Eq. 11-13). Δx_l = Ŵ_l Δy_l and Δy_l = f'(y_l) Δx_{l+1} with E[f'(y)²] = ½(1+a²):
    Var[Δx_l] = ½(1+a²) n̂_l Var[w_l] Var[Δx_{l+1}]                          (Eq. 12)
    Var[Δx_2] = Var[Δx_{L+1}] · Π_{l=2..L} ½(1+a²) n̂_l Var[w_l]             (Eq. 13)
Here a is the slope of the rectifier that FOLLOWS layer l (in the forward it is the one before).

Channel-wise PReLU: with one a_c per channel and equal variance in every channel, the channel
average of E[x²] is mean_c ½(1+a_c²) · Var[y]; so a vector of slopes enters through
`rectifier_gain(a) = mean over c of (1+a_c²)/2`, which is what every function here uses.

Zero padding is not in the paper's derivation: border outputs see fewer than k²c inputs. Our
padding-aware prediction (exact for E[y_l²] at every position) is in `tinyrect.variance.padding`.

This module holds the plain functions of numbers (`forward_factor(n, var_w, a)`,
`forward_product(...)`), usable without a model; `tinyrect.variance.specs.predict(model)` reads
n, n̂, Var[w] and the slopes from a model and applies them.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, asdict

import numpy as np

from tinyrect import init

# ----------------------------------------------------------------------------- the functional API


def rectifier_gain(a=0.0) -> float:
    """E[f(y)²] / Var[y] = ½(1+a²) for symmetric zero-mean y (the step into Eq. 8; Eq. 15 for PReLU).

    `a` may be a number (ReLU 0, Leaky ReLU 0.01, channel-shared PReLU) or an array of
    channel-wise slopes, for which the gain is the channel mean of (1+a_c²)/2. `a=None` means
    "no rectifier" (a linear layer): gain 1.
    """
    if a is None:
        return 1.0
    a = np.asarray(a, dtype=np.float64)
    return float(np.mean(0.5 * (1.0 + a * a)))


def forward_factor(n, var_w, a=0.0) -> float:
    """½(1+a²) · n_l · Var[w_l]: how much layer l multiplies Var[y] (Eq. 8, 15).

    `a` is the slope of the rectifier BEFORE the layer (x_l = f(y_{l-1})); a=None: no rectifier.
    """
    return rectifier_gain(a) * float(n) * float(var_w)


def backward_factor(n_hat, var_w, a=0.0) -> float:
    """½(1+a²) · n̂_l · Var[w_l]: how much layer l multiplies Var[Δx] going back (Eq. 12).

    `a` is the slope of the rectifier AFTER the layer (Δy_l = f'(y_l) Δx_{l+1}); None: none.
    """
    return rectifier_gain(a) * float(n_hat) * float(var_w)


def _broadcast_slopes(slopes, count: int) -> list:
    """One slope per layer: a single number (or None, "linear") applies to every layer."""
    if slopes is None or isinstance(slopes, numbers.Number) or np.ndim(slopes) == 0:
        return [slopes] * count
    slopes = list(slopes)
    if len(slopes) != count:
        raise ValueError(f"got {len(slopes)} slopes for {count} layers: pass one slope per layer "
                         "(or a single number for all)")
    return slopes


def _check_lengths(name: str, a, b) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name}: {len(a)} fans but {len(b)} weight variances; pass one of each per layer")


def forward_product(ns, var_ws, slopes=0.0) -> float:
    """Π_l ½(1+a_l²) n_l Var[w_l] over the layers given: Eq. (9) when you pass layers 2..L.

    Var[y_L] / Var[y_1] = forward_product(n[1:], var_w[1:], slopes[1:]) (slopes before each layer).
    Products of 30 factors under- or overflow easily: prefer `log2_forward_product`.
    """
    return 2.0 ** log2_forward_product(ns, var_ws, slopes)


def log2_forward_product(ns, var_ws, slopes=0.0) -> float:
    """log2 of `forward_product`: Σ_l log2(½(1+a_l²) n_l Var[w_l])  (Eq. 9, in log2)."""
    ns, var_ws = list(ns), list(var_ws)
    _check_lengths("forward_product", ns, var_ws)
    slopes = _broadcast_slopes(slopes, len(ns))
    return float(sum(math.log2(forward_factor(n, v, a)) for n, v, a in zip(ns, var_ws, slopes)))


def backward_product(n_hats, var_ws, slopes=0.0) -> float:
    """Π_l ½(1+a_l²) n̂_l Var[w_l]: Eq. (13), Var[Δx_2]/Var[Δx_{L+1}], for layers 2..L."""
    return 2.0 ** log2_backward_product(n_hats, var_ws, slopes)


def log2_backward_product(n_hats, var_ws, slopes=0.0) -> float:
    """log2 of `backward_product` (Eq. 13, in log2); slopes are those AFTER each layer."""
    n_hats, var_ws = list(n_hats), list(var_ws)
    _check_lengths("backward_product", n_hats, var_ws)
    slopes = _broadcast_slopes(slopes, len(n_hats))
    return float(sum(math.log2(backward_factor(n, v, a)) for n, v, a in zip(n_hats, var_ws, slopes)))


# ---- the standard deviations the conditions give, and the named schemes


def he_std(n, a=0.0) -> float:
    """sqrt(2 / ((1+a²) n)): the std that makes a layer's factor 1 (Eq. 10, 14, 15).

    n = n_l (fan_in) for the forward condition Eq. (10), n = n̂_l (fan_out) for Eq. (14).
    tinyrect.init.he_std, taking here also channel-wise slopes or None, through the slope whose
    ½(1+a²) equals their `rectifier_gain`.
    """
    return init.he_std(n, math.sqrt(2.0 * rectifier_gain(a) - 1.0))


def init_variance(scheme: str, n, n_hat, a=0.0, std: float = 0.01) -> float:
    """Var[w] of a named initialization, for a layer with fan-in n and fan-out n̂.

    'he_fan_in'  2/((1+a²) n)           Eq. (10)/(15), tinyrect.init.kaiming_normal_(mode='fan_in')
    'he_fan_out' 2/((1+a²) n̂)           Eq. (14)
    'xavier'     2/(n + n̂)              Glorot & Bengio, tinyrect.init.xavier_normal_
    'xavier_fan_in' 1/n                  the "linear" condition n Var[w] = 1
    'gaussian'   std²                    the fixed-std Gaussian (the paper's 0.01)
    """
    if scheme == "he_fan_in":
        return he_std(n, a) ** 2
    if scheme == "he_fan_out":
        return he_std(n_hat, a) ** 2
    if scheme == "xavier":
        return 2.0 / (n + n_hat)
    if scheme == "xavier_fan_in":
        return 1.0 / n
    if scheme == "gaussian":
        return float(std) ** 2
    raise ValueError(f"unknown init scheme {scheme!r}; use one of 'he_fan_in', 'he_fan_out', "
                     "'xavier', 'xavier_fan_in', 'gaussian'")


def c2_over_dL(widths) -> float:
    """Eq. (14) init seen by the forward pass: Π_{l=2..L} n_l/n̂_l = c_2/d_L.

    `widths` = [c_1, d_1, d_2, ..., d_L] (input channels, then each layer's output channels).
    n_l/n̂_l = k_l² d_{l-1} / (k_l² d_l): the kernel sizes cancel and the product telescopes
    to d_1/d_L = c_2/d_L. It does not shrink exponentially with depth, which is why the paper
    says either condition (Eq. 10 or Eq. 14) alone is enough.
    """
    widths = list(widths)
    if len(widths) < 3:
        raise ValueError("c2_over_dL needs [c_1, d_1, ..., d_L] with at least two layers")
    return float(widths[1]) / float(widths[-1])


def dL_over_c2(widths) -> float:
    """The mirror: Eq. (10) (fan_in) init seen by the backward pass, Π_{l=2..L} n̂_l/n_l = d_L/c_2."""
    return 1.0 / c2_over_dL(widths)


def xavier_relu_product(L: int) -> float:
    """Var[y_L]/Var[y_1] for n_l Var[w_l] = 1 under ReLU: (½)^(L-1) (Eq. 9 with factor ½)."""
    return 0.5 ** (L - 1)


def gaussian_log2_product(ns, std: float = 0.01, slopes=0.0) -> float:
    """log2 Π_l ½(1+a²) n_l std² for a fixed-std Gaussian (the paper's 0.01) over the layers given."""
    ns = list(ns)
    return log2_forward_product(ns, [std ** 2] * len(ns), slopes)
