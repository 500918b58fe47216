"""The training loop on tiny problems. The model here is built from Tensor ops only (a softmax
regression), so these tests do not depend on tinyrect.nn; one test also runs an nn model."""
import json
import os

import numpy as np
import pytest

import tinyrect
from tinyrect.data import DataLoader, digits
from tinyrect.optim import SGD, NonFiniteLossError, StepLR
from tinyrect.tensor import Tensor
from tinyrect.train import DivergedError, History, evaluate, train


class SoftmaxRegression:
    """logits = flatten(x) @ W + b, with the few methods `train` uses."""

    def __init__(self, n_in, n_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.w = Tensor(rng.normal(0, 0.01, (n_in, n_classes)).astype(np.float32), requires_grad=True)
        self.b = Tensor(np.zeros(n_classes, np.float32), requires_grad=True)
        self.training, self.calls, self.grad_enabled = True, 0, []

    def __call__(self, x):
        self.calls += 1
        self.grad_enabled.append(tinyrect.is_grad_enabled())
        return x.reshape(x.shape[0], -1) @ self.w + self.b

    def parameters(self):
        return [self.w, self.b]

    def train(self, mode=True):
        self.training = mode
        return self

    def eval(self):
        return self.train(False)

    def state_dict(self):
        return {"w": self.w.data.copy(), "b": self.b.data.copy()}


@pytest.fixture(scope="module")
def small():
    """200 train / 60 test digits, standardized: a problem softmax regression learns in seconds."""
    return digits().subset(n_train=200, n_test=60, seed=0)


def _fit(data, epochs=2, lr=0.1, **kwargs):
    model = SoftmaxRegression(64, 10)
    opt = SGD(model.parameters(), lr=lr, momentum=0.9)
    kwargs.setdefault("batch_size", 32)
    kwargs.setdefault("progress", False)
    return model, opt, train(model, data, epochs, opt, **kwargs)


def test_training_reduces_loss_and_records_history(small):
    model, _, h = _fit(small, epochs=3)
    assert h.steps == 3 * 7 and len(h.step_loss) == 21 and h.epoch == [1, 2, 3]
    assert np.mean(h.step_loss[-5:]) < 0.5 * np.mean(h.step_loss[:3])  # measured: 2.16 (first 3) -> 0.28 (last 5)
    assert h.train_loss[-1] < h.train_loss[0] and h.test_acc[-1] > 0.8
    assert h.stop_reason == "completed" and not h.interrupted and h.diverged_at_step is None
    loss, acc = evaluate(model, small.x_test, small.y_test, batch_size=7)
    assert loss == pytest.approx(h.test_loss[-1], rel=1e-5) and acc == h.test_acc[-1]
    assert model.training  # left in train mode after the final evaluation restored it
    again = _fit(small, epochs=3)[2]
    assert again.step_loss == h.step_loss  # seeded shuffling: the run is reproducible


def test_evaluate_matches_numpy_and_records_no_graph(small):
    model = SoftmaxRegression(64, 10, seed=3)
    model.grad_enabled.clear()
    loss, acc = evaluate(model, small.x_test, small.y_test, batch_size=16)
    z = small.x_test.reshape(60, -1) @ model.w.data + model.b.data
    logp = z - z.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    assert loss == pytest.approx(-logp[np.arange(60), small.y_test].mean(), rel=1e-5)
    assert acc == pytest.approx(np.mean(z.argmax(1) == small.y_test))
    assert model.grad_enabled == [False] * 4 and model.training


def test_ctrl_c_keeps_what_was_measured(small):
    def interrupt_at_9(step, loss, history):
        if step == 9:
            raise KeyboardInterrupt

    _, _, h = _fit(small, epochs=3, on_step=interrupt_at_9)
    assert h.interrupted and h.stop_reason == "interrupted"
    assert h.steps == 9 and len(h.step_loss) == 9
    assert h.epoch == [1] and len(h.test_acc) == 1  # epoch 2 was unfinished: not in the epoch lists

    class InterruptedInForward(SoftmaxRegression):
        def __call__(self, x):
            if self.training and self.calls == 4:
                raise KeyboardInterrupt
            return super().__call__(x)

    model = InterruptedInForward(64, 10)
    h = train(model, small, 2, SGD(model.parameters(), lr=0.1), batch_size=32, progress=False)
    assert h.interrupted and h.steps == 4 and h.epoch == []


class Explodes(SoftmaxRegression):
    """Returns NaN logits (or an Inf gradient) from training step `at` on."""

    def __init__(self, at, where="loss"):
        super().__init__(64, 10)
        self.at, self.where, self.steps = at, where, 0

    def __call__(self, x):
        out = super().__call__(x)
        self.steps += self.training
        if self.steps >= self.at and self.where == "loss":
            return out * np.float32(np.nan)
        if self.steps >= self.at:
            out.register_hook(lambda g: g * np.float32(np.inf))
        return out


def test_nonfinite_loss_raises_naming_the_step(small):
    model = Explodes(at=5)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(DivergedError, match="step 5 .epoch 1.") as err:
        train(model, small, 2, opt, batch_size=32, progress=False)
    assert isinstance(err.value, NonFiniteLossError) and err.value.step == 5
    assert len(err.value.history.step_loss) == 4 and err.value.history.diverged_at_step == 5


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the Inf gradient, on purpose
@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_nonfinite_stop_records_divergence_without_applying_it(small, where):
    model = Explodes(at=10, where=where)
    opt = SGD(model.parameters(), lr=0.1)
    snapshot = []
    h = train(model, small, 3, opt, batch_size=32, progress=False, on_nonfinite="stop",
              on_step=lambda step, loss, hist: snapshot.append(model.w.data.copy()))
    assert h.stop_reason == "diverged" and h.diverged_at_step == 10 and h.steps == 9
    assert ("nan" if where == "loss" else "gradient") in h.diverged_reason.lower()
    np.testing.assert_array_equal(model.w.data, snapshot[-1])  # the bad step changed nothing
    assert np.all(np.isfinite(model.w.data)) and h.epoch == [1]
    json.dumps(h.to_dict(), allow_nan=False)


def test_checkpoints_are_written_atomically_and_load(small, tmp_path, monkeypatch):
    path = tmp_path / "run" / "model.npz"
    seen = []

    def check_folder(epoch, history):
        seen.append(sorted(os.listdir(path.parent)))
        if epoch == 1:  # from now on saving fails: the epoch-1 checkpoint must survive intact
            monkeypatch.setattr(np, "savez", _failing_savez)

    model, _, h = None, None, None
    model = SoftmaxRegression(64, 10)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(OSError, match="disk full"):
        train(model, small, 2, opt, batch_size=32, progress=False, checkpoint_path=path,
              on_epoch_end=check_folder)
    assert seen == [["model.npz"]]  # no temporary file beside it
    assert sorted(os.listdir(path.parent)) == ["model.npz"]
    epoch1 = tinyrect.load(path)
    assert set(epoch1) == {"w", "b"} and np.all(np.isfinite(epoch1["w"]))
    assert not np.array_equal(epoch1["w"], model.w.data)  # epoch 2 moved on; its save failed
    monkeypatch.undo()
    model2, _, _ = _fit(small, epochs=1, checkpoint_path=path)
    np.testing.assert_array_equal(tinyrect.load(path)["w"], model2.w.data)


def _failing_savez(*args, **kwargs):
    raise OSError("disk full")


def test_lr_schedules_max_steps_and_loader_inputs(small):
    model = SoftmaxRegression(64, 10)
    opt = SGD(model.parameters(), lr=0.1)
    h = train(model, small, 3, opt, StepLR(opt, step_size=1, gamma=0.1), batch_size=32, progress=False)
    assert h.lr == pytest.approx([0.1, 0.01, 0.001])
    _, opt, h = _fit(small, epochs=3, lr_schedule=lambda epoch: 0.05 / (epoch + 1))
    assert h.lr == pytest.approx([0.05, 0.025, 0.05 / 3]) and opt.param_groups[0]["lr"] == pytest.approx(0.05 / 3)
    _, _, h = _fit(small, epochs=5, max_steps=10)
    assert h.steps == 10 and h.stop_reason == "max_steps" and h.epoch == [1, 2]  # epoch 2 partial
    _, _, h = _fit(small, epochs=5, on_epoch_end=lambda epoch, history: epoch == 2)
    assert h.epoch == [1, 2] and h.stop_reason == "callback" and h.steps == 14
    loader = DataLoader(small.x_train, small.y_train, batch_size=50, seed=1)
    _, _, h = _fit((loader, (small.x_test, small.y_test)), epochs=2)
    assert h.steps == 8 and h.test_acc[-1] is not None
    _, _, h = _fit(loader, epochs=1)
    assert h.test_acc == [None] and h.steps == 4


def test_history_serializes(small, tmp_path):
    _, _, h = _fit(small, epochs=1)
    h.step_loss.append(float("nan"))
    d = h.to_dict()
    assert d["step_loss"][-1] is None and json.loads(json.dumps(d, allow_nan=False)) == d
    back = History.from_dict(json.loads(h.save_json(tmp_path / "h.json").read_text()))
    assert back.epoch == h.epoch and back.test_acc == h.test_acc and back.steps == h.steps
    assert "epoch 1" in h.summary()


def test_progress_bar_and_log_lines(small, capsys):
    _fit(small, epochs=1, progress=True, log_every=3)
    out, err = capsys.readouterr()
    assert "step 3 (epoch 1): loss" in out and "test acc" in out
    assert "train" in err  # the tqdm bar


def test_bad_arguments(small):
    model = SoftmaxRegression(64, 10)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="on_nonfinite"):
        train(model, small, 1, opt, on_nonfinite="ignore")
    with pytest.raises(TypeError, match="optimizer"):
        train(model, small, 1, object())
    with pytest.raises(ValueError, match="epochs"):
        train(model, small, 0, opt)


