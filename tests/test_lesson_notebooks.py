"""Lessons as executed notebooks and as the HTML course.

Every lesson is executed once as a notebook (nbclient, --quick sizes, a session fixture); the
course is built once from those notebooks. Skipped when the `notebooks` extra is not installed,
except in CI (TINYRECT_REQUIRE_NOTEBOOKS=1), where a missing extra is a failure.
"""
from __future__ import annotations

import html.parser
import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tinyrect.commands import cli
from tinyrect.commands import notebooks as nbcmd
from tinyrect.commands.lessons import lesson_title

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LESSON_FILES = sorted(LESSONS.glob("[0-9][0-9]_*.py"))

if nbcmd.missing_tools():
    if os.environ.get("TINYRECT_REQUIRE_NOTEBOOKS") == "1":
        raise RuntimeError(f"TINYRECT_REQUIRE_NOTEBOOKS=1 but {nbcmd.missing_tools()} are missing: "
                           'pip install -e ".[notebooks]"')
    pytest.skip(f"the notebooks extra is not installed ({nbcmd.missing_tools()})", allow_module_level=True)

import nbformat  # noqa: E402


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """{path of the lesson: (executed notebook or None, error or None)}, each lesson run once."""
    out = tmp_path_factory.mktemp("notebooks")
    os.environ.setdefault("TINYRECT_LESSONS_DIR", str(LESSONS))
    results = {}
    for path in LESSON_FILES:
        try:
            results[path] = (nbcmd.build_notebook(path, out, quick=True, timeout=600), None)
        except nbcmd.NotebookError as exc:
            target = out / f"{path.stem}.ipynb"
            results[path] = (target if target.is_file() else None, str(exc))
    return results


@pytest.mark.parametrize("path", LESSON_FILES, ids=[p.stem for p in LESSON_FILES])
def test_lesson_runs_as_a_notebook_with_outputs_and_inline_figures(path, executed):
    notebook, error = executed[path]
    assert error is None, error
    nb = nbformat.read(str(notebook), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "every code cell was executed"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert re.search(r"all \d+ checks passed", text) and "FAIL" not in text
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure shown inline"
    assert not [o for o in outputs if o.output_type == "execute_result"], \
        "a notebook shows what the script prints, no Out[..] values"
    # --quick reached the kernel through TINYRECT_LESSON_FLAGS, and the kernel's argv did not break setup
    assert (notebook.parent / "lesson_output" / path.name[:2]).is_dir()
    assert (notebook.parent / "_lesson.py").is_file(), "the helper is copied next to the notebooks"


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.images, self.scripts = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.refs.append(a["href"])
        if tag in ("img", "script", "link") and (a.get("src") or a.get("href")):
            (self.images if tag == "img" else self.scripts).append(a.get("src") or a.get("href"))


def _local(page: Path, ref: str, root: Path):
    """The file a relative link points to, or None for an in-page anchor."""
    parsed = urlparse(ref)
    assert not parsed.scheme and not parsed.netloc, f"{page.name}: a link leaves the site: {ref}"
    if not parsed.path:
        return None
    target = (page.parent / unquote(parsed.path)).resolve()
    assert root.resolve() in target.parents, f"{page.name}: {ref} points outside the site"
    return target


def test_book_is_an_offline_site_whose_links_and_images_resolve(executed, tmp_path, monkeypatch):
    notebooks = tmp_path / "given"
    notebooks.mkdir()
    for path, (notebook, _error) in executed.items():
        assert notebook is not None, f"{path.name} has no executed notebook"
        (notebooks / notebook.name).write_bytes(notebook.read_bytes())
    report = tmp_path / "reproduce_output"
    report.mkdir()
    (report / "report.md").write_text("# Reproduction\n\n![the variance](variance.png)\n")
    (report / "variance.png").write_bytes((LESSONS.parent / "lessons" / "_lesson.py").read_bytes()[:10])
    monkeypatch.setenv("TINYRECT_LESSONS_DIR", str(LESSONS))
    site = tmp_path / "site"
    assert cli.main(["book", "--out", str(site), "--notebooks", str(notebooks), "--report", str(report)]) == 0

    index = (site / "index.html").read_text(encoding="utf-8")
    pages = sorted(site.rglob("*.html"))
    assert site / "reproduce" / "index.html" in pages and 'href="reproduce/index.html"' in index
    for path in LESSON_FILES:
        page = site / f"{path.stem}.html"
        assert page.is_file(), f"no page for {path.name}"
        assert f'href="{page.name}"' in index, f"the index does not link {page.name}"
        text = page.read_text(encoding="utf-8")
        assert lesson_title(path) in text, f"{page.name} lacks its title"
        assert re.search(r'<img [^>]*src="[^"]+\.png"', text), f"{page.name} shows no figure"
    for page in pages:
        links = _Links()
        links.feed(page.read_text(encoding="utf-8"))
        assert links.refs, f"{page.name} links nowhere"
        # images, scripts and style sheets must be files in the site (offline); a text link may
        # point to the web, every other link to a file in the site
        outside = [r for r in links.refs if urlparse(r).scheme in ("http", "https")]
        for ref in [r for r in links.refs if r not in outside] + links.images + links.scripts:
            target = _local(page, ref, site)
            assert target is None or target.is_file(), f"{page.name}: {ref} does not resolve to a file"
        assert not [s for s in links.scripts if not s.endswith(".css")], "no scripts: the site is static"
        assert "<script" not in page.read_text(encoding="utf-8")


FAILING = '''# %% [markdown]
# # 07 · A fake lesson

# %%
import sys
import _lesson
args = _lesson.setup("07")
print("kernel python:", sys.executable)
_lesson.check(args.quick, "the flags reached the kernel: --quick")
_lesson.check(False, "the claim under test")
_lesson.finish()
'''


def test_a_failed_check_fails_the_notebook(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "07_fake.py").write_text(FAILING, encoding="utf-8")
    (folder / "_lesson.py").write_bytes((LESSONS / "_lesson.py").read_bytes())
    monkeypatch.setenv("TINYRECT_LESSONS_DIR", str(folder))
    assert cli.main(["lesson", "7", "--notebook", "--quick", "--out", str(tmp_path / "nb")]) == 1
    assert "07_fake.py: a cell failed (LessonFailed: lesson 07: 1 of 2 checks failed)" in capsys.readouterr().err
    nb = nbformat.read(str(tmp_path / "nb" / "07_fake.ipynb"), as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "PASS  the flags reached the kernel: --quick" in text and "FAIL  the claim under test" in text
    assert f"kernel python: {sys.executable}" in text, "the kernel runs the Python tinyrect is installed in"


def test_missing_extra_is_a_clear_message(monkeypatch, capsys):
    monkeypatch.setattr(nbcmd, "missing_tools", lambda: ["nbclient"])
    for command in (["notebooks"], ["lesson", "1", "--notebook"]):
        assert cli.main(command) == 2
        assert 'pip install -e ".[notebooks]"' in capsys.readouterr().err


def test_out_naming_a_file_is_a_clear_error(tmp_path, capsys):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    for command in (["book", "--out", str(afile)], ["notebooks", "--out", str(afile)]):
        assert cli.main(command) == 2
        assert "is a file, not a folder" in capsys.readouterr().err
    assert afile.read_text() == "mine"
