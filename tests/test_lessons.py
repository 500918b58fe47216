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
    _assert_reads_as_the_lesson(path, result.stdout, pngs)


NEGATIVE_ZERO = re.compile(r"(?<![\w.])-0(?:\.0+)?(?![\d.]|e[-+]?\d*[1-9])")


def _assert_reads_as_the_lesson(path, stdout, pngs):
    """The narrated run: the markdown headings in order, each before the output of the code under
    it; a check line says what was compared and within what; no -0.00; figures and exercises at
    the end."""
    text = path.read_text(encoding="utf-8")
    headings = re.findall(r"^# #+ (.+)$", text, flags=re.M)
    at = [stdout.find(h.replace("**", "")) for h in headings]
    assert -1 not in at, f"{path.name}: heading {headings[at.index(-1)]!r} not narrated"
    assert at == sorted(at), f"{path.name}: the headings are not narrated in order"
    first_check = stdout.find("PASS  ")
    assert 0 < at[0] < first_check, "the title is narrated before the first measurement"
    checks = re.findall(r"^(?:PASS|FAIL)  (.*)$", stdout, flags=re.M)
    vague = [c for c in checks if not re.search(r"held:|[<>≈]|within|exactly|equal|below|above|agree", c)]
    assert not vague, f"{path.name}: check lines that do not say what was compared and within what: {vague}"
    assert not NEGATIVE_ZERO.search(stdout), \
        f"{path.name} prints a negative zero: ...{stdout[max(0, NEGATIVE_ZERO.search(stdout).start() - 80):][:120]}..."
    tail = stdout[re.search(r"all \d+ checks passed", stdout).start():]
    assert all(p.name in tail for p in pngs), "the end of the run names every figure it saved"
    assert "Exercises" in tail and "tinyrect check" in tail, "the end of the run names the exercises"


def test_negative_zero_pattern():
    assert NEGATIVE_ZERO.search("padded -0.00 paper") and NEGATIVE_ZERO.search("x -0.0")
    assert not NEGATIVE_ZERO.search("-0.01 -0.5 1.0e-05 -1.0e-05 2.3e-08 layer-0.5")


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


NARRATED = '''# %% [markdown]
# # 07 · A narrated lesson
#
# The first paragraph, long enough to be wrapped at the terminal's width: one two three four five
# six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen.
#
#     a formula = kept as it is

# %%
import sys, time
sys.path.insert(0, {lessons!r})
import _lesson
args = _lesson.setup("07")
print("output of the first cell")

# %% [markdown]
# ## Section two
# Text of section two.

# %%
time.sleep(0.5)
print("output of section two")
_lesson.check(True, "one vs one", "exactly equal")
_lesson.finish()

# %% [markdown]
# ## Exercises
# 1. The exercise.
'''


@pytest.mark.parametrize("quiet", [False, True])
def test_a_script_run_narrates_its_markdown_cells_in_place(tmp_path, quiet):
    path = tmp_path / "07_narrated.py"
    path.write_text(NARRATED.format(lessons=str(LESSONS)), encoding="utf-8")
    result = _run([path, "--out", tmp_path / "o"] + (["--quiet"] if quiet else []), cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    order = ["output of the first cell", "output of section two", "PASS  one vs one; held: exactly equal",
             "all 1 checks passed"]
    narrated = ["A narrated lesson", "The first paragraph", "    a formula = kept as it is",
                "Section two", "Text of section two.", "Exercises", "1. The exercise."]
    if quiet:
        assert not [t for t in narrated if t in out], out
        assert "exercises: the last cell of lesson 07" in out
    else:
        order = narrated[:3] + order[:1] + narrated[3:5] + order[1:] + narrated[5:]
        assert max(len(line) for line in out.splitlines()) <= 100, "narration is wrapped"
    at = [out.find(t) for t in order]
    assert -1 not in at and at == sorted(at), out


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
