"""The grader fails typical wrong answers and names the mistake (tinyrect check, issue 7).

A grader that passes a wrong answer is the worst bug this project can have. Two layers of proof:
  1. every known-wrong variant in the grader's own catalogue fails, and is diagnosed as itself;
  2. wrong student files written the way students write them (masks, in-place edits, loops) fail
     with the expected hint, at least three per exercise.
"""
import dataclasses
import re
import textwrap

import numpy as np
import pytest

from tinyrect.exercises import grader
from tinyrect.exercises.judging import grade_part
from grader_helpers import full_variant

# --------------------------------------------------------------------------- 1. the catalogue itself


_full = full_variant  # (the name the tests below use)


CATALOGUE = [(name, part.func, i) for name in grader.EXERCISES
             for part in grader.exercise(name).parts() for i, v in enumerate(part.catalogue) if v.fn is not None]
SIX = ("relu", "prelu", "linear", "conv", "init", "variance")   # the first exercises (the others: test_exercises_course.py)


@pytest.mark.parametrize("name,func,index", CATALOGUE,
                         ids=[f"{n}-{f}-{i}" for n, f, i in CATALOGUE])
def test_every_catalogue_variant_fails_and_is_named(name, func, index):
    part = next(p for p in grader.exercise(name).parts() if p.func == func)
    variant = part.catalogue[index]
    # a driver part's variants are written at the level of arrays (already driven)
    result = grade_part(_full(variant, part), dataclasses.replace(part, driver=None))
    assert result.status == "fail", f"{name}.{func}: the wrong variant {variant.hint!r} passed"
    assert any(variant.hint in h for h in result.hints), (variant.hint, result.message, result.hints)


def test_each_exercise_has_at_least_three_catalogued_mistakes():
    for name in grader.EXERCISES:
        if name in ("measure", "deep", "capstone") or name.startswith("questions"):   # judged on results; one value each
            continue
        assert sum(len(p.catalogue) for p in grader.exercise(name).parts()) >= 3, name


