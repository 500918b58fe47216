"""tinyrect._threads.parallel_map: the calling thread plus n - 1 daemon workers share the items."""
import threading
import time

import numpy as np
import pytest

import tinyrect
from tinyrect import _threads


@pytest.fixture
def two_threads():
    before = tinyrect.get_num_threads()
    tinyrect.set_num_threads(2)
    yield
    tinyrect.set_num_threads(before)


def test_results_in_order_and_work_on_several_threads(two_threads):
    seen = set()

    def slow_square(i):
        seen.add(threading.get_ident())
        np.linalg.norm(np.ones(200_000))        # releases the GIL for a moment
        return i * i

    for _ in range(20):                           # the worker usually gets some items
        assert _threads.parallel_map(slow_square, range(9)) == [i * i for i in range(9)]
    assert len(seen) == 2


def test_an_error_in_any_item_is_raised_here_and_blas_threads_come_back(two_threads):
    libs = _threads._blas_libs()
    before = [lib.get_num_threads() for lib in libs]

    def fails_on_3(i):
        if i == 3:
            raise ValueError("item 3")
        return i

    with pytest.raises(ValueError, match="item 3"):
        _threads.parallel_map(fails_on_3, range(6))
    assert [lib.get_num_threads() for lib in libs] == before
    assert _threads.parallel_map(fails_on_3, [0, 1, 2]) == [0, 1, 2]   # still usable


def test_blas_runs_single_threaded_inside(two_threads):
    libs = _threads._blas_libs()
    if not libs:
        pytest.skip("threadpoolctl sees no BLAS library")
    inside = _threads.parallel_map(lambda _: [lib.get_num_threads() for lib in libs], range(4))
    assert all(n == [1] * len(libs) for n in inside)


def test_changing_the_thread_count_stops_the_old_workers():
    before = tinyrect.get_num_threads()
    try:
        for n in (3, 2, 4, 2):
            tinyrect.set_num_threads(n)
            _threads.parallel_map(lambda i: i, range(8))
        deadline = time.monotonic() + 5          # old workers exit at their stop signal
        while True:
            workers = [t for t in threading.enumerate() if t.name.startswith("tinyrect-")]
            if len(workers) <= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert len(workers) == 1               # n = 2: the calling thread and one worker
    finally:
        tinyrect.set_num_threads(before)


def test_run_chunks_falls_back_to_python_threads_after_a_stalled_region(two_threads, monkeypatch):
    """A region in which the caller sat off the CPU (here: slept) counts as stalled; for a
    backoff after it the chunks run one by one on the Python threads, then the region is tried
    again; a second stall in a row doubles the backoff. On one thread the chunks always run one
    by one. Each chunk gets the slot of the thread running it."""
    calls = []
    monkeypatch.setattr(_threads, "_compiled", lambda together, args: True)
    monkeypatch.setitem(_threads._state, "python_until", 0.0)
    monkeypatch.setitem(_threads._state, "backoff", 0.3)
    monkeypatch.setattr(_threads, "BACKOFF_S", (0.3, 5.0))

    def together(out, pause):
        calls.append("region")
        time.sleep(pause)
        out[:] = np.arange(len(out))

    slots = set()

    def one(k, slot, out, pause):
        calls.append(k)
        slots.add(slot)
        out[k] = k

    out = np.zeros(4)
    _threads.run_chunks(together, one, (out, 0.0), 4)
    assert calls == ["region"]                                 # quick: no stall
    _threads.run_chunks(together, one, (out, 0.01), 4)         # 10 ms off the CPU: a stall
    calls.clear()
    out[:] = 0
    _threads.run_chunks(together, one, (out, 0.0), 4)
    assert sorted(calls) == [0, 1, 2, 3] and list(out) == [0, 1, 2, 3]
    assert slots <= {0, 1}
    assert _threads._state["backoff"] == 0.6                   # the next stall: twice as long
    time.sleep(0.35)
    calls.clear()
    _threads.run_chunks(together, one, (out, 0.0), 4)
    assert calls == ["region"]                                 # tried again after the backoff
    assert _threads._state["backoff"] == 0.3                   # ... and all went well
    tinyrect.set_num_threads(1)
    try:
        calls.clear()
        _threads.run_chunks(together, one, (out, 0.0), 4)
        assert calls == [0, 1, 2, 3]
    finally:
        tinyrect.set_num_threads(2)


def _fresh_region():
    """A prange region numba has not compiled yet (skips the test with NUMBA_DISABLE_JIT=1)."""
    import numba

    if numba.config.DISABLE_JIT:
        pytest.skip("nothing to compile")

    @numba.njit(parallel=True)
    def together(out):
        for k in numba.prange(out.size):
            out[k] = k

    return together


def test_the_region_is_compiled_in_the_background_once_the_chunks_took_a_while(two_threads,
                                                                                 monkeypatch):
    """Until numba has the prange region compiled, the chunks run on the Python threads; once
    they took COMPILE_AFTER_S seconds there, the region is compiled in a background thread."""
    together = _fresh_region()
    monkeypatch.setitem(_threads._state, "compiled", {})
    monkeypatch.setitem(_threads._state, "chunk_seconds", 0.0)
    monkeypatch.setattr(_threads, "COMPILE_AFTER_S", 0.05)
    out = np.zeros(4)
    before = len(_threads._state.get("compiling", []))
    _threads.run_chunks(together, lambda k, slot, o: time.sleep(0.02), (out,), 4)
    assert len(_threads._state.get("compiling", [])) == before      # not yet: 0.04 s < 0.05 s
    _threads.run_chunks(together, lambda k, slot, o: time.sleep(0.02), (out,), 4)
    assert not _threads._compiled(together, (out,))                 # compiling now
    _threads.wait_for_compilation()
    assert _threads._compiled(together, (out,)) and len(together.overloads) == 1


def test_benchmarks_can_ask_for_the_regions_at_once(two_threads, monkeypatch):
    """compile_soon: the next chunks start compiling the region without COMPILE_AFTER_S seconds
    of work first (what `tinyrect bench` does before its warm-up)."""
    together = _fresh_region()
    monkeypatch.setitem(_threads._state, "compiled", {})
    monkeypatch.setitem(_threads._state, "chunk_seconds", 0.0)
    out = np.zeros(4)
    assert not _threads._compiled(together, (out,)) and not together.overloads   # not started
    _threads.compile_soon()
    _threads.run_chunks(together, lambda k, slot, o: None, (out,), 4)
    _threads.wait_for_compilation()
    assert _threads._compiled(together, (out,)) and len(together.overloads) == 1
