"""Checkpoints: `save(state_dict, path)` and `load(path)` as NumPy .npz files.

Plain arrays only (`allow_pickle=False`): loading a checkpoint can never run code, and any NumPy
can read it (`np.load(path)`). Nested dicts (e.g. {'model': model.state_dict(), 'epoch': 3}) are
flattened with '/' in the keys and rebuilt by `load`; so are the parts of an optimizer's
`state_dict()` that are not plain arrays: integer keys (saved as '#i<k>'), lists of dicts
('#l<i>') and empty dicts ('#empty'). Lists of numbers or strings are saved as one array.
Writes are atomic (`atomic_write`, also usable for any other file): the bytes go to a hidden
temporary file in the same folder, are flushed to disk, and only then renamed over `path`
(os.replace), so a run killed mid-save leaves the previous checkpoint intact. The new file gets
the permissions a plain open() would give it (0o666 minus the umask).
"""
from __future__ import annotations

import contextlib
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


def _umask() -> int:
    try:                     # Linux says it without changing it (no window for other threads)
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)   # elsewhere the portable way: set it and set it back
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); best effort: not every system can open a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_folder(folder) -> None:
    """Create `folder` and its missing parents; an existing file on the way is named as such
    (NotADirectoryError "X is a file, not a folder") rather than as a missing path."""
    parent = os.path.abspath(folder)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise NotADirectoryError(20, f"{parent} is a file, not a folder")
    os.makedirs(folder, exist_ok=True)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", **open_kwargs):
    """`with atomic_write(path) as f: f.write(...)`: `path` gets all of it or keeps what it had.

    The data go to a hidden '.<name>.<random>.tmp' in the same folder (created if missing); on
    success it is flushed, fsync'ed, given mode 0o666 & ~umask and renamed over `path`; on any
    error (or Ctrl-C) it is removed. A folder that cannot be written raises an OSError that
    names `path`, not the temporary file. `open_kwargs` (e.g. encoding="utf-8", newline="" for
    csv) go to the text-mode open.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        _make_folder(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as err:
        where = "" if isinstance(err, NotADirectoryError) else f" (creating a file in {folder})"
        raise type(err)(err.errno, f"cannot write {path}: {err.strerror or err}{where}; choose a "
                                   "path in a folder you can write to") from None
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        _fsync_folder(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


class UnwritableFolder(ValueError):
    """A folder the user named cannot be created or written; the message names it and the fix."""


def writable_folder(path, flag: str = "--out"):
    """Create `path` (and its parents) if missing and make sure files can be written in it; return
    it as a Path. Otherwise raise UnwritableFolder naming `path`, the reason and the `flag` to
    change, before any work starts (so no long run fails at its end, and no error names a
    temporary file the user never chose)."""
    from pathlib import Path

    folder = Path(path)
    try:
        _make_folder(folder)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".tinyrect-probe.")
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise UnwritableFolder(f"cannot write in {path} ({err.strerror or err}); give {flag} a "
                               "folder you can write to") from None
    return folder


def save(state_dict: dict, path) -> str:
    """Write a dict of arrays (Tensors, numbers, strings; nested dicts allowed) to `path` (.npz)
    atomically. Returns the path written."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict such as model.state_dict(), got "
                        f"{type(state_dict).__name__}")
    arrays = _flatten(state_dict, "", {})
    path = os.fspath(path)
    with atomic_write(path) as f:
        np.savez(f, **arrays)
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