# --------------------------------------------------------------------------- 2. student-style files
# (exercise, id, source, the function that must fail, a fragment of the expected message or hint).
# Each source starts from the reference solution and replaces one function the way a student would.
WRONG = [
    # relu
    ("relu", "abs", "def relu_forward(x):\n    return np.abs(x)\n", "relu_forward", "|y| is not ReLU"),
    ("relu", "in-place", "def relu_forward(x):\n    x[x < 0] = 0\n    return x\n", "relu_forward",
     "modified its input `x` in place"),
    ("relu", "mask >= 0", "def relu_backward(x, dout):\n    return dout * (x >= 0)\n", "relu_backward",
     "at y == 0 exactly"),
    ("relu", "no dout", "def relu_backward(x, dout):\n    return (x > 0).astype(float)\n", "relu_backward",
     "multiplied by dout"),
    ("relu", "mask from dout", "def relu_backward(x, dout):\n    return np.maximum(dout, 0)\n", "relu_backward",
     "from the input y, not from dout"),
    ("relu", "bool mask", "def relu_backward(x, dout):\n    return x > 0\n", "relu_backward", "dtype bool"),
    # prelu forward
    ("prelu", "ignores a", "def prelu_forward(x, a):\n    return np.maximum(x, 0)\n", "prelu_forward",
     "you ignore a"),
    ("prelu", "hard-coded", "def prelu_forward(x, a):\n    return np.where(x > 0, x, 0.25 * x)\n",
     "prelu_forward", "hard-coded to 0.25"),
    ("prelu", "max(y, ay)", "def prelu_forward(x, a):\n    a = a.reshape(1, -1, *[1] * (x.ndim - 2))\n"
     "    return np.maximum(x, a * x)\n", "prelu_forward", "only when a <= 1"),
    ("prelu", "last axis", "def prelu_forward(x, a):\n    return np.maximum(x, 0) + a * np.minimum(x, 0)\n",
     "prelu_forward", "broadcast along the last axis"),
    ("prelu", "in place", "def prelu_forward(x, a):\n    a = a.reshape(1, -1, *[1] * (x.ndim - 2))\n"
     "    x[x < 0] *= np.broadcast_to(a, x.shape)[x < 0]\n    return x\n", "prelu_forward", "in place"),
    # prelu backward
    ("prelu", "dx relu", "def prelu_backward(x, a, dout):\n    dx, da = ref_backward(x, a, dout)\n"
     "    return dout * (x > 0), da\n", "prelu_backward", "should be scaled by a"),
    ("prelu", "dx at zero", "def prelu_backward(x, a, dout):\n    dx, da = ref_backward(x, a, dout)\n"
     "    ab = a.reshape(1, -1, *[1] * (x.ndim - 2))\n    return np.where(x >= 0, dout, ab * dout), da\n",
     "prelu_backward", "at y == 0 exactly"),
    ("prelu", "dx two mistakes", "def prelu_backward(x, a, dout):\n    dx = dout.copy()\n    dx[x < 0] *= 0.25\n"
     "    return dx, ref_backward(x, a, dout)[1]\n", "prelu_backward", "and also: at y == 0 exactly"),
    ("prelu", "dx heaviside", "def prelu_backward(x, a, dout):\n    h = np.heaviside(x, 0.5)\n"
     "    ab = a.reshape(1, -1, *[1] * (x.ndim - 2))\n"
     "    return dout * (h + ab * (1 - h)), ref_backward(x, a, dout)[1]\n", "prelu_backward",
     "wrong only where y == 0"),
    ("prelu", "da first sample", "def prelu_backward(x, a, dout):\n    dx, _ = ref_backward(x, a, dout)\n"
     "    t = (dout * np.minimum(x, 0))[0]\n"
     "    da = t.sum().reshape(1) if a.size == 1 else t.reshape(t.shape[0], -1).sum(axis=1)\n"
     "    return dx, da\n", "prelu_backward", "da is not summed over the batch"),
    ("prelu", "da mean", "def prelu_backward(x, a, dout):\n    dx, _ = ref_backward(x, a, dout)\n"
     "    t = dout * np.minimum(x, 0)\n    axes = tuple(d for d in range(x.ndim) if d != 1)\n"
     "    da = np.array([t.mean()]) if a.size == 1 else t.mean(axis=axes)\n    return dx, da\n",
     "prelu_backward", "does not average"),
    ("prelu", "da keeps x shape", "def prelu_backward(x, a, dout):\n    dx, _ = ref_backward(x, a, dout)\n"
     "    return dx, dout * np.minimum(x, 0)\n", "prelu_backward", "not summed over the batch"),
    ("prelu", "da positive side", "def prelu_backward(x, a, dout):\n    dx, _ = ref_backward(x, a, dout)\n"
     "    t = dout * x\n    axes = tuple(d for d in range(x.ndim) if d != 1)\n"
     "    da = np.array([t.sum()]) if a.size == 1 else t.sum(axis=axes)\n    return dx, da\n",
     "prelu_backward", "only collect the positions with y <= 0"),
    ("prelu", "da all channels", "def prelu_backward(x, a, dout):\n    dx, _ = ref_backward(x, a, dout)\n"
     "    return dx, np.full(a.shape, np.sum(dout * np.minimum(x, 0)))\n", "prelu_backward",
     "summed over all channels"),
    ("prelu", "one output", "def prelu_backward(x, a, dout):\n    return ref_backward(x, a, dout)[0]\n",
     "prelu_backward", "expected a tuple (dx, da)"),
    # linear
    ("linear", "no bias", "def linear_forward(x, w, b):\n    return np.dot(x, w.T)\n", "linear_forward",
     "forgot the bias"),
    ("linear", "w not transposed", "def linear_forward(x, w, b):\n    return x @ w + b\n", "linear_forward",
     "w has shape (d, n)"),
    ("linear", "dw transposed", "def linear_backward(x, w, b, dout):\n    return dout @ w, x.T @ dout, dout.sum(0)\n",
     "linear_backward", "dw is transposed"),
    ("linear", "db mean", "def linear_backward(x, w, b, dout):\n    return dout @ w, dout.T @ x, dout.mean(0)\n",
     "linear_backward", "db averages"),
    ("linear", "dw / N", "def linear_backward(x, w, b, dout):\n"
     "    return dout @ w, dout.T @ x / len(x), dout.sum(0)\n", "linear_backward", "divided by the batch size"),
    ("linear", "float32", "def linear_forward(x, w, b):\n    return (x @ w.T + b).astype(np.float32)\n",
     "linear_forward", "dtype float32"),
    # conv
    ("conv", "edge padding", "def im2col(x, k, stride=1, padding=0):\n"
     "    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), mode='edge')\n"
     "    return ref_im2col(xp, k, stride, 0)\n", "im2col", "must be zeros"),
    ("conv", "row order", "def im2col(x, k, stride=1, padding=0):\n"
     "    cols = ref_im2col(x, k, stride, padding).reshape(x.shape[1], k, k, -1)\n"
     "    return cols.transpose(1, 2, 0, 3).reshape(-1, cols.shape[-1])\n", "im2col", "ordered (ki, kj, c)"),
    ("conv", "transposed cols", "def im2col(x, k, stride=1, padding=0):\n"
     "    return ref_im2col(x, k, stride, padding).T\n", "im2col", "your X_col is transposed"),
    ("conv", "flipped kernel", "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
     "    return ref_forward(x, w[:, :, ::-1, ::-1].copy(), b, stride, padding)\n", "conv2d_forward",
     "flipped the kernel"),
    ("conv", "bias on width", "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
     "    return ref_forward(x, w, np.zeros_like(b), stride, padding) + b\n", "conv2d_forward", "last axis"),
    ("conv", "ceil", "def conv2d_forward(x, w, b, stride=1, padding=0):\n"
     "    out = ref_forward(x, w, b, stride, padding)\n"
     "    import math\n"
     "    ho = math.ceil((x.shape[2] + 2 * padding - w.shape[2]) / stride) + 1\n"
     "    if ho != out.shape[2]:\n        out = np.concatenate([out, out[:, :, :1]], axis=2)\n    return out\n",
     "conv2d_forward", "floor division"),
    ("conv", "col2im overwrites (loop over positions)", """\
def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    n, c, h, wd = x.shape
    f, _, k, _ = w.shape
    _, _, ho, wo = dout.shape
    dxp = np.zeros((n, c, h + 2 * padding, wd + 2 * padding))
    for i in range(ho):
        for j in range(wo):
            patch = np.einsum('nf,fckl->nckl', dout[:, :, i, j], w)
            dxp[:, :, i * stride:i * stride + k, j * stride:j * stride + k] = patch
    _, dw, db = ref_backward(x, w, b, dout, stride, padding)
    return dxp[:, :, padding:padding + h, padding:padding + wd], dw, db
""", "conv2d_backward", "must add up"),
    ("conv", "db mean", "def conv2d_backward(x, w, b, dout, stride=1, padding=0):\n"
     "    dx, dw, db = ref_backward(x, w, b, dout, stride, padding)\n"
     "    return dx, dw, dout.mean(axis=(0, 2, 3))\n", "conv2d_backward", "db averages"),
    ("conv", "dx not cropped", "def conv2d_backward(x, w, b, dout, stride=1, padding=0):\n"
     "    dx, dw, db = ref_backward(x, w, b, dout, stride, padding)\n"
     "    return np.pad(dx, ((0, 0), (0, 0), (padding, padding), (padding, padding))), dw, db\n",
     "conv2d_backward", "dx still has the padding"),
    # init
    ("init", "no factor 2", "def he_std(fan_in, a=0.0):\n    return math.sqrt(1.0 / ((1 + a * a) * fan_in)) * 0 + "
     "math.sqrt(1.0 / fan_in)\n", "he_std", "sqrt(1/fan_in)"),
    ("init", "ignores a", "def he_std(fan_in, a=0.0):\n    return np.sqrt(2.0 / fan_in)\n", "he_std", "ignores a"),
    ("init", "1 + a", "def he_std(fan_in, a=0.0):\n    return (2.0 / ((1 + a) * fan_in)) ** 0.5\n", "he_std",
     "not (1 + a)"),
    ("init", "variance", "def he_std(fan_in, a=0.0):\n    return 2.0 / ((1 + a ** 2) * fan_in)\n", "he_std",
     "you returned the variance"),
    ("init", "xavier fan_out", "def xavier_std(fan_in, fan_out):\n    return math.sqrt(1.0 / fan_out)\n",
     "xavier_std", "your std uses fan_out"),
    ("init", "xavier uniform bound", "def xavier_std(fan_in, fan_out):\n    return math.sqrt(6 / (fan_in + fan_out))\n",
     "xavier_std", "bound of Xavier's uniform"),
    ("init", "fans swapped", "def compute_fans(shape):\n    rf = int(np.prod(shape[2:]))\n"
     "    return shape[0] * rf, shape[1] * rf\n", "compute_fans", "swapped"),
    ("init", "no receptive field", "def compute_fans(shape):\n    return shape[1], shape[0]\n", "compute_fans",
     "receptive field"),
    ("init", "array", "def he_std(fan_in, a=0.0):\n    return np.full(3, np.sqrt(2 / fan_in))\n", "he_std",
     "expected one real number"),
    # variance
    ("variance", "L factors", "def forward_variance_ratio(n, var_w, a, L):\n"
     "    r = 1.0\n    for _ in range(L):\n        r *= 0.5 * (1 + a * a) * n * var_w\n    return r\n",
     "forward_variance_ratio", "L - 1 factors"),
    ("variance", "no half", "def forward_variance_ratio(n, var_w, a, L):\n"
     "    return ((1 + a * a) * n * var_w) ** (L - 1)\n", "forward_variance_ratio", "the ½ is missing"),
    ("variance", "1 + a", "def backward_variance_ratio(n_hat, var_w, a, L):\n"
     "    return (0.5 * (1 + a) * n_hat * var_w) ** (L - 1)\n", "backward_variance_ratio", "not ½(1 + a)"),
    ("variance", "sum", "def backward_variance_ratio(n_hat, var_w, a, L):\n"
     "    return sum(0.5 * (1 + a * a) * n_hat * var_w for l in range(2, L + 1))\n",
     "backward_variance_ratio", "not a sum"),
    ("variance", "nan", "def forward_variance_ratio(n, var_w, a, L):\n    return float('nan')\n",
     "forward_variance_ratio", "nan"),
]

