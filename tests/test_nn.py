"""nn.Module bookkeeping, hooks, state_dict, containers, and the weighted layers."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import nn


class Dense(nn.Module):
    """x Wᵀ + b with Tensor ops only, so the Module tests do not depend on functional.linear."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(np.random.default_rng(n_in).standard_normal((n_out, n_in)))
        self.bias = nn.Parameter(np.full(n_out, 0.1))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.act = nn.PReLU(5)
        self.fc2 = nn.Linear(5, 3, bias=False)
        self.scale = 2.0  # a plain attribute, not a parameter

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.ones((2, 2), np.float32))
        self.inner = nn.Sequential(nn.PReLU(), nn.ReLU())

    def forward(self, x):
        return self.inner(x @ self.w)


def test_registration_and_iteration():
    m = Block()
    assert [n for n, _ in m.named_parameters()] == ["w", "inner.0.weight"]
    assert [n for n, _ in m.named_modules()] == ["", "inner", "inner.0", "inner.1"]
    assert [type(c).__name__ for c in m.children()] == ["Sequential"]
    assert len(list(m.modules())) == 4 and m.num_parameters() == 5
    assert isinstance(m.w, nn.Parameter) and m.w.requires_grad
    assert "w" not in m.__dict__   # stored in _parameters only
    m.w = nn.Parameter(np.zeros((2, 2), np.float32))   # reassigning replaces it
    assert len(list(m.parameters())) == 2 and m.w.data.sum() == 0
    with pytest.raises(TypeError, match="holds a Parameter"):
        m.w = np.zeros((2, 2))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        m.nope


def test_shared_parameter_appears_once():
    shared = nn.PReLU()
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(m.parameters())) == 1


def test_setattr_before_super_init_is_explained():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_train_eval_and_zero_grad():
    m = Block()
    assert m.training and m.inner[0].training
    m.eval()
    assert not m.training and not m.inner[1].training
    m.train()
    assert m.inner[1].training
    m(tr.Tensor(np.ones((3, 2), np.float32))).sum().backward()
    assert m.w.grad is not None and m.inner[0].weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert np.all(m.w.grad == 0)
    m.zero_grad()
    assert m.w.grad is None


def test_forward_hooks_see_every_layer_and_can_be_removed():
    m = nn.Sequential(Dense(4, 6), nn.ReLU(), Dense(6, 2))
    seen = []

    def hook(module, inputs, output):
        seen.append((type(module).__name__, inputs[0].shape, output.shape))

    handles = [layer.register_forward_hook(hook) for layer in m]
    m(tr.Tensor(np.ones((3, 4), np.float32)))
    assert seen == [("Dense", (3, 4), (3, 6)), ("ReLU", (3, 6), (3, 6)), ("Dense", (3, 6), (3, 2))]
    for h in handles:
        h.remove()
    m(tr.Tensor(np.ones((3, 4), np.float32)))
    assert len(seen) == 3
    with m.register_forward_hook(lambda mod, i, o: o * 0):   # a returned value replaces the output
        assert np.all(m(tr.Tensor(np.ones((1, 4), np.float32))).data == 0)
    assert np.any(m(tr.Tensor(np.ones((1, 4), np.float32))).data != 0)


def test_sequential_indexing():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    m = nn.Sequential(*layers)
    assert len(m) == 3 and m[0] is layers[0] and m[-1] is layers[2]
    assert list(m) == layers
    assert isinstance(m[:2], nn.Sequential) and len(m[:2]) == 2 and m[:2][1] is layers[1]
    with pytest.raises(IndexError):
        m[3]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), tr.functional.relu)
    m.append(nn.ReLU())
    assert len(m) == 4
    ml = nn.ModuleList([nn.PReLU(), nn.PReLU()])
    assert len(list(ml.parameters())) == 2 and len(ml) == 2


def test_repr_is_readable():
    m = nn.Sequential(nn.Linear(4, 5), nn.PReLU(5), nn.Sequential(nn.LeakyReLU(0.1)))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=5, bias=True)\n"
        "  (1): PReLU(num_parameters=5)\n"
        "  (2): Sequential(\n"
        "    (0): LeakyReLU(negative_slope=0.1)\n"
        "  )\n"
        ")"
    )


def test_state_dict_round_trip_keeps_parameter_objects():
    a, b = TwoLayer(), TwoLayer()
    sd = a.state_dict()
    assert list(sd) == ["fc1.weight", "fc1.bias", "act.weight", "fc2.weight"]
    weight_before = b.fc1.weight
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight is weight_before   # loaded in place: optimizers keep working
    for name, p in b.named_parameters():
        np.testing.assert_array_equal(p.data, sd[name])
    sd["fc1.weight"][...] = 7   # state_dict returns copies
    assert not np.any(a.fc1.weight.data == 7)


def test_load_state_dict_lists_every_problem():
    m = TwoLayer()
    sd = m.state_dict()
    del sd["act.weight"]
    sd["extra.weight"] = np.zeros(3)
    sd["fc1.weight"] = np.zeros((9, 4))
    with pytest.raises(RuntimeError) as err:
        m.load_state_dict(sd)
    msg = str(err.value)
    assert "'act.weight'" in msg and "'extra.weight'" in msg
    assert "'fc1.weight' (checkpoint (9, 4), model (5, 4))" in msg
    sd["fc1.weight"] = np.zeros((5, 4))
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["act.weight"] and result.unexpected_keys == ["extra.weight"]
    assert np.all(m.fc1.weight.data == 0)


