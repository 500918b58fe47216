"""The graded end-of-lesson questions (tinyrect check questionsNN): answers files, tolerance, hints."""
import runpy
from pathlib import Path

import pytest

from tinyrect.exercises import questions
from tinyrect.exercises.judging import grade_part

STUBS = Path(__file__).resolve().parents[1] / "lessons" / "exercises"
LESSONS = sorted(questions.QUESTIONS)


def grade_values(lesson, values):
    module = questions.module(lesson)
    return [grade_part(values.get(p.func), p) for p in module.parts()]


def test_every_lesson_has_checkable_questions():
    assert LESSONS == [f"{i:02d}" for i in range(1, 11)]
    assert all(len(questions.QUESTIONS[lesson]) >= 2 for lesson in LESSONS)


@pytest.mark.parametrize("lesson", LESSONS)
def test_stub_file_is_generated_and_not_answered_yet(lesson):
    path = STUBS / f"questions{lesson}.py"
    assert path.read_text() == questions.stub_text(lesson), "regenerate with questions.stub_text"
    results = grade_values(lesson, runpy.run_path(str(path)))
    assert [r.status for r in results] == ["not implemented"] * len(results)


@pytest.mark.parametrize("lesson", LESSONS)
def test_right_answers_pass_even_rounded_to_three_digits(lesson):
    exact = {f"q{i + 1}": q["answer"] for i, q in enumerate(questions.QUESTIONS[lesson])}
    assert all(r.passed for r in grade_values(lesson, exact))
    rounded = {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in exact.items()}
    results = grade_values(lesson, rounded)
    assert all(r.passed for r in results), [(r.func, r.message) for r in results]


WRONG = [(lesson, i, value, hint) for lesson in LESSONS for i, q in enumerate(questions.QUESTIONS[lesson])
         for value, hint in q["wrong"]]


@pytest.mark.parametrize("lesson,index,value,hint", WRONG, ids=[f"{w[0]}-q{w[1] + 1}-{w[2]:.3g}" for w in WRONG])
def test_typical_wrong_answer_fails_with_its_hint(lesson, index, value, hint):
    part = questions.module(lesson).parts()[index]
    result = grade_part(value, part)
    assert result.status == "fail" and hint in result.hints, (result.message, result.hints)


def test_a_wrong_type_is_reported_not_crashed():
    part = questions.module("05").parts()[0]
    result = grade_part("0.059", part)
    assert result.status == "fail" and "expected one real number" in result.message


@pytest.mark.parametrize("lesson", LESSONS)
def test_instructor_answers_file_is_generated_and_passes(lesson):
    from tinyrect.exercises import grader
    path = grader.SOLUTIONS / f"questions{lesson}.py"
    assert path.read_text() == questions.answers_text(lesson), "regenerate with questions.answers_text"
    assert grader.grade(f"questions{lesson}", path).passed


def test_a_questions_file_is_graded_through_the_sandbox(tmp_path):
    from tinyrect.exercises import grader
    path = tmp_path / "questions05.py"
    path.write_text(questions.stub_text("05").replace("q1 = ...", "q1 = 0.0589").replace("q2 = ...", "q2 = -30"))
    result = grader.grade("questions05", path)
    assert [p.status for p in result.parts] == ["pass", "fail", "not implemented"]
    assert "29 factors" in result.parts[1].hints[0]


def test_hint_auto_reveals_one_level_per_failed_attempt(tmp_path, monkeypatch, capsys):
    """--hint auto: 1st failure the nudge, 2nd the next level, then the explicit hint; a pass resets;
    the counts live in the cache folder, not beside the student's file; --max-hint still caps."""
    from grader_helpers import check
    from tinyrect.exercises import grader
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = (grader.SOLUTIONS / "prelu_init.py").read_text().replace("np.mean(slopes * slopes)", "np.mean(slopes) ** 2")
    student = tmp_path / "student"
    student.mkdir()
    (student / "prelu_init.py").write_text(source)
    variant = grader.exercise("prelu_init").parts()[1].catalogue[0]   # "the mean slope ..."
    seen = []
    for _ in range(4):
        assert check(["prelu_init", "--path", str(student / "prelu_init.py"), "--hint", "auto"]) == 1
        seen.append(capsys.readouterr().out)
    levels = [variant.at(1), variant.at(2), variant.hint, variant.hint]
    assert all(text in out for text, out in zip(levels, seen)), seen
    assert variant.hint not in seen[0] and variant.at(2) not in seen[0]
    assert (tmp_path / "cache" / "tinyrect" / "hint_attempts.json").is_file()
    assert sorted(p.name for p in student.iterdir()) == ["prelu_init.py"]
    assert check(["prelu_init", "--path", str(student / "prelu_init.py"), "--hint", "auto", "--max-hint", "1"]) == 1
    assert variant.at(1) in capsys.readouterr().out
    (student / "prelu_init.py").write_text((grader.SOLUTIONS / "prelu_init.py").read_text())
    assert check(["prelu_init", "--path", str(student / "prelu_init.py"), "--hint", "auto"]) == 0
    (student / "prelu_init.py").write_text(source)
    capsys.readouterr()
    assert check(["prelu_init", "--path", str(student / "prelu_init.py"), "--hint", "auto"]) == 1
    assert variant.at(1) in capsys.readouterr().out   # counting starts again after a pass
