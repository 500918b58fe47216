"""Stochastic gradient descent with momentum, step schedules, and the guards a training loop needs.

`SGD` matches torch.optim.SGD's update exactly (same order of operations). For every parameter p
with gradient g, in its group's settings (lr ε, momentum μ, dampening τ, weight decay λ):

    g ← g + λ p                                   (L2 weight decay, as a gradient term)
    b ← g                        on the first step   (the momentum buffer starts at the gradient)
    b ← μ b + (1 - τ) g          afterwards
    g ← g + μ b if nesterov else b
    p ← p - ε g

The paper's Eq. (4) writes momentum on the velocity instead:  Δa := μ Δa + ε ∂E/∂a,  a ← a - Δa
(the sign convention aside). With a constant ε the two are the same recursion scaled by ε:
Δa_t = ε b_t, because ε b_t = ε(μ b_{t-1} + g_t) = μ (ε b_{t-1}) + ε g_t. They differ only when
ε changes: Eq. (4)'s velocity carries the old learning rate into the next steps, PyTorch's buffer
applies the new ε at once. (With τ = 0 and the buffer started at g, as here.)

The paper trains PReLU's coefficients a without weight decay (Sec. 2.1): decay adds λa to ∂E/∂a,
pulling a toward 0, i.e. toward ReLU. `param_groups_no_decay(model, λ)` builds the groups that do
that; it also leaves biases undecayed, which is our choice (common practice), not the paper's.
`weight_decay_on_prelu_demo` measures the effect on a.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from tinyrect import init
from tinyrect.functional import mse_loss
from tinyrect.nn import Module, Parameter, PReLU
from tinyrect.tensor import Tensor


class _Required:
    def __repr__(self):
        return "<required>"


required = _Required()


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or Inf: training stopped instead of continuing on garbage."""


class NonFiniteGradientError(FloatingPointError):
    """A parameter's gradient is NaN or Inf: SGD.step() refused to apply it."""


def check_finite_loss(loss, step: int, lr: float | None = None) -> float:
    """Return float(loss), or raise NonFiniteLossError naming the step when it is NaN or Inf.

    Call it on every step of a training loop, before backward(): a diverged run stops at the
    step where it diverged instead of training on NaN for the rest of the epoch.
    """
    value = float(loss.item() if isinstance(loss, Tensor) else np.asarray(loss).item())
    if not math.isfinite(value):
        at_lr = f" (currently {lr:g})" if lr is not None else ""
        raise NonFiniteLossError(
            f"the loss is {value} at step {step}: training diverged. Lower the learning rate"
            f"{at_lr}, e.g. by 10x; check the initialization (a std too large for the depth makes "
            "activations explode, Eq. 9) and that the inputs are normalized"
        )
    return value


def _check_number(name, value, minimum=0.0):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= minimum:
        raise ValueError(f"Invalid {name} value: {value}")


