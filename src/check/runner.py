"""The parent side: the data handed to every child, and one child process per folder, with limits.

A child runs in a temporary working folder (whatever their code writes lands
there and is deleted), in its own session (so the whole process group can
be killed), with a memory limit, a limit on the size of files it writes,
one BLAS thread, a non-interactive Matplotlib, and a wall-clock limit for
the folder. It reports each check as a JSON line in a results file; a check
it was still running when it was stopped or crashed is a FAIL saying so.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..data import load_binary_dataset, load_full_mnist, one_hot_encode, pre_process_images
from .checks import selected

ROOT = Path(__file__).resolve().parents[2]
FOLDER_TIMEOUT = 60.0  # seconds for all of a folder's checks
_running = set()  # children alive now, killed if the checker itself is stopped (Ctrl-C)


def write_data(path, data_dir=None):
    """The MNIST images the checks use, as the starter's functions take them, in one .npz file.

    X_raw: uint8 [N, 784] for pre_process_images; X_*: pre-processed [N, 785]
    float64 (by the reference, so each part is checked on its own); T_bin:
    binary targets [N, 1] (1 for digit 2, 0 for 3); T_all: one-hot [N, 10].
    Enough images that every trainer sees at least 5 batches of 128 an epoch (15
    softmax, 6 logistic), few enough that a folder's checks take a fraction of a second.
    """
    full = load_full_mnist(train_size=2000, val_size=500, seed=0, data_dir=data_dir)
    binary = load_binary_dataset(train_size=4000, val_size=1000, seed=0, data_dir=data_dir)
    np.savez(
        path,
        X_raw=full.X_train[:200],
        X_all=pre_process_images(full.X_train), T_all=one_hot_encode(full.y_train),
        Xv_all=pre_process_images(full.X_val), Tv_all=one_hot_encode(full.y_val),
        X_bin=pre_process_images(binary.X_train), T_bin=binary.y_train[:, None].astype(np.float64),
        Xv_bin=pre_process_images(binary.X_val), Tv_bin=binary.y_val[:, None].astype(np.float64),
    )


def check_folder(folder, data_path, parts, check_timeout, folder_timeout=FOLDER_TIMEOUT):
    """Run the checks of `parts` on one folder in a child process -> (results, seconds)."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="check-") as work:
        work = Path(work)
        results_path, request_path = work / "results.jsonl", work / "request.json"
        request_path.write_text(json.dumps({
            "folder": str(Path(folder).resolve()), "data": str(data_path), "results": str(results_path),
            "parts": list(parts), "check_timeout": check_timeout}))
        # The child sets its own memory and file-size limits before it imports their code
        # (preexec_fn is not safe in a process with threads, and the folders are checked from threads).
        env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        run_dir = work / "cwd"
        run_dir.mkdir()
        with open(work / "output", "wb") as output:
            child = subprocess.Popen(
                [sys.executable, "-m", "src.check.child", str(request_path)], cwd=run_dir, env=env,
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)
            _running.add(child)
            try:
                code = child.wait(timeout=folder_timeout)
                stopped = None if code == 0 else _exit_reason(code, work / "output")
            except subprocess.TimeoutExpired:
                stopped = f"the folder's {folder_timeout:g} s ran out"
            finally:
                _kill(child)
                _running.discard(child)
        results = _read(results_path, parts, stopped)
    return results, time.perf_counter() - start


def _kill(child):
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def _exit_reason(code, output_path):
    if code < 0:
        name = signal.Signals(-code).name
        why = " (out of memory?)" if -code in (signal.SIGKILL, signal.SIGSEGV) else ""
        return f"the child process was killed by {name}{why}"
    with open(output_path, "rb") as f:
        f.seek(max(0, os.path.getsize(output_path) - 2000))
        tail = f.read().decode(errors="replace").strip().splitlines()
    last = next((line for line in reversed(tail) if line.strip()), "")
    return f"the child process exited with code {code}" + (f": {last[:200]}" if last else "")


def _read(path, parts, stopped):
    """The child's results; the check it was running and the ones after it as FAILs if it stopped early."""
    done, running = {}, None
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("status") == "START":
                running = record["name"]
            elif "name" in record:
                done[record["name"]] = record
                running = None
    results = []
    for check in selected(parts):
        if check.name in done:
            results.append(done[check.name])
        elif check.name == running:
            results.append({"part": check.part, "name": check.name, "status": "FAIL",
                            "actual": f"stopped while running: {stopped or 'the child process vanished'}"})
        else:
            results.append({"part": check.part, "name": check.name, "status": "FAIL",
                            "actual": f"not run: {stopped or 'the child process vanished'}", "not_run": True})
    return results


def check_folders(folders, parts, check_timeout, jobs, data_dir=None):
    """Every folder, `jobs` children at a time -> [(folder, results, seconds)] in the order given."""
    with tempfile.TemporaryDirectory(prefix="check-data-") as tmp:
        data_path = Path(tmp) / "data.npz"
        write_data(data_path, data_dir)
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [pool.submit(check_folder, f, data_path, parts, check_timeout) for f in folders]
            return [(folder, *future.result()) for folder, future in zip(folders, futures)]
        except BaseException:
            for child in list(_running):
                _kill(child)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
