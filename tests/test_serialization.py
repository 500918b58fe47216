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


def test_optimizer_state_round_trips_and_training_resumes_exactly(tmp_path):
    """A checkpoint of model + SGD (momentum buffers under integer keys, a list of param groups)
    + scheduler: resuming from it gives the same weights as never stopping."""
    from tinyrect import nn, optim

    def make():
        model = nn.Sequential(nn.Linear(4, 3), nn.PReLU(), nn.Linear(3, 2))
        model.load_state_dict({k: np.full(v.shape, 0.1 * (i + 1), dtype=v.dtype)
                               for i, (k, v) in enumerate(model.state_dict().items())})
        opt = optim.SGD(optim.param_groups_no_decay(model, 1e-3), lr=0.05, momentum=0.9)
        return model, opt, optim.StepLR(opt, step_size=2, gamma=0.5)

    x = tr.Tensor(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))

    def step(model, opt, sched):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
        sched.step()

    straight = make()
    for _ in range(6):
        step(*straight)

    first = make()
    for _ in range(3):
        step(*first)
    path = tr.save({"model": first[0].state_dict(), "optimizer": first[1].state_dict(),
                    "scheduler": first[2].state_dict(), "epoch": 3}, tmp_path / "ckpt.npz")
    ckpt = tr.load(path)
    assert sorted(ckpt["optimizer"]["state"]) == sorted(first[1].state_dict()["state"])
    assert isinstance(ckpt["optimizer"]["param_groups"], list) and int(ckpt["epoch"]) == 3
    resumed = make()
    resumed[0].load_state_dict(ckpt["model"])
    resumed[1].load_state_dict(ckpt["optimizer"])
    resumed[2].load_state_dict(ckpt["scheduler"])
    assert resumed[1].param_groups[0]["lr"] == first[1].param_groups[0]["lr"]
    for _ in range(3):
        step(*resumed)
    for (k, a), b in zip(straight[0].state_dict().items(), resumed[0].state_dict().values()):
        np.testing.assert_array_equal(np.asarray(a.data if hasattr(a, "data") else a),
                                      np.asarray(b.data if hasattr(b, "data") else b), err_msg=k)


def test_int_keys_lists_of_dicts_and_empty_dicts(tmp_path):
    tree = {"state": {}, "groups": [{"lr": 0.1, "params": [0, 1]}, {"lr": 0.0, "params": [2]}],
            "by_index": {0: {"buf": np.ones(2)}, 7: {"buf": np.zeros(3)}}, "names": ["a", "b"]}
    back = tr.load(tr.save(tree, tmp_path / "t.npz"))
    assert back["state"] == {} and sorted(back["by_index"]) == [0, 7]
    assert [float(g["lr"]) for g in back["groups"]] == [0.1, 0.0]
    assert list(back["groups"][0]["params"]) == [0, 1] and list(back["names"]) == ["a", "b"]
    np.testing.assert_array_equal(back["by_index"][7]["buf"], np.zeros(3))
    with pytest.raises(ValueError, match="start with '#'"):
        tr.save({"#x": 1}, tmp_path / "bad.npz")
