"""The parent side of `tinyrect check`'s sandbox: one fresh, limited Python process per student file.

`StudentProcess(path, limits)` starts a fresh child (spawning.py: `python -I -u child.py`, no user
site, no PYTHONPATH, its own session, a temporary folder, a trimmed environment); the child limits
its own address space, CPU time, file sizes and core dumps (`resource.setrlimit`) before it runs
the student's file. The grader sends inputs (`call`) and receives plain values and arrays back
(child.py's wire format: JSON and `.npz` without pickle): the child never judges anything.

The wall-clock limit is the parent's: past the deadline the child's whole process group is killed
(SIGKILL), whatever the student's code catches. Stdout and stderr go to one pipe that the parent
reads while it waits, keeping the first `output_cap` bytes of each stretch (`take_output`) and
counting the rest, so printing 10 MB neither blocks the child nor fills the grader's memory; past
`flood` bytes the child is stopped (an endless print loop). A child that exits, crashes, floods its
output, closes its channel or stops answering is reported as a `Reply` with status
"died" or "timeout" and a reason a student can act on.
"""
from __future__ import annotations

import builtins
import math
import os
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tinyrect.exercises import child as wire
from tinyrect.exercises.checking import Reply
from tinyrect.exercises.spawning import STARTUP, spawn

PACKAGE = Path(__file__).resolve().parents[1]   # the tinyrect package folder
SOLUTIONS = Path(__file__).resolve().parent / "solutions"
DRIVERS = Path(__file__).resolve().parent / "drivers.py"
TIMEOUT = 10.0           # seconds per function of an exercise (all its cases), and for the import
MEMORY = 2 << 30         # bytes of address space per student process
OUTPUT_CAP = 20_000      # bytes of a student's output kept per exercise
FLOOD = 1 << 20          # bytes of output per exercise beyond which the process is stopped
REFERENCE_BLOCKED = ("importing the reference solution (tinyrect.exercises.solutions) is not allowed in an "
                     "exercise: write your own")
TINYRECT_BLOCKED = "importing tinyrect is not allowed in this exercise: answer it with NumPy only"


@dataclass
class Limits:
    timeout: float = TIMEOUT
    memory: int = MEMORY
    output_cap: int = OUTPUT_CAP
    flood: int = FLOOD
    block_reference: bool = True    # tinyrect.exercises.solutions unimportable in the child
    block_tinyrect: bool = False    # all of tinyrect unimportable in the child

    def rules(self) -> list:
        """[module name, folder, message] of what the child must not import or open."""
        if self.block_tinyrect:
            return [["tinyrect", str(PACKAGE), TINYRECT_BLOCKED]]
        return [["tinyrect.exercises.solutions", str(SOLUTIONS), REFERENCE_BLOCKED]] if self.block_reference else []


class RemoteError(Exception):
    """Stands for an exception raised in the child whose class is not a Python builtin."""

    def __init__(self, type_name: str, message: str):
        super().__init__(message)
        self.type_name = type_name


def rebuild_exception(info: dict) -> BaseException:
    """An exception object like the child's, for exception hints: of its class when that is a Python
    builtin, else of a stand-in class deriving from its nearest builtin base (so isinstance works)."""
    cls = getattr(builtins, str(info.get("builtin", "")), None)
    if isinstance(cls, type) and issubclass(cls, BaseException) and cls.__name__ == info.get("type"):
        try:
            return cls(info.get("message", ""))
        except Exception:
            pass
    if isinstance(cls, type) and issubclass(cls, Exception):   # e.g. NumPy's _ArrayMemoryError: a MemoryError
        error = type(str(info.get("type", "Error")), (RemoteError, cls), {})
        try:
            return error(info.get("type", "Exception"), info.get("message", ""))
        except Exception:
            pass
    return RemoteError(info.get("type", "Exception"), info.get("message", ""))


