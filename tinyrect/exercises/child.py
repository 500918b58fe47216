"""The child side of `tinyrect check`'s sandbox: runs ONE student file and answers calls.

Started by sandbox.py as `python -I -u child.py REQUEST_FD REPLY_FD` (a fresh interpreter: no user
site, no PYTHONPATH, cwd a temporary folder), or forked from `python -I -u child.py --zygote FD`, a
pristine copy of it (`zygote` below, spawning.py). It imports only the standard library and NumPy, so
it is also imported as a module by the grader, which uses the same wire format and the same way of
calling a function. The child never judges: it receives inputs, calls the student's functions and
sends back what they returned, as plain values and arrays.

Wire format: a frame is MAGIC, the header's length (u32), the blob's length (u64), then a JSON
header and a blob that is an `.npz` archive (read with allow_pickle=False: no pickle either way).
Values are encoded by `encode` as JSON nodes: None, bools, ints, floats, strings, tuples, lists and
dicts with string keys as themselves, arrays and NumPy scalars in the blob (named by their node),
anything else as an `Opaque` stand-in (its type name and repr).

Conversation (parent -> child, then child's reply):
  {"op": "setup", "path", "sys_path", "block", "memory", "cpu", "drivers"}
      -> {"op": "ready"} (limits set, NumPy imported), then the student's file is imported:
      -> {"op": "loaded", "ok": true, "numpy_changed": [...], "refused": [...]}
         or {"ok": false, "problem": "syntax error on line 3: ..." | "raised ValueError: ..."}
  {"op": "call", "func", "args": [node], "kwargs": {name: node}, "driver": a drivers.py function or null}
      -> {"status": "ok", "value": node, "after": [node], "numpy_changed": [...]}
         | {"status": "not implemented" | "missing" | "not callable" | "raised", "exception": {...}}
  {"op": "bye"} -> the child exits.
A child that exits, crashes or stops answering is the parent's to report; see sandbox.py.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import struct
import sys
import traceback

import numpy as np

MAGIC = b"TRX1"
FRAME = struct.Struct("<4sIQ")
MAX_ITEMS = 10_000   # a list longer than this travels as an opaque value (it is not an answer anyway)


# ----------------------------------------------------------------------------- frames
def pack_frame(header: dict, arrays: dict | None = None) -> bytes:
    blob = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        blob = buffer.getvalue()
    head = json.dumps(header).encode("utf-8")
    return FRAME.pack(MAGIC, len(head), len(blob)) + head + blob


def unpack_payload(head: bytes, blob: bytes):
    header = json.loads(head.decode("utf-8"))
    arrays = {}
    if blob:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    return header, arrays


class FrameBuffer:
    """Collects bytes as they arrive; `pop()` returns the next whole frame (header, arrays) or None."""

    def __init__(self):
        self.data = bytearray()

    def feed(self, chunk: bytes):
        self.data += chunk

    def pop(self):
        if len(self.data) < FRAME.size:
            return None
        magic, n_head, n_blob = FRAME.unpack_from(self.data)
        if magic != MAGIC:
            raise ValueError("the channel carried something that is not a grader frame")
        end = FRAME.size + n_head + n_blob
        if len(self.data) < end:
            return None
        frame = unpack_payload(bytes(self.data[FRAME.size:FRAME.size + n_head]),
                               bytes(self.data[FRAME.size + n_head:end]))
        del self.data[:end]
        return frame


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int):
    """Blocking read of one frame (the child's side); None at end of file."""
    buffer = FrameBuffer()
    while True:
        frame = buffer.pop()
        if frame is not None:
            return frame
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        buffer.feed(chunk)


# ----------------------------------------------------------------------------- values
class Opaque:
    """A value the wire does not carry (an object, a set, a function): its type name and a short repr."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return self.text


def type_name(value) -> str:
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def _short_repr(value) -> str:
    try:
        text = repr(value)
    except BaseException:   # a student's __repr__ may raise anything
        text = f"<{type(value).__name__}>"
    return text if len(text) < 60 else text[:57] + "..."


def encode(value, arrays: dict, depth: int = 0) -> dict:
    """A JSON node for `value`; arrays and NumPy scalars are added to `arrays` under the node's key."""
    if isinstance(value, (np.ndarray, np.generic)) and not value.dtype.hasobject:
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"t": "array" if isinstance(value, np.ndarray) else "scalar", "k": key}
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1 << 62:
            return {"t": "other", "type": "int", "repr": _short_repr(value)}
        return {"t": "py", "v": value}
    if isinstance(value, (tuple, list)) and depth < 4 and len(value) <= MAX_ITEMS:
        return {"t": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(v, arrays, depth + 1) for v in value]}
    if isinstance(value, dict) and depth < 4 and len(value) <= MAX_ITEMS and all(type(k) is str for k in value):
        return {"t": "dict", "items": [[k, encode(v, arrays, depth + 1)] for k, v in value.items()]}
    return {"t": "other", "type": type(value).__name__, "repr": _short_repr(value)}


