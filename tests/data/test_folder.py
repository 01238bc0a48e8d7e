"""Image folders: grayscale conversion, class order, mixed sizes, unreadable files."""

import numpy as np
import pytest
from PIL import Image

from bioSNN.data import load_image_folder
from bioSNN.errors import DataError


def _make(root, spec):
    for cls, images in spec.items():
        (root / cls).mkdir(parents=True)
        for name, img in images.items():
            img.save(root / cls / name)


def test_reads_classes_in_order(tmp_path):
    rgb = Image.new("RGB", (5, 4), (255, 0, 0))
    _make(tmp_path, {"b": {"1.png": Image.new("L", (5, 4), 7), "0.jpg": Image.new("L", (5, 4), 0)},
                     "a": {"x.bmp": rgb}})
    (tmp_path / "a" / "notes.txt").write_text("ignored")
    data = load_image_folder(tmp_path)
    assert data.class_names == ("a", "b") and data.labels.tolist() == [0, 1, 1]
    assert data.images.shape == (3, 4, 5) and data.images.dtype == np.uint8
    assert data.images[0, 0, 0] == round(0.299 * 255)  # PIL "L": ITU-R 601-2 luma
    assert data.images[2].max() == 7 and data.records[1].endswith("0.jpg")


def test_mixed_sizes_named(tmp_path):
    _make(tmp_path, {"a": {"small.png": Image.new("L", (4, 4)), "tall.png": Image.new("L", (4, 6))}})
    with pytest.raises(DataError, match=r"mixed image sizes: .*tall.png is 6 x 4 \(rows x columns\).*small.png is 4 x 4"):
        load_image_folder(tmp_path)
    assert load_image_folder(tmp_path, size=8).images.shape == (2, 8, 8)


def test_sixteen_bit_keeps_top_byte(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.array([[0, 256, 40000, 65535]], dtype=np.uint16)).save(tmp_path / "a" / "deep.png")
    assert load_image_folder(tmp_path).images[0].tolist() == [[0, 1, 156, 255]]


def test_thirty_two_bit_refused(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.ones((3, 3), np.float32)).save(tmp_path / "a" / "f.tif")
    with pytest.raises(DataError, match=r"f.tif: 'F' \(32-bit\) images are not read"):
        load_image_folder(tmp_path)


def test_unreadable_image_named(tmp_path):
    _make(tmp_path, {"a": {"ok.png": Image.new("L", (4, 4))}})
    (tmp_path / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="broken.png: cannot read image"):
        load_image_folder(tmp_path)


def test_empty_or_missing(tmp_path):
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    (tmp_path / "a").mkdir()
    with pytest.raises(DataError, match="no images"):
        load_image_folder(tmp_path)
    with pytest.raises(DataError, match="not found"):
        load_image_folder(tmp_path / "nope")


def test_crop_before_resize_and_splits(tmp_path):
    """Chips of different sizes become comparable by a central crop; <root>/<split> is read and recorded."""
    from bioSNN.data import load_images
    from bioSNN.errors import MissingDataError

    for split, sizes in (("train", {"a": (10, 10), "b": (14, 12)}), ("test", {"a": (10, 10), "b": (16, 16)})):
        for cls, (h, w) in sizes.items():
            (tmp_path / split / cls).mkdir(parents=True)
            img = np.zeros((h, w), np.uint8)
            img[h // 2 - 1:h // 2 + 1, w // 2 - 1:w // 2 + 1] = 255  # a bright centre
            Image.fromarray(img).save(tmp_path / split / cls / "x.png")
    test = load_images("folder", tmp_path, "test", crop=4)
    assert test.images.shape == (2, 4, 4) and test.images[:, 1:3, 1:3].min() == 255 and test.images[:, 0].max() == 0
    assert test.source["split"] == "test" and test.source["crop"] == 4
    assert load_images("folder", tmp_path, "train", crop=8, size=4).images.shape == (2, 4, 4)
    with pytest.raises(MissingDataError, match="no 'test' folder"):
        load_images("folder", tmp_path / "train", "test", crop=8)  # never the training images as a test split
    assert len(load_images("folder", tmp_path / "train", crop=8)) == 2  # a bare <root>/<class>/ is the training split
    with pytest.raises(DataError, match="crop 12 is larger"):
        load_images("folder", tmp_path, "test", crop=12)
