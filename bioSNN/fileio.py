"""Writing files so that a failure never leaves a half-written or clobbered file behind.

Every file-system failure while writing (read-only or full disk, no permission, an output path that is
a folder, a parent that is a file) becomes one :class:`~bioSNN.errors.OutputError` naming the path.
Temporary files carry the writer's host and process id (``.NAME.<host>-<pid>-XXXX.tmp``); one left by
a process killed with SIGKILL is removed by the next write to the same path once that process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator

from .errors import OutputError

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_savez", "atomic_path", "atomic_dir",
           "output_error", "READ_ERRORS"]

logger = logging.getLogger(__name__)

#: what reading a missing, truncated, corrupt or foreign ``.npz`` can raise (numpy, zipfile, zlib, json;
#: ``TypeError``: a single ``.npy`` array where an archive was expected). Loaders turn these into a
#: :class:`~bioSNN.errors.DataError` naming the file.
READ_ERRORS: tuple[type[BaseException], ...] = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError,
                                                TypeError, RecursionError)  # RecursionError: JSON nested too deeply

#: errors of a full disk or quota: blamed on the output whatever file name the OSError carries
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG, errno.EROFS}


def output_error(path: str | os.PathLike[str], exc: OSError, what: str = "cannot write") -> OutputError:
    """The :class:`~bioSNN.errors.OutputError` that reports ``exc`` (a failed write of ``path``).

    Example:
        >>> print(output_error("out/metrics.json", OSError(errno.ENOSPC, "No space left on device")))
        out/metrics.json: cannot write (No space left on device: the disk is full)
    """
    if isinstance(exc, OutputError):
        return exc
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = {errno.ENOSPC: "the disk is full", getattr(errno, "EDQUOT", -1): "the disk quota is exhausted",
            errno.EFBIG: "the file is too large for this file system"}.get(exc.errno or -1)
    error = OutputError(f"{path}: {what} ({reason}" + (f": {hint})" if hint else ")"))
    error.__cause__ = exc
    return error


def _ours(exc: OSError, *paths: Path) -> bool:
    """Whether ``exc``, raised while writing to ``paths``, is a failure of that write."""
    if exc.errno in _FULL or exc.filename is None:
        return True
    return any(str(exc.filename) == str(p) or str(getattr(exc, "filename2", None)) == str(p) for p in paths)


def _tag() -> str:
    """``<host>-<pid>``: who writes a temporary file (host as a short hash: names stay portable)."""
    return f"{hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or no way to tell: leave its files alone
        return True
    return True


#: paths already cleaned of stale temporary files by this process (writers killed before it started)
_CLEANED: set[Path] = set()


def _remove_stale_temps(path: Path) -> None:
    """Delete temporary files (or folders) of ``path`` left behind by a killed writer on this host; once
    per path and process (a checkpoint rewritten every few steps lists its folder once, not each time)."""
    if path in _CLEANED:
        return
    _CLEANED.add(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.([0-9a-f]{{6}})-(\d+)-[^/]*\.tmp$")
    host = _tag().split("-")[0]
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or match.group(1) != host or int(match.group(2)) == os.getpid() or _pid_alive(int(match.group(2))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            logger.info("%s: removed %s, left behind by process %s (killed while writing)", path, entry.name,
                        match.group(2))


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(f"{path}: cannot create its folder {path.parent}: a file of that name exists") from exc
    except NotADirectoryError as exc:
        raise OutputError(f"{path}: cannot create its folder {path.parent}: part of that path is a file") from exc
    except OSError as exc:
        raise output_error(path, exc, f"cannot create its folder {path.parent}") from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``, on error delete it.

    Whatever the body writes to the temporary path replaces ``path`` in one ``os.replace``, so readers
    see either the old file or the complete new one, and a failure leaves nothing behind. A
    file-system failure (including one of the body's writes) raises :class:`~bioSNN.errors.OutputError`
    naming ``path``; so does a ``path`` that is a folder.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text()
        'done'
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder: give a file name")
    _make_parent(path)
    _remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_tag()}-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(path, exc) from exc
    os.close(fd)
    try:
        yield Path(tmp)
        if Path(tmp).exists():
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OutputError) or not _ours(exc, Path(tmp), path, path.parent):
            raise
        raise output_error(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; on success it takes the place of ``path``.

    An existing ``path`` is replaced only with ``overwrite`` (else :class:`FileExistsError`), and only once
    the new folder is complete; if the swap fails the old folder is put back. On error the temporary
    folder is deleted, so a failure leaves ``path`` as it was. File-system failures raise
    :class:`~bioSNN.errors.OutputError` naming ``path``.

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
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file: give a folder name")
    _make_parent(path)
    _remove_stale_temps(path)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_tag()}-", suffix=".tmp", dir=path.parent))
    except OSError as exc:
        raise output_error(path, exc) from exc
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
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OutputError) or not (_ours(exc, tmp, path, path.parent)
                                                or str(exc.filename or "").startswith(str(tmp))):
            raise
        raise output_error(path, exc) from exc
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
