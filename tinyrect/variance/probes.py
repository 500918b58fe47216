"""Probes: measure, layer by layer, the quantities the paper's derivation talks about.

For every weight layer l (Conv2d or Linear) of a model, one forward + backward pass records
  forward   Var[y_l] and mean of y_l (the layer's output, the pre-activation response, Eq. 5),
            E[x_l²] and mean of x_l (the layer's input: Eq. 7 uses E[x²], not Var[x]),
            Var[w_l], mean of w_l, n_l = k²c (fan_in), n̂_l = k²d (fan_out);
  backward  Var[Δx_l] (gradient w.r.t. the layer's input, Eq. 11), Var[Δy_l] (w.r.t. its output),
            and their means (the derivation assumes zero means: look at them);
  health    the fraction of dead rectifier units after layer l (a unit, one channel at one position,
            that is never positive over the batch; for LReLU/PReLU such a unit still passes a·Δ,
            so "dead" is strictly a ReLU notion there), and the grad:data ratio std(∂L/∂w)/std(w)
            (its scale depends on the loss: with the default N(0, 1) output gradient, summed
            over the batch, it is large; with cross-entropy, a mean, much smaller).
Across training steps, `UpdateTracker` records the update:data ratio std(Δw)/std(w).

How it works: `register_forward_hook` on each module reads its input and output; on the output
(and input) tensors `register_hook` reads the gradient when backward reaches them. The hooks only
read and return None, so the computation is bit-for-bit the same with or without probes.

    result = probes.record(model, x)           # backward from a random Gaussian output gradient
    print(result)                              # the table
    result.plot("variance.png", prediction=theory.predict(model))
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import numpy as np

from tinyrect.tensor import Tensor, no_grad
from tinyrect.variance.specs import NOT_A_RECTIFIER, flatten_layers, rectifier_slope, weight_kind


def _stats(a: np.ndarray) -> tuple:
    """(mean, variance, mean square) in float64, so tiny values do not underflow when squared."""
    a = np.asarray(a, dtype=np.float64)
    mean = float(a.mean())
    ms = float(np.mean(a * a))
    return mean, max(ms - mean * mean, 0.0) if a.size > 1 else 0.0, ms


@dataclass
class LayerRecord:
    """What the probes measured at one weight layer (l is 1-based, as in the paper)."""
    l: int
    name: str
    n: int
    n_hat: int
    var_w: float
    mean_w: float
    var_y: float = float("nan")
    mean_y: float = float("nan")
    ex2: float = float("nan")          # E[x_l²] of the input
    mean_x: float = float("nan")
    var_dx: float = float("nan")       # Var[Δx_l]
    mean_dx: float = float("nan")
    var_dy: float = float("nan")       # Var[Δy_l]
    mean_dy: float = float("nan")
    dead: float = float("nan")         # fraction of dead units of the rectifier after this layer
    grad_data: float = float("nan")    # std(∂L/∂w) / std(w)


class ProbeResult:
    """Per-layer records, with a table (`print(result)`), arrays and a plot."""

    def __init__(self, layers: list):
        self.layers = layers

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def array(self, field: str) -> np.ndarray:
        """One field over the layers, e.g. result.array('var_y')."""
        return np.array([getattr(r, field) for r in self.layers], dtype=np.float64)

    def log2(self, field: str, relative_to: int | None = None) -> np.ndarray:
        """log2 of a variance field, optionally relative to layer `relative_to` (1-based)."""
        with np.errstate(divide="ignore"):
            out = np.log2(self.array(field))
        return out - out[relative_to - 1] if relative_to else out

    def table(self) -> str:
        head = (f"{'l':>3} {'layer':<7} {'n_l':>5} {'n̂_l':>5} {'Var[w]':>9} {'E[x²]':>9} "
                f"{'Var[y]':>9} {'mean y':>9} {'Var[Δx]':>9} {'Var[Δy]':>9} {'mean Δy':>9} "
                f"{'dead%':>6} {'grad:data':>9}")
        rows = [head]
        for r in self.layers:
            rows.append(f"{r.l:>3} {r.name:<7} {r.n:>5} {r.n_hat:>5} {r.var_w:>9.2e} {r.ex2:>9.2e} "
                        f"{r.var_y:>9.2e} {r.mean_y:>9.1e} {r.var_dx:>9.2e} {r.var_dy:>9.2e} "
                        f"{r.mean_dy:>9.1e} {100 * r.dead:>6.1f} {r.grad_data:>9.2e}")
        return "\n".join(rows)

    __str__ = table

    def to_dict(self) -> dict:
        return {"layers": [asdict(r) for r in self.layers]}

    def plot(self, path=None, prediction=None, backward: bool = True, title: str = "", ax=None):
        """log2 variance vs depth, measured (dots) against predicted (line), relative to layer 1.

        `prediction` is a theory.Prediction (theory.predict(model) or theory_padding.padded_predict).
        Saves to `path` if given; returns the figure.
        """
        import matplotlib.pyplot as plt

        ncols = 2 if backward else 1
        if ax is None:
            fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 3.8), squeeze=False)
            axes = axes[0]
        else:
            axes, fig = np.atleast_1d(ax), np.atleast_1d(ax)[0].figure
        depth = np.arange(1, len(self) + 1)
        axes[0].plot(depth, self.log2("var_y", relative_to=1), "o", ms=4, label="measured")
        if prediction is not None:
            axes[0].plot(depth, prediction.log2_forward, "-", label="predicted")
        axes[0].set(xlabel="layer l", ylabel="log2 Var[y_l] / Var[y_1]", title=title or "forward")
        if backward:
            axes[1].plot(depth, self.log2("var_dx", relative_to=len(self)), "o", ms=4, label="measured")
            if prediction is not None:
                pb = np.array(prediction.log2_backward)
                axes[1].plot(depth, pb - pb[-1], "-", label="predicted")
            axes[1].set(xlabel="layer l", ylabel="log2 Var[Δx_l] / Var[Δx_L]", title="backward")
        for a in axes:
            a.grid(alpha=0.3)
            a.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=110)
        return fig


class Probe:
    """Attach hooks to every weight layer and rectifier of `model`; use as a context manager.

        with Probe(model) as probe:
            out = model(x)
            out.backward(grad)
        result = probe.result()

    Leaving the `with` block removes the hooks. Var[Δx_1] is only measured if x requires grad.
    """

    def __init__(self, model):
        self.model = model
        self.layers = flatten_layers(model)
        self.weight_layers = [m for m in self.layers if weight_kind(m)]
        if not self.weight_layers:
            raise ValueError("Probe: the model has no Conv2d or Linear layer to probe")
        self.records = []
        self._handles = []
        self._owner = {}         # id(rectifier) -> index of the weight layer before it
        last = None
        for m in self.layers:
            if weight_kind(m):
                last = self.weight_layers.index(m)
            elif rectifier_slope(m) is not NOT_A_RECTIFIER and last is not None:
                self._owner[id(m)] = last

    def __enter__(self):
        self.attach()
        return self

    def __exit__(self, *exc):
        self.detach()

    def attach(self) -> "Probe":
        self.records = []
        for i, m in enumerate(self.weight_layers):
            w = np.asarray(m.weight.data, dtype=np.float64)
            k2 = int(np.prod(w.shape[2:])) if w.ndim > 2 else 1
            mean_w, var_w, _ = _stats(w)
            self.records.append(LayerRecord(i + 1, type(m).__name__, k2 * w.shape[1], k2 * w.shape[0],
                                            float(np.mean(w * w)), mean_w))
            self._handles.append(m.register_forward_hook(self._weight_hook(i)))
        for m in self.layers:
            if id(m) in self._owner:
                self._handles.append(m.register_forward_hook(self._rectifier_hook(self._owner[id(m)])))
        return self

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def _weight_hook(self, i):
        rec = self.records

        def hook(module, inputs, output):
            x = inputs[0]
            rec[i].mean_x, _, rec[i].ex2 = _stats(x.data)
            rec[i].mean_y, rec[i].var_y, _ = _stats(output.data)
            if isinstance(output, Tensor) and output.requires_grad:
                output.register_hook(self._grad_hook(i, "dy"))
            if isinstance(x, Tensor) and x.requires_grad:
                x.register_hook(self._grad_hook(i, "dx"))
            return None

        return hook

    def _grad_hook(self, i, which):
        rec = self.records

        def hook(grad):
            mean, var, _ = _stats(grad)
            setattr(rec[i], f"mean_{which}", mean)
            setattr(rec[i], f"var_{which}", var)
            return None

        return hook

    def _rectifier_hook(self, i):
        rec = self.records

        def hook(module, inputs, output):
            y = np.asarray(inputs[0].data)
            alive = (y > 0).any(axis=0)          # a unit = one feature (channel × position)
            rec[i].dead = float(1.0 - alive.mean())
            return None

        return hook

    def result(self) -> ProbeResult:
        """The records, with the grad:data ratios read from the weights' current .grad."""
        for r, m in zip(self.records, self.weight_layers):
            g = m.weight.grad
            if g is not None:
                w = np.asarray(m.weight.data, dtype=np.float64)
                r.grad_data = float(np.std(np.asarray(g, dtype=np.float64)) / max(np.std(w), 1e-300))
        return ProbeResult([LayerRecord(**asdict(r)) for r in self.records])


