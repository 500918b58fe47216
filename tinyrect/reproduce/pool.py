"""Run independent training runs side by side: one process per core, one thread per process.

The reproductions train many small nets (depths × inits × seeds). Their GEMMs are too small for
two BLAS threads to help much (on a machine shared with other work they can be far slower than
one), but two single-threaded processes finish two runs in the time of one.
Every run is seeded on its own, so the results do not depend on the number of workers.

    results = run_jobs([(train_fn, kwargs), ...], workers=2, on_step=bar_update)

`train_fn` must be a module-level function (it is pickled by name) that accepts `on_step` and
returns a picklable result. Workers are started with "spawn" (a clean interpreter: forking a
process that already runs numba/BLAS threads is not safe). Ctrl-C terminates the workers and
re-raises KeyboardInterrupt in the caller.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import queue as queue_module
import signal

_progress_queue = None
REPORT_EVERY = 5          # steps between progress messages from a worker
_shared = {"executor": None, "queue": None, "workers": 1}


def _new_pool(workers: int):
    ctx = mp.get_context("spawn")
    progress = ctx.Queue()
    executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                      initargs=(progress, 1))
    return executor, progress


def _kill(executor) -> None:
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def pool(workers: int):
    """Keep one pool of `workers` processes for every run_jobs() call inside the block (the
    workers' start-up, a few seconds of imports, is paid once)."""
    if workers <= 1:
        yield
        return
    executor, progress = _new_pool(workers)
    _shared.update(executor=executor, queue=progress, workers=workers)
    try:
        yield
    except BaseException:
        _kill(executor)
        raise
    else:
        executor.shutdown(wait=True)
    finally:
        _shared.update(executor=None, queue=None, workers=1)


def _init_worker(progress_queue, threads: int) -> None:
    global _progress_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the parent handles Ctrl-C and stops us
    _progress_queue = progress_queue
    import tinyrect

    tinyrect.set_num_threads(threads)


def _call(fn, kwargs):
    pending = [0]

    def on_step(_step, _loss):
        pending[0] += 1
        if pending[0] >= REPORT_EVERY:
            _progress_queue.put(pending[0])
            pending[0] = 0

    result = fn(on_step=on_step, **kwargs)
    if pending[0]:
        _progress_queue.put(pending[0])
    return result


_CACHE: dict = {}        # key -> result: a run asked for twice in one process is trained once


def run_cached(jobs, keys, workers: int = 1, on_step=None, on_result=None) -> list:
    """run_jobs for the jobs whose key (a string naming everything that defines the run) has no
    result yet in this process; the others are reused (e.g. the slopes and accuracy sections
    read the same trained nets). on_result is called for the newly run jobs only."""
    jobs, keys = list(jobs), list(keys)
    missing, seen = [], set()
    for i, k in enumerate(keys):
        if k not in _CACHE and k not in seen:
            missing.append(i)
            seen.add(k)

    def done(index, result):
        _CACHE[keys[missing[index]]] = result
        if on_result is not None:
            on_result(missing[index], result)

    run_jobs([jobs[i] for i in missing], workers, on_step, done)
    return [_CACHE[k] for k in keys]


def run_jobs(jobs, workers: int = 1, on_step=None, on_result=None) -> list:
    """Run `jobs` [(fn, kwargs), ...]; return their results in order.

    on_step(step, loss) is called for every training step (workers report in batches);
    on_result(index, result) as soon as a job finishes (for log lines).
    """
    jobs = list(jobs)
    if workers <= 1 or len(jobs) <= 1:
        results = []
        for i, (fn, kwargs) in enumerate(jobs):
            results.append(fn(on_step=on_step, **kwargs))
            if on_result is not None:
                on_result(i, results[-1])
        return results
    own = _shared["executor"] is None
    if own:
        executor, progress = _new_pool(min(workers, len(jobs)))
    else:
        executor, progress = _shared["executor"], _shared["queue"]
    results = [None] * len(jobs)
    try:
        futures = {executor.submit(_call, fn, kwargs): i for i, (fn, kwargs) in enumerate(jobs)}
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=0.25, return_when=cf.FIRST_COMPLETED)
            _drain(progress, on_step)
            for future in done:
                i = futures[future]
                results[i] = future.result()          # re-raises a worker's exception here
                if on_result is not None:
                    on_result(i, results[i])
        _drain(progress, on_step)
    except BaseException:
        if own:
            _kill(executor)
        raise
    if own:
        executor.shutdown(wait=True)
    return results


def _drain(progress, on_step) -> None:
    while True:
        try:
            n = progress.get_nowait()
        except (queue_module.Empty, OSError, ValueError):
            return
        if on_step is not None:
            for _ in range(n):
                on_step(None, None)