def decode(node: dict, arrays: dict):
    kind = node["t"]
    if kind == "array":
        return arrays[node["k"]]
    if kind == "scalar":
        return arrays[node["k"]][()]
    if kind == "py":
        return node["v"]
    if kind in ("tuple", "list"):
        items = [decode(n, arrays) for n in node["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {str(k): decode(n, arrays) for k, n in node["items"]}
    return Opaque(str(node.get("type", "object")), str(node.get("repr", "")))


# ----------------------------------------------------------------------------- calling
def describe_exception(exc: BaseException, student_file: str | None) -> str:
    """'ValueError: operands could not be broadcast ... (line 12: `return x * a`)'."""
    try:
        text = f"{type(exc).__name__}: {exc}".strip()
    except BaseException:
        text = type(exc).__name__
    text = text if len(text) <= 400 else text[:397] + "..."
    if student_file:
        frames = [f for f in traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), lookup_lines=False)
                  if f.filename == student_file]   # lines looked up only in the student's file
        if frames:
            text += f" (line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`)"
    return text


def exception_info(exc: BaseException, student_file: str | None) -> dict:
    cls = type(exc)
    try:
        message = str(exc)[:400]
    except BaseException:
        message = ""
    base = next(c for c in cls.__mro__ if getattr(builtins, c.__name__, None) is c)   # e.g. MemoryError
    return {"type": cls.__name__, "builtin": base.__name__, "message": message,
            "text": describe_exception(exc, student_file)}


def call(fn, args, kwargs, student_file=None, catch=BaseException):
    """Call fn; returns (a reply header without the value, the value or the exception raised)."""
    try:
        value = fn(*args, **kwargs)
    except NotImplementedError:
        return {"status": "not implemented"}, None
    except catch as exc:
        return {"status": "raised", "exception": exception_info(exc, student_file)}, exc
    return {"status": "ok"}, value


# ----------------------------------------------------------------------------- the child process
class Blocker:
    """Makes modules unimportable by any route: a meta-path finder refuses their names, and an audit
    hook (which Python code cannot remove) refuses to open any file inside their folders, so that
    importlib, pkgutil, spec_from_file_location or open() + exec cannot reach them either. A dotted
    name (tinyrect.exercises.solutions) also blocks every folder .../tinyrect/exercises/solutions/,
    so another copy of the package on the disk is out of reach too."""

    def __init__(self, rules):
        self.rules = [(name, os.path.realpath(folder), message) for name, folder, message in rules]
        self.trails = [(os.sep + name.replace(".", os.sep) + os.sep, message)
                       for name, _, message in rules if "." in name]
        self.busy = False
        self.refused = set()   # the messages of the refusals so far (reported to the grader)

    def find_spec(self, name, path=None, target=None):
        for prefix, _, message in self.rules:
            if name == prefix or name.startswith(prefix + "."):
                self.refused.add(message)
                raise ImportError(message, name=name)
        return None

    def audit(self, event, args):
        if event != "open" or self.busy or not args or isinstance(args[0], int) or args[0] is None:
            return
        self.busy = True
        try:
            where = os.path.realpath(os.fsdecode(args[0]))
        finally:
            self.busy = False
        for _, folder, message in self.rules:
            if where == folder or where.startswith(folder + os.sep):
                self.refused.add(message)
                raise ImportError(message)
        for trail, message in self.trails:
            if trail in where + os.sep:
                self.refused.add(message)
                raise ImportError(message)


def _limit(memory: int | None, cpu: int | None) -> None:
    try:
        import resource
    except ImportError:   # not a Unix: no limits but the grader's wall clock
        return

    pairs = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, 64 << 20)]
    if memory:
        pairs.append((resource.RLIMIT_AS, memory))
    if cpu:
        pairs.append((resource.RLIMIT_CPU, cpu))
    for which, value in pairs:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass   # a hard limit below ours already: keep it


