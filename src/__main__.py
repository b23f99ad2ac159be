"""The main job: every task script in order, then the report.

    python -m src [--data-dir DIR] [--out-dir figures] [--seed 0]

Each script runs in its own process, exactly as a student would run it from
the shell; the first that fails stops the job with its exit code.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ("task2a.py", "task3a.py", "task2.py", "task3.py", "task4.py")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", help="folder with the four MNIST files")
    p.add_argument("--out-dir", default=str(ROOT / "figures"), help="where figures and metrics go")
    p.add_argument("--seed", default="0", help="seed of every script (default: 0)")
    args = p.parse_args(argv)
    common = ["--seed", args.seed] + (["--data-dir", args.data_dir] if args.data_dir else [])
    start = time.perf_counter()
    for script in SCRIPTS:
        extra = [] if script.endswith("a.py") else ["--out-dir", args.out_dir]
        print(f"\n$ python {script} {' '.join(common + extra)}", flush=True)
        code = subprocess.call([sys.executable, str(ROOT / script), *common, *extra], cwd=ROOT)
        if code:
            print(f"{script} failed with exit code {code}; stopping.", file=sys.stderr)
            return code
    from .report import build_report  # after the scripts: it reads what they wrote

    report = build_report(args.out_dir)
    print(f"\nall task scripts done in {time.perf_counter() - start:.1f} s; figures in {args.out_dir}/, "
          f"report in {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
