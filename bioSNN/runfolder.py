"""Output folders of training runs that protect themselves.

``biosnn supervised`` and ``biosnn unsupervised`` (behind them
:func:`~bioSNN.supervised.pipeline.train_supervised`, :func:`~bioSNN.unsupervised.pipeline.train_diehl_cook`
and :func:`~bioSNN.unsupervised.pipeline.train_wta`) write their run into a folder under one rule,
:func:`prepare_run_folder` (applied to those functions by :func:`guard_run_folder`):

* a folder that holds anything is refused (:class:`~bioSNN.errors.RunFolderError`) unless the run
  continues there (``resume``, ``--resume``: the folder must hold the run's checkpoint) or replaces the
  run there (``overwrite``, ``--overwrite``);
* with ``overwrite`` the old run's files (those this command writes) are moved aside into a hidden
  ``.overwritten-*`` folder while the new run starts, and deleted when it ends; if it fails before
  writing any file of its own they are put back. Files the command does not write are left (a
  warning names them), so an old run and a new one are never mixed silently;
* ``OUT/.lock``, created atomically (``O_CREAT | O_EXCL``) and holding the writer's pid and host,
  refuses a second writer (:class:`~bioSNN.errors.RunLockedError`); it is removed when the run ends,
  also when it fails; a lock left behind by a process that no longer exists on this host is taken
  over with a warning;
* a resumed run must ask for the settings that change the result as recorded in ``OUT/config.json``
  (:func:`check_resume_settings`, which compares with :func:`setting_differences`).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from .errors import DataError, RunFolderError, RunLockedError
from .fileio import output_error

__all__ = ["prepare_run_folder", "run_lock", "guard_run_folder", "setting_differences", "check_resume_settings",
           "LOCK_NAME", "SUPERVISED_OUTPUTS", "UNSUPERVISED_OUTPUTS", "SUPERVISED_SETTINGS", "DIEHL_COOK_SETTINGS",
           "WTA_SETTINGS", "run_kind"]

logger = logging.getLogger(__name__)

#: the lock file inside a run folder
LOCK_NAME = ".lock"
_BACKUP_PREFIX = ".overwritten-"
#: an unreadable lock older than this (seconds) is stale (a writer killed between creating and filling it)
_UNREADABLE_STALE_S = 30.0

#: what ``biosnn supervised`` writes into its folder (:class:`~bioSNN.supervised.trainer.Trainer`)
SUPERVISED_OUTPUTS = ("checkpoint.pt", "model.pt", "metrics.json", "config.json", "weights_history.npz", "tb")
#: what ``biosnn unsupervised`` writes into its folder (both presets)
UNSUPERVISED_OUTPUTS = ("checkpoint.npz", "network.npz", "guidance.npz", "config.json", "metrics.json",
                        "weights_history.npz", "standalone", "standalone_record", "standalone_guidance")

#: the settings in a supervised ``config.json`` that change the result (dotted paths; a recorded
#: dictionary is compared entry by entry). Left out: device, torch backend, progress, TensorBoard,
#: checkpoint interval, evaluation batch size, test split size.
SUPERVISED_SETTINGS = (
    "data.dataset", "data.root", "data.encoder", "data.T", "data.dt", "data.options", "data.images",
    "data.n_train", "data.n_val", "data.holdout", "data.labelled", "data.image_shape",
    "spec", "loss", "guidance_path", "guidance", "sample_guidance", "init_from",
    "train.seed", "train.optimizer", "train.lr", "train.momentum", "train.weight_decay", "train.schedule",
    "train.batch_size", "train.epochs", "train.clip", "train.patience", "train.amp", "train.decision",
    "train.shuffle", "train.augment_shift", "train.redraw",
)
#: settings added after run folders were first written: an older ``config.json`` without the entry
#: recorded this value (so that its run still resumes)
ADDED_SETTINGS = {"train.redraw": False, "init_from": None, "neuron": None}
#: the same for ``biosnn unsupervised --preset diehl_cook`` (its checkpoint covers every epoch)
DIEHL_COOK_SETTINGS = ("preset", "config", "n_train", "epochs", "shuffle", "backend", "data", "neuron")
#: the same for ``--preset wta`` (``epochs`` may grow)
WTA_SETTINGS = ("preset", "config", "epochs", "shuffle", "spike_trains")

F = TypeVar("F", bound=Callable[..., Any])


def run_kind(folder: str | os.PathLike[str]) -> str | None:
    """What a folder holds: ``"supervised"`` (``model.pt`` or ``checkpoint.pt``: ``biosnn supervised``),
    ``"hybrid"`` (``network.npz`` and ``readout.npz``: ``biosnn hybrid``), ``"unsupervised"``
    (``network.npz``: ``biosnn unsupervised``), or None (not a trained folder).

    Example:
        >>> run_kind("models/mstar3-stdp"), run_kind("models/mnist-guided"), run_kind("figures")
        ('unsupervised', 'supervised', None)
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    if any((folder / name).exists() for name in ("model.pt", "checkpoint.pt")):
        return "supervised"
    if (folder / "network.npz").exists():
        return "hybrid" if (folder / "readout.npz").exists() else "unsupervised"
    return None