def _load(path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_tinyrect_student", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_tinyrect_student"] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        where = f" on line {exc.lineno}" if exc.filename == path else ""
        return None, {"ok": False, "problem": f"has a syntax error{where}: {exc.msg}"}
    except BaseException as exc:
        return None, {"ok": False, "problem": f"raised {describe_exception(exc, path)}"}
    return module, {"ok": True}


def _load_drivers(path):
    """drivers.py (grader code some exercises run around the student's function), by its path."""
    if not path:
        return None
    import importlib.util
    spec = importlib.util.spec_from_file_location("_tinyrect_drivers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv) -> int:
    request_fd, reply_fd = int(argv[1]), int(argv[2])
    stdout, stderr = sys.stdout, sys.stderr   # the student may replace sys.stdout: flush the real one
    frame = read_frame(request_fd)
    if frame is None:
        return 3
    setup, _ = frame
    _limit(setup.get("memory"), setup.get("cpu"))
    sys.dont_write_bytecode = True
    sys.path[:0] = [os.path.dirname(setup["path"])] + list(setup.get("sys_path", []))
    drivers = _load_drivers(setup.get("drivers"))   # grader code: before any import is blocked
    blocker = Blocker(setup.get("block") or [])
    if blocker.rules:
        sys.meta_path.insert(0, blocker)
        sys.addaudithook(blocker.audit)
    numpy_before = dict(vars(np))

    def numpy_changed():
        return sorted(k for k, v in numpy_before.items() if vars(np).get(k) is not v)

    def reply(header, arrays=None):
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        header["numpy_changed"] = numpy_changed()
        header["refused"] = sorted(blocker.refused)
        write_all(reply_fd, pack_frame(header, arrays))

    reply({"op": "ready"})
    module, loaded = _load(setup["path"])
    reply(dict(loaded, op="loaded"))
    if module is None:
        return 0
    while True:
        frame = read_frame(request_fd)
        if frame is None or frame[0].get("op") != "call":
            return 0
        request, arrays = frame
        fn = getattr(module, request["func"], None)
        if fn is None:
            reply({"status": "missing"})
            continue
        driver = getattr(drivers, request.get("driver") or "", None)
        if not callable(fn) and driver is None:
            reply({"status": "not callable", "type": type(fn).__name__})
            continue
        args = [decode(n, arrays) for n in request["args"]]
        kwargs = {k: decode(n, arrays) for k, n in request["kwargs"].items()}
        target = fn if driver is None else (lambda *a, **k: driver(fn, *a, **k))
        header, value = call(target, args, kwargs, setup["path"])
        out = {}
        if header["status"] == "ok":
            try:
                header["value"] = encode(value, out)
                header["after"] = [encode(a, out) for a in args] + [encode(kwargs[k], out) for k in request["kwargs"]]
                reply(header, out)
                continue
            except Exception as exc:   # e.g. too large to send: the grader is told what it was
                out, header["after"] = {}, []
                header["value"] = {"t": "other", "type": type(value).__name__,
                                   "repr": f"<a value that could not be sent: {type(exc).__name__}>"}
        reply(header, out)


def zygote(control_fd: int) -> int:
    """Fork a fresh child per request, from this pristine process (Python and NumPy imported, no
    student code ever run): each request on the control socket (SOCK_SEQPACKET) carries a JSON
    {"workdir", "env"} and three file descriptors (requests, replies, output); the answer is {"pid"}, and
    {"exit": pid, "code": returncode} when a child ends. Ends when the grader closes the socket."""
    import select
    import socket

    control = socket.socket(fileno=control_fd)
    while True:
        ready, _, _ = select.select([control], [], [], 0.05)
        while True:   # reap the children that ended
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            control.send(json.dumps({"exit": pid, "code": os.waitstatus_to_exitcode(status)}).encode())
        if not ready:
            continue
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 3)
        if not message or len(fds) != 3:
            return 0
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                control.close()
                os.setsid()
                order = json.loads(message)
                os.dup2(fds[2], 1)
                os.dup2(fds[2], 2)
                os.close(fds[2])
                os.chdir(order["workdir"])
                os.environ.clear()
                os.environ.update(order["env"])
                code = main(["child", fds[0], fds[1]])
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        control.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    sys.exit(zygote(int(sys.argv[2])) if sys.argv[1] == "--zygote" else main(sys.argv))
