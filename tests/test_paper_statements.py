"""What the lessons and docstrings say about the paper, checked: one test per number they state.

Each test measures or computes the number from tinyrect itself, so it fails if the code or the
statement drifts back to a wrong form (e.g. the Xavier/He logits ratio (1/2)^((L-1)/2) instead of
2^(-L/2), or 13·C channel-wise PReLU coefficients instead of 25·C). The last two check that the
lessons 04-10 state the paper-or-ours convention and keep the corrected misquotes from coming back
into user-facing text.
"""
from __future__ import annotations

import math
import re
import statistics
from pathlib import Path

import numpy as np
import pytest

import tinyrect as tr
from tinyrect import init
from tinyrect.reproduce.accuracy import PAPER as TABLE2
from tinyrect.reproduce.models import plain_net, slopes_net

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ lesson 09: 25C coefficients
@pytest.mark.parametrize("width", [4, 8, 16])
def test_slopes_net_channel_wise_prelu_has_25C_coefficients(width):
    """conv1 + conv21-24: 5C, conv31-36: 6·2C, fc1 + fc2: 2·4C (fc_width = 4C) = 25C; shared: 13."""
    wise = slopes_net(width, (1, 8, 8), 10, "prelu_channel", "he", seed=0)
    shared = slopes_net(width, (1, 8, 8), 10, "prelu_shared", "he", seed=0)
    count = sum(a.weight.data.size for a in wise.acts)
    assert count == 25 * width, f"channel-wise coefficients {count} != 25·{width}"
    assert count != 13 * width
    assert sum(a.weight.data.size for a in shared.acts) == 13      # Sec. 2.1: 13 extra parameters


# ------------------------------------------------------------------ lesson 08: 2^(-L/2)
@pytest.mark.parametrize("padding_mode", ["circular", "zeros"])
@pytest.mark.parametrize("depth", [3, 6, 11])
def test_xavier_over_he_logits_is_2_to_the_minus_L_over_2(depth, padding_mode):
    """Same draws, all L weight layers √2 apart, zero bias, ReLU positively homogeneous: the Xavier
    logits are the He logits times 2^(-L/2), measured on the net (not (1/2)^((L-1)/2))."""
    x = np.random.default_rng(1).standard_normal((8, 1, 8, 8)).astype(np.float32)
    logits = {}
    for scheme in ("he", "xavier"):
        net = plain_net(depth, 8, (1, 8, 8), 10, "relu", scheme, seed=3, padding_mode=padding_mode)
        with tr.no_grad():
            logits[scheme] = net(tr.Tensor(x)).data.astype(np.float64)
    ratio = logits["xavier"].std() / logits["he"].std()
    assert ratio == pytest.approx(2.0 ** (-depth / 2), rel=1e-4)
    assert ratio != pytest.approx(0.5 ** ((depth - 1) / 2), rel=0.1)
    # float32 rounding: the two nets' sums round differently in every layer (about 1e-7 of the
    # largest logit per layer, measured); (1/2)^((L-1)/2) would be off by a factor √2
    np.testing.assert_allclose(logits["xavier"], logits["he"] * 2.0 ** (-depth / 2),
                               rtol=1e-4, atol=4e-7 * depth * np.abs(logits["xavier"]).max())


# ------------------------------------------------------------------ init.py docstrings
def test_pytorch_default_kaiming_uniform_keeps_a_sixth_of_he_relu_variance():
    """a = sqrt(5): gain² = 2/(1+5) = 1/3, Var = 1/(3 fan); He for ReLU: 2/fan; ratio 6."""
    exact = init.calculate_gain("relu") ** 2 / init.calculate_gain("leaky_relu", math.sqrt(5)) ** 2
    assert exact == pytest.approx(6.0)
    he = np.empty((128, 64, 3, 3))
    default = np.empty_like(he)
    init.kaiming_normal_(he, nonlinearity="relu", seed=0)
    init.kaiming_uniform_(default, a=math.sqrt(5), seed=1)
    assert he.var() / default.var() == pytest.approx(6.0, rel=0.02)
    assert "a sixth" in init.kaiming_uniform_.__doc__


def test_pytorch_default_conv_init_matches_the_sixth():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(64, 128, 3)                    # PyTorch's default init
    fan_in = 64 * 9
    var = float(conv.weight.detach().double().var())
    assert (2.0 / fan_in) / var == pytest.approx(6.0, rel=0.02)


def test_xavier_normal_variance_is_the_harmonic_mean_of_the_two_variances():
    """2/(n + n̂) = harmonic mean of 1/n and 1/n̂ (not the reciprocal of the fans' harmonic mean,
    which is the arithmetic mean of the variances)."""
    fan_in, fan_out = 100, 400
    w = np.empty((fan_out, fan_in))
    init.xavier_normal_(w, seed=0)
    harmonic = statistics.harmonic_mean([1 / fan_in, 1 / fan_out])
    assert harmonic == pytest.approx(2 / (fan_in + fan_out))
    assert w.var() == pytest.approx(harmonic, rel=0.03)
    wrong = 1 / statistics.harmonic_mean([fan_in, fan_out])
    assert abs(w.var() - wrong) > 0.2 * wrong
    assert "harmonic mean of the two variances" in " ".join(init.xavier_normal_.__doc__.split())


