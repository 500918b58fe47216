"""The end-of-lesson questions that have a short, checkable answer: `tinyrect check questions05`.

A student answers in a file questionsNN.py (stub in lessons/exercises/, made by `stub_text`) by
setting q1, q2, ... to numbers; `...` (Ellipsis) means not answered yet. Each question is one graded part; its expected value is
computed here from the formula (never typed in as a number), its tolerance is relative (answers
worked out by hand to three digits pass), and a catalogue of typical wrong values names the
mistake, as for the coding exercises. The open questions (why, explain, compare) are not graded:
their short answer key for instructors is lessons/exercises/instructor/answer_key.md.
"""
from __future__ import annotations

import math
import textwrap
import types

from tinyrect.exercises.checking import Case, Part, Variant
from tinyrect.exercises.drivers import answer, answer_int

TOL = 0.01   # relative: three significant digits
F32_EPS, F64_EPS = 2.0 ** -23, 2.0 ** -52
C_RELU = 0.5 - 1 / (2 * math.pi)


def Q(text, answer, wrong=(), tol=TOL, kind="scalar", points=1.0):
    """A question: its text, the right value, (value, hint) pairs of typical wrong values."""
    return dict(text=text, answer=answer, wrong=wrong, tol=tol, kind=kind, points=points)


QUESTIONS = {
    "01": [
        Q("x = Tensor(3.0, requires_grad=True); y = x * x; y.backward(). What is x.grad?", 6.0,
          [(3.0, "y = x·x uses x twice: the tape adds both paths, x.grad = x + x"),
           (9.0, "x.grad is dy/dx, not y")]),
        Q("The rule of thumb for the best central-difference step: ε ≈ (machine epsilon)^(1/3). What is it "
          "for float64 (machine epsilon 2^-52)?", F64_EPS ** (1 / 3), [(F64_EPS ** 0.5, "that is the square "
          "root: the best step for a one-sided difference; central differences balance ε² against eps/ε")],
          tol=0.05),
        Q("The same for float32 (machine epsilon 2^-23)?", F32_EPS ** (1 / 3), tol=0.05),
    ],
    "02": [
        Q("A bias b of shape (3,) is added to Y of shape (5, 3). How many entries of dY are summed into "
          "each entry of db?", 5, [(3, "each b_j is used once per ROW of Y (per sample)"),
                                    (15, "b_j only meets column j")], kind="ints"),
        Q("The error of a central difference shrinks like ε^p. What is p?", 2,
          [(1, "that is a one-sided difference; the central one cancels the ε term of the Taylor series")],
          kind="ints"),
    ],
    "03": [
        Q("Model A's first layer: input 224×224×3, 7×7 kernel, stride 2, padding 3, batch 128. How many "
          "bytes does X_col take in float32?", 3 * 49 * 128 * 112 * 112 * 4,
          [(3 * 49 * 128 * 112 * 112, "float32 takes 4 bytes per entry"),
           (3 * 49 * 128 * 224 * 224 * 4, "stride 2: the output is 112×112, not 224×224")], tol=0.02),
        Q("A 1×1 convolution of x (2, 64, 8, 8): how many rows does X_col (C·k·k, N·Ho·Wo) have?", 64,
          [(128, "N·Ho·Wo = 128 is the number of columns")], kind="ints"),
    ],
    "04": [
        Q("PReLU with a = -0.5: what is f(-2)?", 1.0, [(-1.0, "a·y = (-0.5)·(-2) = +1: a negative slope "
                                                       "makes f non-monotonic"), (0.0, "that is ReLU")]),
        Q("The paper's 14-layer model with channel-shared PReLU: how many extra parameters (slopes)?", 13,
          [(14, "the last fc layer (fc3) has no activation")], kind="ints"),
        Q("Eq. (15) with a = 1 (a linear unit) and n = 576: the std?", math.sqrt(1 / 576),
          [(math.sqrt(2 / 576), "with a = 1, ½(1 + a²) = 1: Xavier's n·Var[w] = 1")]),
    ],
    "05": [
        Q("He init for a 3×3 conv with 64 input channels: the std (Eq. 10)?", math.sqrt(2 / 576),
          [(math.sqrt(2 / 64), "n = k²c = 9·64 = 576"), (2 / 576, "that is the variance")]),
        Q("Xavier's n·Var[w] = 1 in a 30-layer ReLU net: Eq. (9)'s predicted log2(Var[y_30]/Var[y_1])?",
          29 * math.log2(0.5), [(-30.0, "Eq. (9)'s product runs over l = 2..30: 29 factors"),
                                (-14.5, "that is the log2 of the std ratio")]),
        Q("The 0.01 Gaussian on a layer with n = 576: the per-layer factor ½ n Var[w]?", 0.5 * 576 * 1e-4,
          [(0.5 * 576 * 0.01, "Var[w] = 0.01² = 1e-4")]),
    ],
    "06": [
        Q("A 3×3 conv with 128 output channels: n̂ (Eq. 11)?", 9 * 128, [(9 * 64, "n̂ = k²d counts the OUTPUT "
                                                                      "channels")], kind="ints"),
        Q("Channels 3 → 64 → 64 → 128 → 128 → 256, every layer initialized by Eq. (14). The forward product "
          "Π_{l=2..L} ½ n_l Var[w_l] = c_2/d_L?", 64 / 256,
          [(3 / 256, "the product starts at layer 2: c_2 = 64"), (256 / 64, "c_2/d_L, not d_L/c_2")]),
    ],
    "07": [
        Q("PReLU a = 0.25 initialized with He-for-ReLU (½ n Var[w] = 1): the per-layer factor ½(1 + a²) n Var[w]?",
          1 + 0.25 ** 2, [(1.25, "(1 + a²), not (1 + a)")]),
        Q("The same through a 20-layer net: log2 of Eq. (9)'s forward product?", 19 * math.log2(1.0625),
          [(20 * math.log2(1.0625), "the product runs over l = 2..20: 19 factors")]),
        Q("Leaky ReLU a = 0.01 with He-for-ReLU: the per-layer factor?", 1 + 0.01 ** 2),
    ],
    "08": [
        Q("VGG-like 3×3 conv with d = 256 output channels, initialized by Eq. (14): the std?",
          math.sqrt(2 / (9 * 256)), [(math.sqrt(2 / 256), "n̂ = k²d = 9·256")]),
        Q("The std 0.01 vs that derived std: the ratio of the per-layer variance factors, (0.01/std)²?",
          1e-4 / (2 / (9 * 256)), tol=0.02),
    ],
    "09": [
        Q("Momentum μ = 0.9, constant gradient g, learning rate ε: the velocity tends to k·ε·g. What is k?",
          1 / (1 - 0.9), [(0.9, "Δ = μΔ + εg has the fixed point Δ = εg/(1 - μ)")]),
        Q("Channel-wise PReLU after a conv layer with 64 output channels: how many slopes?", 64, kind="ints"),
    ],
    "10": [
        Q("x = max(0, y), y ~ N(0, 1): Var[x] / Var[y]?", C_RELU, [(0.5, "that is E[x²]/Var[y]: x is not "
                                                                     "zero-mean, Var[x] = E[x²] - E[x]²")]),
        Q("Inputs in [-128, 128] and a 10-layer net: the per-layer weight factor (1/128)^(1/L)?", (1 / 128) ** 0.1,
          [(1 / 128, "spread the factor over the L layers")]),
        Q("float32 exp overflows above x = ln(largest float32 ≈ 3.4e38): what is that x?",
          math.log(3.4028234663852886e38), tol=0.005),
    ],
}


