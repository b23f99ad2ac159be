"""How good a model is: accuracy, loss, confusion matrix, its surest mistakes,
and what its weights look like (norm, roughness).

X: pre-processed images [N, 785]; labels: integer classes [N].
"""

import numpy as np

from .losses import cross_entropy_loss


def accuracy(model, X, labels):
    """Fraction of images whose predicted class is the label."""
    return float(np.mean(model.predict(X) == labels))


def evaluate(model, X, labels):
    """(cross-entropy C, accuracy) of `model` on X, from one product X w."""
    z = model.logits(X)
    return cross_entropy_loss(model.encode_targets(labels), z), float(np.mean(model.classify(z) == labels))


def confusion_matrix(true, predicted, num_classes=10):
    """Counts [num_classes, num_classes]: row = true class, column = predicted class."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    if true.shape != predicted.shape or true.ndim != 1:
        raise ValueError(f"true and predicted must be label arrays of one length, "
                         f"got shapes {true.shape} and {predicted.shape}.")
    for name, labels in (("true", true), ("predicted", predicted)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"{name} labels must be in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}.")
    counts = np.bincount(true.astype(np.int64) * num_classes + predicted, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def most_confident_mistakes(model, X, labels, count=24):
    """The wrongly classified images with the highest predicted probability.

    Returns (indices into X, predicted classes, their probabilities), most
    confident first.
    """
    probabilities = model.forward(X)
    predicted = np.argmax(probabilities, axis=1)
    confidence = probabilities[np.arange(len(X)), predicted]
    wrong = np.flatnonzero(predicted != labels)
    order = wrong[np.argsort(-confidence[wrong], kind="stable")][:count]
    return order, predicted[order], confidence[order]


def weight_l2_norm(w):
    """||w||_2 over every weight, bias row included, computed in float64."""
    return float(np.linalg.norm(w.astype(np.float64)))


def weight_roughness(w):
    """How speckled the weight images are: the mean absolute difference between
    neighbouring pixels over the mean absolute weight (scale-free; 0 is flat).

    w: [785, K]; the bias row is left out.
    """
    images = w[:-1].T.reshape(-1, 28, 28).astype(np.float64)
    neighbours = np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean()
    return float(neighbours / np.abs(images).mean())
