"""The capstone: a student's own pieces plugged into tinyrect (tinyrect.exercises.use) are
gradchecked and train; wrong pieces are caught at the op or at the result."""
import runpy
import textwrap

import numpy as np
import pytest

from tinyrect.exercises import capstone, grader, use
from tinyrect.exercises.judging import grade_part

SOLUTIONS = grader.SOLUTIONS


def reference_namespace():
    ns = {}
    for name in ("prelu", "conv", "init"):
        ns.update(runpy.run_path(str(SOLUTIONS / f"{name}.py")))
    return ns


def test_plugged_reference_ops_pass_tinyrects_gradcheck():
    reports = use(reference_namespace()).gradcheck()
    assert set(reports) == {"prelu (channel-wise)", "prelu (channel-shared)", "conv2d"}
    assert all(r.passed for r in reports.values()), {k: r.max_rel_error for k, r in reports.items()}


def test_plugged_wrong_backward_fails_gradcheck():
    ns = reference_namespace()
    right = ns["prelu_backward"]
    ns["prelu_backward"] = lambda x, a, d: (np.where(x > 0, d, 0.0), right(x, a, d)[1])   # ReLU's dx
    reports = use(ns).gradcheck()
    assert not reports["prelu (channel-wise)"].passed and reports["conv2d"].passed


def test_use_reads_a_folder_and_names_missing_pieces(tmp_path):
    for name in ("prelu", "conv", "init"):
        (tmp_path / f"{name}.py").write_text((SOLUTIONS / f"{name}.py").read_text())
    assert use(tmp_path).gradcheck()["conv2d"].passed
    (tmp_path / "init.py").unlink()
    with pytest.raises(ValueError, match="no function he_std, xavier_std"):
        use(tmp_path)


def test_plugged_net_trains_in_float32():
    net = use(reference_namespace()).plain_net(3, width=4, activation="prelu", seed=0)
    import tinyrect as tr
    x = tr.Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)).astype(np.float32))
    out = net(x)
    out.sum().backward()
    assert out.dtype == np.float32 and out.shape == (2, 10)
    assert all(p.grad is not None and p.grad.dtype == np.float32 for p in net.parameters())


def write(tmp_path, **replace):
    """A student's folder: the reference pieces, with some functions replaced, and capstone.py."""
    for name in ("prelu", "conv", "init"):
        source = (SOLUTIONS / f"{name}.py").read_text()
        (tmp_path / f"{name}.py").write_text(source + "\n" + textwrap.dedent(replace.get(name, "")))
    (tmp_path / "capstone.py").write_text((SOLUTIONS / "capstone.py").read_text())
    return tmp_path / "capstone.py"


def test_reference_capstone_passes_and_stub_is_not_implemented(tmp_path):
    result = grader.grade("capstone", write(tmp_path), seconds=capstone.TIMEOUT)
    assert result.status == "pass", [(p.func, p.message) for p in result.parts]
    assert [p.func for p in result.parts] == ["PReLU on the tape", "conv2d on the tape", "Table 2", "Fig. 3"]
    stub = grader.grade("capstone", grader.Path(__file__).resolve().parents[1] / "lessons/exercises/capstone.py")
    assert stub.status == "not implemented"


def _op_parts():
    return capstone.parts()[:2]


def _pieces_fn(tmp_path, **replace):
    import importlib.util
    import sys
    path = write(tmp_path, **replace)
    spec = importlib.util.spec_from_file_location(f"capstone_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(tmp_path))
    try:
        for name in ("prelu", "conv", "init"):
            sys.modules.pop(name, None)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("prelu", "conv", "init"):
            sys.modules.pop(name, None)
    return module.pieces


@pytest.mark.parametrize("which,source,fragment", [
    ("prelu", """
def prelu_backward(x, a, dout):
    dx = np.where(x > 0, dout, 0.0)
    return dx, (dout * np.minimum(x, 0)).sum(axis=tuple(d for d in range(x.ndim) if d != 1)).reshape(a.shape) \\
        if a.size > 1 else np.array([(dout * np.minimum(x, 0)).sum()])
""", "PReLU on the tape"),
    ("conv", """
_right_backward = conv2d_backward
def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = _right_backward(x, w, b, dout, stride, padding)
    return dx, dw / x.shape[0], db
""", "conv2d on the tape"),
])
def test_wrong_piece_fails_its_op_part(tmp_path, which, source, fragment):
    fn = _pieces_fn(tmp_path, **{which: source})
    results = [grade_part(fn, part) for part in _op_parts()]
    failed = [r.func for r in results if r.status == "fail"]
    assert failed == [fragment], [(r.func, r.message) for r in results]


def test_wrong_he_std_fails_fig3_with_its_numbers(tmp_path):
    fn = _pieces_fn(tmp_path, init="def he_std(fan_in, a=0.0):\n    return math.sqrt(1.0 / fan_in)\n")
    part = capstone.parts()[3]
    result = grade_part(fn, part, seconds=capstone.TIMEOUT)
    assert result.status == "fail" and "your He std" in result.message and "check he_std" in result.hints[0]


def test_the_students_capstone_script_trains_their_pieces(tmp_path):
    """`python capstone.py` with pieces() filled in: gradchecks and both small experiments print."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    for name in ("prelu", "conv", "init"):
        (tmp_path / f"{name}.py").write_text((SOLUTIONS / f"{name}.py").read_text())
    stub = (Path(__file__).resolve().parents[1] / "lessons/exercises/capstone.py").read_text()
    filled = stub.replace("def pieces():", "from conv import conv2d_backward, conv2d_forward\n"
                          "from init import he_std, xavier_std\nfrom prelu import prelu_backward, prelu_forward\n\n\n"
                          "def pieces():").replace('    raise NotImplementedError("capstone: return your pieces")',
                                                   "    return dict(globals())")
    (tmp_path / "capstone.py").write_text(filled)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), MPLBACKEND="Agg")
    run = subprocess.run([sys.executable, "capstone.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("gradcheck pass") == 3
    assert "Table 2, small: test accuracy ReLU" in run.stdout and "Fig. 3, small: 30-layer plain net" in run.stdout
