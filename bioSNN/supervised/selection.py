r"""Model selection that a user with ``k`` labels per class can make: the k-label rule.

A choice (a regularisation strength, a variant, a decoding) is made from the labelled samples alone:

* with at least two labelled samples in every class, by stratified cross-validation inside them:
  ``F = min(max_folds, smallest class count)`` folds, every candidate fitted on ``F - 1`` folds and
  scored on the held-out one, the candidate with the best mean held-out accuracy wins (ties: the
  candidate listed first, so list the recipe's default first);
* with a single labelled sample in some class (``k = 1``), nothing can be held out without losing a
  class: the recipe's default is used, *fixed in advance* (chosen on another data set).

No sample outside the labelled set is read, so no choice leans on a validation split larger than the
budget. The fold assignment is seeded and stratified: per class, a permutation from
``numpy.random.default_rng([FOLD_STREAM, seed, c])`` dealt round-robin over the folds.

Example:
    >>> y = np.repeat([0, 1], 4)
    >>> x = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    >>> def score(fit, held, threshold):
    ...     return float(((x[held] > threshold) == y[held]).mean())
    >>> sel = choose(y, [0.5, 0.15], score, seed=0)
    >>> sel.choice, sel.rule, sel.folds
    (0.5, 'cv', 4)
    >>> choose(np.array([0, 1]), [0.5, 0.15], score).rule     # one label per class: the fixed default
    'fixed'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import InputError

__all__ = ["Selection", "stratified_folds", "choose", "MAX_FOLDS", "FOLD_STREAM"]

#: at most this many cross-validation folds inside the labelled samples
MAX_FOLDS = 5
#: the random stream of the fold assignment (independent of the labelled and validation draws)
FOLD_STREAM = 0xF01D


@dataclass(frozen=True)
class Selection:
    """What :func:`choose` chose and how: ``rule`` is ``"cv"`` (``folds`` folds inside the labelled
    samples, ``scores[i]`` the mean held-out accuracy of ``candidates[i]``) or ``"fixed"`` (the default,
    no data read)."""

    choice: Any
    rule: str
    folds: int
    scores: tuple[float, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"choice": self.choice, "rule": self.rule, "folds": self.folds, "scores": list(self.scores)}


def _labels(labels: Any) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or (y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0)):
        raise InputError(f"labels must be a one-dimensional array of non-negative integers, got shape {y.shape}")
    return y.astype(np.int64, copy=False)


def stratified_folds(labels: Any, n_folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_folds`` pairs ``(fit_idx, held_idx)``: every sample held out exactly once, every class spread
    over the folds as evenly as it can be (round-robin after a seeded per-class shuffle).

    Example:
        >>> folds = stratified_folds(np.repeat([0, 1, 2], 3), 3, seed=1)
        >>> [np.bincount(np.repeat([0, 1, 2], 3)[held], minlength=3).tolist() for _, held in folds]
        [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    """
    y = _labels(labels)
    n_folds = int(n_folds)
    if n_folds < 2:
        raise InputError(f"cross-validation needs at least 2 folds, got {n_folds}")
    present = np.bincount(y)
    if present[present > 0].min(initial=len(y)) < n_folds:
        raise InputError(f"{n_folds} folds need at least {n_folds} samples in every class, "
                         f"the smallest class has {int(present[present > 0].min())}")
    fold = np.empty(len(y), np.int64)
    offset = 0
    for c in np.flatnonzero(present):
        members = np.flatnonzero(y == c)
        order = members[np.random.default_rng([FOLD_STREAM, int(seed), int(c)]).permutation(len(members))]
        fold[order] = (np.arange(len(order)) + offset) % n_folds
        offset += len(order)  # the next class starts where this one stopped: fold sizes stay even
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(n_folds)]


def choose(labels: Any, candidates: Sequence[Any], score: Callable[[np.ndarray, np.ndarray, Any], float], *,
           default: Any = None, max_folds: int = MAX_FOLDS, seed: int = 0) -> Selection:
    """Choose among ``candidates`` by the k-label rule (module docstring).

    Args:
        labels: ``[n]`` labels of the labelled samples (the only samples the choice may read).
        candidates: what to choose among, the recipe's default first (ties go to the earlier one).
        score: ``score(fit_idx, held_idx, candidate) -> accuracy``, indices into ``labels``.
        default: the fixed choice when cross-validation is impossible (default: ``candidates[0]``).
        max_folds: at most this many folds.
        seed: the fold assignment's seed.
    """
    y = _labels(labels)
    candidates = list(candidates)
    if not candidates:
        raise InputError("choose needs at least one candidate")
    default = candidates[0] if default is None else default
    present = np.bincount(y)
    smallest = int(present[present > 0].min()) if len(y) else 0
    n_folds = min(int(max_folds), smallest)
    if n_folds < 2 or len(candidates) == 1:
        return Selection(default, "fixed", 0)
    folds = stratified_folds(y, n_folds, seed)
    means = tuple(float(np.mean([score(fit, held, c) for fit, held in folds])) for c in candidates)
    best = max(range(len(candidates)), key=lambda i: (means[i], -i))
    return Selection(candidates[best], "cv", n_folds, means)
