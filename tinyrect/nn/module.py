"""Module and Parameter: how a network keeps track of its weights and its sub-networks.

`Module.__setattr__` does the bookkeeping: assigning a `Parameter` to an attribute registers it
in `self._parameters`, assigning a `Module` registers it in `self._modules`. Everything else
(`parameters()`, `state_dict()`, `train()`, `zero_grad()`, `repr`) walks those two dicts, in the
order the attributes were assigned. Forward hooks let probes watch every layer's output without
touching the layers: `hook(module, inputs, output)` runs after each `forward`.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from tinyrect.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module: `requires_grad=True` by default, and
    registered automatically when assigned as a Module attribute."""

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by `register_forward_hook`; `handle.remove()` unregisters the hook.
    Also a context manager: `with model.register_forward_hook(h): ...`."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and network. Subclasses set attributes in `__init__` (after
    `super().__init__()`) and define `forward(...)`; call the module, not `forward`, so hooks run.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign '{name}' before Module.__init__() ran: call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        if isinstance(value, (Parameter, Module)):
            params.pop(name, None)
            modules.pop(name, None)
            self.__dict__.pop(name, None)
            (params if isinstance(value, Parameter) else modules)[name] = value
        elif name in params or name in modules:
            if value is not None:
                kind = "Parameter" if name in params else "Module"
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to '{name}', which holds a {kind}: "
                    f"assign a {kind} or None (wrap arrays as nn.Parameter(array))"
                )
            (params if name in params else modules)[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):  # only called when normal lookup fails
        d = self.__dict__
        if name in d.get("_parameters", {}):
            return d["_parameters"][name]
        if name in d.get("_modules", {}):
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._modules.pop(name, None)
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def add_module(self, name: str, module) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        self._parameters.pop(str(name), None)
        self.__dict__.pop(str(name), None)
        self._modules[str(name)] = module

    # ---- the forward pass
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Run `hook(module, inputs, output)` after every forward of this module (inputs is the
        tuple of positional arguments). A non-None return value replaces the output.
        Returns a handle; `handle.remove()` unregisters the hook."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """Run `hook(module, inputs)` before every forward; a non-None return replaces inputs."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    # ---- walking the tree
    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "", memo=None):
        """(qualified name, module) for self ('' ) and every descendant, depth first, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, module in self.named_children():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(qualified name, Parameter), e.g. ('0.weight', ...); a shared Parameter appears once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def num_parameters(self) -> int:
        """Number of learnable scalars (e.g. to count PReLU's extra coefficients)."""
        return sum(p.size for p in self.parameters())

    def apply(self, fn):
        """Call fn(module) on every descendant and on self (children first), return self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes, gradients, dtype
    def train(self, mode: bool = True):
        """Set training mode on self and every descendant (matters for layers such as dropout)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad[...] = 0

    def to(self, dtype):
        """Cast every parameter to `dtype` in place (same Parameter objects), return self.
        ('cpu' is accepted and changes nothing: tinyrect computes with NumPy on the CPU.)"""
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda", "mps"):
            if dtype == "cpu":
                return self
            raise ValueError(f"to({dtype!r}): tinyrect computes with NumPy on the CPU only; "
                             "pass a dtype (np.float32, np.float64) or 'cpu'")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to(): expected a dtype such as np.float32 or np.float64, got "
                            f"{dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"to(): parameters must stay floating point, got {dtype}")
        for param in self.parameters():
            param.data = param.data.astype(dtype)
            if param.grad is not None:
                param.grad = param.grad.astype(dtype)
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ---- checkpoints
    def state_dict(self) -> OrderedDict:
        """{qualified name: a copy of the parameter's array}. Copies, so a saved "best" state is
        not changed by later training steps (torch returns views; copy.deepcopy is needed there)."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) from `state_dict` into the parameters, in place.

        Shapes must match. With strict=True every parameter must be present and no extra key
        may be; all problems are listed in one error. Returns (missing_keys, unexpected_keys).
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict into {type(self).__name__}: expected a dict of arrays "
                            f"(model.state_dict() or tinyrect.load(path)), got "
                            f"{type(state_dict).__name__}")
        own = OrderedDict(self.named_parameters())
        given = OrderedDict((k, v.data if isinstance(v, Tensor) else np.asarray(v))
                            for k, v in state_dict.items())
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        mismatched = [(k, given[k].shape, own[k].shape) for k in own
                      if k in given and given[k].shape != own[k].shape]
        problems = []
        if mismatched:
            problems.append("shape mismatch for " + ", ".join(
                f"'{k}' (checkpoint {tuple(got)}, model {tuple(want)})" for k, got, want in mismatched))
        if strict and missing:
            problems.append("missing keys " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise RuntimeError(
                f"load_state_dict into {type(self).__name__}: " + "; ".join(problems) +
                ". Was the checkpoint saved from a model built with the same arguments? "
                "(strict=False skips missing and unexpected keys, never shape mismatches)"
            )
        for name, param in own.items():
            if name in given:
                np.copyto(param.data, given[name], casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ---- printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = []
        for name, module in self._modules.items():
            body = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"