def test_to_double_keeps_objects_and_casts():
    m = nn.Sequential(nn.Linear(4, 5), nn.PReLU())
    w = m[0].weight
    assert w.dtype == np.float32
    m.double()
    assert m[0].weight is w and w.dtype == np.float64 and m[1].weight.dtype == np.float64
    m.float()
    assert w.dtype == np.float32


def test_parameter_repr_and_type():
    p = nn.Parameter(np.zeros(2))
    assert isinstance(p, tr.Tensor) and p.requires_grad and p.dtype == np.float64
    assert repr(p).startswith("Parameter containing:")
    assert not isinstance(p * 2, nn.Parameter)   # results of ops are plain tensors


# ----------------------------------------------------------------------------- weighted layers
# These run through tinyrect.functional's conv2d/linear/pooling/flatten.

def _copy_to_torch(ours, theirs, torch):
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname and p.shape == tuple(tp.shape)
            tp.copy_(torch.tensor(p.data))


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1), dict(padding=2, dilation=2),
                                    dict(bias=False, padding=1)])
def test_conv2d_module_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    conv = nn.Conv2d(3, 4, 3, **kwargs).double()
    tconv = torch.nn.Conv2d(3, 4, 3, **kwargs).double()
    _copy_to_torch(conv, tconv, torch)
    x_np = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    g_np = None
    out = conv(tr.Tensor(x_np))
    tout = tconv(torch.tensor(x_np))
    g_np = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g_np)
    tout.backward(torch.tensor(g_np))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (_, tp) in zip(conv.named_parameters(), tconv.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)


def test_linear_module_matches_torch():
    torch = pytest.importorskip("torch")
    fc, tfc = nn.Linear(5, 3).double(), torch.nn.Linear(5, 3).double()
    _copy_to_torch(fc, tfc, torch)
    x_np = np.random.default_rng(2).standard_normal((4, 5))
    fc(tr.Tensor(x_np)).sum().backward()
    tfc(torch.tensor(x_np)).sum().backward()
    np.testing.assert_allclose(fc.weight.grad, tfc.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fc.bias.grad, tfc.bias.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert fc(tr.Tensor(np.ones((2, 5), np.float32))).dtype == np.float64   # mixing promotes


def test_pooling_and_flatten_modules_match_torch():
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(3).standard_normal((2, 3, 8, 8))
    x, tx = tr.Tensor(x_np), torch.tensor(x_np)
    pairs = [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
             (nn.MaxPool2d(3, stride=2, padding=1), torch.nn.MaxPool2d(3, stride=2, padding=1)),
             (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
             (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
             (nn.Flatten(), torch.nn.Flatten())]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours(x).data, theirs(tx).numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=repr(ours))


def test_small_cnn_trains_like_torch():
    """Conv2d + PReLU + MaxPool2d + Flatten + Linear, 3 SGD steps, against the same torch model."""
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.PReLU(4), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double()
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.PReLU(4),
                                 torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 4 * 4, 3)).double()
    _copy_to_torch(model, tmodel, torch)
    from tinyrect import optim
    opt = optim.SGD(optim.param_groups_no_decay(model, 1e-3), lr=0.1, momentum=0.9)
    tgroups = [{"params": [dict(tmodel.named_parameters())[n] for n in g["param_names"]],
                "weight_decay": g["weight_decay"]} for g in opt.param_groups]
    topt = torch.optim.SGD(tgroups, lr=0.1, momentum=0.9)
    rng = np.random.default_rng(4)
    for _ in range(3):
        x_np, y_np = rng.standard_normal((5, 1, 8, 8)), rng.integers(0, 3, 5)
        opt.zero_grad()
        loss = tr.functional.cross_entropy(model(tr.Tensor(x_np)), y_np)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(torch.tensor(x_np)), torch.tensor(y_np))
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    for (name, p), (_, tp) in zip(model.named_parameters(), tmodel.named_parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-11, err_msg=name)


def test_layer_argument_errors():
    with pytest.raises(ValueError, match="in_channels must be a positive integer"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int or a pair"):
        nn.Conv2d(1, 4, (3, 3, 3))
    with pytest.raises(ValueError, match="out_features must be a positive integer"):
        nn.Linear(3, -1)
    with pytest.raises(TypeError, match="floating point"):
        nn.Linear(3, 2, dtype=np.int32)


def test_deepcopy_gives_independent_parameters():
    import copy

    m = TwoLayer()
    clone = copy.deepcopy(m)
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in m.named_parameters()]
    clone.fc1.weight.data[...] = 0
    assert np.any(m.fc1.weight.data != 0)
    assert isinstance(clone.fc1.weight, nn.Parameter) and clone.scale == 2.0


def test_pre_hooks_and_apply():
    m = nn.Sequential(nn.ReLU())
    handle = m.register_forward_pre_hook(lambda mod, inputs: (inputs[0] * -1,))
    assert np.all(m(tr.Tensor(np.float32([-2.0, 3.0]))).data == [2.0, 0.0])
    handle.remove()
    assert np.all(m(tr.Tensor(np.float32([-2.0, 3.0]))).data == [0.0, 3.0])
    visited = []
    m.apply(lambda mod: visited.append(type(mod).__name__))
    assert visited == ["ReLU", "Sequential"]
