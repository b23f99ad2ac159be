"""Unfinished (a fixture): what the starter's functions return before the TODOs are done."""
import numpy as np


def pre_process_images(X):
    return X


def cross_entropy_loss(targets, outputs):
    return 0


class BinaryModel:

    def __init__(self):
        self.I = None
        self.w = np.zeros((self.I, 1))
        self.grad = None

    def forward(self, X):
        return None

    def backward(self, X, outputs, targets):
        self.grad = np.zeros_like(self.w)

    def zero_grad(self):
        self.grad = None
