"""Unfinished (a fixture)."""
import numpy as np


def cross_entropy_loss(targets, outputs):
    raise NotImplementedError


class SoftmaxModel:

    def __init__(self, l2_reg_lambda):
        self.I = None
        self.num_outputs = None
        self.w = np.zeros((self.I, self.num_outputs))
        self.grad = None
        self.l2_reg_lambda = l2_reg_lambda

    def forward(self, X):
        return None

    def backward(self, X, outputs, targets):
        self.grad = np.zeros_like(self.w)

    def zero_grad(self):
        self.grad = None


def one_hot_encode(Y, num_classes):
    raise NotImplementedError
