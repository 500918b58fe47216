"""`tinyrect check`: the grader passes right answers however they are written, reports stubs and
broken files without tracebacks, guards against in-place edits, NaN, wrong dtypes and endless loops.
Wrong answers: test_exercises_catalogue.py; class folders, CSV and JSON: test_grader_class.py;
hostile files: test_hostile.py.
"""
from pathlib import Path

import numpy as np
import pytest
from grader_helpers import check, write

from tinyrect.exercises import grader

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / "lessons" / "exercises"


# --------------------------------------------------------------------------- right answers pass
def test_reference_solutions_pass_and_agree_with_finite_differences(capsys):
    assert check(["--solutions"]) == 0
    out = capsys.readouterr().out
    assert f"{len(grader.EXERCISES)}/{len(grader.EXERCISES)} exercises pass" in out
    for name in grader.EXERCISES:
        if name.startswith("questions"):   # answered in the question table (test_exercises_questions.py)
            continue
        result = grader.grade(name, grader.SOLUTIONS / f"{name}.py")
        assert result.passed, (name, [(p.func, p.message) for p in result.parts])
        for part in result.parts:
            assert part.fd_error is None or part.fd_error < 1e-7, (name, part.func, part.fd_error)


ALTERNATIVES = {
    "relu": ["""
        import numpy as np
        def relu_forward(x):
            return x * (x > 0)
        def relu_backward(x, dout):
            return dout * (x > 0)
        """, """
        import numpy as np
        def relu_forward(x):
            out = x.copy()
            out[out <= 0] = 0.0
            return out
        def relu_backward(x, dout):
            dx = np.zeros_like(dout)
            mask = x > 0
            dx[mask] = dout[mask]
            return dx
        """],
    "prelu": ["""
        import numpy as np
        def prelu_forward(x, a):
            shape = [1] * x.ndim
            shape[1] = -1
            return np.where(x > 0, x, a.reshape(shape) * x)
        def prelu_backward(x, a, dout):
            shape = [1] * x.ndim
            shape[1] = -1
            neg = x <= 0
            dx = dout * (~neg) + dout * neg * a.reshape(shape)
            n, c = x.shape[:2]
            per = np.einsum('ncp,ncp->c', dout.reshape(n, c, -1), (x * neg).reshape(n, c, -1))
            return dx, (per.sum(keepdims=True) if a.size == 1 else per)
        """, """
        import numpy as np
        def prelu_forward(x, a):
            out = x.astype(np.float64, copy=True)
            for c in range(x.shape[1]):
                slope = a[0] if a.size == 1 else a[c]
                block = out[:, c]
                block[block < 0] *= slope
            return out
        def prelu_backward(x, a, dout):
            dx = dout.copy()
            da = np.zeros_like(a)
            for c in range(x.shape[1]):
                i = 0 if a.size == 1 else c
                neg = x[:, c] <= 0
                dx[:, c][neg] *= a[i]
                da[i] += np.sum(dout[:, c][neg] * x[:, c][neg])
            return dx, da
        """],
    "linear": ["""
        import numpy as np
        def linear_forward(x, w, b):
            return np.einsum('nj,ij->ni', x, w) + b[None, :]
        def linear_backward(x, w, b, dout):
            dw = sum(np.outer(dout[s], x[s]) for s in range(x.shape[0]))
            return np.einsum('ni,ij->nj', dout, w), dw, np.sum(dout, axis=0)
        """],
    "conv": ["""
        import numpy as np
        from numpy.lib.stride_tricks import sliding_window_view

        def _pad(x, p):
            return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))

        def im2col(x, k, stride=1, padding=0):
            win = sliding_window_view(_pad(x, padding), (k, k), axis=(2, 3))[:, :, ::stride, ::stride]
            n, c, ho, wo = win.shape[:4]
            return win.transpose(1, 4, 5, 0, 2, 3).reshape(c * k * k, n * ho * wo)

        def conv2d_forward(x, w, b, stride=1, padding=0):
            n, f = x.shape[0], w.shape[0]
            ho = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
            wo = (x.shape[3] + 2 * padding - w.shape[2]) // stride + 1
            out = w.reshape(f, -1) @ im2col(x, w.shape[2], stride, padding) + b[:, None]
            return out.reshape(f, n, ho, wo).transpose(1, 0, 2, 3)

        def conv2d_backward(x, w, b, dout, stride=1, padding=0):
            # direct loops over output positions, gradients accumulated with +=
            k = w.shape[2]
            xp = _pad(x, padding)
            dxp = np.zeros_like(xp)
            dw = np.zeros_like(w)
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    patch = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
                    g = dout[:, :, i, j]
                    dw += np.einsum('nf,nckl->fckl', g, patch)
                    dxp[:, :, i * stride:i * stride + k, j * stride:j * stride + k] += np.einsum('nf,fckl->nckl', g, w)
            h, wd = x.shape[2], x.shape[3]
            return dxp[:, :, padding:padding + h, padding:padding + wd], dw, dout.sum(axis=(0, 2, 3))
        """],
    "init": ["""
        import numpy as np
        def compute_fans(weight_shape):
            rf = int(np.prod(weight_shape[2:])) if len(weight_shape) > 2 else 1
            return np.int64(weight_shape[1] * rf), np.int64(weight_shape[0] * rf)
        def he_std(fan_in, a=0.0):
            gain = np.sqrt(2.0 / (1 + a ** 2))
            return gain / np.sqrt(fan_in)
        def xavier_std(fan_in, fan_out):
            return np.sqrt(2.0 / (fan_in + fan_out))
        """],
    "variance": ["""
        import numpy as np
        def forward_variance_ratio(n, var_w, a, L):
            r = 1
            for l in range(2, L + 1):
                r *= 0.5 * (1 + a * a) * n * var_w
            return r
        def backward_variance_ratio(n_hat, var_w, a, L):
            return float(np.prod([0.5 * (1 + a ** 2) * n_hat * var_w] * (L - 1)))
        """],
}
ALT_CASES = [(name, i) for name, sources in ALTERNATIVES.items() for i in range(len(sources))]


