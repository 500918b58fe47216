"""Naming a student's mistake from the answer alone, the way a TA reads a wrong result.

Given the student's output and the right one on every case, `diagnose` tries, in order:
  1. a catalogue variant (a known wrong implementation) that reproduces the answer everywhere;
  2. a region of the inputs (e.g. "only where y == 0", "only where windows overlap") that holds
     every wrong entry;
  3. a flipped sign or a constant factor (exact relations over every entry);
  4. the variant that explains the most wrong entries, plus a second one (or a region) for the
     rest: two mistakes at once, e.g. a hard-coded slope and the wrong side at y == 0;
     else a precision loss (float32 arithmetic inside);
  5. the worst entry, with the inputs at that position.
"""
from __future__ import annotations

import numpy as np

from tinyrect.exercises.checking import MATCH_TOL, Part, as_outputs, copy_value, rel_error, shapes_of


def diagnose(part: Part, k: int, cases, got, want) -> str:
    """Name the mistake behind output k (see the module docstring); ties between variants go to the
    one that agrees with the student on the most entries, then to catalogue order."""
    name = part.outputs[k]
    student, right, scale, where = _flatten(got), _flatten(want), [], []
    for i, (g, w) in enumerate(zip(got, want)):
        size = np.size(g)
        scale.append(np.full(size, max(np.max(np.abs(np.asarray(g, dtype=np.float64))),
                                       np.max(np.abs(np.asarray(w, dtype=np.float64))), 1e-300)))
        where += [(i, j) for j in range(size)]
    scale = np.concatenate(scale)
    wrong = np.abs(student - right) > part.tol * scale
    candidates, regions = [], []
    for variant in part.catalogue:
        if variant.outputs is not None and name not in variant.outputs:
            continue
        if variant.region is not None:
            regions.append((variant, _region_mask(variant, cases, got)))
            continue
        values = _variant_values(variant, cases, k, part, got)
        with np.errstate(invalid="ignore"):
            agree = np.abs(student - values) <= MATCH_TOL * scale
            # an entry is explained when the variant is itself wrong there and the student matches it
            explains = agree & (np.abs(values - right) > part.tol * scale)
        if agree.all() and not (wrong & ~explains).any():
            return variant.hint
        candidates.append((variant, agree, explains))
    for variant, inside in regions:
        if not (wrong & ~inside).any():
            return variant.hint
    # an exact relation over every entry beats a catalogue variant that explains only some of them
    if rel_error(student, -right) < MATCH_TOL:
        return "the sign is flipped"
    denom = float(right @ right)
    if denom > 0:
        factor = float(student @ right) / denom
        if abs(factor - 1) > 1e-6 and rel_error(student, factor * right) < MATCH_TOL:
            return f"your answer is the right one times {factor:.6g}: a missing or extra constant factor"
    n_wrong = int(wrong.sum())
    ranked = sorted(candidates, key=lambda c: (-int((c[2] & wrong).sum()), -int(c[1].sum())))
    if ranked and (ranked[0][2] & wrong).any():
        first, _, explains = ranked[0]
        rest = wrong & ~explains
        if not rest.any():
            return first.hint
        ranked_rest = sorted(candidates, key=lambda c: (-int((c[2] & rest).sum()), -int(c[1].sum())))
        for second, covered in [(c[0], c[2]) for c in ranked_rest[:1]] + regions:
            if second is not first and not (rest & ~covered).any():
                return f"{first.hint}; and also: {second.hint}"
        return (f"{first.hint} (this explains {int((explains & wrong).sum())} of the {n_wrong} wrong entries; "
                f"of the others, the {worst_entry(part, cases, got, want, student, right, scale, where, rest)})")
    if float(np.max(np.abs(student - right) / scale)) < 1e-4:
        return ("close but not exact: precision is lost somewhere; do you compute in float32 (np.float32, "
                "astype, dtype=...)? Keep float64 end to end")
    return "the " + worst_entry(part, cases, got, want, student, right, scale, where, wrong)


def _flatten(values):
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in values])


def _region_mask(variant, cases, got):
    blocks = []
    for case, g in zip(cases, got):
        try:
            mask = np.asarray(variant.region(*case.args, **case.kwargs), dtype=bool)
            blocks.append(mask.ravel() if mask.shape == np.shape(g) else np.zeros(np.size(g), bool))
        except Exception:
            blocks.append(np.zeros(np.size(g), bool))
    return np.concatenate(blocks)


def _variant_values(variant, cases, k, part, got):
    """The variant's output k on every case, flattened; NaN where it raises or has another shape."""
    blocks = []
    for case, g in zip(cases, got):
        block = np.full(np.size(g), np.nan)
        try:
            with np.errstate(all="ignore"):
                value = as_outputs(variant.fn(*[copy_value(a) for a in case.args],
                                               **{n: copy_value(v) for n, v in case.kwargs.items()}), part)[k]
            value = np.asarray(value, dtype=np.float64)
            if value.shape == np.shape(g):
                block = value.ravel()
        except Exception:
            pass
        blocks.append(block)
    return np.concatenate(blocks)


def worst_entry(part, cases, got, want, student, right, scale, where, mask) -> str:
    """'worst entry [1, 2] is 0.7, expected 0.175, with x (4, 3), a (1,) = [-0.35]; there x = -0.3'."""
    errors = np.where(mask, np.abs(student - right) / scale, -1.0)
    i, j = where[int(np.argmax(errors))]
    case, g, w = cases[i], got[i], want[i]
    if part.kind == "scalar":
        return f"worst case: with {shapes_of(case)} you returned {g:.10g}, expected {w:.10g}"
    if part.kind == "ints":
        return f"worst case: with {shapes_of(case)} you returned {tuple(g)}, expected {tuple(w)}"
    index = np.unravel_index(j, w.shape)
    text = (f"worst entry [{', '.join(str(int(t)) for t in index)}] is {g[index]:.6g}, expected "
            f"{w[index]:.6g}, with {shapes_of(case)}")
    there = [f"{n} = {arg[index]:.6g}" for n, arg in zip(case.names, case.args)
             if isinstance(arg, np.ndarray) and arg.shape == w.shape]
    if len(index) >= 2:
        there += [f"{n}[{index[1]}] = {arg[index[1]]:.6g}" for n, arg in zip(case.names, case.args)
                  if isinstance(arg, np.ndarray) and arg.ndim == 1 and arg.size == w.shape[1] > 1]
    return text + ("; there " + ", ".join(there) if there else "")
