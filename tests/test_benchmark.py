"""The benchmark's smoke run (--quick: 1,000 images, 1 epoch, 1 repeat) exercises every
training row. No timing is asserted: speed targets live in the benchmark, not in tests.
What is asserted is that every speed trick computes the same math as the plain trainer."""

import contextlib
import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_training.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_training", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.fixture(scope="module")
def quick_run(mnist_dir):
    """(the benchmark module, its printed table, its training rows) from one --quick run."""
    bench = load_bench()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rows = bench.main(["--quick", "--data-dir", str(mnist_dir)])
    return bench, out.getvalue(), rows


def test_quick_run_prints_every_row(quick_run):
    bench, out, _rows = quick_run
    for row in (*bench.VARIANTS, bench.REFERENCE, bench.FLOOR, *bench.PARTS, "float32 training",
                "reference / plain project:", "reference / all tricks:", "plain project / floor:",
                "held-out test accuracy"):
        assert row in out, row
    # every trick gets a gain and a verdict against the 10% bar
    tricks = [name for name in bench.VARIANTS if name.startswith("+")] + ["float32 training"]
    assert out.count("clears 10%: keep") + out.count("below 10%: drop") == len(tricks)


def test_every_trick_reaches_the_plain_trainers_weights(quick_run):
    bench, _out, rows = quick_run
    plain = rows[bench.PLAIN]["w"]
    assert np.abs(plain).max() > 1e-3  # it trained: the weights moved away from zero
    for name, (_cls, dtype) in bench.VARIANTS.items():
        # The same math: float32 rounding in another order only (1e-6 is ~1e-4 of max |w|)
        np.testing.assert_allclose(rows[name]["w"], plain, rtol=0, atol=1e-6, err_msg=name)
    # the float64 reference follows the same batches with the same update rule
    np.testing.assert_allclose(rows[bench.REFERENCE]["w"], rows[bench.PLAIN64]["w"], rtol=0, atol=1e-12)


def test_every_trick_validates_like_the_plain_trainer(quick_run):
    bench, _out, rows = quick_run
    plain = rows[bench.PLAIN]["history"]
    for name in bench.VARIANTS:
        history = rows[name]["history"]
        assert list(history.val_loss) == list(plain.val_loss), name  # checks at the same steps
        # float32 losses to 1e-5; accuracies within one image (a logit tie may round either way)
        np.testing.assert_allclose(list(history.val_loss.values()), list(plain.val_loss.values()), rtol=1e-5)
        for series, n in ((history.train_accuracy, 1000), (history.val_accuracy, 200)):
            reference = plain.train_accuracy if n == 1000 else plain.val_accuracy
            np.testing.assert_allclose(list(series.values()), list(reference.values()), rtol=0, atol=1.01 / n)


def test_row_argmax_breaks_ties_like_np_argmax():
    bench = load_bench()
    z = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [0.0, 0.0, 5.0, 5.0]])
    assert bench.row_argmax(np.ascontiguousarray(z.T)).tolist() == np.argmax(z, axis=1).tolist() == [1, 0, 2]


def test_memory_sampler_sees_a_child_process():
    bench = load_bench()
    child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(40_000_000); "
                              "b[::4096] = b'x' * len(b[::4096]); time.sleep(0.2)"])
    sampler = bench.TreeMemorySampler([child.pid], interval=0.02)
    sampler.start()
    child.wait()
    sampler.done.set()
    sampler.join()
    # 40 MB touched page by page: its resident set holds them (plus the interpreter)
    assert sampler.peak_pss_kb > 40_000 and sampler.peak_single_kb > 40_000
    assert child.pid in sampler.processes_seen