def _answer(value, kind):
    return lambda: (value,) if kind == "ints" else value


def module(lesson: str):
    """The questions of one lesson as an exercise module (NAME, TITLE, FILENAME, FUNCTIONS, parts)."""
    questions = QUESTIONS[lesson]
    names = tuple(f"q{i + 1}" for i in range(len(questions)))

    def parts(seed=None):
        return [Part(name, _answer(q["answer"], q["kind"]), [Case(q["text"][:60], (), ())], (name,), kind=q["kind"],
                     catalogue=[Variant(hint, _answer(value, q["kind"])) for value, hint in q["wrong"]],
                     driver=answer_int if q["kind"] == "ints" else answer, tol=q["tol"], points=q["points"])
                for name, q in zip(names, questions)]

    return types.SimpleNamespace(
        NAME=f"questions{lesson}", TITLE=f"lesson {lesson}'s questions with a short answer",
        FILENAME=f"questions{lesson}.py", FUNCTIONS=names, LESSON=lesson, parts=parts,
        POINTS={n: q["points"] for n, q in zip(names, questions)}, TEXTS=dict(zip(names, (q["text"] for q in questions))))


def stub_text(lesson: str) -> str:
    """The student's answers file for one lesson (lessons/exercises/questionsNN.py)."""
    lines = [f'"""Questions of lesson {lesson} with a short answer.   Check: tinyrect check questions{lesson}',
             "",
             "Replace each ... by your answer, a number (worked out by hand or with a few lines of NumPy;",
             "three significant digits are enough). The open questions of the lesson are not graded.",
             '"""', ""]
    for i, q in enumerate(QUESTIONS[lesson]):
        lines += textwrap.wrap(f"Q{i + 1}. {q['text']}", 98, initial_indent="# ", subsequent_indent="#     ")
        lines += [f"q{i + 1} = ...", ""]
    return "\n".join(lines).rstrip() + "\n"


def answers_text(lesson: str) -> str:
    """The instructor's answers file (tinyrect/exercises/solutions/questionsNN.py): the stub with the
    values filled in, so that `tinyrect check --solutions` grades it like a student's file."""
    text = stub_text(lesson)
    for i, q in enumerate(QUESTIONS[lesson]):
        text = text.replace(f"\nq{i + 1} = ...\n", f"\nq{i + 1} = {q['answer']!r}\n")
    return text
