"""The exercises added for lessons 01-10 (tape, gradcheck, maxpool, measure, backward, prelu_init,
deep, momentum, moments): each passes its reference, fails typical wrong answers with the expected
hint, and reports "not implemented yet" for the student's stub; hint levels and points."""
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinyrect.exercises import grader
from tinyrect.exercises.judging import grade_part
from grader_helpers import full_variant

NEW = ("tape", "gradcheck", "maxpool", "measure", "backward", "prelu_init", "deep", "momentum", "moments")
STUBS = Path(__file__).resolve().parents[1] / "lessons" / "exercises"
FAST = tuple(n for n in NEW if n != "deep")   # deep trains a 30-layer net (seconds): fewer tests


@pytest.mark.parametrize("name", NEW)
def test_reference_passes(name):
    result = grader.grade(name, grader.SOLUTIONS / f"{name}.py")
    assert result.status == "pass", [(p.func, p.message, p.hints) for p in result.parts]


@pytest.mark.parametrize("name", NEW)
def test_stub_is_not_implemented_yet(name):
    result = grader.grade(name, STUBS / f"{name}.py")
    assert result.status == "not implemented" and result.message == "not implemented yet"
    assert all(p.status == "not implemented" for p in result.parts)


# The catalogue variants of every exercise, these included, are checked in
# tests/test_exercises_catalogue.py (test_every_catalogue_variant_fails_and_is_named).


