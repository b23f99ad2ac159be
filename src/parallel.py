"""Independent runs side by side: a pool of processes, one BLAS thread each.

Two training runs in two processes take half the time of one after the
other only if each computes with one BLAS thread: with OpenBLAS's default
(a thread per core) every process starts threads on every core and they
fight for them. For a softmax-training-like loop (1,400 steps of
[128, 785] @ [785, 10] and 100 products [18000, 785] @ [785, 10], float32)
we measured 0.77 s alone with 2 threads and 1.33 s with one, but two side
by side took 4.0-6.2 s each with 2 threads and 1.33 s each with one. So
every call made here, in a worker or in this process, runs with BLAS
limited to one thread, and the results are bitwise the same whatever the
number of processes.

    results = run_parallel([(train_run, (settings, data_dir), {}) for settings in runs],
                           jobs=args.jobs, costs=[s.max_epochs for s in runs])

Pinning at run time (threadpoolctl) and OPENBLAS_NUM_THREADS=1 before NumPy
loads measured the same (1.33 s and 1.34 s for the loop above), so this
module uses threadpoolctl, which works after NumPy is imported; the main
job (`python -m src`) sets the variables for its child scripts as well.
A pool of 2 forked workers costs 13-19 ms to start and stop.
"""

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from threadpoolctl import threadpool_limits

_in_worker = False  # True in a pool's worker: its own run_parallel calls stay in-process
_worker_calls = None  # the calls a worker was started with (inherited on fork, no copy)


def available_cores():
    """The number of cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def one_blas_thread():
    """BLAS (and OpenMP) limited to one thread inside the `with` block, restored after."""
    with threadpool_limits(limits=1):
        yield


def run_parallel(calls, jobs, costs=None):
    """Run independent calls, up to `jobs` at once; return their results in the order of `calls`.

    calls: a list of (function, args tuple, kwargs dict); functions defined at
           a module's top level, arguments and results picklable.
    jobs:  1 runs every call in this process, in order; N > 1 runs them in a
           pool of min(N, len(calls), available_cores()) processes (forked on
           Linux: they inherit NumPy and loaded data). Inside a pool's worker
           the calls always run in-process, so pools never multiply.
    costs: optional numbers (one per call, e.g. epochs): the costliest calls
           start first, so that a long one does not start last and run alone.

    The first call that raises stops the others, and its exception is
    raised here with its own type and message. Ctrl-C (KeyboardInterrupt),
    SystemExit, and SIGTERM (when nothing else handles it) stop the workers,
    wait for them, and are raised here; workers print nothing.
    """
    calls = [(function, tuple(args), dict(kwargs)) for function, args, kwargs in calls]
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}.")
    if costs is not None and len(costs) != len(calls):
        raise ValueError(f"costs must have one entry per call: {len(costs)} for {len(calls)} calls.")
    workers = min(jobs, len(calls), available_cores())
    if workers <= 1 or _in_worker:
        with one_blas_thread():
            return [function(*args, **kwargs) for function, args, kwargs in calls]
    order = range(len(calls)) if costs is None else sorted(range(len(calls)), key=lambda i: -costs[i])
    with _sigterm_as_system_exit():
        return _run_in_pool(calls, order, workers)


def _run_in_pool(calls, order, workers):
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(calls,))
    try:
        results = _dispatch(executor, order, workers)
    except BaseException:
        _stop(executor)
        raise
    executor.shutdown(wait=True)
    return results


def _dispatch(executor, order, workers):
    """Keep each worker busy with one call at a time, costliest first; raise the first error.

    Only as many calls as workers are ever submitted, so that when one fails
    no other has been queued behind it: the rest are never started.
    """
    waiting, running, results = list(order), {}, {}

    def submit_more():
        while waiting and len(running) < workers:
            i = waiting.pop(0)
            running[executor.submit(_run_call, i)] = i

    with _sigint_blocked():  # the first submit forks the workers
        submit_more()
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=running.get):
            if future.exception() is not None:
                raise future.exception()
            results[running.pop(future)] = future.result()
        submit_more()
    return [results[i] for i in range(len(results))]


@contextlib.contextmanager
def _sigint_blocked():
    """SIGINT held back while workers are forked: they inherit the mask and unblock it
    only after ignoring SIGINT, so none can die of a Ctrl-C with a traceback.
    A Ctrl-C in the meantime is raised here on leaving."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _start_worker(calls):
    """A worker's initializer: one BLAS thread, no Ctrl-C (the parent owns it), plain SIGTERM."""
    global _in_worker, _worker_calls
    _in_worker, _worker_calls = True, calls
    threadpool_limits(limits=1)  # for the life of the worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Default SIGTERM and SIGHUP, even if the parent had installed handlers (the
    # fork copies them): the parent's terminate() ends a worker at once, silently.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run_call(i):
    function, args, kwargs = _worker_calls[i]
    try:
        return function(*args, **kwargs)
    except Exception as error:
        _make_picklable(error)
        raise


def _make_picklable(error):
    """An exception whose __init__ does not take its own args (say, __init__(self, step, loss)
    building a message) cannot be unpickled in the parent, and the pool would break: send
    it as its type and args instead, which keeps its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        error.__reduce_ex__ = lambda protocol: (_rebuild_error, (type(error), error.args))


def _rebuild_error(cls, args):
    error = cls.__new__(cls)
    error.args = args
    return error


def _stop(executor):
    """Cancel the calls not started, end the running ones (SIGTERM), wait for every worker."""
    processes = list((executor._processes or {}).values())  # no public API for this before Python 3.14
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
    executor.shutdown(wait=True)


@contextlib.contextmanager
def _sigterm_as_system_exit():
    """While the pool runs, a SIGTERM with no handler raises SystemExit(143) instead of
    killing this process at once, so that the workers are stopped and not left orphaned."""
    install = (threading.current_thread() is threading.main_thread()
               and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
    if not install:
        yield
        return

    def raise_system_exit(signum, frame):
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, raise_system_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
