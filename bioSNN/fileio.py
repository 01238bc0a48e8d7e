"""Writing files so that a failure never leaves a half-written or clobbered file behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_savez", "atomic_path", "atomic_dir"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``, on error delete it.

    Whatever the body writes to the temporary path replaces ``path`` in one ``os.replace``, so readers
    see either the old file or the complete new one, and a failure leaves nothing behind.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        if Path(tmp).exists():
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it takes the place of ``path``.

    An existing ``path`` is replaced only with ``overwrite`` (else :class:`FileExistsError`), and only once
    the new folder is complete; if the swap fails the old folder is put back. On error the temporary
    folder is deleted, so a failure leaves ``path`` as it was.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "split"
        >>> with atomic_dir(target) as tmp:
        ...     _ = (tmp / "0.txt").write_text("x")
        >>> sorted(p.name for p in target.iterdir())
        ['0.txt']
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders; give the usual permissions
        if not path.exists():
            os.replace(tmp, path)
            return
        old = path.parent / f"{tmp.name[:-4]}.old"
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder, then rename."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """:func:`atomic_write_text` of ``data`` as indented JSON."""
    return atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def atomic_savez(path: str | os.PathLike[str], *, compress: bool = False, **arrays: Any) -> Path:
    """``numpy.savez`` (or ``savez_compressed``) of ``arrays`` to exactly ``path``, atomically.

    Example:
        >>> import tempfile, numpy as np
        >>> path = atomic_savez(Path(tempfile.mkdtemp()) / "a.npz", x=np.arange(3))
        >>> np.load(path)["x"].tolist()
        [0, 1, 2]
    """
    import numpy as np

    save = np.savez_compressed if compress else np.savez
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:  # a file handle: savez would append ".npz" to a bare name
            save(fh, **arrays)
    return Path(path)
