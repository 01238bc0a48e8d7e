"""The validation hold-out and the labelled subset: seeded, stratified, disjoint, stable."""

import numpy as np
import pytest

from bioSNN.data import load_images
from bioSNN.data.splits import held_out, labelled_split, validation_split
from bioSNN.errors import InputError


def _labels():
    return np.random.default_rng(3).permutation(np.repeat([0, 1, 2], [233, 233, 232]))  # MSTAR's class sizes


def test_validation_split_is_stratified_disjoint_and_covers():
    y = _labels()
    train, val = validation_split(y, 0.15, seed=0)
    assert np.intersect1d(train, val).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    assert np.bincount(y[val]).tolist() == [35, 35, 35]  # round(0.15 * 233) = round(0.15 * 232) = 35
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)


def test_validation_split_is_stable_and_seeded():
    y = _labels()
    a = validation_split(y, 0.15, seed=0)[1]
    assert np.array_equal(a, validation_split(y.copy(), 0.15, seed=0)[1])  # found again from (fraction, seed)
    b = validation_split(y, 0.15, seed=1)[1]
    assert not np.array_equal(a, b) and len(a) == len(b)


def test_held_out_image_sets_record_their_part():
    data = load_images("mnist-subset", split="test")
    rest, val = held_out(data, 0.1, seed=4)
    assert len(rest) + len(val) == len(data)
    assert rest.source["holdout"] == {"rule": "stratified", "fraction": 0.1, "seed": 4, "part": "train"}
    assert val.source["holdout"]["part"] == "val"
    assert np.bincount(val.labels).tolist() == [10] * 10
    again = held_out(data, 0.1, seed=4, part="val")
    assert np.array_equal(again.images, val.images)
    # no image of the hold-out is in the rest (the digits are distinct arrays)
    rest_keys = {img.tobytes() for img in rest.images}
    assert not any(img.tobytes() in rest_keys for img in val.images)


def test_labelled_split_per_class_and_fraction():
    y = _labels()
    lab, unl = labelled_split(y, per_class=10, seed=0)
    assert np.bincount(y[lab]).tolist() == [10, 10, 10] and len(unl) == len(y) - 30
    assert np.intersect1d(lab, unl).size == 0
    assert np.array_equal(lab, labelled_split(y, per_class=10, seed=0)[0])
    assert not np.array_equal(lab, labelled_split(y, per_class=10, seed=1)[0])
    lab, _ = labelled_split(y, fraction=0.5, seed=0)
    assert np.bincount(y[lab]).tolist() == [116, 116, 116]
    small = np.array([0, 0, 1])
    assert np.bincount(small[labelled_split(small, per_class=5)[0]]).tolist() == [2, 1]


@pytest.mark.parametrize("call", [
    lambda: validation_split(np.zeros(4, int), 0.0),
    lambda: validation_split(np.zeros(4, int), 1.0),
    lambda: validation_split(np.zeros((2, 2), int)),
    lambda: validation_split(np.array([0.5, 1.0])),
    lambda: labelled_split(np.zeros(4, int)),
    lambda: labelled_split(np.zeros(4, int), per_class=0),
    lambda: labelled_split(np.zeros(4, int), per_class=1, fraction=0.5),
    lambda: held_out(load_images("mnist-subset", split="test")[:20], 0.5, part="test"),
])
def test_bad_arguments_are_named(call):
    with pytest.raises(InputError):
        call()
