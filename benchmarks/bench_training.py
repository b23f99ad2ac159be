"""Benchmark: the task-3 schedule, three ways, timed in one run.

    python benchmarks/bench_training.py [--quick] [--repeats 3] [--data-dir DIR]

The work: softmax regression, 18,000 training and 2,000 validation images,
batch 128, 50 epochs, shuffling, validation 5 times per epoch (validation
loss, accuracy on the whole training set and on the validation set), early
stopping off so the work is fixed.

1. reference: the straightforward float64 implementation a student writes
   first (X.dot(w), a full softmax, the gradient as a matrix product, new
   arrays every step), defined below.
2. project: src.trainer.Trainer with the project's float32 models.
3. floor: the bytes the schedule must read at the least, in float32 (each
   validation check reads the training and validation matrices once, each
   epoch reads the training matrix once for its mini-batches), divided by
   the streaming bandwidth measured on those same arrays with X.sum().

It also times parts of the project's work on their own: the 250 validation
checks, and for every step the shuffled mini-batch gather and the two matrix
products (X_b w forward, X_b^T E backward, on a batch already in cache).
Their sum is what the project would take if the rest of each step (softmax,
loss, update, Python) cost nothing: the best ratios this design can reach.

Prints a table of medians and the ratios reference/project (target >= 4)
and project/floor (target <= 1.5), plus the final accuracies of the
float64 reference and the float32 project run (target: within 0.2 points).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from src.data import load_full_mnist, one_hot_encode, pre_process_images  # noqa: E402
from src.models import SoftmaxModel  # noqa: E402
from src.trainer import Trainer  # noqa: E402


# --- 1. the reference: how the assignment is usually first written ------------------------


def ref_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ref_loss(Y, outputs):
    return -np.mean(np.sum(Y * np.log(outputs), axis=1))


def ref_accuracy(X, Y, w):
    return np.mean(np.argmax(ref_softmax(X.dot(w)), axis=1) == np.argmax(Y, axis=1))


def reference_train(X_train, Y_train, X_val, Y_val, epochs, lr=0.01, batch_size=128, seed=0):
    X_train, Y_train = X_train.astype(np.float64), Y_train.astype(np.float64)
    X_val, Y_val = X_val.astype(np.float64), Y_val.astype(np.float64)
    w = np.zeros((X_train.shape[1], Y_train.shape[1]))
    rng = np.random.default_rng(seed)
    num_batches = len(X_train) // batch_size
    steps_per_val = num_batches // 5
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


# --- 2. the project's trainer ------------------------------------------------------------


def project_train(X_train, Y_train, X_val, Y_val, epochs, seed=0):
    model = SoftmaxModel(dtype=np.float32)
    trainer = Trainer(model, 0.01, 128, True, X_train, Y_train, X_val, Y_val, early_stopping=None, seed=seed)
    history = trainer.train(epochs)
    return model.w, history


# --- 3. the bandwidth floor ----------------------------------------------------------------


def floor_seconds(X_train, X_val, epochs, repeats=20):
    """Bytes the schedule must read, at the bandwidth X.sum() reaches on the same arrays."""
    def best_time(X):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            X.sum()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    t_train, t_val = best_time(X_train), best_time(X_val)
    checks = epochs * 5
    gb_per_s = (X_train.nbytes + X_val.nbytes) / (t_train + t_val) / 1e9
    return checks * (t_train + t_val) + epochs * t_train, gb_per_s


def parts_seconds(X_train, Y_train, X_val, Y_val, epochs, seed=0):
    """(validation checks alone, mini-batch gathers alone, the steps' two products alone)."""
    model = SoftmaxModel(dtype=np.float32)
    trainer = Trainer(model, 0.01, 128, True, X_train, Y_train, X_val, Y_val, seed=seed)
    t = time.perf_counter()
    for _ in range(epochs * 5):
        trainer.validation_step()
    validation = time.perf_counter() - t
    t = time.perf_counter()
    batches = 0
    for _ in range(epochs):
        for X_batch, _Y in trainer.loader:
            batches += 1
    gather = time.perf_counter() - t
    X_batch, E = X_train[:128].copy(), np.ones((128, 10), np.float32)
    t = time.perf_counter()
    for _ in range(batches):
        X_batch @ model.w
        X_batch.T @ E
    products = time.perf_counter() - t
    return validation, gather, products


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5 epochs instead of 50, one repeat")
    p.add_argument("--repeats", type=int, default=3, help="runs of each, for the medians (default: 3)")
    p.add_argument("--data-dir", help="folder with the MNIST files")
    args = p.parse_args(argv)
    epochs, repeats = (5, 1) if args.quick else (50, args.repeats)

    split = load_full_mnist(18000, 2000, seed=0, data_dir=args.data_dir)
    X_train, X_val = (pre_process_images(x, np.float32) for x in (split.X_train, split.X_val))
    Y_train, Y_val = (one_hot_encode(y, dtype=np.float32) for y in (split.Y_train, split.Y_val))

    parts_names = ["validation checks", "mini-batch gathers", "step products"]
    times = {"reference (float64)": [], "project (float32)": [], "bandwidth floor": [], "parts": []}
    times.update({name: [] for name in parts_names})
    for _ in range(repeats):  # interleaved, so that machine noise hits all three alike
        t = time.perf_counter()
        w_ref, _ = reference_train(X_train, Y_train, X_val, Y_val, epochs)
        times["reference (float64)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        w_proj, _ = project_train(X_train, Y_train, X_val, Y_val, epochs)
        times["project (float32)"].append(time.perf_counter() - t)
        floor, gb_per_s = floor_seconds(X_train, X_val, epochs)
        times["bandwidth floor"].append(floor)
        parts = parts_seconds(X_train, Y_train, X_val, Y_val, epochs)
        times["parts"].append(sum(parts))
        for name, seconds in zip(parts_names, parts):
            times[name].append(seconds)

    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"task-3 schedule: 18000 train / 2000 val, batch 128, {epochs} epochs, "
          f"{epochs * 5} validation checks; median of {repeats}")
    print(f"{'':34s}{'seconds':>9s}")
    for name in ("reference (float64)", "project (float32)", "bandwidth floor"):
        print(f"{name:34s}{med[name]:9.2f}")
    print("parts of the project's work, alone:")
    for name in parts_names:
        print(f"  {name:32s}{med[name]:9.2f}")
    print(f"streaming bandwidth (X.sum): {gb_per_s:.1f} GB/s")
    print(f"reference / project: {med['reference (float64)'] / med['project (float32)']:.2f}x (target >= 4)")
    print(f"project / floor:     {med['project (float32)'] / med['bandwidth floor']:.2f}x (target <= 1.5)")
    bound = med["parts"]
    print(f"if the rest of each step cost nothing ({bound:.2f} s): at best "
          f"{med['reference (float64)'] / bound:.2f}x and {bound / med['bandwidth floor']:.2f}x")
    X_test = pre_process_images(split.X_test, np.float64)
    ref_acc = ref_accuracy(X_test, one_hot_encode(split.Y_test), w_ref)
    proj_acc = ref_accuracy(X_test, one_hot_encode(split.Y_test), w_proj.astype(np.float64))
    print(f"held-out test accuracy: reference {ref_acc:.4f}, project {proj_acc:.4f} "
          f"(difference {abs(ref_acc - proj_acc) * 100:.2f} points; target <= 0.2)")


if __name__ == "__main__":
    main()