class SGD:
    """SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False).

    `params` is an iterable of Parameters, of (name, Parameter) pairs (model.named_parameters();
    then errors name the parameter), or of dicts {'params': [...], 'lr': ..., ...}: param groups,
    each overriding the defaults. See the module docstring for the update and for Eq. (4).
    """

    def __init__(self, params, lr=required, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if lr is not required:
            _check_number("learning rate", lr)
        _check_number("momentum", momentum)
        _check_number("weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                             weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        self.state: dict = {}   # id(param) -> {'momentum_buffer': ndarray}
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Parameters or dicts, got a single "
                            "Tensor; wrap it in a list: SGD([p], lr=...)")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("a param group must be a dict with a 'params' entry")
        group = dict(group)
        items = group["params"]
        items = [items] if isinstance(items, Tensor) else list(items)
        params, names = [], []
        for i, item in enumerate(items):
            name, p = item if isinstance(item, tuple) else (None, item)
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors (Parameters), but item {i} "
                                f"of a param group is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (item {i}, the result of "
                                 f"'{p._op}'); pass the Parameters themselves")
            params.append(p)
            names.append(name)
        if "param_names" in group:
            names = list(group["param_names"])
            if len(names) != len(params):
                raise ValueError(f"a param group has {len(params)} params but "
                                 f"{len(names)} param_names")
        group["params"] = params
        group["param_names"] = names
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            group.setdefault(key, default)
        _check_number("learning rate", group["lr"])
        _check_number("momentum", group["momentum"])
        _check_number("weight_decay", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing & {id(p) for p in params} or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def _name(self, gi, pi, p):
        name = self.param_groups[gi]["param_names"][pi]
        return repr(name) if name else f"#{pi} of param group {gi} (shape {p.shape})"

    def step(self) -> None:
        """One update of every parameter that has a gradient (see the module docstring)."""
        # Check first, so a bad gradient leaves every parameter untouched.
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                if p.grad is not None and not np.all(np.isfinite(p.grad)):
                    kind = "NaN" if np.isnan(p.grad).any() else "Inf"
                    raise NonFiniteGradientError(
                        f"SGD.step(): the gradient of parameter {self._name(gi, pi, p)} contains "
                        f"{kind}; no parameter was updated. The loss or an activation overflowed: "
                        "lower the learning rate, check the initialization, and use "
                        "tinyrect.detect_anomaly() to find the op that produced it"
                    )
        for group in self.param_groups:
            # Python floats, so a NumPy-scalar hyperparameter never promotes float32 to float64.
            lr, mu, tau = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
            wd, nesterov = float(group["weight_decay"]), group["nesterov"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if wd != 0:
                    g = g + wd * p.data                                  # L2 decay term
                if mu != 0:
                    state = self.state.setdefault(id(p), {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, dtype=p.dtype)  # b ← g
                    else:
                        buf *= mu                                        # b ← μ b + (1-τ) g
                        buf += (1 - tau) * g
                    g = g + mu * buf if nesterov else buf
                p.data -= lr * g                                         # p ← p - ε g

    def state_dict(self) -> dict:
        """{'state': {index: {'momentum_buffer': array}}, 'param_groups': [... 'params': [index]]}
        with parameters numbered in order across groups, as in PyTorch."""
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k not in ("params", "param_names")}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            packed["param_names"] = list(group["param_names"])
            groups.append(packed)
        state = {index[pid]: {k: v.copy() for k, v in s.items()}
                 for pid, s in self.state.items() if pid in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"]) for g, own in zip(groups, self.param_groups)):
            raise ValueError("loaded optimizer state has a different number of param groups or "
                             "parameters per group than this optimizer")
        params = [p for g in self.param_groups for p in g["params"]]
        for own, saved in zip(self.param_groups, groups):   # (0-d arrays from tinyrect.load)
            own.update({k: (v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v)
                        for k, v in saved.items() if k not in ("params", "param_names")})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[id(p)] = {k: np.array(v, dtype=p.dtype) for k, v in s.items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines + [")"])


# ----------------------------------------------------------------------------- param groups
def param_groups_no_decay(model, weight_decay: float, decay_biases: bool = False,
                          decay_slopes: bool = False) -> list:
    """Two param groups for SGD: the weights with `weight_decay`, and with weight decay 0:
      - every PReLU coefficient a, unless decay_slopes=True: the paper's advice (Sec. 2.1), since
        decay would push a toward 0, i.e. toward ReLU;
      - every bias (a parameter named 'bias', or any other 1-D one that is not a PReLU
        coefficient), unless decay_biases=True: our choice (common practice), not the paper's.
    Empty groups are left out; each group lists its 'param_names'. This is the one builder of
    no-decay groups in tinyrect. Usage:
        SGD(param_groups_no_decay(model, 5e-4), lr=0.01, momentum=0.9)
    """
    prelu_ids = {id(p) for m in model.modules() if isinstance(m, PReLU) for p in m.parameters()}
    decay, no_decay = ([], []), ([], [])
    for name, p in model.named_parameters():
        is_bias = id(p) not in prelu_ids and (name.rsplit(".", 1)[-1] == "bias" or p.ndim <= 1)
        exempt = (id(p) in prelu_ids and not decay_slopes) or (is_bias and not decay_biases)
        target = no_decay if exempt else decay
        target[0].append(p)
        target[1].append(name)
    groups = [{"params": ps, "param_names": ns, "weight_decay": wd}
              for (ps, ns), wd in ((decay, weight_decay), (no_decay, 0.0)) if ps]
    return groups


# ----------------------------------------------------------------------------- schedules
class StepLR:
    """Multiply every group's lr by gamma every `step_size` calls of step() (once per epoch):
    lr = base_lr · gamma^(epoch // step_size). The paper divides lr by 10 on plateaus."""

    def __init__(self, optimizer: SGD, step_size: int, gamma: float = 0.1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = 0

    def _decays_now(self) -> int:
        """How many times to multiply by gamma at the epoch just reached."""
        return int(self.last_epoch % self.step_size == 0)

    def step(self) -> None:
        self.last_epoch += 1
        for _ in range(self._decays_now()):
            for group in self.optimizer.param_groups:
                group["lr"] *= self.gamma

    def get_last_lr(self) -> list:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch, self.base_lrs = int(state["last_epoch"]), list(state["base_lrs"])


class MultiStepLR(StepLR):
    """Multiply lr by gamma at each epoch listed in `milestones` (e.g. [30, 60])."""

    def __init__(self, optimizer: SGD, milestones, gamma: float = 0.1):
        super().__init__(optimizer, step_size=1, gamma=gamma)
        self.milestones = sorted(int(m) for m in milestones)

    def _decays_now(self) -> int:
        return self.milestones.count(self.last_epoch)


class ReduceLROnPlateau:
    """Multiply lr by `factor` when a metric has not improved for more than `patience` calls of
    step(metric): the paper's "divided by 10 when the error plateaus" (Sec. 3). Same rules as
    torch.optim.lr_scheduler.ReduceLROnPlateau (mode 'min'/'max', threshold 'rel'/'abs',
    cooldown, min_lr)."""

    def __init__(self, optimizer: SGD, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float = 0.0, eps: float = 1e-8):
        if not factor < 1.0:
            raise ValueError("Factor should be < 1.0.")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', got "
                             f"{mode!r}, {threshold_mode!r}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown = threshold, threshold_mode, cooldown
        self.min_lr, self.eps = min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _is_better(self, value: float) -> bool:
        rel, t = self.threshold_mode == "rel", self.threshold
        if self.mode == "min":
            return value < (self.best * (1 - t) if rel else self.best - t)
        return value > (self.best * (1 + t) if rel else self.best + t)

    def step(self, metric) -> None:
        value = float(metric.item() if isinstance(metric, Tensor) else metric)
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group in self.optimizer.param_groups:
                new_lr = max(group["lr"] * self.factor, self.min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list:
        return [g["lr"] for g in self.optimizer.param_groups]


# ----------------------------------------------------------------------------- lesson demo
DEMO_RUNS = {  # name: (decay the weights W, decay the PReLU coefficient a)
    "no_decay": (False, False),
    "decay_a_only": (False, True),
    "decay_weights_only": (True, False),   # what param_groups_no_decay gives: the paper's rule
    "decay_all": (True, True),
}


def weight_decay_on_prelu_demo(weight_decay: float = 1e-2, steps: int = 300, lr: float = 0.05,
                               momentum: float = 0.9, true_a: float = 0.25, seed: int = 0) -> dict:
    """What weight decay does to a PReLU coefficient a: train one net four times, with weight
    decay on nothing, on a only, on the weights only (tinyrect's default, the paper's rule) and
    on everything, and return the measured a and loss of each run.

    Data: a teacher y = w₂ᵀ PReLU(W₁x; true_a) (8 inputs, 32 hidden units, channel-shared a,
    He init, 512 Gaussian inputs). The student starts at the teacher's weights with a = 0.25 (the
    paper's init) and is trained by full-batch SGD with momentum. Decay adds λa to ∂E/∂a (Eq. 4),
    a pull toward a = 0, i.e. toward ReLU, that only the data's ∂E/∂a resists.
    Returns {a_init, true_a, settings..., a_<run>, loss_<run> for each run in DEMO_RUNS}.
    Decay on a pulls it below the 0.25 at which the data alone keep it; in this net decay on the
    weights pulls a down too, so "no decay on a" removes only the direct push.
    """
    rng = np.random.default_rng(seed)
    n_in, hidden = 8, 32
    x = Tensor(rng.standard_normal((512, n_in)))

    class TwoLayer(Module):
        def __init__(self, w1, w2, a):
            super().__init__()
            self.w1, self.w2 = Parameter(w1.copy()), Parameter(w2.copy())
            self.act = PReLU(1, init=a, dtype=np.float64)

        def forward(self, inputs):
            return self.act(inputs @ self.w1.T) @ self.w2.T

    w1 = rng.standard_normal((hidden, n_in)) * init.he_std(n_in)     # He, Eq. (10)
    w2 = rng.standard_normal((1, hidden)) * init.he_std(hidden)
    target = Tensor(TwoLayer(w1, w2, true_a)(x).data)
    results = {"a_init": 0.25, "true_a": true_a, "weight_decay": weight_decay, "steps": steps,
               "lr": lr, "momentum": momentum}
    for run, (decay_w, decay_a) in DEMO_RUNS.items():
        student = TwoLayer(w1, w2, 0.25)
        groups = [{"params": [student.w1, student.w2], "weight_decay": weight_decay * decay_w},
                  {"params": [student.act.weight], "weight_decay": weight_decay * decay_a}]
        opt = SGD(groups, lr=lr, momentum=momentum)
        for step in range(steps):
            opt.zero_grad()
            loss = mse_loss(student(x), target)
            check_finite_loss(loss, step, lr)
            loss.backward()
            opt.step()
        results[f"a_{run}"] = float(student.act.weight.data[0])
        results[f"loss_{run}"] = float(loss.item())
    return results