# ------------------------------------------------------------------------------------------- lock
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return True
    return True


def _describe(holder: Mapping[str, Any] | None) -> str:
    if holder is None:
        return "an unknown process"
    return f"process {holder.get('pid')} on {holder.get('host')} (since {holder.get('started')})"


def _stale_reason(path: Path, raw: str, holder: dict[str, Any] | None) -> str | None:
    """Why the lock at ``path`` may be taken over, or ``None`` if its writer may still be alive."""
    if holder is None:
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return "released"
        return f"unreadable lock, {age:.0f} s old" if age > _UNREADABLE_STALE_S else None
    if holder.get("host") != socket.gethostname() or holder.get("pid") == os.getpid():
        return None
    try:
        pid = int(holder["pid"])
    except (KeyError, TypeError, ValueError):
        return "lock without a process id"
    return None if _pid_alive(pid) else f"process {pid} on {holder.get('host')} no longer exists"


def _read_lock(path: Path) -> tuple[str | None, dict[str, Any] | None]:
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return None, None
    except OSError:
        return "", None
    try:
        holder = json.loads(raw)
    except ValueError:
        return raw, None
    return raw, holder if isinstance(holder, dict) else None


def _take_over(path: Path, raw: str, reason: str, token: str) -> None:
    """Remove the stale lock ``path`` (whose text was ``raw``): renamed aside first, so that of two
    processes taking it over only one removes it, and a fresh lock taken in between is put back."""
    aside = path.with_name(f"{LOCK_NAME}.stale-{os.getpid()}-{token}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another process took it over first: try again
    if aside.read_text() != raw:  # the lock changed hands in between: it is not the stale one
        with contextlib.suppress(OSError):
            os.link(aside, path)
        aside.unlink()
        raise RunLockedError(f"{path.parent}: another process took over its stale lock {path} just now")
    aside.unlink()
    logger.warning("%s: taking over the lock left behind (%s)", path, reason)


def _make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents); a file-system failure becomes an OutputError naming it."""
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"{folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise RunFolderError(f"{folder}: cannot create it: part of that path is a file") from exc
    except OSError as exc:
        raise output_error(folder, exc, "cannot create the folder") from exc


def _create_lock(path: Path) -> int:
    """``os.open`` of a new lock file (``FileExistsError`` if there is one); other failures: OutputError."""
    try:
        return os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise
    except OSError as exc:
        raise output_error(path.parent, exc, f"cannot create its lock file {LOCK_NAME}") from exc


@contextlib.contextmanager
def run_lock(folder: str | os.PathLike[str], *, advice: str = "wait for it to end, or use another --out folder"
             ) -> Iterator[Path]:
    """Hold ``folder/.lock`` (the folder is created if needed) while the body runs: the one writer of
    the folder.

    The lock file is created with ``O_CREAT | O_EXCL`` (atomic) and holds the pid, host and start time
    of this process. Another live holder is refused with :class:`~bioSNN.errors.RunLockedError`; a lock
    whose process no longer exists on this host (or an unreadable one older than 30 s) is taken over
    with a logged warning. The lock is removed when the body ends, also on an exception. ``advice``
    ends the refusal's message. A folder that cannot be written raises :class:`~bioSNN.errors.OutputError`.

    Example:
        >>> import tempfile
        >>> from bioSNN.errors import RunLockedError
        >>> folder = Path(tempfile.mkdtemp())
        >>> with run_lock(folder) as lock:
        ...     try:
        ...         with run_lock(folder):
        ...             pass
        ...     except RunLockedError:
        ...         print("refused")
        ...     print(lock.name, lock.exists())
        refused
        .lock True
        >>> (folder / ".lock").exists()
        False
    """
    folder = Path(folder)
    _make_folder(folder)
    path = folder / LOCK_NAME
    token = secrets.token_hex(8)
    record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "token": token, "command": " ".join(sys.argv)[:200]}
    for _ in range(5):
        try:
            fd = _create_lock(path)
        except FileExistsError:
            raw, holder = _read_lock(path)
            if raw is None:
                continue  # released in between
            reason = _stale_reason(path, raw, holder)
            if reason is None:
                raise RunLockedError(f"{folder} is being written by {_describe(holder)}: {advice} (if no such run "
                                     f"is alive, delete {path})") from None
            if reason != "released":
                _take_over(path, raw, reason, token)
            continue
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:  # a full disk: no lock is held, so none is left behind
            path.unlink(missing_ok=True)
            raise output_error(folder, exc, f"cannot write its lock file {LOCK_NAME}") from exc
        break
    else:
        raise RunLockedError(f"{folder}: could not take its lock {path} (other processes keep taking it)")
    try:
        yield path
    finally:
        _raw, holder = _read_lock(path)
        if holder is not None and holder.get("token") == token:
            path.unlink(missing_ok=True)
        else:
            logger.warning("%s: the lock is no longer this process's; left in place", path)


# ------------------------------------------------------------------------------------ the folder
def _is_output(name: str, outputs: Sequence[str]) -> bool:
    """``name`` is written by the command that writes ``outputs`` (or left behind by an earlier run of
    it: temporary files of atomic writes, set-aside old runs, set-aside stale locks)."""
    return (name in outputs or name.startswith(_BACKUP_PREFIX) or name.startswith(f"{LOCK_NAME}.stale-")
            or any(name.startswith(f".{o}.") and name.endswith(".tmp") for o in outputs))


def _listing(names: Sequence[str], at_most: int = 4) -> str:
    shown = ", ".join(names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _set_aside(folder: Path, held: list[str], outputs: Sequence[str]) -> Path | None:
    """Move the old run's files into a hidden folder (``None`` if there are none); log the others."""
    names = [n for n in held if _is_output(n, outputs)]
    kept = [n for n in held if n not in names]
    if kept:
        logger.warning("%s: --overwrite leaves %s, which this command does not write", folder, _listing(kept))
    if not names:
        return None
    backup = folder / f"{_BACKUP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    backup.mkdir()
    for name in names:
        os.replace(folder / name, backup / name)
    logger.info("%s: --overwrite: the old run (%s) is set aside until the new one writes its own", folder,
                _listing(names))
    return backup