@pytest.mark.parametrize("name,index", ALT_CASES, ids=[f"{n}-{i}" for n, i in ALT_CASES])
def test_alternative_correct_implementations_pass(tmp_path, name, index):
    path = write(tmp_path, f"{name}.py", ALTERNATIVES[name][index])
    result = grader.grade(name, path)
    assert result.passed, [(p.func, p.message, p.hints) for p in result.parts]
    assert result.max_error < 1e-12


# --------------------------------------------------------------------------- stubs and broken files
def test_stubs_report_not_implemented_for_every_exercise(capsys):
    for name in grader.EXERCISES:
        result = grader.grade(name, STUBS / f"{name}.py")
        assert result.status == "not implemented", name
        assert all(p.status == "not implemented" for p in result.parts), name
    assert check(["--path", str(STUBS)]) == 1
    out = capsys.readouterr().out
    assert out.count("not implemented yet") >= 2 * len(grader.EXERCISES)
    assert "Traceback" not in out and f"0/{len(grader.EXERCISES)} exercises pass" in out


def test_stub_files_state_their_contracts():
    for name in grader.EXERCISES:
        ex = grader.exercise(name)
        source = (STUBS / ex.FILENAME).read_text()
        for func in ex.FUNCTIONS:
            assert f"def {func}(" in source or f"\n{func} = ..." in source, (name, func)
        unanswered = "NotImplementedError" in source or "= ..." in source   # a questions file: q1 = ...
        assert unanswered and f"tinyrect check {name}" in source


def test_half_done_file_is_not_implemented_yet(tmp_path):
    path = write(tmp_path, "relu.py", """
        import numpy as np
        def relu_forward(x):
            return np.maximum(x, 0)
        def relu_backward(x, dout):
            raise NotImplementedError
        """)
    result = grader.grade("relu", path)
    assert result.status == "not implemented" and result.parts[0].passed


