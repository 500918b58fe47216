"""`tinyrect book --out DIR`: the course as a static, offline HTML site.

The lessons are executed as notebooks (tinyrect.commands.notebooks, into DIR/notebooks/, or taken
from `--notebooks` when already executed) and converted with nbconvert's body-only template:
one page per lesson with its text, code, printed output and figures (written as PNG files
beside the page), plus an index (the lessons with one-line summaries, the exercises and how to
grade them, the reproduction report of `tinyrect reproduce` when one exists), an exercises page
and the exercise stubs. No script, font or stylesheet is fetched from the network: the math is
plain Unicode text, the style sheet is written into DIR. Open DIR/index.html in a browser or
publish the folder as it is.
"""
from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from tinyrect.serialization import atomic_write
from tinyrect.commands.lesson_files import find_lessons, lesson_title, lessons_dir, missing_lessons
from tinyrect.commands.notebooks import build_all, missing_tools, not_a_folder, tools_message

# One line per lesson for the index (a lesson without an entry shows its first sentence).
SUMMARIES = {
    1: "Tensors that remember how they were computed; backward() walks the tape.",
    2: "Derive each backward on paper, then check it against finite differences (gradcheck).",
    3: "Convolution as im2col plus one matrix product, and why the copying loops are compiled.",
    4: "Eq. (1)-(3): ReLU, Leaky ReLU and PReLU, and the gradient of the learnable slope a.",
    5: "Eq. (7)-(10): the response variance through 30 layers, He vs Xavier vs a 0.01 Gaussian, "
       "measured over many nets.",
    6: "Eq. (11)-(14): the gradient variance going back, and fan_in vs fan_out.",
    7: "Eq. (15): a PReLU keeps ½(1+a²) of the variance, so the init accounts for a.",
    8: "Figures 2-3 at small scale: deep plain nets train from He init and stall from Xavier.",
    9: "Table 1 at small scale: ReLU vs PReLU, the learned slopes layer by layer, no decay on a.",
    10: "What the derivation leaves out: input scale, the non-zero mean, the fixed 0.01 Gaussian.",
}
CSS = """
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 60rem; margin: 0 auto; padding: 0 1.2rem 4rem; }
nav { display: flex; justify-content: space-between; gap: 1rem; padding: .8rem 0;
      border-bottom: 1px solid #ddd; margin-bottom: 1rem; font-size: .95rem; }
a { color: #0b57d0; } h1, h2, h3 { line-height: 1.25; } .anchor-link { display: none; }
pre, code { font: 13.5px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { overflow-x: auto; padding: .6rem .8rem; margin: .4rem 0; }
.input_area, .input pre { background: #f6f8fa; border-radius: 6px; }
.output_area pre, .output_subarea pre { background: #fff; border-left: 3px solid #c8d1dc; }
.output_stderr pre { border-left-color: #e8a317; color: #6b4e00; }
.output_png img, .output_area img { max-width: 100%; height: auto; }
.text_cell_render { margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: .25rem .5rem; }
ul.lessons li { margin: .5rem 0; } .muted { color: #666; font-size: .92rem; }
"""


def _page(title: str, body: str, nav: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{html.escape(title)}</title>\n<link rel="stylesheet" href="style.css">\n'
            f'</head><body>\n{nav}\n<main>\n{body}\n</main>\n{nav}\n</body></html>\n')


