"""Starting a student's process: a fresh `python -I -u child.py` (no user site, no PYTHONPATH), in
its own session (process group, so that it and anything it starts can be killed at once), in a
temporary folder, with a trimmed environment.

Starting Python and importing NumPy takes most of a class run's time, so the processes are forked
from a zygote: a pristine `python -I child.py --zygote`, started once per run, that has imported
NumPy and the standard library and never runs any student code. A fork of it is the process a new
`python -I child.py` would be. Where fork or file-descriptor passing is missing, or the zygote does
not answer (a student's code may kill it), a new interpreter is started instead.
"""
from __future__ import annotations

import atexit
import json
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tinyrect.exercises import child as wire

CHILD = Path(wire.__file__).resolve()
STARTUP = 120.0          # seconds for the child's own start (Python + NumPy), not the student's code
USE_ZYGOTE = hasattr(os, "fork") and hasattr(socket, "send_fds")
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "MPLBACKEND")


def child_env(workdir: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k in KEEP_ENV or k.startswith("NUMBA_")}
    # one thread everywhere: a class runs many children, and a child's threads would only
    # compete with the other children's for the cores
    env.update(HOME=workdir, TMPDIR=workdir, PYTHONIOENCODING="utf-8", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", TINYRECT_NUM_THREADS="1")
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


def spawn(workdir: str, request_r: int, reply_w: int, out_w: int):
    """A started child reading requests from request_r, replying on reply_w, printing to out_w:
    a Popen, or a Popen-like `Forked` handle."""
    zygote = fork_server()
    if zygote is not None:
        try:
            return Forked(zygote, zygote.fork(workdir, (request_r, reply_w, out_w)))
        except OSError:
            pass
    return subprocess.Popen([sys.executable, "-I", "-u", str(CHILD), str(request_r), str(reply_w)],
                            stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, cwd=workdir,
                            env=child_env(workdir), pass_fds=(request_r, reply_w), start_new_session=True)


class Zygote:
    """A pristine child (`python -I child.py --zygote`: Python and NumPy imported, no student code
    ever run) that forks a fresh process per student file. A fork of it is the process a new
    `python -I child.py` would be, without paying Python's and NumPy's start for every student."""

    def __init__(self):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.workdir = tempfile.mkdtemp(prefix="tinyrect-check-")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-u", str(CHILD), "--zygote", str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.workdir,
                env=child_env(self.workdir), pass_fds=(theirs.fileno(),), start_new_session=True)
        finally:
            theirs.close()
        self.codes = {}   # pid -> return code of the forked children that ended

    def fork(self, workdir: str, fds) -> int:
        """A new child running child.main on (request, reply) fds, its output into the third fd."""
        order = {"workdir": workdir, "env": child_env(workdir)}   # the environment as it is now
        socket.send_fds(self.sock, [json.dumps(order).encode()], list(fds))
        deadline = time.monotonic() + STARTUP
        while True:
            message = self._receive(deadline - time.monotonic())
            if "pid" in message:
                return int(message["pid"])

    def returncode(self, pid: int):
        while select.select([self.sock], [], [], 0)[0]:
            self._receive(0)
        return self.codes.get(pid)

    def _receive(self, timeout: float) -> dict:
        if not select.select([self.sock], [], [], max(0.0, timeout))[0]:
            raise OSError("the zygote does not answer")
        data = self.sock.recv(1 << 16)
        if not data:
            raise OSError("the zygote has ended")
        message = json.loads(data)
        if "exit" in message:
            self.codes[int(message["exit"])] = int(message["code"])
        return message

    def close(self) -> None:
        self.sock.close()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Forked:
    """The Popen-like handle of a child forked by the zygote (which reaps it and reports its code)."""

    def __init__(self, zygote: Zygote, pid: int):
        self.zygote, self.pid, self.returncode = zygote, pid, None

    def poll(self):
        if self.returncode is None:
            try:
                self.returncode = self.zygote.returncode(self.pid)
            except (OSError, ValueError):   # the zygote is gone (killed by a student?): guess from the pid
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout=None):
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"student process {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode


_zygote = None


def fork_server():
    """The run's zygote, started on first use (None where fork or fd passing is missing, or it fails)."""
    global _zygote
    if not USE_ZYGOTE:
        return None
    if _zygote is not None and _zygote.proc.poll() is None:
        return _zygote
    try:
        _zygote = Zygote()
    except OSError:
        _zygote = None
    else:
        atexit.register(_zygote.close)
    return _zygote