PRELUDE = {
    "relu": "",
    "prelu": "from tinyrect.exercises.solutions.prelu import prelu_backward as ref_backward\n",
    "linear": "",
    "conv": ("from tinyrect.exercises.solutions.conv import im2col as ref_im2col, "
             "conv2d_forward as ref_forward, conv2d_backward as ref_backward\n"),
    "init": "",
    "variance": "",
}


def write_student(folder, name, source):
    path = folder / f"{name}.py"
    path.write_text(inline_reference(f"import math\nimport numpy as np\nfrom tinyrect.exercises.solutions.{name} "
                                     f"import *\n" + PRELUDE[name]) + "\n" + textwrap.dedent(source))
    return path


def inline_reference(text):
    """`text` with its imports of tinyrect's reference solutions replaced by the reference's own source,
    run in a namespace of its own (as an import would): the student file then needs no tinyrect, so
    its grading process starts in a fraction of a second."""
    lines = []
    for line in text.splitlines():
        found = re.match(r"from tinyrect\.exercises\.solutions\.(\w+) import (.+)$", line)
        if not found:
            lines.append(line)
            continue
        module, names = found.groups()
        space = f"_reference_{module}"
        lines += [f"{space} = {{}}", f"exec({(grader.SOLUTIONS / f'{module}.py').read_text()!r}, {space})"]
        if names.strip() == "*":
            lines.append(f"globals().update({{k: v for k, v in {space}.items() if not k.startswith('_')}})")
        for item in [] if names.strip() == "*" else names.split(","):
            original, _, alias = item.strip().partition(" as ")
            lines.append(f"{alias or original} = {space}[{original!r}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name,label,source,func,fragment", WRONG, ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_wrong_student_file_fails_with_hint(tmp_path, name, label, source, func, fragment):
    result = grader.grade(name, write_student(tmp_path, name, source), allow_reference=True)
    assert result.status == "fail" and not result.passed
    part = next(p for p in result.parts if p.func == func)
    assert part.status == "fail"
    others = [p for p in result.parts if p.func != func]
    assert all(p.passed for p in others), [(p.func, p.message) for p in others]
    text = part.message + " | " + " | ".join(part.hints)
    assert fragment in text, text


def test_at_least_three_student_mistakes_per_exercise():
    for name in SIX:
        assert sum(w[0] == name for w in WRONG) >= 3, name


def test_the_wrong_variants_really_differ_on_the_test_inputs():
    """Batch > 1, exact zeros, a of both sizes, a < 0 and a > 1, Wo == F: the cases the catalogue needs."""
    prelu_cases = grader.exercise("prelu").parts()[1].cases
    assert all(c.args[0].shape[0] > 1 for c in prelu_cases[:-1])
    assert any((c.args[0] == 0).any() for c in prelu_cases)
    assert {c.args[1].size == 1 for c in prelu_cases} == {True, False}
    slopes = np.concatenate([c.args[1] for c in prelu_cases])
    assert slopes.min() < 0 and slopes.max() > 1
    conv_cases = grader.exercise("conv").parts()[2].cases
    assert {c.kwargs["stride"] for c in conv_cases} >= {1, 2, 3}
    assert any(c.args[0].shape[2] != c.args[0].shape[3] for c in conv_cases)


# --------------------------------------------------------------------------- 3. mutation testing
# Small edits of the reference solutions (a comparison, a sign, a sum, an axis, a constant, an
# index) are wrong answers nobody catalogued: the grader must fail every one of them.
MUTATIONS = [(r"(?<![<>=])>(?!=)", ">="), (r">=", ">"), (r"<=", "<"), (r"\+(?!=)", "-"), (r"(?<![-\w])-(?!\d)", "+"),
             (r"\* ", "/ "), (r"\.sum\(", ".mean("), (r"0\.5", "0.25"), (r"2\.0", "1.0"), (r"\(L - 1\)", "L"),
             (r"a \* a", "a"), (r"np\.maximum", "np.minimum"), (r"np\.minimum", "np.maximum"), (r"\.T\b", ""),
             (r"axis=0", "axis=1"), (r"\+=", "="), (r"1\.0", "2.0"), (r"d != 1", "d != 0"),
             (r"transpose\(0, 2, 3, 1\)", "transpose(0, 3, 2, 1)"), (r"a\.size == 1", "True"),
             (r"x\.ndim - 2", "x.ndim - 1"), (r"\[2:\]", "[3:]"), (r"0\.0", "0.01"), (r"\bpadding\b(?!=)", "0"), (r"\bstride\b(?!=)", "1")]


def mutants(name):
    import ast
    import re
    source = (grader.SOLUTIONS / f"{name}.py").read_text()
    lines = source.splitlines(keepends=True)
    docs = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            docs.update(range(node.lineno - 1, node.end_lineno))
    for i, line in enumerate(lines):
        if i in docs or line.lstrip().startswith(("#", "def ", "import ", "from ")):
            continue
        for pattern, replacement in MUTATIONS:
            for m in re.finditer(pattern, line.split("#")[0]):
                yield i + 1, "".join(lines[:i] + [line[:m.start()] + replacement + line[m.end():]] + lines[i + 1:])


@pytest.mark.parametrize("name", SIX + ("gradcheck", "maxpool", "backward", "prelu_init", "momentum", "moments"))
def test_no_mutant_of_the_reference_passes(tmp_path, name):
    count = 0
    for lineno, source in mutants(name):
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        result = grader.grade(name, path, seconds=2)
        assert not result.passed, f"a mutant of line {lineno} of solutions/{name}.py passed:\n{source}"
        count += 1
    assert count >= 3