# (exercise, id, source, function that must fail, fragment of the expected message or hint)
WRONG = [
    ("tape", "exp slip", """
def softplus(x):
    def backward(dout):
        return (dout * np.exp(x.data),)
    return type(x)._from_op(np.log1p(np.exp(x.data)), (x,), backward, "softplus")
""", "softplus", "derivative of e^x"),
    ("tape", "numpy result", "def softplus(x):\n    return np.log1p(np.exp(x.data))\n", "softplus", "must return a Tensor"),
    ("tape", "no dout", """
def softplus(x):
    s = 1 / (1 + np.exp(-x.data))
    return type(x)._from_op(np.log1p(np.exp(x.data)), (x,), lambda dout: (s,), "softplus")
""", "softplus", "multiply by dout"),
    ("tape", "swapped", """
def mul(a, b):
    return type(a)._from_op(a.data * b.data, (a, b), lambda d: (d * a.data, d * b.data), "mul")
""", "mul", "swapped"),
    ("tape", "writes into dout", """
def mul(a, b):
    def backward(dout):
        dout *= b.data
        return dout, dout * a.data
    return type(a)._from_op(a.data * b.data, (a, b), backward, "mul")
""", "mul", "writes into dout"),
    ("tape", "one gradient", """
def mul(a, b):
    return type(a)._from_op(a.data * b.data, (a, b), lambda d: (d * b.data,), "mul")
""", "mul", "one gradient per parent"),
    ("gradcheck", "one-sided", """
def numerical_gradient(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        y = x.copy(); y[i] += eps
        g[i] = (f(y) - f(x)) / eps
    return g
""", "numerical_gradient", "one-sided"),
    ("gradcheck", "all at once", """
def numerical_gradient(f, x, eps=1e-6):
    return np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps))
""", "numerical_gradient", "ONE entry at a time"),
    ("gradcheck", "over eps", """
def numerical_gradient(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        p = x.copy(); p[i] += eps
        m = x.copy(); m[i] -= eps
        g[i] = (f(p) - f(m)) / eps
    return g
""", "numerical_gradient", "divide by 2ε"),
    ("gradcheck", "in place", """
def numerical_gradient(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        p = f(x)
        x[i] -= 2 * eps
        g[i] = (p - f(x)) / (2 * eps)
    return g
""", "numerical_gradient", "in place"),
    ("maxpool", "all ties", """
def maxpool_backward(x, dout, k, stride):
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            w = x[:, :, i*stride:i*stride+k, j*stride:j*stride+k]
            m = (w == w.max(axis=(2, 3), keepdims=True))
            dx[:, :, i*stride:i*stride+k, j*stride:j*stride+k] += m * dout[:, :, i:i+1, j:j+1]
    return dx
""", "maxpool_backward", "every tied maximum"),
    ("maxpool", "overwrite", """
def maxpool_backward(x, dout, k, stride):
    dx = np.zeros_like(x)
    n, c = x.shape[:2]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            w = x[:, :, i*stride:i*stride+k, j*stride:j*stride+k].reshape(n, c, -1)
            first = w.argmax(axis=2)
            for a in range(n):
                for b in range(c):
                    ki, kj = divmod(first[a, b], k)
                    dx[a, b, i*stride+ki, j*stride+kj] = dout[a, b, i, j]
    return dx
""", "maxpool_backward", "must add up"),
    ("maxpool", "last max", """
def maxpool_backward(x, dout, k, stride):
    dx = np.zeros_like(x)
    n, c = x.shape[:2]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            w = x[:, :, i*stride:i*stride+k, j*stride:j*stride+k].reshape(n, c, -1)
            last = k * k - 1 - w[:, :, ::-1].argmax(axis=2)
            for a in range(n):
                for b in range(c):
                    ki, kj = divmod(last[a, b], k)
                    dx[a, b, i*stride+ki, j*stride+kj] += dout[a, b, i, j]
    return dx
""", "maxpool_backward", "LAST maximum"),
    ("measure", "no relu", """
def measure_variances(n, L, std, draws, batch, seed):
    rng = np.random.default_rng(seed)
    v = np.empty((draws, L))
    for d in range(draws):
        x = rng.standard_normal((batch, n))
        for l in range(L):
            x = x @ (std * rng.standard_normal((n, n)))
            v[d, l] = x.var()
    return v
""", "measure_variances", "rectifier is missing"),
    ("measure", "predicted", """
def measure_variances(n, L, std, draws, batch, seed):
    f = 0.5 * n * std ** 2
    return np.tile(n * std ** 2 * f ** np.arange(L), (draws, 1))
""", "measure_variances", "do not depend on the seed"),
    ("measure", "after relu", """
def measure_variances(n, L, std, draws, batch, seed):
    rng = np.random.default_rng(seed)
    v = np.empty((draws, L))
    for d in range(draws):
        x = rng.standard_normal((batch, n))
        for l in range(L):
            x = np.maximum(x @ (std * rng.standard_normal((n, n))), 0)
            v[d, l] = x.var()
    return v
""", "measure_variances", "after the rectifier"),
    ("measure", "global rng", """
def measure_variances(n, L, std, draws, batch, seed):
    v = np.empty((draws, L))
    for d in range(draws):
        x = np.random.standard_normal((batch, n))
        for l in range(L):
            y = x @ (std * np.random.standard_normal((n, n)))
            v[d, l] = y.var()
            x = np.maximum(y, 0)
    return v
""", "measure_variances", "default_rng(seed)"),
    ("backward", "layer 1 included", """
def backward_product(fan_outs, var_ws, a=0.0):
    return float(np.prod(0.5 * (1 + a * a) * np.asarray(fan_outs) * np.asarray(var_ws)))
""", "backward_product", "layer 1's factor"),
    ("backward", "no half", """
def backward_product(fan_outs, var_ws, a=0.0):
    r = 1.0
    for n, v in zip(fan_outs[1:], var_ws[1:]):
        r *= (1 + a * a) * n * v
    return r
""", "backward_product", "½ is missing"),
    ("backward", "inverted", "def forward_product_eq14(channels, k):\n    return channels[-1] / channels[1]\n",
     "forward_product_eq14", "not d_L/c_2"),
    ("backward", "c1", "def forward_product_eq14(channels, k):\n    return channels[0] / channels[-1]\n",
     "forward_product_eq14", "includes layer 1"),
    ("prelu_init", "ignores a", """
def prelu_std(weight_shape, a, mode="fan_in"):
    f, c, kh, kw = weight_shape
    return math.sqrt(2 / ((c if mode == "fan_in" else f) * kh * kw))
""", "prelu_std", "ignores a"),
    ("prelu_init", "swapped", """
def prelu_std(weight_shape, a, mode="fan_in"):
    f, c, kh, kw = weight_shape
    return math.sqrt(2 / ((1 + a * a) * (f if mode == "fan_in" else c) * kh * kw))
""", "prelu_std", "swapped"),
    ("prelu_init", "mean slope", "def equivalent_slope(slopes):\n    return float(np.mean(slopes))\n",
     "equivalent_slope", "mean slope"),
    ("deep", "xavier", "def choose(fan_ins, fan_outs):\n    return np.sqrt(1 / fan_ins), 0.002\n", "choose",
     "signal vanishes"),
    ("deep", "large lr", "def choose(fan_ins, fan_outs):\n    return np.sqrt(2 / fan_ins), 0.1\n", "choose",
     "lower the learning rate|too large"),
    ("deep", "std 0.01", "def choose(fan_ins, fan_outs):\n    return np.full(30, 0.01), 0.002\n", "choose",
     "signal vanishes"),
    ("momentum", "decay on a", """
def momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope):
    v = momentum * velocity + lr * (grad + weight_decay * p)
    return p - v, v
""", "momentum_step", "slopes a get weight decay"),
    ("momentum", "plain sgd", """
def momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope):
    g = grad if is_slope else grad + weight_decay * p
    return p - lr * g, lr * g
""", "momentum_step", "plain SGD"),
    ("momentum", "in place", """
def momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope):
    g = grad if is_slope else grad + weight_decay * p
    velocity *= momentum
    velocity += lr * g
    p -= velocity
    return p, velocity
""", "momentum_step", "in place"),
    ("moments", "var = E[x²]", "def relu_moments(sigma):\n    return sigma ** 2 / 2, sigma ** 2 / 2\n",
     "relu_moments", "not zero-mean"),
    ("moments", "he std", "def std_from_var(fan_in):\n    return math.sqrt(2 / fan_in)\n", "std_from_var",
     "He's std"),
    ("moments", "all in one layer", "def per_layer_factor(input_scale, L):\n    return 1 / input_scale\n",
     "per_layer_factor", "spread over the L layers"),
]