def _after_failure(folder: Path, backup: Path, outputs: Sequence[str]) -> None:
    """A run started with ``overwrite`` failed: put the old run back if the new one wrote nothing."""
    if any((folder / name).exists() for name in outputs):
        shutil.rmtree(backup, ignore_errors=True)
        return
    for entry in backup.iterdir():
        if not (folder / entry.name).exists():
            os.replace(entry, folder / entry.name)
    shutil.rmtree(backup, ignore_errors=True)
    logger.warning("%s: the new run failed before writing anything: the old run's files are back", folder)


@contextlib.contextmanager
def prepare_run_folder(path: str | os.PathLike[str], *, resume: bool = False, overwrite: bool = False,
                       outputs: Sequence[str] = (), checkpoint: str | None = None) -> Iterator[Path]:
    """The run folder ``path``, locked (:func:`run_lock`) and checked, for the body of a training run.

    A folder holding anything (the lock aside) is refused with :class:`~bioSNN.errors.RunFolderError`
    unless ``resume`` (continue the run there: ``checkpoint``, when named, must exist) or ``overwrite``
    (start afresh: the files named in ``outputs``, with leftovers of earlier runs, are set aside and
    deleted when the body ends, or put back if it fails before writing any of them; other files stay,
    with a warning). ``resume`` and ``overwrite`` exclude each other. The folder is created if needed,
    and removed again if the body fails leaving it empty.

    Example:
        >>> import tempfile
        >>> from bioSNN.errors import RunFolderError
        >>> out = Path(tempfile.mkdtemp()) / "run"
        >>> with prepare_run_folder(out, outputs=["metrics.json"]) as folder:
        ...     _ = (folder / "metrics.json").write_text("{}")
        >>> try:
        ...     with prepare_run_folder(out, outputs=["metrics.json"]):
        ...         pass
        ... except RunFolderError as exc:
        ...     print("refused:", "--resume" in str(exc) and "--overwrite" in str(exc))
        refused: True
        >>> with prepare_run_folder(out, overwrite=True, outputs=["metrics.json"]) as folder:
        ...     print(sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")))
        []
    """
    folder = Path(path)
    if resume and overwrite:
        raise RunFolderError(f"{folder}: --resume continues the run there, --overwrite replaces it; give one of them")
    created = not folder.exists()
    _make_folder(folder)
    try:
        with run_lock(folder):
            held = sorted(p.name for p in folder.iterdir() if p.name != LOCK_NAME)
            backup = None
            if held and resume:
                if checkpoint is not None and not (folder / checkpoint).exists():
                    raise RunFolderError(f"{folder} holds no {checkpoint} to resume from (it holds {_listing(held)}); "
                                         "give --overwrite to start afresh there")
                for name in held:
                    if name.startswith(_BACKUP_PREFIX):  # an overwritten run whose successor was killed
                        shutil.rmtree(folder / name, ignore_errors=True)
            elif held and overwrite:
                backup = _set_aside(folder, held, outputs)
            elif held:
                raise RunFolderError(f"{folder} is not empty (it holds {_listing(held)}): give --resume to continue "
                                     "the run there or --overwrite to start afresh")
            try:
                yield folder
            except BaseException:
                if backup is not None:
                    _after_failure(folder, backup, outputs)
                raise
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
    finally:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if the run left it empty


