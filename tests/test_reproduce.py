"""`tinyrect reproduce`: report structure, atomic replacement of the output folder, bad flags.

The runs use the hidden `--smoke` preset (nets of width 4, one epoch on 192 digits), so they test
the machinery, not the paper: every number in results.json is checked against the recorded
losses, slopes and errors it is derived from, and the report's claim table against results.json.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyrect import train
from tinyrect.reproduce import depth, slopes
from tinyrect.reproduce.models import param_groups, plain_net, slopes_net

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("variance", "depth", "input_scale", "slopes", "accuracy")


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
    pngs = {p.name: p.read_bytes() for p in (tmp / "out").glob("*.png")}
    results = json.loads((tmp / "out" / "results.json").read_text())
    report = (tmp / "out" / "report.md").read_text()
    second = _reproduce(tmp, "--smoke", "--no-progress", "--out", "out", "--sections", "depth")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-4000:]
    return dict(tmp=tmp, first=first, results=results, report=report, names=names, second=second,
                pngs=pngs)


def test_report_files_and_results_keys(smoke_run):
    results, report = smoke_run["results"], smoke_run["report"]
    assert set(results) == set(SECTIONS) | {"config"}
    for section in SECTIONS:
        assert "error" not in results[section], f"{section} failed: {results[section].get('error')}"
    cfg = results["config"]
    assert set(cfg["versions"]) >= {"tinyrect", "numpy", "numba"}
    assert set(cfg["seconds"]) >= set(SECTIONS) | {"total"}
    assert cfg["seconds"]["total"] >= max(cfg["seconds"][s] for s in SECTIONS)
    for title in ("Figures 2 and 3", "Table 1", "Table 2", "Variance", "Input scale"):
        assert title in report
    names = smoke_run["names"]
    assert {".tinyrect-reproduce", "report.md", "results.json"} <= names
    linked = [line.split("(")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]
    assert set(linked) == {n for n in names if n.endswith(".png")}
    assert {"depth_error.png", "depth_sweep.png", "slopes_trajectory.png", "input_scale.png", "accuracy.png",
            "variance.png"} <= set(linked)
    for name in linked:                         # real PNGs with something drawn in them
        data = smoke_run["pngs"][name]
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, name
    assert "[depth] done in" in smoke_run["first"].stdout


def _claim_rows(report):
    """{(section, claim name): the status in the report's claim table}."""
    rows = {}
    for line in report.split("## Claims")[1].split("\n## ")[0].splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) == 6 and cells[0] in SECTIONS:
            rows[cells[0], cells[1]] = cells[5].strip("*")
    return rows


def test_claim_table_shows_each_claims_measured_status(smoke_run):
    results, rows = smoke_run["results"], _claim_rows(smoke_run["report"])
    expected = {}
    for section in SECTIONS:
        for c in results[section]["claims"]:
            status = "not reached" if c.get("reached") is False else ("held" if c["claim_held"] else "not held")
            expected[section, c["name"]] = status
        held = all(c["claim_held"] for c in results[section]["claims"] if c["name"] not in ("sweep_fig2", "sweep_fig3"))
        assert results[section]["claim_held"] == held, section
    assert rows == expected


