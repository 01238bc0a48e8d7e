"""Diehl & Cook's read-out: assign each neuron the class it responds to most, predict by vote."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["assign_labels", "predict", "accuracy"]


def assign_labels(counts: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Neuron -> class: the class with the highest mean spike count of that neuron.

    Args:
        counts: ``[N_examples, n_neurons]`` spike counts recorded with plasticity off.
        labels: ``[N_examples]`` class of each example.
        n_classes: number of classes.

    Returns:
        ``int64 [n_neurons]``; ``-1`` for a neuron that never fired (it takes no part in the vote).

    Example:
        >>> counts = np.array([[5, 0], [4, 1], [0, 3]]); labels = np.array([1, 1, 0])
        >>> assign_labels(counts, labels, 2).tolist()
        [1, 0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    labels = np.asarray(labels)
    if counts.ndim != 2 or labels.shape != (counts.shape[0],):
        raise InputError(f"counts [N, n_neurons] and labels [N] expected, got {counts.shape} and {labels.shape}")
    means = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        rows = counts[labels == c]
        if len(rows):
            means[c] = rows.mean(axis=0)
    assigned = means.argmax(axis=0)
    return np.where(means.max(axis=0) > 0, assigned, -1).astype(np.int64)


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Class of each example: the class whose assigned neurons fired most on average.

    Example:
        >>> predict(np.array([[5, 0], [0, 3]]), np.array([1, 0]), 2).tolist()
        [1, 0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    scores = np.full((counts.shape[0], n_classes), -np.inf)
    for c in range(n_classes):
        members = assignments == c
        if members.any():
            scores[:, c] = counts[:, members].mean(axis=1)
    return scores.argmax(axis=1).astype(np.int64)


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of correct predictions."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    return float((predicted == labels).mean()) if len(labels) else float("nan")
