"""The checks of each part, run in the child process against the learner's modules.

Each check is a function of the `Context`. It returns what it found (the
PASS line) or raises `Fail(expected, actual, mistake)`. Anything the
learner's code raises is caught by the child (`src.check.child`) and becomes
a FAIL line with the last line of its traceback and their file:line.
A check may `need` others: if one of those failed, it is not run (its FAIL
line already says what to fix first).

The references are the project's own `src.models`, `src.losses` and
`src.trainer`, proven by the tests; the numeric gradients are central
differences of the reference loss on every weight (`src.gradient_check`).
"""

import importlib
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .. import models
from ..data import pre_process_images as reference_pre_process
from ..gradient_check import perturbed_losses
from ..losses import sigmoid, softmax
from ..trainer import EarlyStopping, Trainer

PARTS = ("2a", "2b-2e", "3a", "3b-3d", "4a")
L2_LAMBDA = 0.1  # the L2 strength of part 4a's checks
ACCURACY_TOLERANCE = 0.01  # a short run's validation accuracy: |theirs - reference| (same data, settings)
GRADIENT_RTOL = 1e-6  # |theirs - numeric| <= GRADIENT_RTOL * max(1, largest |numeric|), float64
EPSILON = 1e-5  # central differences; their error is ~1e-10 in float64
PATIENCE = 10  # early stopping: validation checks without a new best


class Fail(Exception):
    """A check's verdict: what was expected, what came back, and the known mistake if one fits."""

    def __init__(self, expected, actual, mistake=None):
        super().__init__(actual)
        self.expected, self.actual, self.mistake = expected, actual, mistake


class Missing(Exception):
    """A file, class or function the check needs is not in the folder."""


@dataclass
class Check:
    part: str
    name: str
    run: object
    needs: tuple = ()


CHECKS = []


def check(part, name, needs=()):
    def register(fn):
        CHECKS.append(Check(part, name, fn, tuple(needs)))
        return fn
    return register


class Context:
    """The data and the learner's modules, imported lazily: only the ones a check needs."""

    def __init__(self, folder, data):
        self.folder, self.data = folder, data
        self._modules = {}

    def module(self, name):
        """Their module `name`, imported once; a failed import is one message, not one retry per check."""
        if name not in self._modules:
            try:
                self._modules[name] = importlib.import_module(name)
            except ModuleNotFoundError as err:
                if err.name != name:
                    self._modules[name] = Missing(f"importing {name}.py {their_line(err, self.folder)}")
                else:
                    self._modules[name] = Missing(f"{name}.py not found in the folder")
            except Exception as err:  # noqa: BLE001 - their module's import-time code
                self._modules[name] = Missing(f"importing {name}.py {their_line(err, self.folder)}")
        if isinstance(self._modules[name], Missing):
            raise self._modules[name]
        return self._modules[name]

    def find(self, attr, modules):
        """The first of modules that defines attr; years of the starter put a few things elsewhere."""
        problems = []
        for name in modules:
            try:
                mod = self.module(name)
            except Missing as missing:
                problems.append(str(missing))
                continue
            if hasattr(mod, attr):
                return getattr(mod, attr)
        if len(problems) == len(modules):
            raise Missing(problems[0])
        raise Missing(f"{attr} not found in {' or '.join(m + '.py' for m in modules)}")


def their_line(err, folder):
    """The last line of the traceback, and the deepest frame in the learner's folder as file:line."""
    last = traceback.format_exception_only(type(err), err)[-1].strip()
    where = None
    for frame in traceback.extract_tb(err.__traceback__):
        try:
            if Path(frame.filename).resolve().is_relative_to(folder):
                where = f"{Path(frame.filename).name}:{frame.lineno}"
        except (OSError, ValueError):
            pass
    if len(last) > 300:
        last = last[:300] + "..."
    return f"raised {last}" + (f" ({where})" if where else "")


# --- helpers ------------------------------------------------------------------------------------


def as_array(value, what):
    if value is None:
        raise Fail(what, "None", "stub")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Fail(what, f"a {type(value).__name__}, not an array") from None


def scalar(value, what):
    if value is None:
        raise Fail(what, "None", "stub")
    if np.ndim(value) != 0:
        raise Fail(what, f"an array of shape {np.shape(value)}", "loss-not-scalar")
    return float(value)


def close(a, b, rtol=1e-9, atol=1e-12):
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol)


def unchanged(before, after_arrays, fn_name):
    for name, (copy, array) in zip(("X", "outputs", "targets"), zip(before, after_arrays)):
        if not np.array_equal(copy, array):
            raise Fail(f"{fn_name} to leave its input {name} as it was", f"{name} was changed",
                       "changes-inputs")


def fmt(x):
    return np.format_float_positional(float(x), precision=4, unique=True, fractional=False, trim="-") \
        if abs(float(x)) >= 1e-4 or x == 0 else f"{float(x):.3g}"


