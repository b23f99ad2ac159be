"""run_parallel: the same results in one process or many, in order; failures and Ctrl-C stop everything."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from src.errors import UserError
from src.parallel import available_cores, one_blas_thread, run_parallel

ROOT = Path(__file__).resolve().parent.parent
two_cores = pytest.mark.skipif(available_cores() < 2, reason="needs 2 cores for a pool of 2 workers")


class RunFailedError(UserError):
    """A UserError subclass raised inside a worker."""


def blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def where_and_threads(tag):
    return tag, os.getpid(), blas_threads()


def start_time_after(seconds):
    start = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
    time.sleep(seconds)
    return start


def tag_and_end_time_after(seconds, tag):
    time.sleep(seconds)
    return tag, time.monotonic()


def fail_after(seconds, message):
    time.sleep(seconds)
    raise RunFailedError(message)


class StepDivergedError(UserError):
    """An error whose __init__ does not take its own message, which pickle cannot rebuild by itself."""

    def __init__(self, step, loss):
        super().__init__(f"the loss became {loss} at step {step}: lower --learning-rate")


def diverge(step):
    raise StepDivergedError(step, float("nan"))


def touch_after(seconds, path):
    time.sleep(seconds)
    Path(path).touch()


def nested_pool():
    return os.getpid(), run_parallel([(os.getpid, (), {}), (os.getpid, (), {})], jobs=2)


def softmax_sgd(seed, steps=60, batch_size=128):
    """A small softmax-regression training loop in float32: the work the pools run."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (2000, 785)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 2000)]
    w = np.zeros((785, 10), np.float32)
    for _ in range(steps):
        batch = rng.integers(0, 2000, batch_size)
        z = X[batch] @ w
        y_hat = np.exp(z - z.max(axis=1, keepdims=True))
        y_hat /= y_hat.sum(axis=1, keepdims=True)
        w -= np.float32(0.1) * (-X[batch].T @ (Y[batch] - y_hat) / batch_size)
    return w, float((X @ w).sum())


def test_available_cores_is_this_process_affinity():
    assert available_cores() == len(os.sched_getaffinity(0))


def test_one_blas_thread_limits_blas_inside_and_restores_after():
    before = blas_threads()
    with one_blas_thread():
        assert set(blas_threads()) == {1}
    assert blas_threads() == before


def test_jobs_1_runs_in_this_process_in_order_with_one_blas_thread():
    results = run_parallel([(where_and_threads, (tag,), {}) for tag in "abc"], jobs=1, costs=[1, 3, 2])
    assert [tag for tag, _, _ in results] == ["a", "b", "c"]
    assert all(pid == os.getpid() and set(threads) == {1} for _, pid, threads in results)


@two_cores
def test_jobs_2_runs_in_workers_with_one_blas_thread_each():
    results = run_parallel([(where_and_threads, (tag,), {}) for tag in "abcd"], jobs=2)
    assert [tag for tag, _, _ in results] == list("abcd")
    assert all(pid != os.getpid() and set(threads) == {1} for _, pid, threads in results)


@two_cores
def test_results_come_back_in_the_order_of_the_calls_not_of_completion():
    results = run_parallel([(tag_and_end_time_after, (s, tag), {}) for tag, s in enumerate((0.3, 0.0, 0.1))],
                           jobs=2)
    assert [tag for tag, _ in results] == [0, 1, 2]
    assert results[0][1] > results[2][1]  # call 0 ended after call 2


@two_cores
def test_costliest_calls_start_first():
    # Two workers, three calls of 0.2 s: the cheapest (call 0) waits until another has ended.
    starts = run_parallel([(start_time_after, (0.2,), {}) for _ in range(3)], jobs=2, costs=[1, 3, 2])
    assert starts[0] >= min(starts[1], starts[2]) + 0.19


@two_cores
def test_training_results_are_bitwise_identical_for_jobs_1_and_2():
    calls = [(softmax_sgd, (seed,), {}) for seed in range(3)]
    one, two = run_parallel(calls, jobs=1), run_parallel(calls, jobs=2, costs=[1, 2, 3])
    for (w1, total1), (w2, total2) in zip(one, two):
        assert np.array_equal(w1, w2) and total1 == total2  # exact: tolerance 0


@two_cores
def test_a_failing_call_raises_its_own_error_and_cancels_the_rest(tmp_path):
    started = time.monotonic()
    calls = [(fail_after, (0.1, "run 0 diverged: lower --learning-rate"), {}),
             (touch_after, (1.5, tmp_path / "running"), {}),
             (touch_after, (0.0, tmp_path / "pending"), {})]
    with pytest.raises(RunFailedError, match=r"^run 0 diverged: lower --learning-rate$"):
        run_parallel(calls, jobs=2)
    time.sleep(0.1)  # had they survived, the running call and the pending one would write now
    assert time.monotonic() - started < 1.0
    assert not (tmp_path / "running").exists() and not (tmp_path / "pending").exists()


@two_cores
def test_an_error_that_pickle_cannot_rebuild_keeps_its_type_and_message():
    with pytest.raises(StepDivergedError, match=r"^the loss became nan at step 7: lower --learning-rate$"):
        run_parallel([(diverge, (7,), {}), (os.getpid, (), {})], jobs=2)


@two_cores
def test_a_worker_runs_its_own_run_parallel_in_process():
    for worker_pid, inner_pids in run_parallel([(nested_pool, (), {}), (nested_pool, (), {})], jobs=2):
        assert worker_pid != os.getpid() and inner_pids == [worker_pid, worker_pid]


@pytest.mark.parametrize("jobs, costs", [(0, None), (1.5, None), (2, [1])])
def test_bad_jobs_or_costs_are_refused(jobs, costs):
    with pytest.raises(ValueError):
        run_parallel([(os.getpid, (), {}), (os.getpid, (), {})], jobs=jobs, costs=costs)


INTERRUPTED_SCRIPT = textwrap.dedent("""
    import sys, time
    from src.parallel import run_parallel

    def busy(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pass

    if __name__ == "__main__":
        print("started", flush=True)
        try:
            run_parallel([(busy, (10,), {})] * 3, jobs=2)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
""")


@two_cores
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_stops_every_worker_without_a_traceback(tmp_path, signum, code):
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED_SCRIPT)
    # Its own process group, like a terminal's foreground job: the signal reaches every process.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=env, start_new_session=True, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as child:
        try:
            assert child.stdout.readline() == "started\n"
            time.sleep(0.3)  # the workers are busy by now
            os.killpg(child.pid, signum)
            output = child.communicate(timeout=10)[0]
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == code
    assert "Traceback" not in output
    left = subprocess.run(["pgrep", "-g", str(child.pid)], capture_output=True, text=True).stdout
    assert left == ""