class Output:
    """The first `cap` bytes of a stream, and how many more were cut."""

    def __init__(self, cap: int):
        self.cap, self.kept, self.dropped = cap, bytearray(), 0

    def add(self, data: bytes) -> None:
        room = max(0, self.cap - len(self.kept))
        self.kept += data[:room]
        self.dropped += max(0, len(data) - room)

    @property
    def total(self) -> int:
        return len(self.kept) + self.dropped

    def text(self) -> str:
        text = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output cut: {self.dropped:,} more bytes not shown]"
        return text


def death_reason(returncode: int, limits: Limits) -> str:
    """'ended the process (exit code 0, as os._exit(0) does)', 'crashed: segmentation fault', ..."""
    if returncode >= 0:
        return f"ended the process (exit code {returncode}, as os._exit({returncode}) does)"
    sig = -returncode
    if sig == signal.SIGSEGV:
        return "crashed the process: segmentation fault (SIGSEGV)"
    if sig == getattr(signal, "SIGXCPU", -1):
        return "used up the CPU-time limit of its process"
    if sig == signal.SIGKILL:
        return (f"got its process killed (SIGKILL): out of memory? (limit {limits.memory / 2**30:g} GiB, "
                f"tinyrect check --memory)")
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return f"ended the process with {name}"


