"""Seeded, stratified index splits: the validation hold-out and the labelled subset.

Every accuracy bioSNN reports follows one protocol: choices (hyperparameters, epochs, variants,
decoding) are made on a **validation** part held out from the training data; the test split is
evaluated once, at the end. MSTAR has no validation split of its own, so both stages hold out the
same part of the 17-degree training chips, found again from ``(fraction, seed)`` alone:

* :func:`validation_split` ``(labels, fraction, seed)``: per class ``c`` with ``n_c`` samples,
  ``round(fraction * n_c)`` of them (at least one when ``n_c > 1``) drawn by
  ``numpy.random.default_rng([VALIDATION_STREAM, seed, c])``. It depends on the labels, the fraction and
  the split seed only: not on the training seed, the model or the order in which anything runs, so a
  network trained with seed 0 and one trained with seed 2 are validated on the same samples.
* :func:`labelled_split` ``(labels, per_class | fraction, seed)``: the samples whose labels a
  semi-supervised run may read (the rest are treated as unlabelled), drawn the same way from another
  stream, so it never coincides with the validation draw by construction.

Both return sorted, disjoint ``int64`` index arrays that cover the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError

__all__ = ["validation_split", "labelled_split", "held_out", "VALIDATION_FRACTION", "VALIDATION_SEED",
           "describe_split"]

#: the protocol's default hold-out: 15 % of every class of the training data ...
VALIDATION_FRACTION = 0.15
#: ... drawn with this split seed (independent of any training seed).
VALIDATION_SEED = 0
_VALIDATION_STREAM = 0x7A11D
_LABELLED_STREAM = 0x1ABE1


def _labels(labels: Any) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise InputError(f"labels must be one-dimensional, got shape {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
        raise InputError("labels must be non-negative integers")
    return y.astype(np.int64, copy=False)


def _draw(y: np.ndarray, counts: dict[int, int], stream: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    chosen = np.zeros(len(y), bool)
    for c, k in counts.items():
        members = np.flatnonzero(y == c)
        pick = np.random.default_rng([stream, seed, c]).permutation(len(members))[:k]
        chosen[members[pick]] = True
    return np.flatnonzero(~chosen), np.flatnonzero(chosen)


def validation_split(labels: Any, fraction: float = VALIDATION_FRACTION,
                     seed: int = VALIDATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """``(train_idx, val_idx)``: a stratified hold-out of ``fraction`` of every class.

    Per class of ``n_c`` samples, ``max(1, round(fraction * n_c))`` go to validation (none for a class
    with a single sample, which stays in training).

    Example:
        >>> y = np.repeat([0, 1, 2], 20)
        >>> train, val = validation_split(y, 0.15, seed=0)
        >>> len(train), len(val), np.bincount(y[val]).tolist()
        (51, 9, [3, 3, 3])
        >>> bool(np.array_equal(val, validation_split(y, 0.15, seed=0)[1]))   # stable
        True
    """
    y = _labels(labels)
    if not 0 < float(fraction) < 1:
        raise InputError(f"the validation fraction must be in (0, 1), got {fraction}")
    counts = {int(c): (max(1, int(round(fraction * n))) if n > 1 else 0)
              for c, n in enumerate(np.bincount(y)) if n}
    return _draw(y, counts, _VALIDATION_STREAM, int(seed))


def labelled_split(labels: Any, *, per_class: int | None = None, fraction: float | None = None,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(labelled_idx, unlabelled_idx)``: ``per_class`` samples of every class (all of a smaller
    class), or ``round(fraction * n_c)`` (at least one) of each class.

    Example:
        >>> y = np.repeat([0, 1], 10)
        >>> lab, unl = labelled_split(y, per_class=2, seed=1)
        >>> np.bincount(y[lab]).tolist(), len(unl)
        ([2, 2], 16)
    """
    y = _labels(labels)
    if (per_class is None) == (fraction is None):
        raise InputError("give exactly one of per_class and fraction")
    sizes = np.bincount(y)
    if per_class is not None:
        if int(per_class) < 1:
            raise InputError(f"per_class must be at least 1, got {per_class}")
        counts = {int(c): min(int(per_class), int(n)) for c, n in enumerate(sizes) if n}
    else:
        if not 0 < float(fraction) <= 1:
            raise InputError(f"the labelled fraction must be in (0, 1], got {fraction}")
        counts = {int(c): max(1, int(round(fraction * n))) for c, n in enumerate(sizes) if n}
    unlabelled, labelled = _draw(y, counts, _LABELLED_STREAM, int(seed))
    return labelled, unlabelled


def describe_split(fraction: float, seed: int, part: str) -> dict[str, Any]:
    """The record of a validation hold-out that artifacts store with their data's ``source``: enough
    to find the same ``part`` (``"train"`` or ``"val"``) again."""
    return {"rule": "stratified", "fraction": float(fraction), "seed": int(seed), "part": part}


def held_out(images: Any, fraction: float = VALIDATION_FRACTION, seed: int = VALIDATION_SEED,
             part: str | None = None) -> Any:
    """``(rest, validation)`` parts of an :class:`~bioSNN.data.ImageSet` by :func:`validation_split`,
    each with ``source["holdout"]`` saying which part it is; with ``part`` (``"train"``/``"val"``) only
    that one.

    Example:
        >>> from bioSNN.data import load_images
        >>> rest, val = held_out(load_images("mnist-subset", split="test"), 0.1)
        >>> len(rest), len(val), val.source["holdout"]["part"]
        (900, 100, 'val')
    """
    from dataclasses import replace

    train_idx, val_idx = validation_split(images.labels, fraction, seed)
    parts = {name: replace(images[idx], source={**images.source, "holdout": describe_split(fraction, seed, name)})
             for name, idx in (("train", train_idx), ("val", val_idx))}
    if part is None:
        return parts["train"], parts["val"]
    if part not in parts:
        raise InputError(f"part must be 'train' or 'val', got {part!r}")
    return parts[part]
