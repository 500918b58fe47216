"""conv2d keeps the forward's X_col for the backward when it is small: same gradients as the
recompute path, safe with retain_graph (two backward passes), nothing kept without a need."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect.functional import conv as C


def _grads(monkeypatch, save_bytes, twice=False, threads=2):
    monkeypatch.setattr(C, "SAVE_BYTES", save_bytes)
    tr.set_num_threads(threads)
    rng = np.random.default_rng(1)
    x = tr.Tensor(rng.standard_normal((7, 3, 6, 5)), requires_grad=True)
    w = tr.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(4), requires_grad=True)
    out = C.conv2d(x, w, b, padding=1)
    # another conv call between forward and backward must not overwrite the kept X_col
    C.conv2d(tr.Tensor(rng.standard_normal((7, 3, 6, 5))), w, b, padding=1)
    dout = rng.standard_normal(out.shape)
    out.backward(dout, retain_graph=twice)
    if twice:
        out.backward(dout)
    return x.grad, w.grad, b.grad


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("twice", [False, True])
def test_saved_cols_give_the_recomputed_gradients(monkeypatch, twice, threads):
    kept = _grads(monkeypatch, 32 << 20, twice, threads)
    recomputed = _grads(monkeypatch, 0, twice, threads)
    for a, b in zip(kept, recomputed):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_nothing_is_kept_without_a_weight_gradient(monkeypatch):
    made, init = [], C._SavedCols.__init__
    monkeypatch.setattr(C._SavedCols, "__init__", lambda self, *a: made.append(a) or init(self, *a))
    x = tr.Tensor(np.ones((2, 1, 4, 4)), requires_grad=True)
    w = tr.Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    with tr.no_grad():
        C.conv2d(x, w)
    C.conv2d(x, tr.Tensor(np.ones((1, 1, 3, 3))))       # only x needs a gradient: dX needs no X_col
    assert made == []
    C.conv2d(x, w)
    assert len(made) == 1


def test_chunks_are_balanced_and_cover_the_batch():
    tr.set_num_threads(2)
    for N, bps in [(64, 144 * 64 * 4), (64, 288 * 1024 * 4), (5, 1000), (3, 10 ** 7), (1, 8)]:
        chunks = C._chunks(N, bps)
        assert chunks[0][0] == 0 and chunks[-1][1] == N
        assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
        sizes = [n1 - n0 for n0, n1 in chunks]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
        assert max(sizes) == 1 or max(sizes) * bps <= C.CHUNK_BYTES