def record(model, x, loss: str = "gaussian", labels=None, seed: int = 0, backward: bool = True) -> ProbeResult:
    """One forward (+ backward) pass over the batch `x` with probes attached; returns the records.

    loss='gaussian' (default): backward from a random N(0, 1) output gradient, the i.i.d.
    Δx_{L+1} the paper's derivation assumes (seeded by `seed`). loss='cross_entropy': from the
    mean cross-entropy of the output logits against `labels`. backward=False: forward only,
    under no_grad() (fast). The input is wrapped to require grad so Var[Δx_1] is measured; the
    weights' existing .grad are saved and restored, so calling this does not disturb training.
    """
    from tinyrect.functional import cross_entropy

    if loss not in ("gaussian", "cross_entropy"):
        raise ValueError(f"loss={loss!r}: use 'gaussian' (random output gradient) or 'cross_entropy'")
    if loss == "cross_entropy" and labels is None and backward:
        raise ValueError("loss='cross_entropy' needs labels=... (one integer class per sample)")
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    probe = Probe(model)
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    saved = [p.grad for p in params]
    try:
        with probe:
            if not backward:
                with no_grad():
                    model(Tensor(data))
                return probe.result()
            for p in params:
                p.grad = None
            inp = Tensor(data, requires_grad=True)
            out = model(inp)
            if loss == "gaussian":
                g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
                out.backward(g)
            else:
                cross_entropy(out, labels).backward()
            result = probe.result()
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    return result


