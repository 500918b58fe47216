"""Our variance theory with zero padding: what the paper's derivation leaves out at the borders.

Eq. (7) counts n_l = k²c inputs for every output. With zero padding an output at the border of
the map sees fewer: at a corner of a 3×3 "same" convolution only 4 of the 9 taps land on the
image. Keeping every other assumption of the paper (w i.i.d. zero-mean symmetric, independent of
x, b = 0), the expectation over the weights is still exact, position by position. Write V_l(p)
for E[y_l(p)²] at output position p (averaged over channels) and M_l(q) = E[x_l(q)²]:

    M_l(q) = ½(1+a²) V_{l-1}(q)                      (rectified input: the step into Eq. 8 / 15)
    V_l(p) = Var[w_l] · c_l · Σ_{q ∈ window(p), q inside the image} M_l(q)        (Eq. 7, per p)

i.e. a k×k box filter of the valid taps. For layer 1, M_1 is E[x²] of the actual input map.
The map shrinks at the borders and, layer after layer, the loss spreads inwards: for 8×8 maps and
30 He-initialized 3×3 layers, log2 Var[y_30]/Var[y_2] is -3.45 instead of Eq. (9)'s 0.

Backward, the transpose (Eq. 11-12 per position): Δx_l(q) collects Δy_l from every output whose
window contains q, so
    E[Δy_l(p)²] = ½(1+a²) G_{l+1}(p),   G_l(q) = Var[w_l] · d_l · Σ_{p : q ∈ window(p)} E[Δy_l(p)²]
where G_l(q) = E[Δx_l(q)²]. (The backward also assumes f'(y_l) independent of Δx_{l+1}, as the
paper does, so it is an approximation even without padding.)

With circular padding (padding_mode='circular') every output sees all k²c inputs and a uniform
map stays uniform: Eq. (9) and (13) hold exactly as written.

The box filter of the valid taps is separable: along each axis it is a 0/1 matrix A with
A[o, i] = number of kernel taps that connect output o to input i; in 2-D, V = A_rows M A_colsᵀ,
and the backward is its transpose, G = A_rowsᵀ E A_cols.
"""
from __future__ import annotations

import math

import numpy as np

from tinyrect.variance.paper import rectifier_gain
from tinyrect.variance.specs import LayerSpec, Prediction, layer_specs


def tap_matrix(size: int, k: int, stride: int = 1, padding: int = 0, padding_mode: str = "zeros") -> np.ndarray:
    """A[o, i] = how many of the k taps of output o read input i (one axis).

    Output o reads inputs o·stride + t - padding, t = 0..k-1. With 'zeros' padding the taps that
    fall outside [0, size) read a zero and are dropped; with 'circular' they wrap around.
    """
    if padding_mode not in ("zeros", "circular"):
        raise ValueError(f"padding_mode={padding_mode!r}: the padding-aware theory knows 'zeros' and "
                         "'circular' only")
    out = (size + 2 * padding - k) // stride + 1
    if out < 1:
        raise ValueError(f"a {k}-tap kernel with padding {padding} does not fit an input of size {size}")
    A = np.zeros((out, size))
    for o in range(out):
        for t in range(k):
            i = o * stride + t - padding
            if padding_mode == "circular":
                A[o, i % size] += 1
            elif 0 <= i < size:
                A[o, i] += 1
    return A


