"""The benchmark script runs and reports every row (no timing is asserted: speed
targets live in the benchmark, not in tests)."""

import importlib.util
import re
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_training.py"


def test_quick_benchmark_prints_its_table(mnist_dir, capsys):
    spec = importlib.util.spec_from_file_location("bench_training", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--quick", "--data-dir", str(mnist_dir)])
    out = capsys.readouterr().out
    for row in ("reference (float64)", "project (float32)", "bandwidth floor", "validation checks",
                "mini-batch gathers", "step products", "reference / project:", "project / floor:"):
        assert row in out
    # float32 training must not cost accuracy: within 0.2 points of float64 on the test images
    assert float(re.search(r"difference (\d+\.\d+) points", out).group(1)) <= 0.2