class UpdateTracker:
    """update:data ratio per weight layer across training steps: std(Δw)/std(w) (makemore's
    rule of thumb: around 1e-3, i.e. -3 in log10). Δw is the actual change of the weights made
    by the optimizer step (lr·∂L/∂w for plain SGD; momentum and weight decay included otherwise).

        tracker = UpdateTracker(model)
        ... loss.backward(); opt.step(); tracker.step()
        tracker.plot("updates.png")
    """

    def __init__(self, model):
        self.layers = [m for m in flatten_layers(model) if weight_kind(m)]
        self._last = [np.array(m.weight.data, dtype=np.float64) for m in self.layers]
        self.history = []           # one list per step: log10 ratio per layer

    def step(self) -> list:
        """Call after optimizer.step(); returns this step's log10(std(Δw)/std(w)) per layer."""
        ratios = []
        for i, m in enumerate(self.layers):
            w = np.asarray(m.weight.data, dtype=np.float64)
            ratio = np.std(w - self._last[i]) / max(np.std(w), 1e-300)
            ratios.append(math.log10(ratio) if ratio > 0 else float("-inf"))
            self._last[i] = w.copy()
        self.history.append(ratios)
        return ratios

    def array(self) -> np.ndarray:
        """steps × layers array of log10 update:data ratios."""
        return np.array(self.history, dtype=np.float64)

    def plot(self, path=None, ax=None):
        import matplotlib.pyplot as plt

        fig, ax = (plt.subplots(figsize=(6, 3.8)) if ax is None else (ax.figure, ax))
        h = self.array()
        for j in range(h.shape[1] if h.size else 0):
            ax.plot(h[:, j], lw=1, label=f"layer {j + 1}" if h.shape[1] <= 10 else None)
        ax.axhline(-3, color="k", ls="--", lw=1, label="1e-3 (a common rule of thumb)")
        ax.set(xlabel="step", ylabel="log10 std(Δw)/std(w)", title="update:data ratio")
        ax.legend(fontsize=7)
        if path is not None:
            fig.savefig(path, dpi=110)
        return fig
