"""Hostile student files (tests/hostile/): each one misbehaves; the grader judges it not-pass with a
clear reason and a non-zero exit code by itself (no outside timeout), its own process unharmed, and
a class run mixing them with honest answers finishes with a complete CSV."""
import csv
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from grader_helpers import check, write

import tinyrect.exercises.checking as checking
import tinyrect.exercises.diagnosis as diagnosis
import tinyrect.exercises.judging as judging
from tinyrect.exercises import child, grader, spawning

HOSTILE = Path(__file__).resolve().parent / "hostile"
LIMITS = ["--timeout", "2", "--memory", "1G"]
# file -> what the student must be told (a fragment of the report)
REASONS = {
    "exit_in_function": "ended the process (exit code 0, as os._exit(0) does) in prelu_forward",
    "exit_at_import": "ended the process (exit code 0, as os._exit(0) does) while importing your file",
    "sys_exit": "raised SystemExit: 0 (line 6: `sys.exit(0)`)",
    "system_exit_at_import": "importing system_exit_at_import.py raised SystemExit: 0",
    "keyboard_interrupt": "raised KeyboardInterrupt",
    "swallow_loop": "timed out after 2 s in prelu_forward",
    "segfault": "segmentation fault (SIGSEGV) in prelu_forward",
    "patch_numpy": "replaces NumPy's own np.abs",
    "patch_tinyrect": "out: rel error",
    "reference_pkgutil": "importing the reference solution (tinyrect.exercises.solutions) is not allowed",
    "reference_file": "raised ImportError: importing the reference solution",
    "reference_symlink": "raised ImportError: importing the reference solution",
    "flood": "flooded its output (more than 1,048,576 bytes printed) in prelu_forward",
    "memory": "raised MemoryError",
    "channel": "garbled the grader's channel in prelu_forward",
    "signal_self": "ended the process with SIGTERM in prelu_forward",
}
GRADER_FUNCTIONS = {name: value for module in (checking, diagnosis, judging, grader, child)
                    for name, value in vars(module).items() if callable(value)}


def test_the_catalogue_is_complete():
    assert {p.stem for p in HOSTILE.glob("*.py")} == set(REASONS)


@pytest.mark.parametrize("name", sorted(REASONS))
def test_hostile_file_is_judged_not_pass_with_its_reason(name, capsys):
    numpy_before, cwd = dict(vars(np)), os.getcwd()
    assert check(["prelu", "--path", str(HOSTILE / f"{name}.py"), *LIMITS]) == 1
    out = capsys.readouterr().out
    assert REASONS[name] in out, out
    assert "0/1 exercise pass" in out and "Traceback" not in out
    # the grader's own process is unharmed
    assert dict(vars(np)) == numpy_before and os.getcwd() == cwd
    for module in (checking, diagnosis, judging, grader, child):
        for fname, value in vars(module).items():
            if callable(value) and fname in GRADER_FUNCTIONS:
                assert value is GRADER_FUNCTIONS[fname], f"{module.__name__}.{fname} was replaced"


def test_the_results_say_error_or_fail_never_pass(tmp_path):
    settings = grader.Settings(timeout=2, memory=2**30)
    for name in ("exit_in_function", "swallow_loop", "segfault", "flood", "patch_tinyrect"):
        result = grader.grade("prelu", HOSTILE / f"{name}.py", settings=settings)
        assert result.status in ("error", "fail") and not result.passed and result.score == 0, name