def model_w(model, shape, who):
    w = getattr(model, "w", None)
    if not isinstance(w, np.ndarray) or w.shape != shape:
        got = "no attribute w" if w is None else f"w of shape {np.shape(w)}"
        raise Fail(f"{who} with w of shape {shape}", got, "stub" if w is None or not np.size(w) else None)
    return w


def numeric_gradient(X, w, targets, l2):
    """Central differences of the reference J = C + l2 * 1/2 ||w||^2 on every weight: [F, K]."""
    return (perturbed_losses(X, w, targets, l2, EPSILON) - perturbed_losses(X, w, targets, l2, -EPSILON)) \
        / (2 * EPSILON)


def their_gradient(model, X, targets):
    """model.backward(X, model.forward(X), targets) -> their gradient [F, K] (self.grad, else the return)."""
    outputs = model.forward(X)
    outputs = as_array(outputs, "forward(X) to return the outputs")
    copies = (X.copy(), outputs.copy(), targets.copy())
    returned = model.backward(X, outputs, targets)
    unchanged(copies, (X, outputs, targets), "backward")
    grad = getattr(model, "grad", None)
    if grad is None and returned is not None:
        grad = returned
    if grad is None:
        raise Fail("self.grad set by backward", "self.grad is None", "grad-not-stored")
    return np.asarray(grad, dtype=np.float64)


def diagnose_gradient(grad, numeric, N):
    """The known mistake that turns the right gradient into `grad`, if one does."""
    if grad.shape != numeric.shape:
        return None
    if close(grad, numeric * N, rtol=1e-5, atol=1e-9):
        return "no-batch-mean"
    if close(grad, -numeric, rtol=1e-5, atol=1e-9):
        return "gradient-sign"
    if not np.any(grad):
        return "stub"
    return None


def gradient_check(grad, numeric, N, label):
    tol = GRADIENT_RTOL * max(1.0, float(np.max(np.abs(numeric))))
    if grad.shape != numeric.shape:
        raise Fail(f"a gradient of shape {numeric.shape}", f"shape {grad.shape}")
    err = np.abs(grad - numeric)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    if err[worst] > tol:
        raise Fail(f"backward to match central differences on all {grad.size} weights ({label}) "
                   f"within {tol:.1g}",
                   f"{fmt(grad[worst])} instead of {fmt(numeric[worst])} at w{list(map(int, worst))} "
                   f"(largest error {err[worst]:.2g})", diagnose_gradient(grad, numeric, N))
    return f"all {grad.size} weights ({label}) within {tol:.1g} of central differences " \
           f"(largest error {err[worst]:.1g})"


# --- 2a: pre-processing, binary cross-entropy, BinaryModel ------------------------------------------


@check("2a", "pre_process_images")
def pre_process(ctx):
    fn = ctx.find("pre_process_images", ["task2a"])
    X = ctx.data["X_raw"][:64].copy()
    expected = reference_pre_process(X)
    out = fn(X)
    if not np.array_equal(X, ctx.data["X_raw"][:64]):
        raise Fail("pre_process_images to leave its input as it was", "the images were changed",
                   "changes-inputs")
    out = as_array(out, "images [N, 785]")
    if out.shape == X.shape:
        mistake = "stub" if np.array_equal(out, X) else "no-bias-column"
        raise Fail("[64, 785]: x / 127.5 - 1, then a 1 for the bias", f"shape {list(out.shape)}", mistake)
    if out.shape != expected.shape:
        raise Fail("[64, 785]", f"shape {list(out.shape)}")
    if close(out, expected, rtol=0, atol=1e-6):
        # The same on a dim batch (max < 255) rules out per-batch normalisation.
        dim = (X * 0.75).astype(np.uint8)
        out_dim = as_array(fn(dim.copy()), "images [N, 785]")
        if not close(out_dim, reference_pre_process(dim), rtol=0, atol=1e-6):
            d = dim.astype(np.float64)
            lo, hi = d.min(), d.max()
            if close(out_dim[:, :-1], 2 * (d - lo) / (hi - lo) - 1, rtol=0, atol=1e-6):
                raise Fail("x / 127.5 - 1 on a batch whose brightest pixel is 191",
                           f"values {fmt(out_dim[:, :-1].min())}..{fmt(out_dim[:, :-1].max())}",
                           "per-batch-min-max")
            raise Fail("x / 127.5 - 1 on a batch whose brightest pixel is 191",
                       "other values: the map depends on the batch", "standardised")
        return "[64, 785], x / 127.5 - 1 in [-1, 1], bias 1 last, the same map on every batch"
    pixels = X.astype(np.float64)
    if np.all(out[:, 0] == 1) and close(out[:, 1:], expected[:, :-1], rtol=0, atol=1e-6):
        raise Fail("the bias 1 as the last column", "it is the first", "bias-column-first")
    if close(out[:, :-1], pixels / 255, rtol=0, atol=1e-6):
        raise Fail("values in [-1, 1]", f"{fmt(out[:, :-1].min())}..{fmt(out[:, :-1].max())}", "range-0-1")
    if close(out[:, :-1], (pixels - pixels.min()) / (pixels.max() - pixels.min()) * 2 - 1, rtol=0, atol=1e-6):
        raise Fail("x / 127.5 - 1", "per-batch min-max values", "per-batch-min-max")
    if abs(out[:, :-1].mean()) < 1e-6 and abs(out[:, :-1].std() - 1) < 1e-3:
        raise Fail("x / 127.5 - 1, values in [-1, 1]", "mean 0, standard deviation 1", "standardised")
    if not np.all(out[:, -1] == 1):
        raise Fail("the last column all ones (the bias)", f"last column {fmt(out[:, -1].min())}.."
                   f"{fmt(out[:, -1].max())}", "no-bias-column")
    err = np.abs(out - expected).max()
    raise Fail("x / 127.5 - 1 within 1e-6", f"values off by up to {fmt(err)}")