def test_depth_numbers_follow_from_the_recorded_losses(smoke_run):
    r = smoke_run["results"]["depth"]
    cfg, ln_k = r["config"], r["ln_classes"]
    assert ln_k == pytest.approx(np.log(10))
    assert sorted((x["depth"], x["init"], x["seed"], x["lr"]) for x in r["runs"]) == sorted(depth.grid(cfg))
    assert {x["lr"] for x in r["runs"]} == set(cfg["lrs"]) and len(cfg["lrs"]) > 1     # the lr sweep ran
    per_epoch = -(-cfg["n_train"] // cfg["batch_size"])
    for run in r["runs"]:
        assert run["input_scale"] == 1.0 and run["augmentation"] == "random shifts of up to ±1 px"
        assert run["outcome"] == depth.classify(run["losses"], run["diverged_at"], 10)["outcome"]
        losses = run["losses"]
        if run["diverged_at"] is None:
            assert run["steps"] == len(losses) == cfg["epochs"] * per_epoch
            assert len(run["test_errors"]) == cfg["epochs"] and run["test_error"] == run["test_errors"][-1]
        assert run["start"] == train.first_below(losses, 0.9 * ln_k)
        assert run["final"] == pytest.approx(np.mean(losses[-20:]))
        assert run["converged"] == (run["diverged_at"] is None and run["final"] < 0.5 * ln_k)
        for e in run["test_errors"]:             # errors on the 360 test digits: multiples of 1/360
            assert 0 <= e <= 1 and abs(e * 360 - round(e * 360)) < 360 * 6e-6   # (rounded to 5 digits)
    for d in cfg["depths"]:
        s = r["per_depth"][str(d)]
        for init in cfg["inits"]:
            runs = [x for x in r["runs"] if x["depth"] == d and x["init"] == init and x["lr"] == cfg["lr"]]
            assert s[init]["converged"] == sum(x["converged"] for x in runs)
            assert s[init]["mean_test_error"] == pytest.approx(np.mean([x["test_error"] for x in runs]))


def test_tables_numbers_follow_from_the_runs(smoke_run):
    slopes_r, acc = smoke_run["results"]["slopes"], smoke_run["results"]["accuracy"]
    for variant, v in slopes_r["variants"].items():
        per_seed = np.array([s["slopes"] for s in v["seeds"]])
        assert per_seed.shape == (len(slopes_r["config"]["seeds"]), 13)
        assert v["mean_slopes"] == pytest.approx(per_seed.mean(axis=0), abs=1e-4)
        assert v["first"] == pytest.approx(v["mean_slopes"][0], abs=1e-4)
        assert v["max_change"] == pytest.approx(np.max(np.abs(per_seed.mean(axis=0) - 0.25)), abs=1e-6)
        eq = v["equilibrium"]                   # recomputed from the stored seed-mean trajectory
        steps, a = np.array(v["trajectory"]["steps"]), np.array(v["trajectory"]["a"])
        window = np.flatnonzero(steps >= 0.8 * eq["steps"])
        assert eq["max_drift"] == pytest.approx(np.abs(a[window[-1]] - a[window[0]]).max(), abs=1e-4)
        assert eq["reached"] == (eq["max_drift"] < 0.01) and eq["steps"] == steps[-1]
        assert a[0] == pytest.approx([0.25] * 13) and a[-1] == pytest.approx(v["mean_slopes"], abs=1e-3)
        # the accuracy section reads the same trained nets: the same test errors
        assert acc["variants"][variant]["test_errors"] == [s["test_error"] for s in v["seeds"]]
    conv1 = all(v["first"] > v["deeper_mean"] for v in slopes_r["variants"].values())
    claims = {c["name"]: c for c in slopes_r["claims"]}
    assert claims["conv1_high"]["claim_held"] == conv1
    assert claims["conv1_high"]["reached"] == all(v["equilibrium"]["reached"] for v in slopes_r["variants"].values())
    assert claims["deeper_smaller"]["reached"] == slopes_r["variants"]["prelu_channel"]["equilibrium"]["reached"]
    for variant, v in acc["variants"].items():
        assert v["mean"] == pytest.approx(np.mean(v["test_errors"]))
        assert v["std"] == pytest.approx(np.std(v["test_errors"], ddof=1))
    gains = {k: acc["variants"]["relu"]["mean"] - acc["variants"][k]["mean"] for k in acc["gains"]}
    assert acc["gains"] == pytest.approx(gains)
    assert {c["name"]: c["claim_held"] for c in acc["claims"]}["prelu_better"] == all(g > 0 for g in gains.values())


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


def test_input_scale_runs_and_probes(smoke_run):
    r = smoke_run["results"]["input_scale"]
    cfg = r["config"]
    assert sorted({x["input_scale"] for x in r["runs"]}) == [1.0, 60.0]
    standardized = [x for x in r["runs"] if x["input_scale"] == 1.0]
    depth_runs = smoke_run["results"]["depth"]["runs"]
    for x in standardized:      # reused from the depth section, not trained twice
        key = (x["depth"], x["init"], x["seed"], x["lr"])
        twin = [d for d in depth_runs if (d["depth"], d["init"], d["seed"], d["lr"]) == key]
        assert twin and twin[0]["losses"] == x["losses"]
    by = {(p["init"], p["scale"]): p for p in r["probes"]}
    for init in cfg["inits"]:   # 60x the input: 60² = 2^11.8 in every layer's variance (ReLU is homogeneous)
        shift = np.array(by[init, 60]["log2_var_y"]) - np.array(by[init, 1]["log2_var_y"])
        assert shift == pytest.approx(np.log2(3600), abs=0.05)
    xavier = [t for t in r["table"].values() if t["init"] == "xavier"]
    assert r["claims"][0]["claim_held"] == any(t["median_start"] < u["median_start"] for t in xavier for u in xavier
                                               if t["lr"] == u["lr"] and t["scale"] > u["scale"])


def test_equilibrium_and_outcomes():
    flat = [(s, [0.25 + 0.001 * (s > 50)] * 13) for s in range(0, 101, 5)]
    moving = [(s, [0.25 + 0.002 * s] * 13) for s in range(0, 101, 5)]
    assert slopes.equilibrium([flat, flat], 100) == dict(reached=True, max_drift=0.0, steps=100)
    eq = slopes.equilibrium([moving, flat], 100)          # seed mean: 0.001 per step over 20 steps
    assert not eq["reached"] and eq["max_drift"] == pytest.approx(0.02)
    ln_k = np.log(10)
    assert depth.classify(list(np.linspace(2.3, 1.0, 200)), None, 10)["outcome"] == "not enough steps"
    assert depth.classify([2.3] * 200, None, 10)["outcome"] == "never started"
    done = depth.classify([2.3] * 50 + [0.1] * 150, None, 10)
    assert done["outcome"] == "converged" and done["converged_at"] == 50 + int(np.ceil(20 * (2.3 - 0.5 * ln_k) / 2.2))
    assert depth.classify([2.3] * 50 + [1.5] * 150, None, 10)["outcome"] == "stalled"
    assert depth.classify([2.3, 1.0], 3, 10)["outcome"] == "diverged"


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


_CALLS = []


def _square(x, on_step=None):
    _CALLS.append(x)
    return x * x


def test_run_cached_trains_each_key_once():
    from tinyrect.reproduce import pool

    _CALLS.clear()
    jobs = [(_square, dict(x=v)) for v in (2, 3, 2)]
    keys = [f"test-square-{v}" for v in (2, 3, 2)]
    assert pool.run_cached(jobs, keys) == [4, 9, 4] and _CALLS == [2, 3]       # the repeated key: once
    assert pool.run_cached(jobs[:1], keys[:1]) == [4] and _CALLS == [2, 3]     # a later call: reused


def test_train_run_is_seeded_and_records_its_recipe():
    from tinyrect.data import digits
    from tinyrect.reproduce.recipe import train_run

    data = digits()
    cfg = dict(epochs=2, lr=0.01, momentum=0.9, weight_decay=5e-4, batch_size=64, max_train=128, shift=1)

    def one(**kwargs):
        return train_run(plain_net(3, 4, data.input_shape, 10, "relu", "he", seed=0), data, cfg, seed=0, **kwargs)

    a, b = one(), one()
    assert a["losses"] == b["losses"] and a["steps"] == 4 == len(a["losses"])
    assert (a["lr"], a["input_scale"], a["augmentation"], a["n_train"]) == (0.01, 1.0, "random shifts of up to ±1 px", 128)
    assert len(a["test_errors"]) == len(a["train_errors"]) == 2 and a["test_error"] == a["test_errors"][-1]
    plain = train_run(plain_net(3, 4, data.input_shape, 10, "relu", "he", seed=0), data, dict(cfg, shift=0), seed=0)
    assert plain["augmentation"] == "none" and plain["losses"][0] != a["losses"][0]
    scaled = one(input_scale=60, lr=0.002)
    assert scaled["input_scale"] == 60.0 and scaled["lr"] == 0.002 and scaled["losses"][0] > 2 * a["losses"][0]


def test_section_verdict_never_calls_unreached_claims_not_held():
    """A claim whose phenomenon did not show (e.g. slopes not at equilibrium) is neither held nor
    not held, and the section's verdict must not turn it into 'not held'."""
    from tinyrect.reproduce.report import verdict

    def section(*claims):   # (claim_held, reached) pairs
        return dict(claims=[dict(name=f"c{i}", claim_held=h, reached=r) for i, (h, r) in enumerate(claims)],
                    claim_held=all(h for h, _ in claims))

    assert verdict(section((False, False), (False, False)))[0].startswith("**Verdict: not reached**")
    assert verdict(section((True, True), (False, False)))[0].startswith("**Verdict: held where reached**")
    assert verdict(section((True, True), (False, True)))[0].startswith("**Verdict: not held**")
    assert verdict(section((True, True), (True, True)))[0].startswith("**Verdict: held**")
