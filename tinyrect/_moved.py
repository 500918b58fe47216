"""Old module paths that moved when the package was reorganised keep working, with a warning.

`import tinyrect.theory` (for instance) still gives the module that now lives elsewhere and emits
a DeprecationWarning naming the new place. One table, one import hook; nothing else uses it.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings

MOVED = {
    "tinyrect.theory": "tinyrect.variance",
    "tinyrect.theory_padding": "tinyrect.variance.padding",
    "tinyrect.probes": "tinyrect.variance.probes",
    "tinyrect.experiments": "tinyrect.reproduce",
    "tinyrect.experiments.variance": "tinyrect.variance.measure",
    "tinyrect.experiments.variance_section": "tinyrect.reproduce.variance",
    "tinyrect.experiments.depth": "tinyrect.reproduce.depth",
    "tinyrect.experiments.slopes": "tinyrect.reproduce.slopes",
    "tinyrect.experiments.accuracy": "tinyrect.reproduce.accuracy",
    "tinyrect.experiments.models": "tinyrect.reproduce.models",
    "tinyrect.experiments.presets": "tinyrect.reproduce.presets",
    "tinyrect.experiments.report": "tinyrect.reproduce.report",
    "tinyrect.experiments.table_runs": "tinyrect.reproduce.table_runs",
    "tinyrect.experiments.fit": "tinyrect.train",
    "tinyrect.experiments.parallel": "tinyrect.reproduce.pool",
    "tinyrect.experiments.reproduce": "tinyrect.reproduce.run",
    "tinyrect.experiments.bench_train": "tinyrect.commands.bench_train",
    "tinyrect.cli": "tinyrect.commands.cli",
    "tinyrect.bench": "tinyrect.commands.bench",
    "tinyrect.demo": "tinyrect.commands.demo",
    "tinyrect.lessons_cli": "tinyrect.commands.lessons",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name in MOVED and loads it as the module at its new place."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = MOVED[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; import it from there", DeprecationWarning, stacklevel=2)
        if any(old.startswith(spec.name + ".") for old in MOVED):
            return _old_package(spec.name)
        return importlib.import_module(new)

    def exec_module(self, module):
        pass  # the new module is already executed


def _old_package(name: str) -> types.ModuleType:
    """A stand-in for an old package: its submodules resolve through MOVED, its other names through
    the new package (the new package itself is not reused, so that importing an old submodule never
    overwrites a same-named attribute of the new package)."""
    package = types.ModuleType(name, f"moved to {MOVED[name]}")
    package.__path__ = []

    def __getattr__(attr):
        if f"{name}.{attr}" in MOVED:
            return importlib.import_module(f"{name}.{attr}")
        return getattr(importlib.import_module(MOVED[name]), attr)

    package.__getattr__ = __getattr__
    return package


def install() -> None:
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