def binary_ce_case(ctx):
    rng = np.random.default_rng(1)
    targets = (rng.random((50, 1)) < 0.5).astype(np.float64)
    outputs = rng.uniform(0.02, 0.98, (50, 1))
    expected = float(-np.mean(targets * np.log(outputs) + (1 - targets) * np.log(1 - outputs)))
    return targets, outputs, expected


def check_ce(fn, targets, outputs, expected, what):
    copies = (targets.copy(), outputs.copy())
    got = scalar(fn(targets, outputs), f"{what} {fmt(expected)}")
    if not (np.array_equal(copies[0], targets) and np.array_equal(copies[1], outputs)):
        raise Fail("cross_entropy_loss to leave its inputs as they were", "they were changed", "changes-inputs")
    if not np.isclose(got, expected, rtol=1e-9, atol=1e-12):
        mistake = "loss-sum" if np.isclose(got, expected * len(targets), rtol=1e-9) else None
        if got == 0:
            mistake = "stub"
        raise Fail(f"{what} {fmt(expected)}", fmt(got), mistake)
    return got


@check("2a", "cross_entropy_loss (binary)")
def binary_ce(ctx):
    fn = ctx.find("cross_entropy_loss", ["task2a"])
    targets, outputs, expected = binary_ce_case(ctx)
    got = check_ce(fn, targets, outputs, expected, "the mean cross-entropy of 50 outputs")
    return f"{fmt(got)}, a float, the mean over the batch"


@check("2a", "cross_entropy_loss (binary) at outputs 0 and 1", needs=["cross_entropy_loss (binary)"])
def binary_ce_saturated(ctx):
    fn = ctx.find("cross_entropy_loss", ["task2a"])
    targets = np.array([[1.0], [0.0], [1.0], [0.0]])
    with np.errstate(all="ignore"):
        got = scalar(fn(targets, targets.copy()), "0.0")
    if not np.isfinite(got) or abs(got) > 1e-6:
        raise Fail("0 (every output equals its target)", fmt(got), "loss-nan-at-0-1")
    return "0 where every output is exactly its target (no 0 * log 0)"


def make_model(ctx, cls_name, module, *args):
    """cls(*args); some years' BinaryModel takes l2_reg_lambda too: then cls(*args, 0.0) at lambda 0."""
    cls = ctx.find(cls_name, [module])
    try:
        return cls(*args)
    except TypeError as err:
        if not args and "required positional argument" in str(err):
            return cls(0.0)
        raise


@check("2a", "BinaryModel()")
def binary_init(ctx):
    model = make_model(ctx, "BinaryModel", "task2a")
    model_w(model, (785, 1), "BinaryModel()")
    return "w of shape [785, 1]"


def set_w(model, w):
    model.w = w.copy()


@check("2a", "BinaryModel.forward", needs=["BinaryModel()"])
def binary_forward(ctx):
    model = make_model(ctx, "BinaryModel", "task2a")
    X = ctx.data["X_bin"][:100]
    set_w(model, np.zeros((785, 1)))
    out = as_array(model.forward(X), "outputs [100, 1]")
    if out.shape != (100, 1) or not np.allclose(out, 0.5):
        raise Fail("0.5 everywhere, shape [100, 1], at zero weights",
                   f"shape {list(out.shape)}, mean {fmt(out.mean())}", "stub" if not out.any() else None)
    w = np.random.default_rng(2).normal(0, 0.1, (785, 1))
    set_w(model, w)
    out = as_array(model.forward(X), "outputs [100, 1]")
    if not close(out, sigmoid(X @ w), rtol=1e-9):
        raise Fail("sigmoid(X w)", f"values off by up to {fmt(np.abs(out - sigmoid(X @ w)).max())}")
    # Logits of +-800: exp(800) overflows, but the sigmoid's value is exact (0 or 1).
    set_w(model, np.full((785, 1), 0.0))
    model.w[-1] = 800.0
    with np.errstate(all="ignore"):
        big = as_array(model.forward(X), "outputs [100, 1]")
    if not np.all(np.isfinite(big)):
        raise Fail("finite outputs at a logit of 800", "NaN or inf")
    return "0.5 at zero weights, sigmoid(X w) at others, finite at a logit of 800"


