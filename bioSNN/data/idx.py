"""The IDX file format (MNIST's): a big-endian header, then raw array bytes.

Header: two zero bytes, a type code, the number of dimensions ``d``, then ``d`` big-endian ``int32``
sizes. Type codes: ``0x08`` uint8, ``0x09`` int8, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32,
``0x0E`` float64. The magic number of MNIST images is therefore ``0x00000803 = 2051`` and of labels
``0x00000801 = 2049``. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError, MissingDataError

__all__ = ["read_idx", "write_idx", "IDX_TYPES"]

#: IDX type code -> big-endian numpy dtype.
IDX_TYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise MissingDataError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read ({exc}); the file is truncated or not gzip data") from exc


def read_idx(path: str | os.PathLike[str], *, expect_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (optionally ``.gz``) into a native-endian numpy array.

    The header is checked: the magic number (``expect_magic`` if given), the type code, and that the
    data length equals the product of the sizes exactly (a truncated file or trailing bytes raise
    :class:`~bioSNN.errors.DataError` naming the file).

    Example:
        >>> import tempfile, numpy as np
        >>> path = tempfile.mkdtemp() + "/x.idx"
        >>> _ = write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3))
        >>> read_idx(path, expect_magic=0x0802).tolist()
        [[0, 1, 2], [3, 4, 5]]
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES or raw[3] == 0:
        raise DataError(f"{path}: bad IDX magic number 0x{magic:08x} (not an IDX file)")
    if expect_magic is not None and magic != expect_magic:
        raise DataError(f"{path}: IDX magic number is {magic} (0x{magic:08x}), expected {expect_magic}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a forged header cannot overflow
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise DataError(f"{path}: {what}: header says {shape} of {dtype.name} = {expected} bytes, "
                        f"file holds {got}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed if ``path`` ends in ``.gz``), atomically."""
    from ..fileio import atomic_write_bytes

    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(f"{path}: IDX cannot store dtype {array.dtype}")
    big = array.astype(np.dtype(IDX_TYPES[code]), copy=False)
    payload = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload += big.tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    return atomic_write_bytes(path, payload)
