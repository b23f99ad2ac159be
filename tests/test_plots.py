"""The curve figures keep the assignment's y-limits where they show the data, and widen where not."""

import numpy as np
import pytest

from src import plots


def run_with_val_accuracy(values):
    steps = range(len(values))
    return {"train_accuracy": dict(zip(steps, values)), "val_accuracy": dict(zip(steps, values))}


@pytest.mark.parametrize("outside, points, kept",
                         [(2, 40, True), (3, 40, False), (1, 10, False), (0, 3, True)])
def test_the_assignments_limits_are_kept_while_they_hold_95_percent_of_every_curve(outside, points, kept):
    # A run's first checks climb from chance (0.1) to where the assignment's limits (0.85, 0.95) look.
    values = [0.1] * outside + list(np.linspace(0.86, 0.94, points - outside))
    fig = plots.accuracy_figure({"": run_with_val_accuracy(values)}, "accuracy", ylim=(0.85, 0.95))
    low, high = fig.axes[0].get_ylim()
    if kept:
        assert (low, high) == (0.85, 0.95)
    else:  # Matplotlib's fit to the data: every point inside, the limits no wider than a margin around it
        assert low <= 0.1 and high >= 0.94 and low > 0.1 - 0.1 and high < 0.94 + 0.1
    plots.plt.close(fig)
