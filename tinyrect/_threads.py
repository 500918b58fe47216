"""One thread setting for tinyrect's kernels, numba and BLAS, so they never oversubscribe the cores.

How tinyrect uses n threads (`set_num_threads(n)`; the default follows TINYRECT_NUM_THREADS,
else NUMBA_NUM_THREADS, else the number of cores):

  * conv2d, linear and pooling split their work into chunks (conv2d and pooling: of the batch)
    and run the chunks on n Python threads (`parallel_map`: the calling thread and n - 1 daemon
    workers take chunks in turn). Each chunk does all of its work, numba kernel (im2col, col2im,
    pooling; they release the GIL) and GEMM alike, in its own thread, with BLAS limited to one
    thread while the pool runs. So exactly n threads compute at any time, and no thread spins at
    a barrier waiting for a kernel or a GEMM it does not need. The obvious alternative, numba
    `prange` inside each kernel and BLAS threads for each GEMM, one after the other, suffers
    twice: OpenBLAS's idle workers keep spinning (~0.1 s) after each GEMM, stealing cores from
    the next numba kernel, and any pause of one thread (another process on a shared machine)
    stalls every barrier (`tinyrect bench` measured it about 13x slower on a shared machine);
  * so tinyrect's own GEMMs never run on BLAS's threads, not even a GEMM too small to split:
    one multi-threaded BLAS call per training step (the classifier's) kept OpenBLAS's workers
    spinning through the whole step, which about doubled the CPU time of the 30-layer training step
    of `tinyrect bench` on 2 threads;
  * outside tinyrect's ops (your own `a @ b` on NumPy arrays or Tensors) BLAS uses n threads;
  * the PReLU kernels are serial numba code (kernels/rectifiers.py says why);
  * the direct convolution path (kernels/direct.py) has no BLAS call inside its chunks, so its
    chunks run on numba's own threads, one `prange` region per call (`run_chunks`): waking a
    Python worker took up to a tenth of a millisecond, numba's threads start in microseconds.
    But a region ends at a barrier that waits for every numba thread: when other processes
    keep all cores busy, one descheduled thread stalls the region for a whole time slice of the
    operating system, tens of times the region's own work on these small layers (the README's
    speed section has the numbers), where Python threads let the caller take the chunks a
    sleeping worker never started. So `run_chunks` watches for such stalls and uses the Python
    threads for a while after one.
"""
from __future__ import annotations

import os
import queue
import threading
import time

_state = {"n": None, "pool": None, "pool_pid": None, "pool_size": 0, "controller": None}


def _default_threads() -> int:
    for var in ("TINYRECT_NUM_THREADS", "NUMBA_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Use `n` threads in tinyrect's thread pool, in numba kernels and in BLAS."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    controller = _blas_controller()
    if controller is not None:
        controller.limit(limits=n, user_api="blas")  # stays in force (not used as a context)
    if _state["n"] != n:
        _stop_workers()        # new ones, as many as needed, start on next use
    _state["n"] = n
    os.environ["TINYRECT_NUM_THREADS"] = str(n)


def get_num_threads() -> int:
    if _state["n"] is None:
        _state["n"] = _default_threads()
    return _state["n"]


def _blas_controller():
    """threadpoolctl's controller of the loaded BLAS (threadpoolctl ships with scikit-learn)."""
    if _state["controller"] is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


class _Job:
    """One parallel_map call: participants take the next item index until none is left."""

    def __init__(self, fn, items):
        self.fn, self.items, self.results = fn, items, [None] * len(items)
        self.lock = threading.Lock()
        self.next = 0
        self.left = len(items)
        self.error = None
        self.done = threading.Event()

    def work(self) -> None:
        while True:
            with self.lock:
                i = self.next
                self.next += 1
            if i >= len(self.items):
                return
            try:
                self.results[i] = self.fn(self.items[i])
            except BaseException as err:  # re-raised in the calling thread
                self.error = self.error or err
            with self.lock:
                self.left -= 1
                if self.left == 0:
                    self.done.set()


_local = threading.local()


def slot() -> int:
    """This thread's index among the n threads of parallel_map: 0 for the calling thread, k + 1
    for worker k; kernels use it to pick a scratch buffer of their own."""
    return getattr(_local, "slot", 0)


def _worker(jobs, index) -> None:
    _local.slot = index
    while True:
        job = jobs.get()
        if job is None:        # _stop_workers
            return
        job.work()


def _stop_workers() -> None:
    jobs = _state["pool"]
    if jobs is not None and _state["pool_pid"] == os.getpid():
        for _ in range(_state["pool_size"]):
            jobs.put(None)
    _state["pool"] = None


def _workers():
    """The queue of n - 1 daemon worker threads (the calling thread is the n-th)."""
    if _state["pool"] is None or _state["pool_pid"] != os.getpid():  # a fork has no threads
        jobs = queue.SimpleQueue()
        for k in range(get_num_threads() - 1):
            threading.Thread(target=_worker, args=(jobs, k + 1), name=f"tinyrect-{k}",
                             daemon=True).start()
        _state["pool"], _state["pool_pid"] = jobs, os.getpid()
        _state["pool_size"] = get_num_threads() - 1
    return _state["pool"]


def _blas_libs() -> list:
    """threadpoolctl's handles on the loaded BLAS libraries (empty without threadpoolctl)."""
    controller = _blas_controller()
    if controller is None:
        return []
    return [lib for lib in controller.lib_controllers if lib.user_api == "blas"]


def parallel_map(fn, items) -> list:
    """[fn(item) for item in items] on n threads (this one and n - 1 workers), with BLAS
    single-threaded meanwhile.

    fn must release the GIL for the work to run in parallel (numba nogil kernels and NumPy's
    matmul do). With one item it simply runs here, in the calling thread (BLAS still limited to
    one thread: a multi-threaded BLAS call would leave OpenBLAS's workers spinning).
    The BLAS limit is process-wide while the pool runs: BLAS calls that other Python threads
    make at the same moment also run single-threaded. Not re-entrant: fn must not call it.
    A hand-off costs about 20 µs (measured; concurrent.futures' pool.map took 80 µs, which
    added up to 3 ms per step of the 30-layer training benchmark).
    """
    items = list(items)
    if get_num_threads() == 1:
        return [fn(item) for item in items]
    libs = _blas_libs()
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        if len(items) <= 1:    # one item: here, but still with BLAS on one thread (docstring)
            return [fn(item) for item in items]
        job = _Job(fn, items)
        workers = _workers()
        for _ in range(min(get_num_threads(), len(items)) - 1):
            workers.put(job)
        job.work()
        job.done.wait()
    finally:
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)
    if job.error is not None:
        raise job.error
    return job.results