def binary_gradient(ctx, scale):
    model = make_model(ctx, "BinaryModel", "task2a")
    X, targets = ctx.data["X_bin"][:100], ctx.data["T_bin"][:100]
    w = np.random.default_rng(3).normal(0, scale, (785, 1))
    set_w(model, w)
    grad = their_gradient(model, X, targets)
    return gradient_check(grad, numeric_gradient(X, w, targets, 0.0), len(X),
                          f"w ~ N(0, {scale:g}^2), 100 images")


@check("2a", "BinaryModel.backward, small weights", needs=["BinaryModel.forward"])
def binary_gradient_small(ctx):
    return binary_gradient(ctx, 0.01)


@check("2a", "BinaryModel.backward, large weights", needs=["BinaryModel.forward"])
def binary_gradient_large(ctx):
    return binary_gradient(ctx, 1.0)


# --- 2b-2e: the trainer: train_step, accuracy, early stopping, shuffling, a short run ----------------


class FixedModel:
    """A stand-in model whose forward returns given outputs (for calculate_accuracy)."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.w = np.zeros((785, outputs.shape[1]))

    def forward(self, X):
        return self.outputs[: len(X)].copy()


def check_accuracy(ctx, module, outputs, targets, expected):
    fn = ctx.find("calculate_accuracy", [module])
    X = ctx.data["X_bin"][: len(targets)]
    got = scalar(fn(X, targets.copy(), FixedModel(outputs)), f"{expected}")
    if not np.isclose(got, expected, atol=1e-12):
        raise Fail(f"{fmt(expected)}", fmt(got), "stub" if got == 0 else None)
    return f"{fmt(got)} on outputs with a known accuracy"


@check("2b-2e", "calculate_accuracy (binary)")
def binary_accuracy(ctx):
    rng = np.random.default_rng(4)
    targets = (rng.random((40, 1)) < 0.5).astype(np.float64)
    outputs = np.where(rng.random((40, 1)) < 0.7, np.abs(targets - 0.2), np.abs(targets - 0.8))
    expected = float(np.mean((outputs >= 0.5) == targets))
    return check_accuracy(ctx, "task2", outputs, targets, expected)


def set_globals(module, data):
    """Some years' validation_step reads the script's globals X_train, ...: give it the same data."""
    for name, value in zip(("X_train", "Y_train", "X_val", "Y_val"), data):
        setattr(module, name, value)


def reference_step(ctx, trainer_name, module, model, X, T, lr):
    """Their train_step on the reference model; expected: w - lr * grad and the batch's loss before."""
    cls = ctx.find(trainer_name, [module])
    set_globals(ctx.module(module), (X, T, X, T))
    trainer = cls(model, lr, len(X), False, X, T, X, T)
    w0 = model.w.copy()
    expected_grad = np.array(model.backward(X, model.forward(X), T), copy=True)
    expected_w = w0 - lr * expected_grad
    expected_loss = model.loss(X, T)
    model.w = w0.copy()
    loss = scalar(trainer.train_step(X, T), f"the batch's loss {fmt(expected_loss)}")
    w = np.asarray(trainer.model.w, dtype=np.float64)
    if np.array_equal(w, w0):
        raise Fail("w - learning_rate * grad", "the weights did not change", "weights-not-updated")
    if not close(w, expected_w, rtol=1e-9, atol=1e-12):
        raise Fail("w - learning_rate * grad", f"weights off by up to {fmt(np.abs(w - expected_w).max())}")
    if not np.isclose(loss, expected_loss, rtol=1e-6):
        raise Fail(f"the batch's cross-entropy {fmt(expected_loss)} (before the step)", fmt(loss))
    return f"w - {lr:g} grad, returns the batch's loss {fmt(loss)}"


@check("2b-2e", "LogisticTrainer.train_step")
def logistic_train_step(ctx):
    model = models.BinaryModel()
    model.w = np.random.default_rng(5).normal(0, 0.01, (785, 1))
    return reference_step(ctx, "LogisticTrainer", "task2", model, ctx.data["X_bin"][:64],
                          ctx.data["T_bin"][:64], 0.05)


