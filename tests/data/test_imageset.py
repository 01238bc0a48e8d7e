"""ImageSet validation and subsetting."""

import numpy as np
import pytest

from bioSNN.data import ImageSet, load_images
from bioSNN.errors import DataError, InputError


def test_subset_keeps_records_and_names():
    s = ImageSet(np.zeros((4, 2, 2), np.uint8), [0, 1, 1, 0], ("x", "y"), ("a", "b", "c", "d"))
    sub = s[np.array([False, True, True, False])]
    assert sub.records == ("b", "c") and sub.class_names == ("x", "y") and sub.class_counts() == {"x": 0, "y": 2}


@pytest.mark.parametrize("images,labels,msg", [
    (np.zeros((2, 3)), [0, 1], "images must be"),
    (np.zeros((2, 3, 3)), [0], "labels must be"),
    (np.zeros((2, 3, 3)), [0, 5], "labels must lie"),
])
def test_validation(images, labels, msg):
    with pytest.raises(InputError, match=msg):
        ImageSet(images, labels, ("a", "b"), (0, 1))


def test_load_images_by_name(tmp_path):
    assert load_images("mnist-subset", split="test").images.shape == (1000, 28, 28)
    with pytest.raises(DataError, match="needs a root"):
        load_images("mnist")
    with pytest.raises(DataError, match="unknown dataset"):
        load_images("cifar", tmp_path)


def test_load_images_mstar_is_uint8(mstar_root):
    data = load_images("mstar", mstar_root, "test", classes=["BTR70"], scaling="minmax")
    assert data.images.dtype == np.uint8 and data.images.shape == (196, 128, 128)
    assert data.source["scaling"] == "minmax" and data.images.max() == 255
