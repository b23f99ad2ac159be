"""Task 2a: pre-processing and the logistic-regression gradient, checked on real images.

    python task2a.py [--data-dir DIR] [--seed N]

Exits 0 when every check passes, 1 with the failing check named otherwise.
"""

import src  # noqa: F401, I001 (first: from here on a stop signal is one line, see src/stops.py)

import numpy as np

from src.cli import parser, report_checks, run
from src.data import load_binary_dataset, pre_process_images
from src.gradient_check import assignment_checks
from src.models import BinaryModel


def main(argv=None):
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    split = load_binary_dataset(2, 3, seed=args.seed, data_dir=args.data_dir, dataset=args.dataset)
    X = pre_process_images(split.X_train)
    Y = BinaryModel().encode_targets(split.y_train)
    pixels = X[:, :-1]
    checks = [
        ("pre-processed pixels span [-1, 1]", pixels.min() == -1 and pixels.max() == 1,
         f"{pixels.min():g}..{pixels.max():g}"),
        ("785 features (784 pixels + bias 1)", X.shape[1] == 785 and np.all(X[:, -1] == 1), f"shape {X.shape}"),
        ("zero weights give outputs of exactly 0.5", bool(np.all(BinaryModel().forward(X) == 0.5)), ""),
    ]
    checks += [(f"gradient check, {name}", ok, f"max |numeric - analytic| = {r.max_abs_error:.2e}")
               for name, r, ok in assignment_checks(BinaryModel, X[:100], Y[:100], seed=args.seed)]
    return report_checks(checks, "logistic regression, digit 2 (target 1) vs 3 (target 0), 100 images")


if __name__ == "__main__":
    run(main)