def scripted_run(ctx, shuffle, val_losses, num_epochs, seed=0):
    """Their BaseTrainer.train with our train_step/validation_step: what it fed us and when it stopped.

    X rows hold their own index in every pixel, Y its index too, so each batch
    shows which samples it holds and whether images and labels stayed together.
    """
    base = ctx.find("BaseTrainer", ["trainer", "task2"])
    N, batch = 60, 5  # 12 batches an epoch: a validation check every 2 steps, 6 an epoch
    X = np.repeat(np.arange(N, dtype=np.float64)[:, None], 785, axis=1)
    Y = np.arange(N, dtype=np.float64)[:, None]
    record = SimpleNamespace(batches=[], checks=0, step=0, best_step=None)
    # A stand-in model, in case their train() touches it beyond w (to keep the best weights, say).
    model = SimpleNamespace(w=np.zeros((785, 1)), grad=None, l2_reg_lambda=0.0,
                            forward=lambda X: np.full((len(X), 1), 0.5), backward=lambda *args: None,
                            zero_grad=lambda: None)

    class Spy(base):
        def train_step(self, X_batch, Y_batch):
            record.batches.append((np.asarray(X_batch)[:, 0].copy(), np.asarray(Y_batch)[:, 0].copy()))
            record.step += 1
            self.model.w = np.full((785, 1), float(record.step))
            return 1.0

        def validation_step(self):
            loss = val_losses(record.checks)
            record.checks += 1
            return loss, 0.5, 0.5

    trainer = Spy(model, 0.1, batch, shuffle, X, Y, X[:10], Y[:10])
    np.random.seed(seed)
    result = trainer.train(num_epochs)
    record.final_w = float(np.asarray(trainer.model.w).ravel()[0])
    record.result = result
    return record


def epochs_of(record, per_epoch=12):
    xs = [x for x, _ in record.batches]
    return [np.concatenate(xs[i:i + per_epoch]) for i in range(0, len(xs) - per_epoch + 1, per_epoch)]


@check("2b-2e", "early stopping")
def early_stopping(ctx):
    # Check 1 is the best; checks 2, 3, ... never beat it: the 10th of them, check 11, must stop training.
    record = scripted_run(ctx, False, lambda i: 0.5 if i == 1 else 1.0, num_epochs=40)
    expected = PATIENCE + 2
    if record.checks == expected:
        return f"stops at validation check {expected}, after {PATIENCE} checks without a new best"
    got = f"{record.checks} validation checks"
    if record.checks == expected - 1:
        raise Fail(f"training to stop at validation check {expected}", got, "patience-9")
    if record.checks >= 40 * 6:
        raise Fail(f"training to stop at validation check {expected}", got + " (every epoch ran)",
                   "no-early-stopping")
    if record.checks in range(expected + 30, expected + 80):
        raise Fail(f"training to stop at validation check {expected}", got, "patience-in-epochs")
    raise Fail(f"training to stop at validation check {expected}", got)


@check("2b-2e", "keeps the best weights", needs=["early stopping"])
def best_weights(ctx):
    record = scripted_run(ctx, False, lambda i: 0.5 if i == 1 else 1.0, num_epochs=40)
    # Check 1 runs after step 2 (validation every 2 steps, from step 0): w was 3.0 ... or the last step's.
    if record.final_w == float(record.step):
        return "NOTE: training ends with the last step's weights (keeping the best is not part of the assignment)"
    return f"NOTE: training ends with earlier weights (those of step {int(record.final_w)}): it keeps the best"


@check("2b-2e", "shuffling keeps images and labels together")
def shuffle_pairs(ctx):
    record = scripted_run(ctx, True, lambda i: 1.0 - 1e-3 * i, num_epochs=2)
    for x, y in record.batches:
        if not np.array_equal(x, y):
            raise Fail("each image with its own label", f"image {int(x[0])} came with label {int(y[0])}",
                       "shuffle-separates")
    return "every image came with its own label"


@check("2b-2e", "shuffling", needs=["shuffling keeps images and labels together"])
def shuffling(ctx):
    record = scripted_run(ctx, True, lambda i: 1.0 - 1e-3 * i, num_epochs=2)
    epochs = epochs_of(record)
    if len(epochs) < 2:
        raise Fail("2 epochs of 12 batches", f"{len(record.batches)} batches")
    for order in epochs:
        if sorted(order) != list(range(60)):
            raise Fail("each sample once per epoch", "some twice, some never")
    if np.array_equal(epochs[0], np.arange(60)):
        raise Fail("a shuffled order", "the samples in order", "no-shuffle")
    if np.array_equal(epochs[0], epochs[1]):
        raise Fail("a new order each epoch", "the same order in epochs 1 and 2", "shuffle-repeats")
    again = scripted_run(ctx, True, lambda i: 1.0 - 1e-3 * i, num_epochs=2)
    if not np.array_equal(np.concatenate(epochs), np.concatenate(epochs_of(again))):
        raise Fail("the same order after np.random.seed(0) as before it", "another order",
                   "shuffle-unseeded")
    other = scripted_run(ctx, True, lambda i: 1.0 - 1e-3 * i, num_epochs=2, seed=1)
    if np.array_equal(np.concatenate(epochs), np.concatenate(epochs_of(other))):
        raise Fail("another order after np.random.seed(1)", "the same order: np.random is reseeded inside",
                   "shuffle-repeats")
    return "a permutation each epoch, new every epoch, reproducible from np.random's seed"


