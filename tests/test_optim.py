"""SGD against torch.optim.SGD, param groups, schedules, and the non-finite guards."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import nn, optim
from tinyrect import functional as F


class Net(nn.Module):
    """Tensor ops only (matmul, add, prelu), so the test needs nothing from conv.py."""

    def __init__(self, rng):
        super().__init__()
        self.w1 = nn.Parameter(rng.standard_normal((6, 4)) * 0.5)
        self.b1 = nn.Parameter(rng.standard_normal(6) * 0.1)
        self.act = nn.PReLU(6).double()
        self.w2 = nn.Parameter(rng.standard_normal((2, 6)) * 0.5)

    def forward(self, x):
        return self.act(x @ self.w1.T + self.b1) @ self.w2.T


def _torch_twin(net, torch):
    params = {n: torch.tensor(p.data.copy(), requires_grad=True) for n, p in net.named_parameters()}

    def forward(x):
        h = torch.nn.functional.prelu(x @ params["w1"].T + params["b1"], params["act.weight"])
        return h @ params["w2"].T

    return params, forward


CONFIGS = [
    dict(momentum=0.0, weight_decay=0.0),
    dict(momentum=0.9, weight_decay=5e-4),
    dict(momentum=0.9, weight_decay=1e-2, nesterov=True),
    dict(momentum=0.5, dampening=0.3, weight_decay=1e-3),
    dict(momentum=0.5, maximize=True, lr=0.002),   # gradient ascent: keep it small
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("grouped", [False, True])
def test_sgd_matches_torch_for_20_steps(config, grouped):
    torch = pytest.importorskip("torch")
    config = {"lr": 0.05, **config}
    rng = np.random.default_rng(0)
    net = Net(rng)
    tparams, tforward = _torch_twin(net, torch)
    if grouped:   # decay on weights, none on PReLU/bias, and a group with its own lr
        groups = optim.param_groups_no_decay(net, config.get("weight_decay", 0.0))
        groups[0]["lr"] = 0.6 * config["lr"]
        ours = optim.SGD(groups, **{k: v for k, v in config.items() if k != "weight_decay"})
        tgroups = [{"params": [tparams[n] for n in g["param_names"]],
                    "weight_decay": g["weight_decay"], **({"lr": g["lr"]} if "lr" in g else {})}
                   for g in groups]
        theirs = torch.optim.SGD(tgroups, **{k: v for k, v in config.items() if k != "weight_decay"})
    else:
        ours = optim.SGD(net.parameters(), **config)
        theirs = torch.optim.SGD(list(tparams.values()), **config)
    for step in range(20):
        x_np = rng.standard_normal((8, 4))
        t_np = rng.standard_normal((8, 2))
        ours.zero_grad()
        loss = F.mse_loss(net(tr.Tensor(x_np)), tr.Tensor(t_np))
        loss.backward()
        ours.step()
        theirs.zero_grad()
        tloss = ((tforward(torch.tensor(x_np)) - torch.tensor(t_np)) ** 2).mean()
        tloss.backward()
        theirs.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    for name, p in net.named_parameters():
        assert p.dtype == np.float64
        np.testing.assert_allclose(p.data, tparams[name].detach().numpy(), rtol=1e-10, atol=1e-12)


def test_no_decay_groups():
    net = Net(np.random.default_rng(1))
    groups = optim.param_groups_no_decay(net, 5e-4)
    assert [g["weight_decay"] for g in groups] == [5e-4, 0.0]
    assert groups[0]["param_names"] == ["w1", "w2"]
    assert groups[1]["param_names"] == ["b1", "act.weight"]   # 1-D: treated as a bias
    seq = nn.Sequential(nn.Linear(3, 4), nn.PReLU(), nn.Linear(4, 2))
    groups = optim.param_groups_no_decay(seq, 1e-3)
    assert groups[0]["param_names"] == ["0.weight", "2.weight"]
    assert groups[1]["param_names"] == ["0.bias", "1.weight", "2.bias"]
    groups = optim.param_groups_no_decay(seq, 1e-3, decay_biases=True)
    assert groups[1]["param_names"] == ["1.weight"]
    assert len(optim.param_groups_no_decay(nn.Sequential(nn.PReLU()), 1e-3)) == 1
    groups = optim.param_groups_no_decay(seq, 1e-3, decay_slopes=True)   # a decayed, biases not
    assert groups[0]["param_names"] == ["0.weight", "1.weight", "2.weight"]
    assert groups[1]["param_names"] == ["0.bias", "2.bias"]
    groups = optim.param_groups_no_decay(seq, 1e-3, decay_biases=True, decay_slopes=True)
    assert len(groups) == 1 and len(groups[0]["params"]) == 5


def test_weight_decay_pushes_prelu_toward_relu():
    r = optim.weight_decay_on_prelu_demo(steps=60, seed=0)
    assert abs(r["a_no_decay"] - 0.25) < 1e-3        # the data alone keep a at the truth
    assert r["a_decay_a_only"] < r["a_no_decay"] - 1e-3
    assert r["a_decay_all"] < r["a_decay_weights_only"]


def test_invalid_arguments_like_torch():
    p = [nn.Parameter(np.zeros(2))]
    for kwargs, message in [(dict(lr=-1), "Invalid learning rate"),
                            (dict(lr=0.1, momentum=-0.5), "Invalid momentum"),
                            (dict(lr=0.1, weight_decay=-1), "Invalid weight_decay"),
                            (dict(lr=0.1, nesterov=True), "Nesterov momentum requires"),
                            (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
                             "Nesterov momentum requires")]:
        with pytest.raises(ValueError, match=message):
            optim.SGD(p, **kwargs)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        optim.SGD([{"params": p}])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": p}, {"params": p}], lr=0.1)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(p[0], lr=0.1)


def test_step_refuses_non_finite_gradients_and_names_the_parameter():
    net = nn.Sequential(nn.PReLU(3), nn.PReLU(3))
    opt = optim.SGD(net.named_parameters(), lr=0.1, momentum=0.9)
    before = [p.data.copy() for p in net.parameters()]
    net[0].weight.grad = np.zeros(3, np.float32)
    net[1].weight.grad = np.array([0.0, np.nan, 1.0], np.float32)
    with pytest.raises(optim.NonFiniteGradientError, match="parameter '1.weight' contains NaN"):
        opt.step()
    for b, p in zip(before, net.parameters()):
        np.testing.assert_array_equal(b, p.data)   # nothing was updated
    anonymous = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="#1 of param group 0"):
        anonymous.step()


def test_check_finite_loss():
    assert optim.check_finite_loss(tr.Tensor(np.float32(2.5)), step=3) == 2.5
    with pytest.raises(optim.NonFiniteLossError, match="nan at step 17.*currently 0.1.*initialization"):
        optim.check_finite_loss(tr.Tensor(np.float64(np.nan)), step=17, lr=0.1)
    with pytest.raises(FloatingPointError, match="inf at step 2"):
        optim.check_finite_loss(float("inf"), 2)


def test_float32_parameters_stay_float32():
    p = nn.Parameter(np.ones(4, np.float32))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=1e-4)
    for _ in range(3):
        p.grad = np.full(4, 0.5, np.float32)
        opt.step()
    assert p.dtype == np.float32 and opt.state[id(p)]["momentum_buffer"].dtype == np.float32


def test_state_dict_round_trip():
    torch = pytest.importorskip("torch")
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([0.3, 0.4])
    opt.step()
    sd = opt.state_dict()
    tp = torch.tensor([1.0, -2.0], requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    tp.grad = torch.tensor([0.3, 0.4])
    topt.step()
    tsd = topt.state_dict()
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"] == [0]
    np.testing.assert_allclose(sd["state"][0]["momentum_buffer"],
                               tsd["state"][0]["momentum_buffer"].numpy())
    q = nn.Parameter(p.data.copy())
    opt2 = optim.SGD([q], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["momentum"] == 0.9
    for o, x in ((opt, p), (opt2, q)):
        x.grad = np.array([0.3, 0.4])
        o.step()
    np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("kind", ["step", "multistep"])
def test_schedules_match_torch(kind):
    torch = pytest.importorskip("torch")
    p, tp = nn.Parameter(np.zeros(1)), torch.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [p]}, {"params": [nn.Parameter(np.zeros(1))], "lr": 0.5}], lr=0.1)
    topt = torch.optim.SGD([{"params": [tp]}, {"params": [torch.zeros(1, requires_grad=True)],
                                                "lr": 0.5}], lr=0.1)
    if kind == "step":
        ours, theirs = optim.StepLR(opt, 3, gamma=0.5), torch.optim.lr_scheduler.StepLR(topt, 3, 0.5)
    else:
        ours = optim.MultiStepLR(opt, [2, 5, 5], gamma=0.1)
        theirs = torch.optim.lr_scheduler.MultiStepLR(topt, [2, 5, 5], gamma=0.1)
    for epoch in range(9):
        topt.step()
        ours.step()
        theirs.step()
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-15)


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ours = optim.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.01)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=2, cooldown=1,
                                                        min_lr=0.01)
    metrics = [5, 4, 4, 4.0001, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2]
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15)
    assert ours.get_last_lr()[0] < 0.1
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        optim.ReduceLROnPlateau(opt, factor=1.0)


def test_numpy_scalar_hyperparameters_keep_float32():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=np.float64(1e-4))
    for _ in range(2):
        p.grad = np.ones(3, np.float32)
        opt.step()
    assert p.dtype == np.float32 and opt.state[id(p)]["momentum_buffer"].dtype == np.float32
