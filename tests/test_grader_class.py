"""`tinyrect check` on a class folder: one line per student, a CSV written atomically with the
umask's permissions, Ctrl-C writing what was graded, and Gradescope's results.json for one student."""
import csv
import json
import os
import shutil
import stat

from grader_helpers import check, write

from tinyrect.exercises import grader
from tinyrect.exercises.reports import ExerciseResult, write_csv


def make_class(root):
    shutil.copytree(grader.SOLUTIONS, root / "alice", ignore=shutil.ignore_patterns("__*"))
    shutil.copytree(grader.SOLUTIONS, root / "bob" / "exercises", ignore=shutil.ignore_patterns("__*"))
    prelu = root / "bob" / "exercises" / "prelu.py"
    prelu.write_text(prelu.read_text().replace("contribution.sum().reshape(a.shape)",
                                               "contribution[0].sum().reshape(a.shape)").replace(
        "da = contribution.sum(axis=", "da = contribution[:1].sum(axis="))
    write(root, "carol.py", (grader.SOLUTIONS / "relu.py").read_text() + (grader.SOLUTIONS / "prelu.py").read_text())
    (root / "dave").mkdir()


def test_class_folder_one_line_per_student_and_csv(tmp_path, capsys):
    make_class(tmp_path / "class")
    target = tmp_path / "out" / "grades.csv"
    assert check(["relu", "prelu", "--path", str(tmp_path / "class"), "--csv", str(target)]) == 1
    lines = capsys.readouterr().out.splitlines()
    by_student = {line.split()[0]: line for line in lines[:-1]}
    assert set(by_student) == {"alice", "bob", "carol", "dave"}
    assert "2/2" in by_student["alice"] and "2/2" in by_student["carol"]
    assert "1/2" in by_student["bob"] and "da is not summed over the batch" in by_student["bob"]
    assert "0/2" in by_student["dave"] and "missing" in by_student["dave"]
    assert "2/4 students pass every exercise" in lines[-1]
    rows = list(csv.DictReader(target.open()))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    assert rows[1]["prelu"] == "fail" and rows[1]["relu"] == "pass" and rows[1]["passed"] == "1"
    assert "not summed over the batch" in rows[1]["prelu_note"]
    assert float(rows[1]["prelu_rel_error"]) > 1e-3 and rows[0]["prelu_rel_error"] == "0.000e+00"
    assert rows[3]["relu"] == "missing"
    assert [p.name for p in target.parent.iterdir()] == ["grades.csv"]   # no temporary file left


def test_class_folder_default_csv_and_all_pass(tmp_path, monkeypatch, capsys):
    root = tmp_path / "class"
    shutil.copytree(grader.SOLUTIONS, root / "alice", ignore=shutil.ignore_patterns("__*"))
    write(root, "zoe.py", (grader.SOLUTIONS / "variance.py").read_text())
    monkeypatch.chdir(tmp_path)
    assert check(["variance", "--path", "class"]) == 0
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [(r["student"], r["variance"]) for r in rows] == [("alice", "pass"), ("zoe", "pass")]


def test_csv_honours_the_umask(tmp_path):
    for umask, mode in ((0o022, 0o644), (0o027, 0o640)):
        old = os.umask(umask)
        try:
            target = tmp_path / f"grades_{umask:o}.csv"
            write_csv(target, [("ann", [ExerciseResult("relu", None)])], ["relu"])
        finally:
            os.umask(old)
        assert stat.S_IMODE(target.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades_22.csv", "grades_27.csv"]


def test_ctrl_c_writes_the_students_graded_so_far(tmp_path, monkeypatch, capsys):
    make_class(tmp_path / "class")
    real = grader.grade_student
    calls = []

    def interrupted_at_the_second(entry, names, settings=None):
        calls.append(entry)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(entry, names, settings)

    monkeypatch.setattr(grader, "grade_student", interrupted_at_the_second)
    target = tmp_path / "grades.csv"
    assert check(["relu", "--path", str(tmp_path / "class"), "--csv", str(target)]) == 130
    assert "1 of 4 students graded" in capsys.readouterr().err
    rows = list(csv.DictReader(target.open()))
    assert [(r["student"], r["relu"]) for r in rows] == [("alice", "pass"), ("bob", "not graded"),
                                                          ("carol", "not graded"), ("dave", "not graded")]


GRADESCOPE_TEST = {"name": str, "score": (int, float), "max_score": (int, float), "output": str, "status": str}


def test_json_is_gradescope_results(tmp_path, capsys):
    solution = (grader.SOLUTIONS / "prelu.py").read_text()
    path = write(tmp_path, "prelu.py", solution.replace("np.where(x > 0, dout,", "np.where(x >= 0, dout,")
                 .replace("    return dx, da", "    print('shapes', dx.shape)\n    return dx, da"))
    target = tmp_path / "out" / "results.json"
    assert check(["prelu", "relu", "--path", str(path), "--json", str(target)]) == 1
    results = json.loads(target.read_text())
    assert isinstance(results["score"], (int, float)) and isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) == set(GRADESCOPE_TEST), test
        assert all(isinstance(test[k], t) for k, t in GRADESCOPE_TEST.items()), test
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
    by_name = {t["name"]: t for t in results["tests"]}
    assert list(by_name) == ["prelu: prelu_forward", "prelu: prelu_backward", "relu: relu_forward",
                             "relu: relu_backward"]
    forward, backward = by_name["prelu: prelu_forward"], by_name["prelu: prelu_backward"]
    assert forward["score"] == forward["max_score"] > 0 and backward["score"] == 0 < backward["max_score"]
    assert "at y == 0 exactly" in by_name["prelu: prelu_backward"]["output"]
    assert "shapes (4, 3)" in by_name["prelu: prelu_backward"]["output"]
    assert "missing" in by_name["relu: relu_forward"]["output"]
    points = [p.points for n in ("prelu", "relu") for p in grader.exercise(n).parts()]
    assert results["score"] == forward["max_score"] == points[0] and results["max_score"] == sum(points)
    assert check(["prelu", "--path", str(tmp_path), "--json", str(target)]) == 1   # a student folder: fine
    make_class(tmp_path / "class")
    assert check(["prelu", "--path", str(tmp_path / "class"), "--json", str(target)]) == 2


def test_an_unwritable_csv_or_json_is_refused_before_grading(tmp_path, capsys):
    make_class(tmp_path / "class")
    for flag, target in (("--csv", "/proc/x/grades.csv"), ("--json", "/dev/null/results.json"), ("--csv", str(tmp_path))):
        assert check(["relu", "--path", str(tmp_path / "class"), flag, target]) == 2
        err = capsys.readouterr().err
        assert f"cannot write {target}" in err and flag in err and "Traceback" not in err
