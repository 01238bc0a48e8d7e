"""IDX reading: round trips, and every corruption named in the error."""

import gzip

import numpy as np
import pytest

from bioSNN.data import read_idx, write_idx
from bioSNN.errors import DataError


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=dtype).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"a.idx{suffix}", arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, arr)


def test_magic_checked(tmp_path):
    path = write_idx(tmp_path / "labels.idx", np.zeros(5, np.uint8))
    assert read_idx(path, expect_magic=2049).shape == (5,)
    with pytest.raises(DataError, match=r"labels.idx.*magic number is 2049.*expected 2051"):
        read_idx(path, expect_magic=2051)


def test_truncated_file_named(tmp_path):
    path = write_idx(tmp_path / "imgs.idx", np.zeros((3, 4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"imgs.idx: truncated: header says \(3, 4, 4\) of uint8 = 48 bytes, file holds 43"):
        read_idx(path)


def test_trailing_bytes_named(tmp_path):
    path = write_idx(tmp_path / "imgs.idx", np.zeros((3, 4), np.uint8))
    path.write_bytes(path.read_bytes() + b"xx")
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(path)


def test_not_idx(tmp_path):
    path = tmp_path / "notes.idx"
    path.write_bytes(b"hello world, not idx")
    with pytest.raises(DataError, match="notes.idx: bad IDX magic"):
        read_idx(path)


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "x.idx.gz"
    good = gzip.compress(b"\x00\x00\x08\x01" + (100).to_bytes(4, "big") + bytes(100))
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"x.idx.gz: cannot read"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_idx(tmp_path / "nope.idx")
