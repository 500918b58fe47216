"""Lessons: every numbered lesson runs headless and passes its own checks; the lesson CLI works.

Lessons are found by glob, so lessons added later are tested without touching this file.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinyrect.commands import cli
from tinyrect.commands import lessons as lessons_cli

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LESSON_FILES = sorted(LESSONS.glob("[0-9][0-9]_*.py"))
LESSON_TIMEOUT = 300  # seconds; not a benchmark, only a guard against a lesson that hangs


def _run(args, cwd, timeout=600):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=env, timeout=timeout,
                          capture_output=True, text=True)


def test_lessons_exist():
    assert len(LESSON_FILES) >= 4, f"expected lessons 01-04 in {LESSONS}, found {LESSON_FILES}"


@pytest.mark.parametrize("path", LESSON_FILES, ids=[p.stem for p in LESSON_FILES])
def test_lesson_runs_headless_and_passes_its_checks(path, tmp_path):
    out = tmp_path / "figures"
    # run from an unrelated folder: a lesson must not depend on the current directory
    try:
        result = _run([path, "--quick", "--out", out], cwd=tmp_path, timeout=LESSON_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{path.name} --quick did not finish within {LESSON_TIMEOUT} s (a hang guard; "
                    "--quick should take seconds: shrink its sizes)")
    assert result.returncode == 0, (
        f"{path.name} exited {result.returncode}\n--- stdout\n{result.stdout[-4000:]}"
        f"\n--- stderr\n{result.stderr[-4000:]}")
    assert "FAIL" not in result.stdout
    assert re.search(r"all \d+ checks passed", result.stdout), "a lesson must check its claim"
    pngs = list(out.glob("*.png"))
    assert pngs, f"{path.name} saved no PNG figure into --out {out}"
    assert not list(out.glob(".*.tmp")), "savefig left a temporary file behind"


@pytest.mark.parametrize("path", LESSON_FILES, ids=[p.stem for p in LESSON_FILES])
def test_lesson_is_a_percent_script_with_title_and_exercises(path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n"), "the first cell must be the markdown title cell"
    title = text.splitlines()[1]
    assert re.match(rf"# # {path.name[:2]} · \S", title), f"title line must be '# # NN · Title', got {title!r}"
    cells = re.split(r"^# %%", text, flags=re.M)
    assert cells[-1].startswith(" [markdown]") and "exercise" in cells[-1].lower(), \
        "the last cell must be a markdown cell with the exercises"
    assert "_lesson.finish()" in text and "_lesson.check(" in text


def test_cli_lists_every_lesson_with_its_title(capsys):
    assert cli.main(["lessons"]) == 0
    listing = capsys.readouterr().out
    for path in LESSON_FILES:
        title = path.read_text(encoding="utf-8").splitlines()[1].split("·", 1)[1].strip()
        line = next((l for l in listing.splitlines() if path.name in l), None)
        assert line is not None, f"{path.name} missing from `tinyrect lessons`:\n{listing}"
        assert line.startswith(path.name[:2]) and title in line, line


def test_cli_unknown_lesson_is_a_clear_error(capsys):
    assert cli.main(["lesson", "99"]) == 2
    err = capsys.readouterr().err
    assert "no lesson '99'" in err and "01" in err and "tinyrect lessons" in err


FAKE = '''# %% [markdown]
# # 07 · A fake lesson

# %%
import sys
sys.path.insert(0, {lessons!r})
import _lesson
args = _lesson.setup("07")
print(f"flags quick={{args.quick}} show={{args.show}} out={{args.out}}")
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot([0, 1], [0, 1])
_lesson.savefig(fig, "line.png")
_lesson.check(True, "one is one")
_lesson.check({ok}, "the claim under test")
_lesson.finish()
print("after finish")
'''


def _fake(folder: Path, ok: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "07_fake.py"
    path.write_text(FAKE.format(lessons=str(LESSONS), ok=ok), encoding="utf-8")
    return path


def test_failed_check_exits_nonzero(tmp_path):
    result = _run([_fake(tmp_path / "src", ok=False), "--out", tmp_path / "o"], cwd=tmp_path)
    assert result.returncode == 1
    assert "FAIL  the claim under test" in result.stdout
    assert "1 of 2 checks FAILED" in result.stdout and "after finish" not in result.stdout


def test_passing_lesson_writes_default_output_folder(tmp_path):
    result = _run([_fake(tmp_path / "src", ok=True)], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS  the claim under test" in result.stdout
    assert (tmp_path / "lesson_output" / "07" / "line.png").is_file()


def test_cli_propagates_exit_code_flags_and_honours_lessons_dir(tmp_path, monkeypatch, capfd):
    folder = tmp_path / "elsewhere"
    _fake(folder, ok=False)
    monkeypatch.setenv("TINYRECT_LESSONS_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    assert lessons_cli.find_lessons() == {7: folder / "07_fake.py"}
    assert cli.main(["lessons"]) == 0
    assert "A fake lesson" in capfd.readouterr().out
    assert cli.main(["lesson", "7", "--quick", "--out", str(tmp_path / "o")]) == 1  # the lesson's code
    out = capfd.readouterr().out  # the subprocess writes to the same file descriptor
    assert f"flags quick=True show=False out={tmp_path / 'o'}" in out
    assert (tmp_path / "o" / "line.png").is_file()