def _write(path: Path, text) -> None:
    """Atomic write of text or bytes (serialization.atomic_write)."""
    binary = isinstance(text, bytes)
    with atomic_write(path, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
        f.write(text)


def _markdown(text: str) -> str:
    from nbconvert.filters.markdown import markdown2html

    return markdown2html(text)


def summary(number: int, path: Path) -> str:
    """The lesson's one line for the index."""
    if number in SUMMARIES:
        return SUMMARIES[number]
    body = path.read_text(encoding="utf-8").split("\n# %%", 1)[0].splitlines()[2:]
    text = " ".join(line.lstrip("# ").strip() for line in body).strip()
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""


def lesson_page(notebook: Path, title: str, nav: str, out: Path) -> Path:
    """out/<stem>.html from an executed notebook; figures to out/<stem>_files/."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.ExtractOutputPreprocessor.enabled = True
    exporter = HTMLExporter(config=config, template_name="basic")
    stem = notebook.stem
    body, resources = exporter.from_notebook_node(
        nbformat.read(str(notebook), as_version=4),
        resources={"output_files_dir": f"{stem}_files", "unique_key": stem})
    for name, data in resources.get("outputs", {}).items():
        _write(out / name, data)
    body = body.replace('alt="No description has been provided for this image"',
                        f'alt="a figure of lesson {html.escape(title)}"')
    target = out / f"{stem}.html"
    _write(target, _page(title, body, nav))
    return target


def _notebook_copy(notebook: Path, out: Path) -> Path:
    """The executed notebook in out/notebooks/ (copied there with _lesson.py if built elsewhere),
    so each page can offer it for download."""
    target = out / "notebooks" / notebook.name
    if notebook.resolve() != target.resolve():
        _write(target, notebook.read_bytes())
        helper = notebook.with_name("_lesson.py")
        if helper.is_file():
            _write(target.with_name("_lesson.py"), helper.read_bytes())
    return target


def _report(report: Path | None, out: Path) -> str | None:
    """Copy the reproduction report (report.md and its figures) to out/reproduce/; its link."""
    if report is None or not (report / "report.md").is_file():
        return None
    body = _markdown((report / "report.md").read_text(encoding="utf-8"))
    for png in report.glob("*.png"):
        _write(out / "reproduce" / png.name, png.read_bytes())
    nav = '<nav><a href="../index.html">↑ the course</a></nav>'
    _write(out / "reproduce" / "index.html", _page("Reproduction report", body, nav).replace(
        'href="style.css"', 'href="../style.css"'))
    return "reproduce/index.html"


def build_site(notebooks: dict, out: Path, report: Path | None = None) -> Path:
    """Write the site for {number: executed .ipynb} into `out`; return out/index.html."""
    from pygments.formatters import HtmlFormatter

    out = Path(out)
    lessons = find_lessons()
    numbers = sorted(notebooks)
    _write(out / "style.css", CSS + HtmlFormatter(style="default").get_style_defs(".highlight"))
    items = []
    for i, number in enumerate(numbers):
        title = f"{number:02d} · {lesson_title(lessons[number])}"
        links = ['<a href="index.html">↑ all lessons</a>']
        if i > 0:
            links.insert(0, f'<a href="{Path(notebooks[numbers[i - 1]]).stem}.html">← lesson {numbers[i - 1]:02d}</a>')
        if i + 1 < len(numbers):
            links.append(f'<a href="{Path(notebooks[numbers[i + 1]]).stem}.html">lesson {numbers[i + 1]:02d} →</a>')
        notebook = _notebook_copy(Path(notebooks[number]), out)
        links.append(f'<a href="notebooks/{notebook.name}" download>this lesson as a notebook</a>')
        page = lesson_page(notebook, title, f"<nav>{' '.join(links)}</nav>", out)
        items.append(f'<li><a href="{page.name}">{html.escape(title)}</a><br>'
                     f'<span class="muted">{html.escape(summary(number, lessons[number]))}</span></li>')
    exercises = _exercises(out)
    report_link = _report(report, out)
    body = ["<h1>Delving deep into rectifiers, built by hand</h1>",
            "<p>A course in ten lessons on He et al., “Delving Deep into Rectifiers” (ICCV 2015): "
            "PReLU and the initialization derived from the variance of the responses, built and "
            "measured with tinyrect. Each page is a lesson as it ran: its text, its code, what the "
            "code printed and the figures it drew. Every lesson ends with exercises.</p>",
            "<h2>Lessons</h2>", '<ul class="lessons">', *items, "</ul>",
            "<h2>Exercises and how to grade them</h2>",
            "<p>Each lesson ends with questions to work through. The graded exercises implement the "
            f'pieces by hand: <a href="{exercises}">the exercises</a> lists them, with the stubs to '
            "download, and <code>tinyrect check NAME</code> grades a solution (pass/fail, the error "
            "against the reference and against finite differences, and a hint when it fails).</p>",
            "<p>Run a lesson yourself: <code>tinyrect lesson N</code> (narrated in the terminal) or "
            "<code>tinyrect lesson N --notebook</code> (a Jupyter notebook).</p>"]
    if report_link:
        body += ["<h2>The paper's experiments, reproduced</h2>",
                 f'<p><a href="{report_link}">The reproduction report</a> of '
                 "<code>tinyrect reproduce</code>: the paper's claims next to our measurements.</p>"]
    index = out / "index.html"
    _write(index, _page("tinyrect: a course on PReLU and He initialization", "\n".join(body)))
    return index


def _exercises(out: Path) -> str:
    """exercises.html from the exercises' README, with the stubs copied to out/exercises/."""
    folder = (lessons_dir() or Path(".")) / "exercises"
    stubs = sorted(folder.glob("*.py")) if folder.is_dir() else []
    for stub in stubs:
        _write(out / "exercises" / stub.name, stub.read_bytes())
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else "# Exercises\n"
    files = "".join(f'<li><a href="exercises/{s.name}">{s.name}</a></li>' for s in stubs)
    body = _markdown(text) + (f"<h2>The stubs</h2><ul>{files}</ul>" if files else "")
    _write(out / "exercises.html", _page("Exercises", body, '<nav><a href="index.html">↑ the course</a></nav>'))
    return "exercises.html"


# ----------------------------------------------------------------------------- tinyrect book
def add_arguments(parser) -> None:
    parser.add_argument("--out", metavar="DIR", default="book", help="folder for the site (default: ./book/)")
    parser.add_argument("--quick", action="store_true", help="execute the lessons at small sizes (as in CI)")
    parser.add_argument("--notebooks", metavar="DIR", default=None,
                        help="use the executed notebooks in DIR (from `tinyrect notebooks`) instead of "
                             "executing the lessons again")
    parser.add_argument("--report", metavar="DIR", default="reproduce_output",
                        help="the `tinyrect reproduce` report to link, if it exists (default: ./reproduce_output/)")


def run(args) -> int:
    missing = missing_tools()
    if missing:
        print(tools_message(missing), file=sys.stderr)
        return 2
    lessons = find_lessons()
    if not lessons:
        return missing_lessons()
    if not_a_folder(args.out, "book"):
        return 2
    out = Path(args.out)
    if args.notebooks:
        given = {n: Path(args.notebooks) / f"{p.stem}.ipynb" for n, p in lessons.items()}
        absent = [str(p) for p in given.values() if not p.is_file()]
        if absent:
            print(f"tinyrect book: no executed notebook {', '.join(absent)}; write them with "
                  f"`tinyrect notebooks --out {args.notebooks}` or leave out --notebooks", file=sys.stderr)
            return 2
        notebooks, errors = given, []
    else:
        notebooks, errors = build_all(out / "notebooks", quick=args.quick)
    index = build_site(notebooks, out, Path(args.report) if args.report else None)
    print(f"\nthe course: {index} ({len(notebooks)} lessons; open it in a browser)")
    if errors:
        print(f"{len(errors)} lesson(s) failed while executing; their pages show the error:", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    return 0