def test_trains_an_nn_model_and_restores_its_checkpoint(tmp_path):
    nn = tinyrect.nn

    def mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    try:
        model = mlp()
        model(Tensor(np.zeros((1, 1, 8, 8), np.float32)))
    except NotImplementedError:
        pytest.skip("tinyrect.functional.linear/flatten not written yet")
    ds = digits().subset(n_train=300, n_test=100)
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    h = train(model, ds, 3, opt, batch_size=32, progress=False, checkpoint_path=tmp_path / "mlp.npz")
    assert h.test_acc[-1] > 0.8 and h.train_loss[-1] < h.train_loss[0]
    fresh = mlp()
    fresh.load_state_dict(tinyrect.load(tmp_path / "mlp.npz"))
    assert evaluate(fresh, ds.x_test, ds.y_test) == (h.test_loss[-1], h.test_acc[-1])


def test_step_losses_match_a_pytorch_loop(small):
    torch = pytest.importorskip("torch")
    loader = DataLoader(small.x_train, small.y_train, batch_size=32, seed=5)
    model = SoftmaxRegression(64, 10, seed=1)
    w0, b0 = model.w.data.copy(), model.b.data.copy()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    h = train(model, (loader, None), 2, opt, StepLR(opt, step_size=1, gamma=0.5), progress=False)

    w, b = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    topt = torch.optim.SGD([w, b], lr=0.1, momentum=0.9, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(topt, step_size=1, gamma=0.5)
    reference = DataLoader(small.x_train, small.y_train, batch_size=32, seed=5)
    losses = []
    for _ in range(2):
        for xb, yb in reference:
            loss = torch.nn.functional.cross_entropy(torch.tensor(xb).reshape(len(xb), -1) @ w + b,
                                                     torch.tensor(yb))
            topt.zero_grad()
            loss.backward()
            topt.step()
            losses.append(loss.item())
        sched.step()
    np.testing.assert_allclose(h.step_loss, losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.w.data, w.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_loss_curve_helpers_and_their_old_path():
    from tinyrect.train import first_below, steps_per_epoch, tail_mean

    assert first_below([2.3, 2.1, 1.9, 1.0], 2.0) == 2 and first_below([2.3, 2.2], 2.0) is None
    assert tail_mean([5.0] * 10 + [1.0] * 20) == 1.0 and tail_mean([1.0, 3.0], n=20) == 2.0
    assert np.isnan(tail_mean([]))
    assert steps_per_epoch(1437, 64) == 23 and steps_per_epoch(128, 64) == 2
    with pytest.warns(DeprecationWarning, match="tinyrect.train"):
        import tinyrect.experiments.fit as old
    assert old.first_below is first_below and old.tail_mean is tail_mean


def test_the_old_loops_removed_helpers_say_where_their_job_went():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import tinyrect.experiments.fit as old
    for name, successor in (("fit", "tinyrect.train.train"), ("make_sgd", "param_groups_no_decay")):
        with pytest.raises(AttributeError, match=successor):
            getattr(old, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        old.nope