def test_a_mixed_class_run_finishes_with_a_complete_csv(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    for path in HOSTILE.glob("*.py"):
        shutil.copy(path, folder / path.name)
    solution = (grader.SOLUTIONS / "prelu.py").read_text()
    write(folder, "alice.py", solution)
    write(folder, "bob.py", solution.replace("np.where(x > 0, dout,", "np.where(x >= 0, dout,"))
    write(folder, "carol.py", solution.replace("    return dx, da", "    print('carol checks da', da)\n    return dx, da"))
    target = tmp_path / "grades.csv"
    assert check(["prelu", "--path", str(folder), "--csv", str(target), *LIMITS]) == 1
    out = capsys.readouterr().out
    assert "2/19 students pass every exercise (prelu)" in out
    rows = {r["student"]: r for r in csv.DictReader(target.open())}
    assert list(rows) == sorted(rows) and set(rows) == set(REASONS) | {"alice", "bob", "carol"}
    assert rows["alice"]["prelu"] == rows["carol"]["prelu"] == "pass"
    assert rows["bob"]["prelu"] == "fail" and "at y == 0" in rows["bob"]["prelu_note"]
    assert "output: carol checks da" in rows["carol"]["prelu_note"]
    for name in REASONS:
        assert rows[name]["prelu"] in ("fail", "error") and rows[name]["passed"] == "0", name
        assert rows[name]["prelu_note"], name
    for name in ("exit_in_function", "segfault", "swallow_loop", "flood", "exit_at_import"):
        assert rows[name]["prelu"] == "error", name


def test_students_see_their_own_prints(tmp_path, capsys):
    solution = (grader.SOLUTIONS / "prelu.py").read_text()
    path = write(tmp_path, "prelu.py", "print('loading my answer')\n" + solution.replace(
        "    return dx, da", "    print('my da is', da.shape)\n    return dx, da"))
    assert check(["prelu", "--path", str(path)]) == 0
    out = capsys.readouterr().out
    assert "your code printed:" in out and "| loading my answer" in out and "| my da is (1,)" in out


def test_no_tinyrect_makes_all_of_tinyrect_unimportable(tmp_path, capsys):
    solution = (grader.SOLUTIONS / "relu.py").read_text()
    path = write(tmp_path, "relu.py", "import tinyrect.functional\n" + solution)
    result = grader.grade("relu", path, settings=grader.Settings(no_tinyrect=True))
    assert result.status == "error" and "importing tinyrect is not allowed" in result.message
    assert grader.grade("relu", path).passed   # without the option, the rest of tinyrect is importable


def test_limits_are_checked_as_arguments(capsys):
    for bad in (["--timeout", "0"], ["--timeout", "x"], ["--memory", "1K"], ["--memory", "lots"]):
        with pytest.raises(SystemExit) as stop:
            check(["prelu", *bad])
        assert stop.value.code == 2
    assert "is not a" in capsys.readouterr().err


# --------------------------------------------------------------------------- the wire format
def test_values_cross_the_wire_as_they_were():
    values = [np.arange(6.0).reshape(2, 3), np.float32(1.5), np.int64(7), 3, 2.5, True, None, float("nan"),
              (1, 2, np.int64(3)), [np.zeros(2), "text"], {"a": np.ones(1)}, np.array([object()], dtype=object), {1, 2}]
    arrays = {}
    nodes = [child.encode(v, arrays) for v in values]
    frame = child.FrameBuffer()
    data = child.pack_frame({"values": nodes}, arrays)
    for i in range(0, len(data), 7):   # arriving in small pieces
        assert frame.pop() is None
        frame.feed(data[i:i + 7])
    header, got = frame.pop()
    back = [child.decode(n, got) for n in header["values"]]
    assert np.array_equal(back[0], values[0]) and back[0].dtype == np.float64
    assert type(back[1]) is np.float32 and back[1] == 1.5 and type(back[2]) is np.int64
    assert back[3:7] == [3, 2.5, True, None] and np.isnan(back[7])
    assert back[8] == (1, 2, 3) and isinstance(back[8], tuple) and type(back[8][2]) is np.int64
    assert isinstance(back[9], list) and back[9][1] == "text"
    assert list(back[10]) == ["a"] and np.array_equal(back[10]["a"], np.ones(1))
    assert child.type_name(back[11]) == "ndarray" and child.type_name(back[12]) == "set"
    assert repr(back[12]) == "{1, 2}"


def test_garbage_on_the_channel_is_refused():
    frame = child.FrameBuffer()
    frame.feed(b"\x00garbage" * 10)
    with pytest.raises(ValueError, match="not a grader frame"):
        frame.pop()


def test_another_copy_of_the_reference_on_the_disk_is_refused_too(tmp_path):
    copy = tmp_path / "site" / "tinyrect" / "exercises" / "solutions"
    copy.mkdir(parents=True)
    shutil.copy(grader.SOLUTIONS / "prelu.py", copy / "prelu.py")
    path = write(tmp_path / "student", "prelu.py", f"""
        import importlib.util
        spec = importlib.util.spec_from_file_location("copied", {str(copy / "prelu.py")!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        prelu_forward, prelu_backward = module.prelu_forward, module.prelu_backward
        """)
    result = grader.grade("prelu", path)
    assert result.status == "error" and "importing the reference solution" in result.message, result.message


def test_a_flaw_in_judging_one_answer_stops_only_that_part(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise IndexError("a hint function that did not expect this answer")

    monkeypatch.setattr(grader, "judge_part", broken)
    result = grader.grade("relu", write(tmp_path, "relu.py", (grader.SOLUTIONS / "relu.py").read_text()))
    assert result.status == "error" and not result.passed
    assert all("could not judge this answer (IndexError" in p.message for p in result.parts)


def test_without_the_zygote_each_student_gets_a_new_interpreter(tmp_path, monkeypatch):
    monkeypatch.setattr(spawning, "USE_ZYGOTE", False)
    right = write(tmp_path, "prelu.py", (grader.SOLUTIONS / "prelu.py").read_text())
    assert grader.grade("prelu", right).passed
    for name in ("exit_in_function", "segfault"):
        result = grader.grade("prelu", HOSTILE / f"{name}.py")
        assert result.status == "error" and REASONS[name] in result.parts[0].message, result.parts[0].message


def test_a_killed_zygote_is_replaced(tmp_path):
    right = write(tmp_path, "prelu.py", (grader.SOLUTIONS / "prelu.py").read_text())
    assert grader.grade("prelu", right).passed
    zygote = spawning.fork_server()
    os.killpg(zygote.proc.pid, signal.SIGKILL)
    zygote.proc.wait()
    assert grader.grade("prelu", right).passed and spawning.fork_server() is not zygote


def test_the_child_sees_a_trimmed_environment_of_now(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "module://checked_now")
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    path = write(tmp_path, "relu.py", """
        import os
        import numpy as np
        print(sorted(os.environ), os.environ["MPLBACKEND"], os.getcwd() == os.environ["HOME"])
        def relu_forward(x):
            return np.maximum(x, 0)
        def relu_backward(x, dout):
            return np.where(x > 0, dout, 0.0)
        """)
    result = grader.grade("relu", path)
    assert result.passed and "module://checked_now True" in result.output, result.output
    assert "SECRET_TOKEN" not in result.output and "PYTHONPATH" not in result.output
