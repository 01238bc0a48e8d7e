"""MSTAR Phoenix chips: the real SOC set (counts, metadata, every MD5), corrupt chips, 8-bit conversion."""

import hashlib
import shutil

import numpy as np
import pytest

from bioSNN.data import center_crop, load_mstar, read_phoenix, resize, to_uint8
from bioSNN.errors import DataError, InputError

COUNTS = {"train": {"BMP2": 233, "BTR70": 233, "T72": 232}, "test": {"BMP2": 195, "BTR70": 196, "T72": 196}}
SERIALS = {"BMP2": ("bmp2_tank", "9563"), "BTR70": ("btr70_transport", "c71"), "T72": ("t72_tank", "132")}


@pytest.mark.parametrize("split,depression", [("train", 17.0), ("test", 15.0)])
def test_real_soc_split(mstar_root, split, depression):
    data = load_mstar(mstar_root, split)  # verifies every chip's MD5
    assert data.class_counts() == COUNTS[split]
    assert data.images.shape == (sum(COUNTS[split].values()), 128, 128) and data.images.dtype == np.float32
    assert np.all(data.images >= 0) and np.all(np.isfinite(data.images))
    for label, info in zip(data.labels, data.records):
        assert (info.target_type, info.serial_number) == SERIALS[data.class_names[label]]
        assert info.depression == depression and 0 <= info.azimuth < 360
        assert (info.rows, info.columns) == (128, 128)


def test_md5_is_really_checked(mstar_root):
    """The verified digest is the MD5 of the bytes after the header, recomputed here independently."""
    path = sorted((mstar_root / "test" / "T72").iterdir())[0]
    chip = read_phoenix(path)
    raw = path.read_bytes()
    data = raw[int(chip.header["PhoenixHeaderLength"]):]
    assert hashlib.md5(data).hexdigest() == chip.header["Chip_MD5_CheckSum"]
    mag = np.frombuffer(data[: 128 * 128 * 4], ">f4").reshape(128, 128)
    assert np.array_equal(chip.magnitude, mag)


def _copy_chip(mstar_root, tmp_path):
    src = sorted((mstar_root / "train" / "BMP2").iterdir())[0]
    folder = tmp_path / "train" / "BMP2"
    folder.mkdir(parents=True)
    return shutil.copy(src, folder / src.name)


def test_corrupt_chip_md5_mismatch(mstar_root, tmp_path):
    path = _copy_chip(mstar_root, tmp_path)
    raw = bytearray(open(path, "rb").read())
    raw[-100] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    with pytest.raises(DataError, match=r"HB\w+\.000: MD5 mismatch"):
        load_mstar(tmp_path, "train")
    assert len(load_mstar(tmp_path, "train", verify_md5=False)) == 1


def test_truncated_chip(mstar_root, tmp_path):
    path = _copy_chip(mstar_root, tmp_path)
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[:-4])
    with pytest.raises(DataError, match="data truncated"):
        load_mstar(tmp_path, "train")


@pytest.mark.parametrize("field", ["Chip_MD5_CheckSum", "NumberOfRows", "TargetAz"])
def test_missing_header_field(mstar_root, tmp_path, field):
    path = _copy_chip(mstar_root, tmp_path)
    raw = open(path, "rb").read()
    # rename the key in place, keeping the header length unchanged
    patched = raw.replace(f"\n{field}=".encode(), f"\n{field[::-1]}=".encode(), 1)
    assert patched != raw
    open(path, "wb").write(patched)
    with pytest.raises(DataError, match=f"lacks required field.*{field}"):
        load_mstar(tmp_path, "train")


def test_not_a_chip(tmp_path):
    folder = tmp_path / "train" / "X"
    folder.mkdir(parents=True)
    (folder / "HB00001.000").write_bytes(b"garbage")
    (folder / "README.txt").write_text("ignored")
    with pytest.raises(DataError, match="HB00001.000: not a Phoenix file"):
        load_mstar(tmp_path, "train")


def test_missing_folders(tmp_path):
    with pytest.raises(DataError, match="split folder not found"):
        load_mstar(tmp_path, "train")
    (tmp_path / "train" / "A").mkdir(parents=True)
    with pytest.raises(DataError, match="no chips"):
        load_mstar(tmp_path, "train")
    with pytest.raises(DataError, match="class folder not found"):
        load_mstar(tmp_path, "train", classes=["B"])


def test_classes_crop_and_resize(mstar_root):
    data = load_mstar(mstar_root, "test", classes=["T72", "BMP2"], crop=64, size=32)
    assert data.class_names == ("T72", "BMP2") and data.class_counts() == {"T72": 196, "BMP2": 195}
    assert data.images.shape == (391, 32, 32)


def test_center_crop_and_resize_geometry():
    img = np.arange(36, dtype=np.float32).reshape(1, 6, 6)
    assert center_crop(img, 2)[0].tolist() == [[14, 15], [20, 21]]
    flat = np.full((2, 8, 8), 3.0, np.float32)
    assert np.allclose(resize(flat, 4), 3.0)
    with pytest.raises(InputError, match="crop size"):
        center_crop(img, 7)


def test_to_uint8_minmax_formula():
    rng = np.random.default_rng(0)
    m = rng.gamma(1.0, 0.05, size=(3, 16, 16)).astype(np.float32)
    out = to_uint8(m, "minmax")
    for k in range(3):
        expected = np.floor((m[k] - m[k].min()) / (m[k].max() - m[k].min()) * 255 + 0.5)
        assert np.array_equal(out[k], expected.astype(np.uint8))


@pytest.mark.parametrize("levels,expected", [
    # mode level 3 (3 pixels), first empty level 5 > 3: gain 255 / (5 - 3) = 127.5, saturating
    ([0, 3, 3, 3, 1, 2, 4, 255], [0, 255, 255, 255, 128, 255, 255, 255]),
    # mode level 200, first empty level 1 < 200: gain 3
    ([0, 200, 200, 200, 255, 50], [0, 255, 255, 255, 255, 150]),
])
def test_to_uint8_enhanced_rule(levels, expected):
    mag = np.asarray([levels], np.float32) / 255.0 * 0.7  # minmax maps these back to the same levels
    assert to_uint8(mag[None], "enhanced")[0, 0].tolist() == expected


def test_to_uint8_rejects_nan():
    with pytest.raises(InputError, match="NaN"):
        to_uint8(np.full((1, 2, 2), np.nan))