def write_student(folder, name, source):
    """The reference's source inlined (no tinyrect needed: a fast start), then the student's change."""
    from test_exercises_catalogue import inline_reference
    path = folder / f"{name}.py"
    path.write_text(inline_reference(f"import math\nimport numpy as np\nfrom tinyrect.exercises.solutions.{name} "
                                     f"import *\n") + "\n" + textwrap.dedent(source))
    return path


@pytest.mark.parametrize("name,label,source,func,fragment", WRONG, ids=[f"{w[0]}-{w[1]}" for w in WRONG])
def test_wrong_student_file_fails_with_hint(tmp_path, name, label, source, func, fragment):
    result = grader.grade(name, write_student(tmp_path, name, source), allow_reference=True)
    assert result.status == "fail"
    part = next(p for p in result.parts if p.func == func)
    assert part.status == "fail"
    assert all(p.passed for p in result.parts if p.func != func)
    text = part.message + " | " + " | ".join(part.hints)
    assert any(f in text for f in fragment.split("|")), text


def test_at_least_three_student_mistakes_per_new_exercise():
    for name in NEW:
        assert sum(w[0] == name for w in WRONG) >= 3, name


def test_hint_levels_go_from_gentle_to_explicit():
    part = grader.exercise("maxpool").parts()[1]
    variant = part.catalogue[0]
    wrong = full_variant(variant, part)
    hints = [grade_part(wrong, part, hint_level=level).hints for level in (1, 2, 3, None)]
    assert hints[0] == [variant.nudges[0]] and hints[1] == [variant.nudges[1]]
    assert hints[2] == hints[3] == [variant.hint]


def test_points_are_the_parts_weights():
    part = grader.exercise("maxpool").parts()[1]
    assert part.points == 2.0
    assert grade_part(part.reference, part).points == 2.0
    assert grade_part(lambda x, dout, k, stride: np.zeros_like(x), part).points == 0.0


@pytest.mark.parametrize("name", FAST)
def test_inputs_follow_the_seed(name):
    """Other seeds, other inputs: an answer hard-coded for one run fails the next."""
    ex = grader.exercise(name)
    a, b = ex.parts(seed=11), ex.parts(seed=12)
    differ = any(not all(np.array_equal(np.asarray(x, dtype=object), np.asarray(y, dtype=object))
                         if not isinstance(x, np.ndarray) else np.array_equal(x, y)
                         for x, y in zip(ca.args, cb.args))
                 for pa, pb in zip(a, b) for ca, cb in zip(pa.cases, pb.cases))
    if name != "moments":   # moments' inputs are the questions themselves
        assert differ, name
    result = grader.grade(name, grader.SOLUTIONS / f"{name}.py")
    assert result.passed


# --------------------------------------------------------------------------- credit and seeds
def test_class_csv_gives_points_per_part(tmp_path, capsys):
    import csv
    from grader_helpers import check
    source = (grader.SOLUTIONS / "conv.py").read_text()
    for student, text in (("alice", source), ("bob", source.replace("db = dy_col.sum(axis=1)", "db = dy_col.mean(axis=1)"))):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "conv.py").write_text(text)
    target = tmp_path / "grades.csv"
    assert check(["conv", "--path", str(tmp_path / "class"), "--csv", str(target), "--seed", "3"]) == 1
    assert "inputs drawn with --seed 3" in capsys.readouterr().out
    rows = {r["student"]: r for r in csv.DictReader(target.open())}
    assert rows["alice"]["score"] == rows["alice"]["max_score"] == "4"
    bob = rows["bob"]
    assert (bob["conv"], bob["score"], bob["max_score"]) == ("fail", "2", "4")
    assert (bob["conv:im2col"], bob["conv:conv2d_forward"], bob["conv:conv2d_backward"]) == ("1", "1", "0")