def _shapes(specs: list, input_size) -> list:
    """Spatial input size (H, W) of every layer, and the last output's: L+1 entries."""
    shapes = [tuple(input_size)]
    for s in specs:
        H, W = shapes[-1]
        if s.kind == "linear":
            shapes.append((1, 1))
        else:
            shapes.append(((H + 2 * s.padding - s.k) // s.stride + 1, (W + 2 * s.padding - s.k) // s.stride + 1))
    return shapes


def _taps(spec: LayerSpec, shape) -> tuple:
    H, W = shape
    return (tap_matrix(H, spec.k, spec.stride, spec.padding, spec.padding_mode),
            tap_matrix(W, spec.k, spec.stride, spec.padding, spec.padding_mode))


def padded_forward_maps(specs: list, input_map) -> list:
    """V_l(p) = E[y_l(p)²] for l = 1..L: per-position forward variance with padding (module doc).

    `input_map` is E[x_1²] per input position (H×W, averaged over channels and the batch).
    """
    M = np.asarray(input_map, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"input_map must be an H×W map of E[x²] per position, got shape {M.shape}")
    maps = []
    for l, s in enumerate(specs):
        if l > 0:
            M = rectifier_gain(s.a_before) * maps[-1]          # M_l = ½(1+a²) V_{l-1}   (step into Eq. 8)
        if s.kind == "linear":                                  # every output sees every input
            V = np.full((1, 1), s.var_w * s.c * M.mean())
        else:
            Ar, Ac = _taps(s, M.shape)
            V = s.var_w * s.c * (Ar @ M @ Ac.T)                 # Eq. (7), valid taps only
        maps.append(V)
    return maps


def padded_backward_maps(specs: list, input_size, output_map=None) -> list:
    """G_l(q) = E[Δx_l(q)²] for l = 1..L+1 (last entry: the output gradient map).

    `output_map` is E[Δx_{L+1}²] per position of the last layer's output (default: ones, the
    i.i.d. output gradient the paper's derivation assumes).
    """
    shapes = _shapes(specs, input_size)
    G = np.ones(shapes[-1]) if output_map is None else np.asarray(output_map, dtype=np.float64)
    if G.shape != shapes[-1]:
        raise ValueError(f"output_map has shape {G.shape}, the last layer's output map is {shapes[-1]}")
    maps = [G]
    for s, shape in zip(reversed(specs), reversed(shapes[:-1])):
        E = rectifier_gain(s.a_after) * maps[0]                # E[Δy_l²] = ½(1+a²) G_{l+1}
        if s.kind == "linear":
            G = np.full(shape, s.var_w * s.d * E.mean())
        else:
            Ar, Ac = _taps(s, shape)
            G = s.var_w * s.d * (Ar.T @ E @ Ac)                 # Eq. (12), transposed box filter
        maps.insert(0, G)
    return maps


def _as_specs(model_or_specs, **kwargs) -> list:
    if isinstance(model_or_specs, (list, tuple)) and model_or_specs and isinstance(model_or_specs[0], LayerSpec):
        return list(model_or_specs)
    return layer_specs(model_or_specs, **kwargs)


def _input_map(input_size, input_map):
    if input_map is not None:
        return np.asarray(input_map, dtype=np.float64)
    if input_size is None:
        raise ValueError("give input_size=(H, W) (a uniform input map) or input_map (E[x²] per position)")
    return np.ones(tuple(input_size))


def padded_forward_prediction(model_or_specs, input_size=None, input_map=None, **kwargs) -> list:
    """log2 Var[y_l]/Var[y_1] for l = 1..L with the padding taken into account (entry 0 is 0).

    Compare with `theory.predict(...).log2_forward`, the paper's Eq. (9) without padding.
    """
    specs = _as_specs(model_or_specs, **kwargs)
    maps = padded_forward_maps(specs, _input_map(input_size, input_map))
    ref = maps[0].mean()
    return [math.log2(V.mean() / ref) for V in maps]


def padded_backward_prediction(model_or_specs, input_size=None, output_map=None, **kwargs) -> list:
    """log2 Var[Δx_l]/Var[Δx_{L+1}] for l = 1..L with padding (the transpose of the forward)."""
    specs = _as_specs(model_or_specs, **kwargs)
    if input_size is None:
        raise ValueError("give input_size=(H, W): the backward maps need the spatial sizes")
    maps = padded_backward_maps(specs, input_size, output_map)
    ref = maps[-1].mean()
    return [math.log2(G.mean() / ref) for G in maps[:-1]]


def padded_predict(model_or_specs, input_size=None, input_map=None, output_map=None, **kwargs) -> Prediction:
    """Like `theory.predict`, with the padding-aware cumulative log2 variances.

    The per-layer "factors" are the effective ones: ratios of successive mean variances.
    """
    specs = _as_specs(model_or_specs, **kwargs)
    M = _input_map(input_size, input_map)
    fwd = padded_forward_prediction(specs, input_map=M)
    bwd = padded_backward_prediction(specs, input_size=M.shape, output_map=output_map)
    f_factors = [float("nan")] + [2.0 ** (b - a) for a, b in zip(fwd[:-1], fwd[1:])]
    b_factors = [2.0 ** (a - b) for a, b in zip(bwd, bwd[1:] + [0.0])]
    return Prediction(specs, f_factors, b_factors, fwd, bwd)