def _rank() -> int:
    """This process's rank when ``torch.distributed`` runs (without importing torch), else 0."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return int(dist.get_rank())
    return 0


def guard_run_folder(outputs: Sequence[str], checkpoint: str | None = None, *, out: str = "out") -> Callable[[F], F]:
    """Decorator: run the function inside :func:`prepare_run_folder` of its argument ``out``, with its
    own ``resume`` and ``overwrite`` arguments (which the function must have). Under
    ``torch.distributed`` only rank 0 locks and checks the folder (it is the one that writes).

    Example:
        >>> import tempfile
        >>> @guard_run_folder(["result.txt"])
        ... def fit(out, *, resume=False, overwrite=False):
        ...     before = sorted(p.name for p in Path(out).iterdir() if not p.name.startswith("."))
        ...     (Path(out) / "result.txt").write_text("done")
        ...     return before
        >>> out = tempfile.mkdtemp()
        >>> fit(out)
        []
        >>> fit(out, resume=True)
        ['result.txt']
        >>> fit(out, overwrite=True)
        []
    """

    def wrap(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            given = bound.arguments
            if _rank() != 0:
                return func(*args, **kwargs)
            with prepare_run_folder(given[out], resume=bool(given["resume"]), overwrite=bool(given["overwrite"]),
                                    outputs=outputs, checkpoint=checkpoint):
                return func(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return wrap


# ---------------------------------------------------------------------------------- resume settings
def _plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples -> lists, other objects -> strings)."""
    return json.loads(json.dumps(value, default=str))


def _lookup(settings: Any, key: str) -> Any:
    for part in key.split("."):
        if not isinstance(settings, dict):
            return None
        settings = settings.get(part)
    return settings


def _leaves(key: str, old: Any, new: Any) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            yield from _leaves(f"{key}.{k}", old.get(k), new.get(k))
    elif old != new:
        yield key, old, new


def _show(value: Any, width: int = 60) -> str:
    text = "(none)" if value is None else json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