@check("2b-2e", "no shuffling when shuffle_dataset is False")
def no_shuffle(ctx):
    record = scripted_run(ctx, False, lambda i: 1.0 - 1e-3 * i, num_epochs=2)
    for order in epochs_of(record):
        if not np.array_equal(order, np.arange(60)):
            raise Fail("the samples in order", "a shuffled order", "shuffles-when-told-not-to")
    return "the samples in order, every epoch"


def short_run(ctx, kind):
    """Their model and trainer against the reference, on the same data and settings; val accuracy."""
    if kind == "binary":
        trainer_cls = ctx.find("LogisticTrainer", ["task2"])
        module, model, ref = "task2", make_model(ctx, "BinaryModel", "task2a"), models.BinaryModel()
        X, T, Xv, Tv = (ctx.data[k] for k in ("X_bin", "T_bin", "Xv_bin", "Tv_bin"))
        y, yv = T[:, 0].astype(np.int64), Tv[:, 0].astype(np.int64)
        lr, epochs = 0.05, 3
    else:
        cls, trainer_cls = ctx.find("SoftmaxModel", ["task3a"]), ctx.find("SoftmaxTrainer", ["task3"])
        module, model, ref = "task3", cls(0.0), models.SoftmaxModel()
        X, T, Xv, Tv = (ctx.data[k] for k in ("X_all", "T_all", "Xv_all", "Tv_all"))
        y, yv = T.argmax(1), Tv.argmax(1)
        lr, epochs = 0.01, 2
    set_globals(ctx.module(module), (X, T, Xv, Tv))
    trainer = trainer_cls(model, lr, 128, False, X, T.copy(), Xv, Tv.copy())
    result = trainer.train(epochs)
    if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(h, dict) for h in result)
            and "loss" in result[1] and len(result[1]["loss"])):
        raise Fail("train() to return (train_history, val_history) with val_history['loss'] filled",
                   f"{type(result).__name__}", "stub" if result is None else None)
    out = as_array(model.forward(Xv), "outputs")
    pred = (out[:, 0] >= 0.5).astype(np.int64) if kind == "binary" else out.argmax(1)
    theirs = float(np.mean(pred == yv))
    Trainer(ref, lr, 128, False, X, y, Xv, yv, early_stopping=EarlyStopping(PATIENCE)).train(epochs)
    reference = float(np.mean(ref.predict(Xv) == yv))
    what = f"{len(X)} images, {epochs} epochs, learning rate {lr:g}, batch 128, no shuffling"
    if abs(theirs - reference) > ACCURACY_TOLERANCE:
        raise Fail(f"validation accuracy {reference:.4f} +- {ACCURACY_TOLERANCE} (the reference's; {what})",
                   f"{theirs:.4f}")
    return f"validation accuracy {theirs:.4f}, the reference's {reference:.4f} ({what})"


@check("2b-2e", "a short training run (logistic)")
def logistic_run(ctx):
    return short_run(ctx, "binary")


# --- 3a: one-hot, softmax cross-entropy, SoftmaxModel -----------------------------------------------


@check("3a", "one_hot_encode")
def one_hot(ctx):
    fn = ctx.find("one_hot_encode", ["task3a"])
    Y = np.array([[3], [0], [9], [5], [1]], dtype=np.int64)
    copy = Y.copy()
    out = fn(Y, 10)
    if not np.array_equal(Y, copy):
        raise Fail("one_hot_encode to leave Y as it was", "Y was changed", "changes-inputs")
    out = as_array(out, "[5, 10]")
    if out.shape != (5, 10):
        raise Fail("shape [5, 10] from Y of shape [5, 1]", f"shape {list(out.shape)}", "one-hot-not-2d")
    expected = np.eye(10)[Y[:, 0]]
    if np.array_equal(out, expected):
        return "[5, 10], a 1 at each label's column, from labels shaped [N, 1]"
    for shift in (-1, 1):
        if np.array_equal(out, np.eye(10)[(Y[:, 0] + shift) % 10]):
            raise Fail("label 3 -> a 1 in column 3", f"column {3 + shift}", "one-hot-off-by-one")
    raise Fail("label 3 -> [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]", f"{out[0].tolist()}")


def softmax_ce_case():
    rng = np.random.default_rng(6)
    targets = np.eye(10)[rng.integers(0, 10, 50)]
    outputs = softmax(rng.normal(0, 2, (50, 10)))
    return targets, outputs, float(-np.mean(np.sum(targets * np.log(outputs), axis=1)))


