"""Checkpoints: `save(state_dict, path)` and `load(path)` as NumPy .npz files.

Plain arrays only (`allow_pickle=False`): loading a checkpoint can never run code, and any NumPy
can read it (`np.load(path)`). Nested dicts (e.g. {'model': model.state_dict(), 'epoch': 3}) are
flattened with '/' in the keys and rebuilt by `load`; so are the parts of an optimizer's
`state_dict()` that are not plain arrays: integer keys (saved as '#i<k>'), lists of dicts
('#l<i>') and empty dicts ('#empty'). Lists of numbers or strings are saved as one array.
Writes are atomic: the file goes to a temporary name in the same folder and is renamed over `path` only when complete (os.replace),
so a run killed mid-save leaves the previous checkpoint intact.
"""
from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

from tinyrect.tensor import Tensor

SEP = "/"


MARK = "#"      # key segments starting with it encode int keys, list items, empty dicts


def _segment(key) -> str:
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return f"{MARK}i{int(key)}"                       # optimizer state: {param index: ...}
    if not isinstance(key, str) or SEP in key or not key or key.startswith(MARK):
        raise ValueError(f"save: keys must be ints or non-empty strings without '{SEP}' that do "
                         f"not start with '{MARK}', got {key!r}")
    return key


def _is_list_of_containers(value) -> bool:
    return isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list, tuple)) for v in value)


def _flatten(tree, prefix: str, out: dict) -> dict:
    items = (((f"{MARK}l{i}", v) for i, v in enumerate(tree)) if isinstance(tree, (list, tuple))
             else ((_segment(k), v) for k, v in tree.items()))
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not value:
            out[name + SEP + MARK + "empty"] = np.zeros(0)
            continue
        if isinstance(value, dict) or _is_list_of_containers(value):
            _flatten(value, name + SEP, out)
            continue
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind == "O":
            raise TypeError(f"save: '{name}' is a {type(value).__name__}, which is not an array, "
                            "number, string or dict of those; checkpoints hold arrays only")
        out[name] = array
    return out


def save(state_dict: dict, path) -> str:
    """Write a dict of arrays (Tensors, numbers, strings; nested dicts allowed) to `path` (.npz)
    atomically. Returns the path written."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict such as model.state_dict(), got "
                        f"{type(state_dict).__name__}")
    arrays = _flatten(state_dict, "", {})
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load(path) -> dict:
    """Read a checkpoint written by `save`: a dict of ndarrays (nested dicts rebuilt); 0-d arrays
    for saved numbers (use int(...)/float(...)). `model.load_state_dict(load(path))` restores."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        hint = f"; did you mean {path}.npz?" if os.path.isfile(path + ".npz") else ""
        raise FileNotFoundError(f"no checkpoint file at {os.path.abspath(path)}{hint}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a tinyrect checkpoint: a .npz file is a zip archive, and "
                         "this file is not one (truncated, or a different format?)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            flat = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise ValueError(
            f"{path} is not a readable tinyrect checkpoint (a .npz of plain arrays): "
            f"{str(err).rstrip('.')}. It may be truncated or not written by tinyrect.save"
        ) from err
    tree: dict = {}
    for name, array in flat.items():
        node = tree
        *parents, leaf = name.split(SEP)
        for part in parents:
            node = node.setdefault(part, {})
        if leaf != MARK + "empty":
            node[leaf] = array
    return _unmark(tree)


def _unmark(node):
    """Undo the '#' key encodings of _flatten: '#i3' -> key 3, a dict of '#l<i>' -> a list."""
    if not isinstance(node, dict):
        return node
    node = {k: _unmark(v) for k, v in node.items()}
    if node and all(k.startswith(MARK + "l") for k in node):
        return [node[k] for k in sorted(node, key=lambda k: int(k[2:]))]
    return {(int(k[2:]) if k.startswith(MARK + "i") else k): v for k, v in node.items()}