def _grows(old: Any, new: Any) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (old, new))
    return numbers and new >= old


def setting_differences(recorded: Mapping[str, Any], requested: Mapping[str, Any], keys: Iterable[str], *,
                        may_grow: Iterable[str] = ()) -> list[str]:
    """The settings among ``keys`` (dotted paths into both dictionaries) whose values differ, each as
    ``"key: recorded -> requested"``; differing dictionaries are named entry by entry. A key in
    ``may_grow`` may increase (a run continued for more epochs). Both sides are compared as JSON reads
    them back (a tuple equals a list); a missing entry reads ``(none)``, except that a recorded one of
    :data:`ADDED_SETTINGS` reads its value there. Pure: reads no file.

    Example:
        >>> old = {"train": {"lr": 0.001, "seed": 0, "epochs": 2}, "spec": {"hidden": [32], "dt": 0.001}}
        >>> new = {"train": {"lr": 0.01, "seed": 0, "epochs": 4}, "spec": {"hidden": (64,), "dt": 0.001}}
        >>> setting_differences(old, new, ["train.lr", "train.seed", "train.epochs", "spec"],
        ...                     may_grow=["train.epochs"])
        ['train.lr: 0.001 -> 0.01', 'spec.hidden: [32] -> [64]']
        >>> setting_differences(new, old, ["train.epochs", "data.labelled"], may_grow=["train.epochs"])
        ['train.epochs: 4 -> 2']
        >>> setting_differences(old, {"train": {"redraw": False}}, ["train.redraw"])   # older files
        []
    """
    old_all, new_all = _plain(recorded), _plain(requested)
    grow = set(may_grow)
    found: list[str] = []
    for key in keys:
        old, new = _lookup(old_all, key), _lookup(new_all, key)
        if old is None and key in ADDED_SETTINGS:
            old = ADDED_SETTINGS[key]
        if key in grow and _grows(old, new):
            continue
        found.extend(f"{k}: {_show(a)} -> {_show(b)}" for k, a, b in _leaves(key, old, new))
    return found


def check_resume_settings(folder: str | os.PathLike[str], requested: Mapping[str, Any], keys: Iterable[str], *,
                          may_grow: Iterable[str] = ()) -> None:
    """Refuse (:class:`~bioSNN.errors.RunFolderError`) to resume the run in ``folder`` with settings
    that differ from those its ``config.json`` records (:func:`setting_differences` over ``keys``); a
    ``may_grow`` setting that grew is logged. Nothing to compare (no ``config.json`` yet) passes.

    Example:
        >>> import tempfile
        >>> from bioSNN.fileio import atomic_write_json
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = atomic_write_json(folder / "config.json", {"train": {"lr": 0.001, "seed": 0}})
        >>> check_resume_settings(folder, {"train": {"lr": 0.001, "seed": 0}}, ["train.lr", "train.seed"])
        >>> try:
        ...     check_resume_settings(folder, {"train": {"lr": 0.01, "seed": 0}}, ["train.lr", "train.seed"])
        ... except RunFolderError as exc:
        ...     print("train.lr: 0.001 -> 0.01" in str(exc))
        True
    """
    path = Path(folder) / "config.json"
    if not path.exists():
        logger.info("%s: no config.json to compare the resumed settings with", folder)
        return
    from .fileio import READ_ERRORS

    try:
        recorded = json.loads(path.read_text())
    except READ_ERRORS as exc:
        raise DataError(f"{path}: cannot read the recorded settings ({exc})") from None
    keys, may_grow = list(keys), list(may_grow)
    found = setting_differences(recorded, requested, keys, may_grow=may_grow)
    if found:
        raise RunFolderError(f"{folder}: --resume asks for settings that differ from its config.json: "
                             f"{'; '.join(found)} (recorded -> now); resume with the recorded ones, or start "
                             "afresh with --overwrite or another --out folder")
    plain = _plain(requested)
    for key in may_grow:
        old, new = _lookup(recorded, key), _lookup(plain, key)
        if old != new:
            logger.warning("%s: --resume with %s %s -> %s: the run goes on beyond its recorded end", folder, key,
                           _show(old), _show(new))