@check("3a", "cross_entropy_loss (softmax)")
def softmax_ce(ctx):
    fn = ctx.find("cross_entropy_loss", ["task3a"])
    got = check_ce(fn, *softmax_ce_case(), "the mean cross-entropy of 50 outputs")
    return f"{fmt(got)}, a float, the mean over the batch"


@check("3a", "cross_entropy_loss (softmax) at outputs 0 and 1", needs=["cross_entropy_loss (softmax)"])
def softmax_ce_saturated(ctx):
    fn = ctx.find("cross_entropy_loss", ["task3a"])
    targets = np.eye(10)[[3, 0, 9]]
    with np.errstate(all="ignore"):
        got = scalar(fn(targets, targets.copy()), "0.0")
    if not np.isfinite(got) or abs(got) > 1e-6:
        raise Fail("0 (every output equals its one-hot target)", fmt(got), "loss-nan-at-0-1")
    return "0 where the outputs are exactly the one-hot targets (no 0 * log 0)"


@check("3a", "SoftmaxModel()")
def softmax_init(ctx):
    model = make_model(ctx, "SoftmaxModel", "task3a", 0.0)
    model_w(model, (785, 10), "SoftmaxModel(0.0)")
    return "w of shape [785, 10]"


@check("3a", "SoftmaxModel.forward", needs=["SoftmaxModel()"])
def softmax_forward(ctx):
    model = make_model(ctx, "SoftmaxModel", "task3a", 0.0)
    X = ctx.data["X_all"][:100]
    set_w(model, np.zeros((785, 10)))
    out = as_array(model.forward(X), "outputs [100, 10]")
    if out.shape != (100, 10) or not np.allclose(out, 0.1):
        raise Fail("0.1 everywhere, shape [100, 10], at zero weights",
                   f"shape {list(out.shape)}, mean {fmt(out.mean()) if out.size else 'none'}",
                   "stub" if not out.any() else None)
    w = np.random.default_rng(7).normal(0, 0.1, (785, 10))
    set_w(model, w)
    out = as_array(model.forward(X), "outputs [100, 10]")
    if not close(out, softmax(X @ w), rtol=1e-9):
        raise Fail("softmax(X w)", f"values off by up to {fmt(np.abs(out - softmax(X @ w)).max())}")
    return "0.1 at zero weights, softmax(X w) at others, rows summing to 1"


@check("3a", "SoftmaxModel.forward at large logits", needs=["SoftmaxModel.forward"])
def softmax_large(ctx):
    model = make_model(ctx, "SoftmaxModel", "task3a", 0.0)
    X = ctx.data["X_all"][:20]
    w = np.zeros((785, 10))
    w[-1, 3] = 1000.0  # the bias of class 3: a logit of 1000 for every image
    set_w(model, w)
    with np.errstate(all="ignore"):
        out = as_array(model.forward(X), "outputs [20, 10]")
    if not np.all(np.isfinite(out)) or not np.allclose(out, np.eye(10)[[3] * 20]):
        raise Fail("probability 1 for class 3 at a logit of 1000",
                   "NaN" if np.isnan(out).any() else f"{out[0].round(3).tolist()}", "no-max-shift")
    return "exact at a logit of 1000 (the max shift)"


def softmax_gradient(ctx, scale, l2=0.0):
    model = make_model(ctx, "SoftmaxModel", "task3a", l2)
    X, targets = ctx.data["X_all"][:100], ctx.data["T_all"][:100]
    w = np.random.default_rng(8).normal(0, scale, (785, 10))
    set_w(model, w)
    return model, X, targets, w, their_gradient(model, X, targets)


@check("3a", "SoftmaxModel.backward, small weights", needs=["SoftmaxModel.forward"])
def softmax_gradient_small(ctx):
    _, X, T, w, grad = softmax_gradient(ctx, 0.01)
    return gradient_check(grad, numeric_gradient(X, w, T, 0.0), len(X), "w ~ N(0, 0.01^2), 100 images")


@check("3a", "SoftmaxModel.backward, large weights", needs=["SoftmaxModel.forward"])
def softmax_gradient_large(ctx):
    _, X, T, w, grad = softmax_gradient(ctx, 1.0)
    return gradient_check(grad, numeric_gradient(X, w, T, 0.0), len(X), "w ~ N(0, 1^2), 100 images")


# --- 3b-3d: the softmax trainer ---------------------------------------------------------------------


@check("3b-3d", "calculate_accuracy (softmax)")
def softmax_accuracy(ctx):
    rng = np.random.default_rng(9)
    targets = np.eye(10)[rng.integers(0, 10, 40)]
    outputs = softmax(rng.normal(0, 1, (40, 10)) + 2.5 * targets)
    expected = float(np.mean(outputs.argmax(1) == targets.argmax(1)))
    return check_accuracy(ctx, "task3", outputs, targets, expected)


