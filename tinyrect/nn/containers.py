"""Containers: Sequential (a chain of layers) and ModuleList (a list the Module tree can see)."""
from __future__ import annotations

import numbers
from collections import OrderedDict

from tinyrect.nn.module import Module


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: length and iteration over the registered modules."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_ModuleSequence):
    """Apply modules in order: `Sequential(conv, PReLU(), ...)(x)`. Also accepts one OrderedDict
    of {name: module}. Indexable (an int gives a layer, a slice a new Sequential), len, iterable."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, module in modules[0].items():
                self._add(str(name), module)
        else:
            for i, module in enumerate(modules):
                self._add(str(i), module)

    def _add(self, name, module):
        if not isinstance(module, Module):
            raise TypeError(
                f"Sequential: item {name} is a {type(module).__name__}, not a Module; wrap functions "
                "in a Module (e.g. nn.ReLU() rather than functional.relu)"
            )
        self.add_module(name, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module):
        self._add(str(len(self)), module)
        return self

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"Sequential indices must be integers or slices, got "
                            f"{type(index).__name__}; a layer's name is an attribute: seq.<name>")
        try:
            return items[index][1]
        except (IndexError, TypeError):
            raise IndexError(f"Sequential index {index!r} out of range for {len(self)} layers") from None


class ModuleList(_ModuleSequence):
    """A list of modules whose parameters the Module tree sees (a plain list would hide them)."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        return ModuleList(items[index]) if isinstance(index, slice) else items[index]
