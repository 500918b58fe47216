"""Checkpoints: round trip, nesting, atomic writes, clear errors."""
import os

import numpy as np
import pytest

import tinyrect as tr
from tinyrect import nn


def test_round_trip_model_state(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.PReLU(3))
    path = tr.save(model.state_dict(), tmp_path / "model.npz")
    other = nn.Sequential(nn.Linear(4, 3, seed=123), nn.PReLU(3, init=0.5))
    other.load_state_dict(tr.load(path))
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), other.named_parameters()):
        assert n1 == n2 and p1.dtype == p2.dtype
        np.testing.assert_array_equal(p1.data, p2.data)


def test_nested_dicts_numbers_and_dtypes(tmp_path):
    state = {"model": {"0.weight": np.arange(6.0).reshape(2, 3),
                       "1.weight": tr.Tensor(np.float32([0.25]))},
             "epoch": 7, "lr": 0.01, "note": "he-init"}
    loaded = tr.load(tr.save(state, tmp_path / "ck.npz"))
    assert set(loaded) == {"model", "epoch", "lr", "note"}
    np.testing.assert_array_equal(loaded["model"]["0.weight"], state["model"]["0.weight"])
    assert loaded["model"]["1.weight"].dtype == np.float32
    assert int(loaded["epoch"]) == 7 and float(loaded["lr"]) == 0.01 and str(loaded["note"]) == "he-init"


def test_overwrite_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "ck.npz"      # the folder is created
    tr.save({"a": np.zeros(3)}, path)
    tr.save({"a": np.ones(3)}, path)
    assert os.listdir(tmp_path / "sub") == ["ck.npz"]
    np.testing.assert_array_equal(tr.load(path)["a"], np.ones(3))


def test_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "ck.npz"
    tr.save({"a": np.zeros(3)}, path)
    with pytest.raises(TypeError, match="'b' is a object"):
        tr.save({"a": np.ones(3), "b": object()}, path)
    np.testing.assert_array_equal(tr.load(path)["a"], np.zeros(3))
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint file at"):
        tr.load(tmp_path / "nope.npz")
    tr.save({"a": np.zeros(3)}, tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="did you mean .*x.npz"):
        tr.load(tmp_path / "x")
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a tinyrect checkpoint"):
        tr.load(tmp_path / "junk.npz")
    good = (tmp_path / "x.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="not a"):
        tr.load(tmp_path / "cut.npz")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable tinyrect checkpoint"):
        tr.load(path)


def test_bad_keys_and_inputs():
    with pytest.raises(TypeError, match="expected a dict"):
        tr.save([np.zeros(2)], "/tmp/never.npz")
    with pytest.raises(ValueError, match="without '/'"):
        tr.save({"a/b": np.zeros(2)}, "/tmp/never.npz")