# ------------------------------------------------------------------ lesson 10: Eq. (14) stds
def test_the_papers_vgg_stds_come_from_eq_14_fan_out():
    """0.059, 0.042, 0.029, 0.021 for d = 64..512 filters: sqrt(2/n̂), n̂ = 9d (Eq. 14). The first
    conv of a VGG stage has c = d/2 input channels, where Eq. (10)'s sqrt(2/9c) differs."""
    for d, paper in zip((64, 128, 256, 512), (0.059, 0.042, 0.029, 0.021)):
        w = np.empty((d, d // 2, 3, 3))
        fan_in, fan_out = init.calculate_fans(w)
        eq14 = init.calculate_gain("relu") / math.sqrt(fan_out)
        eq10 = init.calculate_gain("relu") / math.sqrt(fan_in)
        assert round(eq14, 3) == paper
        assert round(eq10, 3) != paper


# ------------------------------------------------------------------ Table 2 gains
def test_table2_gains_are_1_1_shared_and_1_2_channel_wise():
    relu = TABLE2["relu"][0]
    assert round(relu - TABLE2["prelu_shared"][0], 1) == 1.1
    assert round(relu - TABLE2["prelu_channel"][0], 1) == 1.2


def test_rectified_second_moment_is_half_the_variance_not_var_x():
    """The step into Eq. (8): E[x²] = ½ Var[y] for symmetric y, while Var[x] ≈ 0.341 Var[y]."""
    y = np.random.default_rng(0).standard_normal(2_000_000)
    x = np.maximum(y, 0)
    assert np.mean(x ** 2) / y.var() == pytest.approx(0.5, abs=0.003)
    assert x.var() / y.var() == pytest.approx(0.5 - 1 / (2 * math.pi), abs=0.003)


# ------------------------------------------------------------------ the paper-or-ours convention
PAPER_LESSONS = sorted(p for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py") if int(p.name[:2]) >= 4)


@pytest.mark.parametrize("path", PAPER_LESSONS, ids=[p.stem for p in PAPER_LESSONS])
def test_paper_lessons_state_the_paper_or_ours_convention_in_their_first_cell(path):
    first_cell = path.read_text(encoding="utf-8").split("\n# %%\n", 1)[0]
    assert "Paper or ours" in first_cell and "[ours]" in first_cell, \
        f"{path.name}: the first cell must say how paper statements and our additions are marked"


# ------------------------------------------------------------------ the misquotes stay out
MISQUOTES = [
    (r"\(1/2\)\^\(\(L-1\)/2\)", "the Xavier/He logits ratio is 2^(-L/2)"),
    (r"13 × C|13·C|13C\b", "channel-wise PReLU in slopes_net has 25C coefficients"),
    (r"a third of He", "PyTorch's default keeps a sixth of He's ReLU variance"),
    (r"harmonic mean of the two fans", "2/(n + n̂) is the harmonic mean of the two variances"),
    (r"paper found", "LReLU's 'negligible impact on accuracy' is Maas et al.'s, cited in Sec. 2.1"),
    (r"paper's\*? λ = 5e-4 on a", "5e-4 is the paper's decay on the weights; none on a"),
    (r"PAPER\.md|DESIGN\.md|STYLE\.md", "user-facing text names no planning file"),
    (r"far above", "the paper says conv1's a is 'significantly greater than 0'"),
    (r"~1\.1 points|about 1\.1 points", "Table 2: 1.1 channel-shared, 1.2 channel-wise"),
    (r"22 vs 30 layers", "Figs. 2 and 3 are two different models"),
    (r"Eq\. \(10\)\s+asks for std|Eq\. \(10\)'s std for 3×3", "the paper's 0.059..0.021 are by Eq. (14)"),
    (r"½ Var\[y[^\]]*\] \(Eq\. 8\)", "E[x²] = ½ Var[y] is the step into Eq. (8), not Eq. (8)"),
    (r"or on biases \(the paper's advice", "the paper's advice covers a only"),
    (r"normalizes its input, or would scale", "the paper sets normalizing aside; it used 0.01/0.001 fc stds"),
]


def _user_facing_files():
    files = [ROOT / "README.md", *sorted((ROOT / "lessons").glob("*.py")),
             *sorted((ROOT / "examples").glob("*.py")), *sorted((ROOT / "tinyrect").rglob("*.py"))]
    return [f for f in files if f.exists()]


@pytest.mark.parametrize("pattern,why", MISQUOTES, ids=[w.split(";")[0][:40] for _, w in MISQUOTES])
def test_corrected_statement_does_not_come_back(pattern, why):
    planning = pattern.startswith("PAPER")
    found = []
    for path in _user_facing_files():
        if planning and path.name == "README.md":
            continue                   # the README's own wording is not checked here
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(pattern, text):
            found.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}")
    assert not found, f"{why}; still found at {', '.join(found)}"
