"""The k-label rule: choices read the labelled samples only; cross-validation when it can, else the fixed default."""

import numpy as np
import pytest

from bioSNN.errors import InputError
from bioSNN.supervised.selection import choose, stratified_folds


@pytest.mark.parametrize("k,n_folds", [(2, 2), (5, 5), (10, 5), (7, 3)])
def test_folds_partition_and_stratify(k, n_folds):
    y = np.repeat(np.arange(4), k)
    folds = stratified_folds(y, n_folds, seed=3)
    held = np.concatenate([h for _, h in folds])
    assert sorted(held.tolist()) == list(range(len(y)))  # every sample held out exactly once
    for fit, h in folds:
        assert not set(fit) & set(h) and len(fit) + len(h) == len(y)
        per_class = np.bincount(y[h], minlength=4)
        assert per_class.max() - per_class.min() <= 1 and per_class.min() >= k // n_folds
    assert [h.tolist() for _, h in stratified_folds(y, n_folds, seed=3)] == [h.tolist() for _, h in folds]
    assert [h.tolist() for _, h in stratified_folds(y, n_folds, seed=4)] != [h.tolist() for _, h in folds]


def test_folds_refuse_too_few_samples():
    with pytest.raises(InputError, match="at least 3 samples in every class"):
        stratified_folds(np.array([0, 0, 0, 1, 1]), 3)
    with pytest.raises(InputError, match="at least 2 folds"):
        stratified_folds(np.array([0, 1]), 1)


def test_choose_reads_only_labelled_indices_and_picks_the_best():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 6)
    x = y + rng.normal(0, 0.2, len(y))
    seen: set[int] = set()

    def score(fit, held, shift):
        seen.update(fit.tolist()), seen.update(held.tolist())
        centres = np.array([x[fit][y[fit] == c].mean() for c in range(3)]) + shift
        return float((np.abs(x[held, None] - centres).argmin(1) == y[held]).mean())

    sel = choose(y, [0.9, 0.0, -0.9], score, seed=1)
    assert sel.rule == "cv" and sel.folds == 5 and sel.choice == 0.0
    assert sel.scores[1] == max(sel.scores) and seen <= set(range(len(y)))


def test_choose_falls_back_to_the_fixed_default_with_one_label_per_class():
    calls = []
    sel = choose(np.array([0, 1, 2]), ["a", "b"], lambda f, h, c: calls.append(c) or 1.0, default="b")
    assert (sel.choice, sel.rule, sel.folds, calls) == ("b", "fixed", 0, [])


def test_choose_ties_go_to_the_first_candidate():
    sel = choose(np.repeat([0, 1], 4), ["default", "other"], lambda f, h, c: 0.5)
    assert sel.choice == "default" and sel.scores == (0.5, 0.5)