@pytest.mark.parametrize("source,fragment", [
    ("import numpy as np\ndef prelu_forward(x, a)\n    return x\n", "syntax error on line 2"),
    ("import numpy as np\n1 / 0\n", "raised ZeroDivisionError"),
    ("import sys\nsys.exit(3)\n", "raised SystemExit"),
    ("import not_a_module_tinyrect\n", "ModuleNotFoundError"),
])
def test_a_file_that_cannot_be_imported_is_reported(tmp_path, source, fragment, capsys):
    path = write(tmp_path, "prelu.py", source)
    result = grader.grade("prelu", path)
    assert result.status == "error" and fragment in result.message, result.message
    assert check(["prelu", "--path", str(path)]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "Traceback" not in out


def test_raising_and_wrong_shape_name_the_exercise_and_shapes(tmp_path, capsys):
    path = write(tmp_path, "prelu.py", """
        import numpy as np
        def prelu_forward(x, a):
            return np.maximum(x, 0).sum(axis=0)
        def prelu_backward(x, a, dout):
            raise ValueError("oops")
        """)
    assert check(["prelu", "--path", str(path)]) == 1
    out = capsys.readouterr().out
    assert "prelu     FAIL" in out
    assert "out has shape (3,), expected (4, 3) with x (4, 3), a (1,)" in out
    assert "raised ValueError: oops (line 6: `raise ValueError(\"oops\")`) with x (4, 3)" in out


@pytest.mark.parametrize("body,fragment", [
    ("x *= 1.0\n    x[x < 0] = 0\n    return x", "modified its input `x` in place"),
    ("return np.maximum(x, 0).astype(np.float32)", "dtype float32, expected float64"),
    ("out = np.maximum(x, 0)\n    out[0] = np.nan\n    return out", "contains nan"),
    ("return np.maximum(x, 0).tolist()", "return a NumPy array"),
    ("print('debugging ' * 100)\n    return np.abs(x)", "|y| is not ReLU"),
])
def test_guards(tmp_path, body, fragment, capsys):
    path = write(tmp_path, "relu.py", "import numpy as np\nfrom tinyrect.exercises.solutions.relu import relu_backward\n"
                 f"def relu_forward(x):\n    {body}\n")
    result = grader.grade("relu", path, allow_reference=True)
    part = result.parts[0]
    assert part.status == "fail", body
    assert fragment in part.message + " ".join(part.hints), (part.message, part.hints)
    assert "debugging" not in capsys.readouterr().out   # the grader's own output stays clean
    assert ("debugging" in result.output) == ("print" in body)   # the student's prints are kept for them


def test_using_the_reference_solutions_or_patching_numpy_is_caught(tmp_path):
    path = write(tmp_path, "relu.py", "from tinyrect.exercises.solutions.relu import *\n")
    result = grader.grade("relu", path)
    assert result.status == "error" and "importing the reference solution" in result.message, result.message
    assert not result.passed
    where = np.where
    path = write(tmp_path, "prelu.py", (grader.SOLUTIONS / "prelu.py").read_text()
                 + "\nnp.where = lambda c, a, b: a\n")
    result = grader.grade("prelu", path)
    assert not result.passed and result.parts[1].status == "fail"
    assert any("replaces NumPy's own np.where" in n for n in result.notes), result.notes
    assert np.where is where


@pytest.mark.parametrize("name,source", [
    ("linear", """
        import numpy as np
        def linear_forward(x, w, b):
            return (x.astype(np.float32) @ w.T.astype(np.float32) + b.astype(np.float32)).astype(np.float64)
        def linear_backward(x, w, b, dout):
            return dout @ w, dout.T @ x, dout.sum(axis=0)
        """),
    ("relu", """
        import numpy as np
        def relu_forward(x):
            return np.maximum(x.astype(np.float32), 0).astype(np.float64)
        def relu_backward(x, dout):
            return np.where(x > 0, dout, 0.0)
        """),
])
def test_float32_arithmetic_inside_a_float64_answer_fails(tmp_path, name, source):
    """Measured: rel error 7e-08 (linear) and 4e-08 (relu); a right float64 answer is ~1e-16."""
    part = grader.grade(name, write(tmp_path, f"{name}.py", source)).parts[0]
    assert part.status == "fail" and 1e-9 < part.error < 1e-6
    assert part.hints == [part.hints[0]] and "float32" in part.hints[0]


def test_an_endless_loop_is_stopped_and_the_next_function_still_graded(tmp_path):
    path = write(tmp_path, "variance.py", """
        def forward_variance_ratio(n, var_w, a, L):
            while True:
                pass
        def backward_variance_ratio(n_hat, var_w, a, L):
            return (0.5 * (1 + a * a) * n_hat * var_w) ** (L - 1)
        """)
    result = grader.grade("variance", path, seconds=0.3)
    assert result.parts[0].status == "error", result.parts[0]
    assert "timed out after 0.3 s in forward_variance_ratio" in result.parts[0].message
    assert result.parts[1].passed and result.status == "error"


def test_each_load_is_fresh_and_helpers_stay_with_their_student(tmp_path):
    for student, slope in (("ann", "1.0"), ("ben", "0.0")):
        write(tmp_path / student, "helpers.py", f"SLOPE = {slope}\n")
        write(tmp_path / student, "relu.py", """
            import numpy as np
            from helpers import SLOPE
            def relu_forward(x):
                return np.maximum(x, 0) * SLOPE
            def relu_backward(x, dout):
                return np.where(x > 0, dout, 0.0)
            """)
    assert grader.grade("relu", tmp_path / "ann" / "relu.py").passed
    assert not grader.grade("relu", tmp_path / "ben" / "relu.py").passed
    path = tmp_path / "ben" / "relu.py"
    path.write_text(path.read_text().replace("* SLOPE", ""))
    assert grader.grade("relu", path).passed
    assert not list(tmp_path.rglob("__pycache__")), "the grader wrote bytecode into a student's folder"


# --------------------------------------------------------------------------- the command
def test_list_and_bad_usage(tmp_path, capsys):
    assert check(["--list"]) == 0
    out = capsys.readouterr().out
    for name in grader.EXERCISES:
        assert name in out
    assert check(["softmax"]) == 2
    assert check(["--path", str(tmp_path / "nowhere")]) == 2
    write(tmp_path, "notes.py", "x = 1\n")
    assert check(["--path", str(tmp_path / "notes.py")]) == 2


def test_exit_code_and_exercise_inferred_from_functions(tmp_path, capsys):
    good = write(tmp_path, "my_answer.py", (grader.SOLUTIONS / "prelu.py").read_text())
    assert check(["--path", str(good)]) == 0
    assert "prelu     pass" in capsys.readouterr().out
    bad = write(tmp_path, "other.py", (grader.SOLUTIONS / "prelu.py").read_text().replace(
        "dx = np.where(x > 0, dout,", "dx = np.where(x >= 0, dout,"))
    assert check(["prelu", "--path", str(bad)]) == 1
    assert "at y == 0 exactly" in capsys.readouterr().out


def test_default_files_current_folder_then_lessons(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "lessons" / "exercises", "init.py", (grader.SOLUTIONS / "init.py").read_text())
    write(tmp_path, "init.py", "def unrelated():\n    pass\n")   # not the exercise: skipped
    assert check(["init"]) == 0
    write(tmp_path, "init.py", (STUBS / "init.py").read_text())  # the exercise: preferred
    assert check(["init"]) == 1
    assert "not implemented yet" in capsys.readouterr().out


def test_cli_entry_point(capsys):
    from tinyrect.cli import main
    assert main(["check", "--solutions", "variance"]) == 0
    assert "1/1 exercise pass" in capsys.readouterr().out
