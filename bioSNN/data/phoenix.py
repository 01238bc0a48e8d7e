"""The MSTAR Phoenix chip format: an ASCII header, then big-endian float32 magnitude and phase images.

A file starts with ``[PhoenixHeaderVer01.04]`` (after a newline, in the MSTAR CD files) and ``key= value`` lines up to ``[EndofPhoenixHeader]``.
``PhoenixHeaderLength`` is the header's length in bytes; the data that follows is ``NumberOfRows x
NumberOfColumns`` big-endian float32 magnitudes, then as many phases. ``Chip_MD5_CheckSum`` is the MD5
of all the data bytes after the header, which :func:`read_phoenix` verifies.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

__all__ = ["PhoenixChip", "read_phoenix", "parse_phoenix_header", "REQUIRED_FIELDS"]

_BEGIN = b"[PhoenixHeaderVer"
_END = b"[EndofPhoenixHeader]"
#: Header fields every chip must carry.
REQUIRED_FIELDS = ("PhoenixHeaderLength", "NumberOfRows", "NumberOfColumns", "TargetType", "TargetSerNum",
                   "TargetAz", "DesiredDepression", "Chip_MD5_CheckSum")


@dataclass(frozen=True, eq=False)
class PhoenixChip:
    """One chip: ``magnitude`` and ``phase`` as ``float32 [rows, cols]``, and the header as strings."""

    path: Path
    header: dict[str, str]
    magnitude: np.ndarray
    phase: np.ndarray


def parse_phoenix_header(raw: bytes, path: str | os.PathLike[str] = "<bytes>") -> dict[str, str]:
    """The ``key= value`` fields of the Phoenix header at the start of ``raw`` (values as strings)."""
    if not raw[:64].lstrip().startswith(_BEGIN):
        raise DataError(f"{path}: not a Phoenix file (does not start with {_BEGIN.decode()}...])")
    end = raw.find(_END)
    if end < 0:
        raise DataError(f"{path}: Phoenix header has no {_END.decode()} line (truncated header?)")
    fields: dict[str, str] = {}
    for line in raw[:end].decode("latin-1").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("["):
            fields[key.strip()] = value.strip()
    return fields


def read_phoenix(path: str | os.PathLike[str], *, verify_md5: bool = True) -> PhoenixChip:
    """Read one MSTAR Phoenix chip, checking its header fields, size and embedded MD5.

    Raises :class:`~bioSNN.errors.DataError` naming the file when it is not a Phoenix file, a required
    header field (:data:`REQUIRED_FIELDS`) is missing or unreadable, the data is shorter or longer than
    ``2 x rows x cols`` float32 values, or the MD5 of the data differs from ``Chip_MD5_CheckSum``.

    Example:
        >>> chip = read_phoenix("../shared/data/mstar3/train/BMP2/HB03787.000")  # doctest: +SKIP
        >>> chip.magnitude.shape, chip.header["TargetType"]                      # doctest: +SKIP
        ((128, 128), 'bmp2_tank')
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    header = parse_phoenix_header(raw, path)
    missing = [key for key in REQUIRED_FIELDS if not header.get(key)]
    if missing:
        raise DataError(f"{path}: Phoenix header lacks required field(s) {', '.join(missing)}")
    try:
        length, rows, cols = (int(header[k]) for k in ("PhoenixHeaderLength", "NumberOfRows", "NumberOfColumns"))
    except ValueError as exc:
        raise DataError(f"{path}: unreadable header size field ({exc})") from exc
    if length <= 0 or rows <= 0 or cols <= 0:
        raise DataError(f"{path}: header gives non-positive sizes (length {length}, {rows} x {cols})")
    data = raw[length:]
    expected = 2 * rows * cols * 4
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(f"{path}: data {what}: {len(data)} bytes after the header, expected {expected} "
                        f"(magnitude and phase, {rows} x {cols} float32)")
    if verify_md5:
        digest = hashlib.md5(data).hexdigest()
        if digest != header["Chip_MD5_CheckSum"].lower():
            raise DataError(f"{path}: MD5 mismatch: data hashes to {digest}, header says "
                            f"{header['Chip_MD5_CheckSum']} (corrupt chip)")
    values = np.frombuffer(data, dtype=">f4").astype(np.float32).reshape(2, rows, cols)
    bad = values[0].size - int(np.count_nonzero(np.isfinite(values[0])))
    if bad:
        raise DataError(f"{path}: {bad} NaN or infinite magnitude values (corrupt chip)")
    return PhoenixChip(path, header, values[0], values[1])
