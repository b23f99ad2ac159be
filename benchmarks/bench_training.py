"""Benchmark: the task-3 schedule, the previous version's speed tricks one by one, and runs side by side.

    python benchmarks/bench_training.py [--repeats 3] [--blas-threads 1] [--data-dir DIR]
    python benchmarks/bench_training.py --parallel [--main-args "--jobs 2"]
    python benchmarks/bench_training.py --all
    python benchmarks/bench_training.py --quick      # smoke run: 1,000 images, 1 epoch, 1 repeat

The work (the task-3 schedule): softmax regression, 18,000 training and
2,000 validation images, batch 128, 50 epochs, shuffling, validation 5
times per epoch (validation loss, accuracy on the whole training set and on
the validation set), early stopping off so that the work is fixed.

Training rows (the default; all in this one process, interleaved, median of
--repeats, one BLAS thread as the main job trains; --blas-threads 0 for
BLAS's default, which on this shared 2-core machine varied by up to 35%
between repeats), each a Trainer that differs from the plain one in one thing:

    plain project trainer (float32)       src.trainer.Trainer as it is
    + fused softmax and loss              one exp serves both (the previous
                                          SoftmaxModel.forward_with_loss), in place
    + in-place gradient                   the previous backward: X^T (Y - Y_hat),
                                          then *= -1/N, no L2 term when lambda = 0
    + transposed, padded validation       w^T X^T on transposed copies of the sets,
      product                             w^T zero-padded to a multiple of 8 rows
    + transposed training-set product,    only the training-set logits, as w^T X^T
      unpadded                            on a contiguous copy of X^T, no padding
    + row-wise argmax                     argmax as K row comparisons on z^T
    + transposed product and row-wise     the two together, as the previous trainer
      argmax                              paired them (the comparisons on contiguous rows)
    all tricks (the previous trainer)     the fused step, the previous backward, and
                                          the transposed product with row-wise argmax
    plain trainer in float64              Trainer with float64 weights and images
    straightforward float64 reference     what a student writes first (below)
    bandwidth floor                       the bytes the schedule must read at least
                                          (float32), at the speed X.sum() reaches

A trick's gain is the time it saves as a percentage of the time without it:
(plain - with) / plain; for float32, (float64 - float32) / float64. A trick
earns its place in src/ only with a gain of at least 10%. Every row trains
from the same start on the same batches, and reaches the same weights (the
table prints the largest difference).

Parallel rows (--parallel), each schedule in its own process (this file with
the hidden flag --child), BLAS pinned by threadpoolctl inside the child:
one schedule with one BLAS thread, and with the default BLAS threads; two
side by side with one BLAS thread each; the same two with the default BLAS
threads (OPENBLAS_NUM_THREADS and OMP_NUM_THREADS removed from the
children's environment, OPENBLAS_CORETYPE left as it is); then the main job
`python -m src --out-dir <tmp>` once, and two main jobs started together.
Their memory is sampled from /proc every 50 ms over the whole process tree:
the peak of the summed PSS (shared pages split between the processes that
share them, so forked workers are not counted twice), and the largest
single process's peak (its kernel high-water mark, VmHWM).
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from src.data import load_full_mnist, one_hot_encode, pre_process_images  # noqa: E402
from src.losses import cross_entropy_loss  # noqa: E402
from src.models import SoftmaxModel  # noqa: E402
from src.trainer import Trainer  # noqa: E402

TASK3 = dict(train_size=18_000, val_size=2_000, epochs=50)
QUICK = dict(train_size=1_000, val_size=200, epochs=1)
LEARNING_RATE, BATCH_SIZE = 0.01, 128


class Data(NamedTuple):
    """The schedule's sets, prepared once: images [N, 785] in float32 and float64, labels [N]."""

    X_train: np.ndarray
    X_val: np.ndarray
    X_train64: np.ndarray
    X_val64: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    X_test64: np.ndarray
    y_test: np.ndarray


def load_data(sizes, data_dir=None):
    split = load_full_mnist(sizes["train_size"], sizes["val_size"], seed=0, data_dir=data_dir)
    return Data(pre_process_images(split.X_train, np.float32), pre_process_images(split.X_val, np.float32),
                pre_process_images(split.X_train, np.float64), pre_process_images(split.X_val, np.float64),
                split.y_train, split.y_val, pre_process_images(split.X_test, np.float64), split.y_test)