class StudentProcess:
    """One student file in its own process. `start()` imports it (a Reply: "ok" or what went wrong);
    `call(func, args, kwargs, deadline)` runs one function; `close()` kills whatever is left."""

    def __init__(self, path, limits: Limits, cpu_seconds: float):
        self.path, self.limits, self.cpu = Path(path).resolve(), limits, cpu_seconds
        self.proc = None
        self.dead: Reply | None = None
        self.output = Output(limits.output_cap)
        self.workdir = None

    # ---- life cycle
    def start(self) -> Reply:
        self.workdir = tempfile.mkdtemp(prefix="tinyrect-check-")
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        self.out_r, out_w = os.pipe()
        try:
            self.proc = spawn(self.workdir, request_r, reply_w, out_w)
        finally:
            for fd in (request_r, reply_w, out_w):
                os.close(fd)
        for fd in (self.request_w, self.reply_r, self.out_r):
            os.set_blocking(fd, False)
        self.frames = wire.FrameBuffer()
        setup = {"op": "setup", "path": str(self.path), "sys_path": [str(PACKAGE.parent)],
                 "block": self.limits.rules(), "memory": int(self.limits.memory),
                 "cpu": int(math.ceil(self.cpu)) + 2, "drivers": str(DRIVERS)}
        ready = self._exchange(setup, None, time.monotonic() + STARTUP, "while starting")
        if ready.status != "ok":
            return ready
        return self._exchange(None, None, time.monotonic() + self.limits.timeout, "while importing your file")

    def close(self) -> None:
        if self.proc is not None and self.dead is None:
            try:
                wire.write_all(self.request_w, wire.pack_frame({"op": "bye"}))
            except OSError:
                pass
        self._kill()
        for fd in ("request_w", "reply_r", "out_r"):
            if hasattr(self, fd):
                try:
                    os.close(getattr(self, fd))
                except OSError:
                    pass
                delattr(self, fd)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def take_output(self) -> Output:
        """The output since the last call of take_output."""
        taken, self.output = self.output, Output(self.limits.output_cap)
        return taken

    # ---- requests
    def call(self, func: str, args, kwargs: dict, deadline: float, seconds: float | None = None,
             driver: str | None = None) -> Reply:
        """Run func(*args, **kwargs) in the child (or drivers.<driver>(func, *args, **kwargs)); past
        `deadline` (time.monotonic) the child is killed and the reply says it timed out after `seconds`
        (the limit the deadline stands for)."""
        arrays = {}
        header = {"op": "call", "func": func, "args": [wire.encode(a, arrays) for a in args],
                  "kwargs": {k: wire.encode(v, arrays) for k, v in kwargs.items()}, "driver": driver}
        return self._exchange(header, arrays, deadline, f"in {func}", seconds)

    def _exchange(self, header, arrays, deadline, where, seconds=None) -> Reply:
        """Send one request (None: just wait) and wait for its reply until the deadline."""
        if self.dead is not None:
            return self.dead
        pending = memoryview(wire.pack_frame(header, arrays)) if header is not None else memoryview(b"")
        with selectors.DefaultSelector() as sel:
            sel.register(self.out_r, selectors.EVENT_READ)
            sel.register(self.reply_r, selectors.EVENT_READ)
            if pending:
                sel.register(self.request_w, selectors.EVENT_WRITE)
            while True:
                try:
                    frame = self.frames.pop()
                except (ValueError, KeyError, OSError) as exc:
                    return self._died(f"garbled the grader's channel {where} ({exc})")
                if frame is not None:
                    self._drain()
                    return self._reply(*frame)
                left = deadline - time.monotonic()
                if left <= 0:
                    return self._timed_out(where, self.limits.timeout if seconds is None else seconds)
                events = sel.select(min(left, 0.5))
                if not events and self.proc.poll() is not None:
                    return self._died(f"{death_reason(self.proc.returncode, self.limits)} {where}")
                for key, _ in events:
                    if key.fd == self.request_w:
                        try:
                            pending = pending[os.write(self.request_w, pending):]
                        except BlockingIOError:
                            continue
                        except OSError:
                            pending = memoryview(b"")
                        if not pending:
                            sel.unregister(self.request_w)
                        continue
                    try:
                        chunk = os.read(key.fd, 1 << 16)
                    except BlockingIOError:
                        continue
                    if key.fd == self.out_r:
                        if chunk:
                            self.output.add(chunk)
                            if self.output.total > self.limits.flood:
                                return self._died(f"flooded its output (more than {self.limits.flood:,} bytes "
                                                  f"printed) {where}")
                        else:
                            sel.unregister(self.out_r)
                    elif chunk:
                        self.frames.feed(chunk)
                    else:   # the child's end of the channel is closed: it has exited (or closed it)
                        return self._died_after_eof(where)

    def _reply(self, header: dict, arrays: dict) -> Reply:
        try:
            extra = dict(numpy_changed=tuple(map(str, header.get("numpy_changed", ()))),
                         refused=tuple(map(str, header.get("refused", ()))))
            if header.get("op") == "ready":
                return Reply("ok")
            if header.get("op") == "loaded":
                return Reply("ok", **extra) if header.get("ok") else \
                    Reply("raised", problem=str(header.get("problem", "could not be imported")))
            status = header["status"]
            if status == "ok":
                return Reply("ok", value=wire.decode(header["value"], arrays),
                             after=tuple(wire.decode(n, arrays) for n in header["after"]), **extra)
            if status == "raised":
                info = header["exception"]
                return Reply("raised", exception=rebuild_exception(info), problem=str(info.get("text", "")),
                             **extra)
            if status == "not callable":
                return Reply(status, problem=str(header.get("type", "object")))
            if status in ("missing", "not implemented"):
                return Reply(status, **extra)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return self._died(f"garbled the grader's channel ({type(exc).__name__})")
        return self._died("garbled the grader's channel (an unknown reply)")

    # ---- endings
    def _drain(self, rounds: int = 64) -> None:
        """Read the output already in the pipe (all of it that came before the reply)."""
        for _ in range(rounds):
            try:
                chunk = os.read(self.out_r, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.output.add(chunk)

    def _kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def _timed_out(self, where: str, seconds: float) -> Reply:
        self._kill()
        self._drain(rounds=1024)
        self.dead = Reply("timeout", problem=f"timed out after {seconds:g} s {where}")
        return self.dead

    def _died_after_eof(self, where: str) -> Reply:
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:   # alive but closed its channel
            return self._died(f"closed the grader's channel {where}")
        return self._died(f"{death_reason(self.proc.returncode, self.limits)} {where}")

    def _died(self, reason: str) -> Reply:
        self._drain(rounds=1024)
        self._kill()
        self.dead = Reply("died", problem=reason)
        return self.dead
