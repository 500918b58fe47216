"""`tinyrect reproduce`: report structure, atomic replacement of the output folder, bad flags.

The runs use the hidden `--smoke` preset (nets of width 4, one epoch on 192 digits), so they test
the machinery, not the paper: the claims' booleans are checked for type, not value.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyrect.reproduce import depth, slopes
from tinyrect.reproduce.models import param_groups, plain_net, slopes_net

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("variance", "depth", "slopes", "accuracy")


def _reproduce(tmp_path, *flags):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "tinyrect", "reproduce", *flags], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """One smoke run of every section, then a second one (depth only) into the same folder."""
    tmp = tmp_path_factory.mktemp("reproduce")
    first = _reproduce(tmp, "--smoke", "--no-progress", "--out", "out")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-4000:]
    names = {p.name for p in (tmp / "out").iterdir()}
    results = json.loads((tmp / "out" / "results.json").read_text())
    report = (tmp / "out" / "report.md").read_text()
    second = _reproduce(tmp, "--smoke", "--no-progress", "--out", "out", "--sections", "depth")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-4000:]
    return dict(tmp=tmp, first=first, results=results, report=report, names=names, second=second)


def test_report_files_and_results_keys(smoke_run):
    results, report = smoke_run["results"], smoke_run["report"]
    for key in SECTIONS + ("config",):
        assert key in results
    for section in SECTIONS:
        r = results[section]
        assert "error" not in r, f"{section} failed: {r.get('error')}"
        assert isinstance(r["claim_held"], bool)
        assert r["claims"], f"{section} has no claims"
        for claim in r["claims"]:
            assert isinstance(claim["claim_held"], bool) and claim["name"] and claim["definition"]
    cfg = results["config"]
    assert set(cfg["versions"]) >= {"tinyrect", "numpy", "numba"}
    assert set(cfg["seconds"]) >= set(SECTIONS) | {"total"}
    assert "## Claims" in report
    for title in ("Figures 2 and 3", "Table 1", "Table 2", "Variance"):
        assert title in report
    assert report.count("**Verdict:") >= 3
    names = smoke_run["names"]
    assert {".tinyrect-reproduce", "report.md", "results.json", "depth_curves.png", "depth_sweep.png",
            "slopes.png", "accuracy.png", "variance.png"} <= names
    # every figure the report links was written
    for line in report.splitlines():
        if line.startswith("!["):
            assert line.split("(")[1].rstrip(")") in names
    assert "[depth] done in" in smoke_run["first"].stdout


def test_rerun_replaces_the_whole_folder(smoke_run):
    out = smoke_run["tmp"] / "out"
    names = {p.name for p in out.iterdir()}
    assert "slopes.png" not in names and "variance.png" not in names, "old files survived the rerun"
    assert {"report.md", "results.json", "depth_curves.png"} <= names
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"config", "depth"}
    leftovers = [p.name for p in smoke_run["tmp"].iterdir() if p.name.startswith(".out.")]
    assert leftovers == [], f"temporary folders left behind: {leftovers}"


@pytest.mark.parametrize("flags, message", [
    (("--dataset", "nope"), "unknown data set"),
    (("--seeds", "0"), "must be at least 1"),
    (("--sections", "depth,nope"), "unknown section"),
    (("--dataset", "mnist:/no/such/folder"), "cannot load"),
])
def test_bad_flags_exit_2_and_leave_output_alone(tmp_path, flags, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".tinyrect-reproduce").write_text("")
    (out / "report.md").write_text("previous report")
    r = _reproduce(tmp_path, "--smoke", "--out", "out", *flags)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert (out / "report.md").read_text() == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    r = _reproduce(tmp_path, "--smoke", "--out", "mine")
    assert r.returncode == 2 and "did not write" in r.stderr
    assert (out / "thesis.tex").read_text() == "precious"


# ----------------------------------------------------------------------------- pieces, in-process
def test_plain_net_shapes_and_init_stds():
    net = plain_net(5, width=6, init="he", seed=0)
    assert len(net.weights) == 5 and len(net.acts) == 4
    w = net.weights[2].weight.data            # fan_in = 9·6
    assert abs(w.std() - np.sqrt(2 / 54)) < 0.25 * np.sqrt(2 / 54)
    xavier = plain_net(5, width=6, init="xavier", seed=0).weights[2].weight.data
    assert abs(xavier.std() / w.std() - np.sqrt(0.5)) < 0.2
    with pytest.raises(ValueError, match="depth counts weight layers"):
        plain_net(1)
    with pytest.raises(ValueError, match="unknown init"):
        plain_net(3, init="glorot")


def test_slopes_net_has_the_papers_layout():
    net = slopes_net(width=4, activation="prelu_shared")
    assert net.names == slopes.PAPER_LAYERS + ["fc3"]
    assert len(net.acts) == 13 and all(a.weight.data.size == 1 for a in net.acts)
    groups = param_groups(net, 5e-4)
    no_decay = {id(p) for p in groups[1]["params"]}
    assert all(id(a.weight) in no_decay for a in net.acts)      # no decay on a (Sec. 2.1)


def test_spearman_and_classify():
    assert slopes.spearman([3, 2, 1]) == pytest.approx(-1.0)
    assert slopes.spearman([1, 1, 2, 3]) > 0.9
    assert slopes.spearman(slopes.PAPER_CHANNEL) < -0.5
    stalled = depth.classify([2.3] * 30, None, 10)
    assert stalled["stalled"] and not stalled["converged"] and stalled["start"] is None
    good = depth.classify([2.3, 2.0, 1.5] + [0.2] * 30, None, 10)
    assert good["converged"] and good["start"] == 1
    assert depth.classify([2.3, 1.0], 2, 10)["diverged"]


def test_ctrl_c_keeps_the_previous_output(tmp_path):
    """SIGINT while training: exit 130, the previous folder untouched, the finished part in .partial."""
    import signal

    out = tmp_path / "out"
    out.mkdir()
    (out / ".tinyrect-reproduce").write_text("")
    (out / "report.md").write_text("previous report")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "tinyrect", "reproduce", "--smoke", "--no-progress",
                             "--out", "out", "--sections", "depth,slopes"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stdout:                      # wait until the second section has started
        seen.append(line)
        if line.startswith("[slopes] starting"):
            proc.send_signal(signal.SIGINT)
            break
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, "".join(seen) + stdout + stderr
    assert (out / "report.md").read_text() == "previous report"
    partial = tmp_path / "out.partial"
    assert (partial / "results.json").exists() and "PARTIAL" in (partial / "report.md").read_text()
    partial_results = json.loads((partial / "results.json").read_text())
    assert "depth" in partial_results and "slopes" not in partial_results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.partial"]