def test_a_hard_coded_answer_fails_with_another_seed(tmp_path):
    """Outputs memorized for one run's inputs (keyed by shape) pass that run and fail the next."""
    part = grader.exercise("momentum").parts(seed=21)[0]
    table = {c.args[0].shape: tuple(o.tolist() for o in part.reference(*c.args)) for c in part.cases}
    path = tmp_path / "momentum.py"
    path.write_text("import numpy as np\nTABLE = " + repr(table) + "\n"
                    "def momentum_step(p, grad, velocity, lr, momentum, weight_decay, is_slope):\n"
                    "    new_p, v = TABLE[p.shape]\n    return np.array(new_p), np.array(v)\n")
    assert grader.grade("momentum", path, settings=grader.Settings(seed=21)).passed
    assert not grader.grade("momentum", path, settings=grader.Settings(seed=22)).passed


def test_each_run_draws_a_seed_and_shows_it(tmp_path, capsys):
    from grader_helpers import check
    assert check(["--solutions", "relu"]) == 0
    out = capsys.readouterr().out
    assert "inputs drawn with --seed " in out


def test_im2col_failure_is_blamed_before_the_downstream_parts(tmp_path):
    source = (grader.SOLUTIONS / "conv.py").read_text().replace(
        "cols[:, ki, kj] = window.transpose(1, 0, 2, 3)", "cols[:, kj, ki] = window.transpose(1, 0, 2, 3)")
    path = tmp_path / "conv.py"
    path.write_text(source)
    result = grader.grade("conv", path)
    im2col, forward, backward = result.parts
    assert im2col.status == "fail" and "ki (the kernel row) comes before kj" in im2col.hints[0]
    assert forward.status == backward.status == "fail"
    assert forward.hints == backward.hints == [forward.hints[0]] and forward.hints[0].startswith("fix im2col first")


def test_hint_flags_and_the_instructors_cap(tmp_path, capsys):
    from grader_helpers import check
    source = (grader.SOLUTIONS / "maxpool.py").read_text().replace(
        "first = windows(x, k, stride).argmax(axis=-1)", "first = k * k - 1 - windows(x, k, stride)[..., ::-1].argmax(axis=-1)")
    path = tmp_path / "maxpool.py"
    path.write_text(source)
    nudge, explicit = "wrong only in windows with ties: which of the tied entries", "ties go to the LAST maximum"
    for argv, shown, hidden in ((["--hint", "1"], nudge, explicit), ([], explicit, nudge),
                                (["--hint", "3", "--max-hint", "1"], nudge, explicit)):
        assert check(["maxpool", "--path", str(path), *argv]) == 1
        out = capsys.readouterr().out
        assert shown in out and hidden not in out, (argv, out)


def test_class_run_makes_tinyrect_unimportable_except_where_it_is_needed(tmp_path, capsys):
    import csv
    from grader_helpers import check
    wrapper = ("import numpy as np\nfrom tinyrect.functional import relu as _relu\n"
               "def relu_forward(x):\n    return _relu(x).data\n"
               "def relu_backward(x, dout):\n    return np.where(x > 0, dout, 0.0)\n")
    (tmp_path / "class" / "eve").mkdir(parents=True)
    (tmp_path / "class" / "eve" / "relu.py").write_text(wrapper)
    (tmp_path / "class" / "eve" / "tape.py").write_text((grader.SOLUTIONS / "tape.py").read_text())
    target = tmp_path / "grades.csv"
    assert check(["relu", "tape", "--path", str(tmp_path / "class"), "--csv", str(target)]) == 1
    row = next(csv.DictReader(target.open()))
    assert row["relu"] == "error" and "importing tinyrect is not allowed" in row["relu_note"]
    assert row["tape"] == "pass"   # its grader code runs on tinyrect in the student's process
    capsys.readouterr()
    assert check(["relu", "--path", str(tmp_path / "class"), "--csv", str(target), "--allow-tinyrect"]) == 0


def test_missing_reference_solutions_are_a_clear_error(monkeypatch, capsys):
    import sys
    from grader_helpers import check
    monkeypatch.setitem(sys.modules, "tinyrect.exercises.solutions", None)   # as if not installed
    monkeypatch.delitem(sys.modules, "tinyrect.exercises.relu", raising=False)
    assert check(["relu", "--solutions"]) == 2
    err = capsys.readouterr().err
    assert "reference solutions (tinyrect/exercises/solutions/) are not installed" in err and "Traceback" not in err
