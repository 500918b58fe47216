"""conv2d's chunking: the batch is split into balanced chunks that run in parallel threads on
reused scratch buffers, and the backward builds X̃_col again in those buffers. Neither the
thread count nor another conv call between forward and backward (which overwrites the
buffers) nor a second backward pass (retain_graph) may change a gradient."""
import numpy as np
import pytest

import tinyrect as tr
from tinyrect import functional as F
from tinyrect.kernels import conv as C


def _grads(threads, interleave=False, twice=False):
    tr.set_num_threads(threads)
    rng = np.random.default_rng(1)
    x = tr.Tensor(rng.standard_normal((7, 3, 6, 5)), requires_grad=True)
    w = tr.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = tr.Tensor(rng.standard_normal(4), requires_grad=True)
    out = F.conv2d(x, w, b, padding=1)
    other = tr.Tensor(rng.standard_normal((7, 3, 6, 5)))
    if interleave:   # fills the scratch buffers with another input's columns
        F.conv2d(other, w, b, padding=1)
    dout = rng.standard_normal(out.shape)
    out.backward(dout, retain_graph=twice)
    if twice:
        out.backward(dout)
    return x.grad, w.grad, b.grad


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize("twice", [False, True])
def test_gradients_do_not_depend_on_threads_or_interleaved_calls(monkeypatch, threads, interleave, twice):
    monkeypatch.setattr(C, "CHUNK_BYTES", 1)           # one sample per chunk: many chunks
    got = _grads(threads, interleave, twice)
    monkeypatch.setattr(C, "CHUNK_BYTES", 1 << 30)     # a single chunk
    expected = _grads(1)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, 2 * e if twice else e, rtol=1e-12, atol=1e-12)
    tr.set_num_threads(2)


def test_chunks_are_balanced_and_cover_the_batch():
    tr.set_num_threads(2)
    for N, bps in [(64, 144 * 64 * 4), (64, 288 * 1024 * 4), (5, 1000), (3, 10 ** 7), (1, 8)]:
        chunks = C.chunks(N, bps)
        assert chunks[0][0] == 0 and chunks[-1][1] == N
        assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))
        sizes = [n1 - n0 for n0, n1 in chunks]
        assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
        assert max(sizes) == 1 or max(sizes) * bps <= C.CHUNK_BYTES