@check("3b-3d", "SoftmaxTrainer.train_step")
def softmax_train_step(ctx):
    model = models.SoftmaxModel()
    model.w = np.random.default_rng(10).normal(0, 0.01, (785, 10))
    return reference_step(ctx, "SoftmaxTrainer", "task3", model, ctx.data["X_all"][:64],
                          ctx.data["T_all"][:64], 0.01)


@check("3b-3d", "a short training run (softmax)")
def softmax_run(ctx):
    return short_run(ctx, "softmax")


# --- 4a: the L2 term --------------------------------------------------------------------------------


def l2_check(ctx, scale):
    _, X, T, w, grad = softmax_gradient(ctx, scale, L2_LAMBDA)
    plain = make_model(ctx, "SoftmaxModel", "task3a", 0.0)
    set_w(plain, w)
    l2_part = (grad - their_gradient(plain, X, T)) / L2_LAMBDA  # what their gradient adds, per unit lambda
    label = f"w ~ N(0, {scale:g}^2), lambda = {L2_LAMBDA:g}, 100 images"
    expected = f"the gradient to gain lambda * w (R = 1/2 ||w||^2) or 2 lambda * w (R = ||w||^2); {label}"
    if close(l2_part, w, rtol=1e-6, atol=1e-9):
        convention, l2 = "R = 1/2 ||w||^2 (dR/dw = w)", L2_LAMBDA
    elif close(l2_part, 2 * w, rtol=1e-6, atol=1e-9):
        convention, l2 = "R = ||w||^2 (dR/dw = 2 w)", 2 * L2_LAMBDA
    elif np.allclose(l2_part, np.sum(w), rtol=1e-6, atol=1e-9) or np.allclose(l2_part, 2 * np.sum(w), rtol=1e-6):
        raise Fail(expected, f"lambda * {fmt(l2_part.flat[0])} added to every weight", "l2-sum")
    elif close(l2_part * len(X), w, rtol=1e-6, atol=1e-9) or close(l2_part * len(X), 2 * w, rtol=1e-6):
        raise Fail(expected, "lambda * w / 100", "l2-divided-by-batch")
    elif np.allclose(l2_part, 0, atol=1e-12):
        raise Fail(expected, "the same gradient as at lambda = 0", "no-l2-in-gradient")
    else:
        err = np.abs(l2_part - w).max()
        raise Fail(expected, f"another term (off lambda * w by up to {fmt(err * L2_LAMBDA)})")
    # Your convention's J = C + lambda R, checked on every weight: R = ||w||^2 is 1/2 ||w||^2 at 2 lambda.
    result = gradient_check(grad, numeric_gradient(X, w, T, l2), len(X), label)
    return f"your gradient implements {convention}; {result}"


@check("4a", "L2 gradient, small weights", needs=["SoftmaxModel.backward, small weights"])
def l2_small(ctx):
    return l2_check(ctx, 0.01)


@check("4a", "L2 gradient, large weights", needs=["SoftmaxModel.backward, large weights"])
def l2_large(ctx):
    return l2_check(ctx, 1.0)


@check("4a", "L2 in the loss agrees with the gradient", needs=["L2 gradient, large weights"])
def l2_loss(ctx):
    model, X, T, w, grad = softmax_gradient(ctx, 0.1, L2_LAMBDA)  # outputs far from 0: no clipping
    plain = make_model(ctx, "SoftmaxModel", "task3a", 0.0)
    set_w(plain, w)
    implements_full = close((grad - their_gradient(plain, X, T)) / L2_LAMBDA, 2 * w, rtol=1e-6)
    trainer_cls = ctx.find("SoftmaxTrainer", ["task3"])
    set_w(model, w)
    set_globals(ctx.module("task3"), (X, T, X, T))
    loss = scalar(trainer_cls(model, 1e-9, len(X), False, X, T, X, T).train_step(X, T), "the batch's loss")
    ref = models.SoftmaxModel()  # at lambda = 0 its J is the cross-entropy C
    ref.w = w.copy()
    C = ref.loss(X, T)
    half, full = 0.5 * float(np.sum(w**2)), float(np.sum(w**2))
    if np.isclose(loss, C, rtol=1e-6):
        return "train_step reports the cross-entropy C without the L2 term (as the starter's plots expect)"
    if np.isclose(loss, C + L2_LAMBDA * (full if implements_full else half), rtol=1e-6):
        return "train_step's loss C + lambda R uses the same R as the gradient"
    if np.isclose(loss, C + L2_LAMBDA * (half if implements_full else full), rtol=1e-6):
        raise Fail("the loss's R to match the gradient's", "the other R", "l2-loss-disagrees")
    return f"NOTE: train_step's loss is {fmt(loss)}; C is {fmt(C)} (not compared further)"


def selected(parts):
    return [c for c in CHECKS if c.part in parts]
