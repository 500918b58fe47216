"""tinyrect.save under a hard kill, permissions and unwritable places.

The kill test runs `tinyrect.save` in a child process that stops at its first write to a real
file (a profile hook on every `write` call) and tells the parent, which then SIGKILLs it: the
worst moment for a save that overwrites the target in place (the file is already truncated).
"""
import os
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinyrect as tr

CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import tinyrect as tr

    def pause_at_first_file_write(frame, event, arg):
        if event != "c_call" or getattr(arg, "__name__", "") != "write":
            return
        owner = getattr(arg, "__self__", None)
        try:
            real_file = owner is os or owner.fileno() > 2
        except Exception:              # BytesIO and friends: memory, not a file
            return
        if real_file:
            sys.setprofile(None)
            print("writing", flush=True)
            time.sleep(60)

    state = {"w": np.arange(2_000_000, dtype=np.float64), "epoch": 2}
    sys.setprofile(pause_at_first_file_write)
    tr.save(state, sys.argv[1])
    sys.setprofile(None)
    print("finished", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_save_killed_mid_write_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "ck.npz"
    tr.save({"w": np.ones(5), "epoch": 1}, path)
    before = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                             text=True, env=env)
    try:
        line = child.stdout.readline().strip()   # blocks until the child reaches its first write
        assert line == "writing", f"the child never wrote a file (said {line!r})"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert path.read_bytes() == before
    old = tr.load(path)
    np.testing.assert_array_equal(old["w"], np.ones(5))
    assert int(old["epoch"]) == 1
    # What the killed save leaves is hidden and clearly temporary, never a look-alike checkpoint.
    for name in os.listdir(tmp_path):
        assert name == "ck.npz" or re.fullmatch(r"\.ck\.npz\..+\.tmp", name), name


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_honour_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        path = tr.save({"a": np.zeros(2)}, tmp_path / "ck.npz")
        tr.save({"a": np.ones(2)}, path)                      # an overwrite too
    finally:
        os.umask(previous)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_unwritable_places_name_the_path_not_a_temporary_file(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"cannot write .*a_file.*is a file, not a folder"):
        tr.save({"a": np.zeros(2)}, blocker / "sub" / "ck.npz")
    if os.path.isdir("/proc") and os.name == "posix":
        with pytest.raises(OSError, match=r"cannot write /proc/x\.npz.*choose a path") as err:
            tr.save({"a": np.zeros(2)}, "/proc/x.npz")
        assert ".tmp" not in str(err.value)


def test_atomic_write_keeps_the_old_content_when_the_writer_fails(tmp_path):
    from tinyrect.serialization import atomic_write

    path = tmp_path / "notes.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("half of the new")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["notes.txt"]
    with atomic_write(path, "w", encoding="utf-8", newline="") as f:
        f.write("new é\r\n")
    assert path.read_bytes() == "new é\r\n".encode("utf-8")