COMPILE_AFTER_S = 3.0  # seconds of chunks on the Python threads before the regions are compiled
STALL_MS = 2.0        # the caller off the CPU this long, and half the region's time: it waited
BACKOFF_S = (0.1, 5.0)  # ... then the Python threads run the chunks this long: 0.1 s after a
#                         lone stall, twice as long after each stall in a row, at most 5 s


def _compiled(together, args) -> bool:
    """Whether numba has `together` compiled for arguments like these (the dtype of the first
    says which: the drivers take the same kinds of arrays otherwise); if not, compile it (or load
    it from numba's cache) in a background thread and say False meanwhile. A prange region
    takes numba several times longer to compile than the serial kernels it calls, so it is
    compiled only in a process that has spent COMPILE_AFTER_S seconds in these chunks on the
    Python threads (a training run, not a test or a short script), and in the background: the
    chunks keep running on the Python threads until the region is ready."""
    import numba

    if numba.config.DISABLE_JIT:
        return True
    key = (together, args[0].dtype.char)     # the drivers' other argument types follow from it
    done = _state.setdefault("compiled", {})
    if key in done:                          # ready, or being compiled
        return done[key]
    if _state.get("chunk_seconds", 0.0) < COMPILE_AFTER_S:
        return False
    done[key] = False

    signature = tuple(numba.typeof(a) for a in args)

    def compile_now():
        try:
            together.compile(signature)
            done[key] = True
        except Exception:                        # stays on the Python threads
            pass

    thread = threading.Thread(target=compile_now, name="tinyrect-compile", daemon=True)
    _state.setdefault("compiling", []).append(thread)
    thread.start()
    return False


def compile_soon() -> None:
    """Let the next chunks start compiling the regions now, not after COMPILE_AFTER_S seconds of
    work: benchmarks call it before their warm-up (then wait_for_compilation), so that they time
    the steady state a long run reaches, whatever ran before them in the process."""
    _state["chunk_seconds"] = max(_state.get("chunk_seconds", 0.0), COMPILE_AFTER_S)


def wait_for_compilation(timeout: float = 300.0) -> None:
    """Wait until the background compilations `_compiled` started have ended (benchmarks call
    it after their warm-up, so that they time the steady state, not numba's compiler)."""
    deadline = time.monotonic() + timeout
    for thread in _state.get("compiling", []):
        thread.join(max(0.0, deadline - time.monotonic()))


def run_chunks(together, one, args, n) -> None:
    """Run chunks 0..n-1 of a numba kernel: `together(*args)`, one prange region over all of
    them (numba's threads), or `one(k, slot(), *args)` for each k on the Python threads
    (parallel_map): on one thread, until the region is compiled (`_compiled`), and for a
    while after a region stalled (this module's docstring; BACKOFF_S). The slot,
    < get_num_threads(), says whose scratch buffers the chunk may use. A lone stall
    (another library's threads still spinning, say) costs 0.1 s on the Python threads; while
    the machine stays busy the regions are tried less and less often.

    A stall shows as wall time the calling thread did not spend on the CPU: in a region that
    waited for a descheduled thread, the caller spins at the barrier for a few milliseconds,
    then sleeps, so its CPU time is a fraction of the wall time; when all goes well the two
    are equal.
    A stall: more than STALL_MS and more than half the region's wall time off the CPU."""
    if (get_num_threads() == 1 or n <= 1 or time.monotonic() < _state.get("python_until", 0.0)
            or not _compiled(together, args)):  # one thread: no region at all
        start = time.perf_counter()
        parallel_map(lambda k: one(k, slot(), *args), range(n))
        _state["chunk_seconds"] = _state.get("chunk_seconds", 0.0) + time.perf_counter() - start
        return
    start, cpu = time.perf_counter(), time.thread_time()
    together(*args)
    wall = time.perf_counter() - start
    off_cpu = wall - (time.thread_time() - cpu)    # a short preemption of the caller is not a stall
    backoff = _state.get("backoff", BACKOFF_S[0])
    if off_cpu > STALL_MS / 1e3 and off_cpu > wall / 2:
        _state["python_until"] = time.monotonic() + backoff
        _state["backoff"] = min(2 * backoff, BACKOFF_S[1])
    else:
        _state["backoff"] = BACKOFF_S[0]


if "TINYRECT_NUM_THREADS" in os.environ or "NUMBA_NUM_THREADS" in os.environ:
    try:
        set_num_threads(_default_threads())
    except ValueError:  # a malformed variable: keep the libraries' defaults
        pass
