"""Task 3a: one-hot targets and the softmax-regression gradient, checked on real images.

    python task3a.py [--data-dir DIR] [--seed N]

The gradient is checked on all 7,850 weights, without and with L2
regularisation. Exits 0 when every check passes, 1 otherwise.
"""

import src  # noqa: F401, I001 (first: from here on a stop signal is one line, see src/stops.py)

import numpy as np

from src.cli import parser, report_checks, run
from src.data import load_full_mnist, one_hot_encode, pre_process_images
from src.gradient_check import assignment_checks
from src.models import SoftmaxModel


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    split = load_full_mnist(seed=args.seed, data_dir=args.data_dir, dataset=args.dataset)
    X = pre_process_images(split.X_train)
    Y = one_hot_encode(split.y_train)
    one_hot_ok = np.all(Y.sum(axis=1) == 1) and np.all(Y.argmax(axis=1) == split.y_train)
    uniform = np.allclose(SoftmaxModel().forward(X), 0.1, rtol=0, atol=1e-15)
    checks = [
        ("pre-processed pixels span [-1, 1], 785 features", X.shape[1] == 785 and X.min() == -1 and X.max() == 1,
         f"shape {X.shape}"),
        ("one-hot targets: one 1 per row, at the label", bool(one_hot_ok), f"shape {Y.shape}"),
        ("zero weights give outputs of 1/10", bool(uniform), ""),
    ]
    gradient_checks = assignment_checks(SoftmaxModel, X[:100], Y[:100], l2_reg_lambda=0.5, seed=args.seed)
    checks += [(f"gradient check, {name}", ok, f"max |numeric - analytic| = {r.max_abs_error:.2e}")
               for name, r, ok in gradient_checks]
    return report_checks(checks, "softmax regression, ten digits, 100 images, all 7,850 weights")


if __name__ == "__main__":
    run(main)