# --- the reference: how the assignment is usually first written ---------------------------


def ref_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ref_loss(Y, outputs):
    return -np.mean(np.sum(Y * np.log(outputs), axis=1))


def ref_accuracy(X, Y, w):
    return np.mean(np.argmax(ref_softmax(X.dot(w)), axis=1) == np.argmax(Y, axis=1))


def reference_train(X_train, Y_train, X_val, Y_val, epochs, lr=LEARNING_RATE, batch_size=BATCH_SIZE, seed=0):
    X_train, Y_train = X_train.astype(np.float64), Y_train.astype(np.float64)
    X_val, Y_val = X_val.astype(np.float64), Y_val.astype(np.float64)
    w = np.zeros((X_train.shape[1], Y_train.shape[1]))
    rng = np.random.default_rng(seed)
    num_batches = len(X_train) // batch_size
    steps_per_val = max(1, num_batches // 5)
    step, history = 0, []
    for _ in range(epochs):
        order = rng.permutation(len(X_train))
        for i in range(num_batches):
            idx = order[i * batch_size:(i + 1) * batch_size]
            X, Y = X_train[idx], Y_train[idx]
            outputs = ref_softmax(X.dot(w))
            train_loss = ref_loss(Y, outputs)
            grad = -X.T.dot(Y - outputs) / batch_size
            w = w - lr * grad
            if step % steps_per_val == 0:
                val_loss = ref_loss(Y_val, ref_softmax(X_val.dot(w)))
                history.append((train_loss, val_loss, ref_accuracy(X_train, Y_train, w),
                                ref_accuracy(X_val, Y_val, w)))
            step += 1
    return w, history


# --- the previous version's tricks, one Trainer subclass each (code from git 8b80dbb) ------


def fused_softmax_and_loss(z, targets):
    """(softmax(z), mean cross-entropy) from one exp, overwriting z.

    With z shifted by its row maximum and s = sum_k e^z_k, softmax is e^z / s
    and the cross-entropy is mean_n sum_k y_k (log s - z_k).
    """
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = float(np.vdot(targets, np.log(s) - z)) / len(z)
    e /= s
    return e, loss


def in_place_gradient(model, X, outputs, targets):
    """The previous backward: grad = X^T (Y - Y_hat), scaled in place; L2 only when lambda > 0."""
    model.grad = X.T @ (targets - outputs)
    model.grad *= -1 / len(X)
    if model.l2_reg_lambda:
        model.grad += model.l2_reg_lambda * model.w
    return model.grad


def row_argmax(z_T):
    """Class per column of z^T [K, N] as K whole-row comparisons (first maximum wins, as np.argmax)."""
    best = z_T.max(axis=0)
    predicted = np.full(z_T.shape[1], len(z_T) - 1)
    for k in range(len(z_T) - 2, -1, -1):
        predicted[z_T[k] == best] = k
    return predicted


class FusedLossTrainer(Trainer):
    """Trick 1: the step's softmax and loss from one exp."""

    def train_step(self, X_batch, Y_batch):
        model = self.model
        outputs, loss = fused_softmax_and_loss(model.logits(X_batch), Y_batch)
        self.backward(X_batch, outputs, Y_batch)
        model.w -= self.learning_rate * model.grad
        return loss

    def backward(self, X, outputs, targets):
        return self.model.backward(X, outputs, targets)


class InPlaceGradientTrainer(Trainer):
    """The previous backward, which came with trick 1 in the previous train_step."""

    def train_step(self, X_batch, Y_batch):
        model = self.model
        z = model.logits(X_batch)
        self.backward(X_batch, model.activation(z), Y_batch)
        model.w -= self.learning_rate * model.grad
        return cross_entropy_loss(Y_batch, z)

    def backward(self, X, outputs, targets):
        return in_place_gradient(self.model, X, outputs, targets)


class TransposedProductTrainer(Trainer):
    """Trick 2: validation logits as w^T X^T, on transposed copies, w^T padded to 8k rows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._X_train_T = np.ascontiguousarray(self.X_train.T)
        self._X_val_T = np.ascontiguousarray(self.X_val.T)
        num_features, k = self.model.w.shape
        self._w_T = np.zeros((-(-k // 8) * 8, num_features), dtype=self.model.w.dtype)

    def classify_columns(self, z_T):
        return self.model.classify(z_T.T)

    def validation_step(self):
        k = self.model.w.shape[1]
        self._w_T[:k] = self.model.w.T
        z_val_T = (self._w_T @ self._X_val_T)[:k]
        val_loss = cross_entropy_loss(self.Y_val, z_val_T.T)
        val_accuracy = float(np.mean(self.classify_columns(z_val_T) == self.y_val))
        z_train_T = (self._w_T @ self._X_train_T)[:k]
        train_accuracy = float(np.mean(self.classify_columns(z_train_T) == self.y_train))
        return val_loss, train_accuracy, val_accuracy


class TransposedTrainingProductTrainer(Trainer):
    """Trick 2 without the padding, on the training set only (the checks' largest product):
    the training-set logits as w^T X^T on a contiguous copy of X^T, so that OpenBLAS works on a
    10 x 18000 result instead of packing the 56 MB X for an 18000 x 10 one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._X_train_T = np.ascontiguousarray(self.X_train.T)

    def validation_step(self):
        z_val = self.model.logits(self.X_val)
        val_loss = cross_entropy_loss(self.Y_val, z_val)
        val_accuracy = float(np.mean(self.model.classify(z_val) == self.y_val))
        z_train = (self.model.w.T @ self._X_train_T).T
        train_accuracy = float(np.mean(self.model.classify(z_train) == self.y_train))
        return val_loss, train_accuracy, val_accuracy


class TransposedRowArgmaxTrainer(TransposedProductTrainer):
    """Tricks 2 and 3 as the previous trainer paired them: row comparisons on the contiguous z^T."""

    def classify_columns(self, z_T):
        return row_argmax(z_T)


class RowArgmaxTrainer(Trainer):
    """Trick 3: the validation argmax as row comparisons on z^T (as the previous evaluate() did)."""

    def validation_step(self):
        z_val = self.model.logits(self.X_val)
        val_loss = cross_entropy_loss(self.Y_val, z_val)
        val_accuracy = float(np.mean(row_argmax(z_val.T) == self.y_val))
        train_accuracy = float(np.mean(row_argmax(self.model.logits(self.X_train).T) == self.y_train))
        return val_loss, train_accuracy, val_accuracy


class AllTricksTrainer(TransposedRowArgmaxTrainer):
    """The previous trainer: tricks 1, 2 and 3 and the previous backward."""

    train_step = FusedLossTrainer.train_step
    backward = InPlaceGradientTrainer.backward


# name -> (Trainer class, dtype); the first is the baseline of the tricks' gains
VARIANTS = {
    "plain project trainer (float32)": (Trainer, np.float32),
    "+ fused softmax and loss": (FusedLossTrainer, np.float32),
    "+ in-place gradient": (InPlaceGradientTrainer, np.float32),
    "+ transposed, padded validation product": (TransposedProductTrainer, np.float32),
    "+ transposed training-set product, unpadded": (TransposedTrainingProductTrainer, np.float32),
    "+ row-wise argmax": (RowArgmaxTrainer, np.float32),
    "+ transposed product and row-wise argmax": (TransposedRowArgmaxTrainer, np.float32),
    "all tricks (the previous trainer)": (AllTricksTrainer, np.float32),
    "plain trainer in float64": (Trainer, np.float64),
}
PLAIN, PLAIN64, REFERENCE, FLOOR = ("plain project trainer (float32)", "plain trainer in float64",
                                    "straightforward float64 reference", "bandwidth floor")


def train_variant(trainer_class, dtype, data, epochs, seed=0):
    """Build the trainer (inside the timing: trick 2's copies are part of its cost) and train.

    Returns (seconds, final weights, History).
    """
    X_train, X_val = (data.X_train, data.X_val) if dtype == np.float32 else (data.X_train64, data.X_val64)
    start = time.perf_counter()
    model = SoftmaxModel(dtype=dtype)
    trainer = trainer_class(model, LEARNING_RATE, BATCH_SIZE, True, X_train, data.y_train, X_val, data.y_val,
                            early_stopping=None, seed=seed)
    history = trainer.train(epochs)
    return time.perf_counter() - start, model.w, history


# --- the bandwidth floor, and the plain trainer's parts alone ------------------------------


def floor_seconds(X_train, X_val, epochs, repeats=20):
    """Bytes the schedule must read, at the bandwidth X.sum() reaches on the same arrays."""
    def median_time(X):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            X.sum()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    t_train, t_val = median_time(X_train), median_time(X_val)
    checks = epochs * 5
    gb_per_s = (X_train.nbytes + X_val.nbytes) / (t_train + t_val) / 1e9
    return checks * (t_train + t_val) + epochs * t_train, gb_per_s


def parts_seconds(data, epochs, seed=0):
    """(validation checks alone, mini-batch gathers alone, the steps' two products alone)."""
    model = SoftmaxModel(dtype=np.float32)
    trainer = Trainer(model, LEARNING_RATE, BATCH_SIZE, True, data.X_train, data.y_train, data.X_val,
                      data.y_val, seed=seed)
    t = time.perf_counter()
    for _ in range(epochs * 5):
        trainer.validation_step()
    validation = time.perf_counter() - t
    t = time.perf_counter()
    batches = 0
    for _ in range(epochs):
        for _X, _Y in trainer.loader:
            batches += 1
    gather = time.perf_counter() - t
    X_batch, E = data.X_train[:BATCH_SIZE].copy(), np.ones((BATCH_SIZE, 10), np.float32)
    t = time.perf_counter()
    for _ in range(batches):
        X_batch @ model.w
        X_batch.T @ E
    products = time.perf_counter() - t
    return validation, gather, products


PARTS = ("validation checks", "mini-batch gathers", "step products")


def measure_training(data, epochs, repeats):
    """Every training row, interleaved so that machine noise hits all alike.

    Returns {row name: {"seconds": [one per repeat], "w": final weights,
    "history": History (trainer rows)}}, plus "GB/s" (the streaming bandwidth).
    """
    rows = {name: {"seconds": []} for name in (*VARIANTS, REFERENCE, FLOOR, *PARTS)}
    Y_train, Y_val = one_hot_encode(data.y_train), one_hot_encode(data.y_val)
    for trainer_class, dtype in VARIANTS.values():  # a warm-up: BLAS's threads and buffers, first calls
        train_variant(trainer_class, dtype, data, epochs=1)
    for _ in range(repeats):
        for name, (trainer_class, dtype) in VARIANTS.items():
            seconds, w, history = train_variant(trainer_class, dtype, data, epochs)
            rows[name].update(w=w, history=history)
            rows[name]["seconds"].append(seconds)
        start = time.perf_counter()
        rows[REFERENCE]["w"], _ = reference_train(data.X_train64, Y_train, data.X_val64, Y_val, epochs)
        rows[REFERENCE]["seconds"].append(time.perf_counter() - start)
        floor, gb_per_s = floor_seconds(data.X_train, data.X_val, epochs)
        rows[FLOOR]["seconds"].append(floor)
        for name, seconds in zip(PARTS, parts_seconds(data, epochs)):
            rows[name]["seconds"].append(seconds)
    rows["GB/s"] = gb_per_s
    return rows


def print_training_table(rows, data, epochs, repeats):
    med = {name: statistics.median(row["seconds"]) for name, row in rows.items() if name != "GB/s"}
    print(f"task-3 schedule: {len(data.X_train)} train / {len(data.X_val)} val, batch {BATCH_SIZE}, "
          f"{epochs} epochs, validation 5 times an epoch; median of {repeats}, "
          f"BLAS threads: {blas_threads()}")
    print(f"{'':42s}{'seconds':>9s}{'gain':>9s}  every run (s)")
    for name in (*VARIANTS, REFERENCE, FLOOR):
        gain = ""
        if name.startswith(("+", "all")):
            gain = f"{(med[PLAIN] - med[name]) / med[PLAIN] * 100:+8.1f}%"
        runs = " ".join(f"{t:.2f}" for t in rows[name]["seconds"])
        print(f"{name:42s}{med[name]:9.2f}{gain:>9s}  {runs}")
    print("the plain trainer's parts, alone:")
    for name in PARTS:
        print(f"  {name:40s}{med[name]:9.2f}")
    print(f"streaming bandwidth (X.sum): {rows['GB/s']:.1f} GB/s")
    print("gain = time saved / time without the trick (float32: against the plain float64 trainer)")
    for name in VARIANTS:
        if name in (PLAIN64, PLAIN) or name.startswith("all"):
            continue
        print(verdict(name[2:], (med[PLAIN] - med[name]) / med[PLAIN] * 100))
    print(verdict("float32 training", (med[PLAIN64] - med[PLAIN]) / med[PLAIN64] * 100))
    print(f"reference / plain project:   {med[REFERENCE] / med[PLAIN]:.2f}x "
          f"(before, with the tricks: 2.1-2.6x)")
    print(f"reference / all tricks:      {med[REFERENCE] / med['all tricks (the previous trainer)']:.2f}x")
    print(f"plain project / floor:       {med[PLAIN] / med[FLOOR]:.2f}x")
    differences = [float(np.max(np.abs(rows[name]["w"] - rows[PLAIN]["w"]))) for name in VARIANTS]
    print(f"final weights: every variant within {max(differences):.1e} of the plain trainer's (max |dw|)")
    Y_test = one_hot_encode(data.y_test)
    ref_acc = ref_accuracy(data.X_test64, Y_test, rows[REFERENCE]["w"])
    proj_acc = ref_accuracy(data.X_test64, Y_test, rows[PLAIN]["w"].astype(np.float64))
    print(f"held-out test accuracy: reference {ref_acc:.4f}, plain project {proj_acc:.4f} "
          f"(difference {abs(ref_acc - proj_acc) * 100:.2f} points; target <= 0.2)")


def verdict(trick, gain):
    return f"  {trick:40s}{gain:+6.1f}%  {'clears 10%: keep' if gain >= 10 else 'below 10%: drop'}"


def blas_threads():
    return ",".join(str(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas")


# --- schedules side by side, each in its own process ----------------------------------------


def child_main(args):
    """Hidden --child mode: load, say "ready", wait for "go" on stdin, train, print the result as JSON."""
    if args.child_blas_threads:
        threadpool_limits(limits=args.child_blas_threads, user_api="blas")
    sizes = QUICK if args.quick else TASK3
    data = load_data(sizes, args.data_dir)
    print("ready", flush=True)
    sys.stdin.readline()
    seconds, _w, _history = train_variant(Trainer, np.float32, data, sizes["epochs"])
    print(json.dumps({"seconds": seconds, "blas_threads": blas_threads()}), flush=True)


def side_by_side(count, threads, args):
    """`count` schedules at once in child processes; threads: BLAS threads each, or None for the default.

    Returns (wall seconds from "go" to the last one done, [each child's {seconds, blas_threads}]).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    command = [sys.executable, __file__, "--child", *(["--quick"] if args.quick else [])]
    command += ["--data-dir", args.data_dir] if args.data_dir else []
    command += ["--child-blas-threads", str(threads)] if threads else []
    children = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                for _ in range(count)]
    for child in children:
        if child.stdout.readline() != "ready\n":
            raise RuntimeError(f"a child schedule failed to start (exit code {child.wait()})")
    start = time.perf_counter()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [json.loads(child.stdout.readline()) for child in children]
    wall = time.perf_counter() - start
    for child in children:
        child.wait()
    return wall, results


# --- the main job: wall time and the memory of its whole process tree -----------------------


def process_tree(roots):
    """The pids of `roots` and all their descendants, from /proc/*/stat."""
    children = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # the process ended while we looked
            children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


def memory_kb(pid):
    """(PSS, VmHWM) of one process in kB, or (0, 0) if it has ended."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            pss = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        with open(f"/proc/{pid}/status") as f:
            hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
        return pss, hwm
    except (OSError, StopIteration, ValueError):
        return 0, 0


class TreeMemorySampler(threading.Thread):
    """Every `interval` seconds, the summed PSS of the processes under `roots`; keeps the peaks."""

    def __init__(self, roots, interval=0.05):
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak_pss_kb, self.peak_single_kb, self.processes_seen = 0, 0, set()
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            total = 0
            for pid in process_tree(self.roots):
                pss, hwm = memory_kb(pid)
                total += pss
                self.peak_single_kb = max(self.peak_single_kb, hwm)
                self.processes_seen.add(pid)
            self.peak_pss_kb = max(self.peak_pss_kb, total)
            self.done.wait(self.interval)


def main_jobs(count, args):
    """`count` main jobs (python -m src) started together, each into its own temporary folder.

    Returns (wall seconds until the last ends, exit codes, peak summed PSS in MB,
    largest single process in MB, processes seen).
    """
    extra = shlex.split(args.main_args)
    extra += ["--data-dir", args.data_dir] if args.data_dir else []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        jobs = []
        for i in range(count):
            log = open(Path(tmp) / f"job{i}.log", "w")
            command = [sys.executable, "-m", "src", "--out-dir", str(Path(tmp) / f"out{i}"), *extra]
            jobs.append((subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), log))
        sampler = TreeMemorySampler([job.pid for job, _ in jobs])
        sampler.start()
        codes = [job.wait() for job, _ in jobs]
        wall = time.perf_counter() - start
        sampler.done.set()
        sampler.join()
        for i, (_job, log) in enumerate(jobs):
            log.close()
            if codes[i]:
                tail = (Path(tmp) / f"job{i}.log").read_text().strip().splitlines()[-3:]
                print(f"  main job {i + 1} failed (exit {codes[i]}): {' | '.join(tail)}", file=sys.stderr)
    return wall, codes, sampler.peak_pss_kb / 1024, sampler.peak_single_kb / 1024, len(sampler.processes_seen)


def print_parallel_table(args):
    repeats = 1 if args.quick else args.repeats
    print(f"\nschedules side by side, each in its own process; median of {repeats}")
    print(f"{'':48s}{'each (s)':>9s}{'wall (s)':>9s}  BLAS threads")
    rows = (("one schedule, 1 BLAS thread", 1, 1),
            ("one schedule, default BLAS threads", 1, None),
            ("two side by side, 1 BLAS thread each", 2, 1),
            ("two side by side, default BLAS threads", 2, None))
    for name, count, threads in rows:
        runs = [side_by_side(count, threads, args) for _ in range(repeats)]
        each = statistics.median(max(r["seconds"] for r in results) for _wall, results in runs)
        wall = statistics.median(wall for wall, _results in runs)
        print(f"{name:48s}{each:9.2f}{wall:9.2f}  {','.join(r['blas_threads'] for r in runs[-1][1])}",
              flush=True)
    if args.quick:
        return
    print(f"\nthe main job: python -m src --out-dir <tmp> {args.main_args}".rstrip())
    print(f"{'':48s}{'wall (s)':>9s}{'peak MB':>9s}{'largest':>9s}  processes")
    single = None
    for name, count in (("one main job", 1), ("two main jobs started together", 2)):
        wall, codes, pss_mb, single_mb, seen = main_jobs(count, args)
        status = "" if not any(codes) else f"  FAILED: exit codes {codes}"
        print(f"{name:48s}{wall:9.1f}{pss_mb:9.0f}{single_mb:9.0f}  {seen}{status}", flush=True)
        single = single or wall
    print(f"two together / one: {wall / single:.2f}x (target <= 2.2x)")
    print("peak MB: the largest sum of PSS over the job's process tree (sampled every 50 ms); "
          "largest: one process's VmHWM")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1,000 images, 1 epoch, 1 repeat (a smoke run)")
    p.add_argument("--repeats", type=int, default=3, help="runs of each, for the medians (default: 3)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads for the training rows (default: 1, as python -m src trains; "
                        "0: as many as BLAS starts with)")
    p.add_argument("--data-dir", help="folder with the MNIST files")
    p.add_argument("--parallel", action="store_true", help="only the parallel rows (processes, main jobs)")
    p.add_argument("--all", action="store_true", help="the training rows, then the parallel rows")
    p.add_argument("--main-args", default="", help='extra arguments for python -m src, e.g. "--jobs 2"')
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child-blas-threads", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    """Run the benchmark; returns the training rows (see measure_training), or None."""
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = None
    if not args.parallel or args.all:
        sizes = QUICK if args.quick else TASK3
        repeats = 1 if args.quick else args.repeats
        data = load_data(sizes, args.data_dir)
        with threadpool_limits(limits=args.blas_threads or None, user_api="blas"):
            rows = measure_training(data, sizes["epochs"], repeats)
            print_training_table(rows, data, sizes["epochs"], repeats)
    if args.parallel or args.all:
        print_parallel_table(args)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return rows


if __name__ == "__main__":
    main()
