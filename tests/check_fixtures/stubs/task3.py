"""Unfinished (a fixture)."""
from trainer import BaseTrainer


def calculate_accuracy(X, targets, model):
    return 0.0


class SoftmaxTrainer(BaseTrainer):

    def train_step(self, X_batch, Y_batch):
        return 0

    def validation_step(self):
        return 0, 0.0, 0.0
