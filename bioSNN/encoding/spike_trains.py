"""``SpikeTrains``: binary spike trains of many samples, bit-packed in memory and in one ``.npz`` file.

**Time.** Row (step) ``k`` of a sample covers ``[k dt, (k + 1) dt)``. A spike in row ``k`` is emitted at
``t = k dt`` (its time in a Brian2 ``SpikeGeneratorGroup``) and delivered in step ``k``, as in the
bioSNN time convention (README). The encoders of :mod:`bioSNN.encoding` leave row 0 silent and emit in
rows ``1..T``, so a presentation has ``steps = T + 1`` rows, like the seed project's ``(n_input, T + 1)``
arrays whose column ``t`` is time ``t``.

**Memory.** Spikes are stored with :func:`numpy.packbits` along the input axis (``bitorder="little"``):
``packed`` is ``uint8 [N, steps, ceil(n_in / 8)]``, 1 bit per (step, input). The 60,000 MNIST training
images at ``T = 70`` take 417 MB instead of 3.3 GB as booleans.

**File format** (``.npz``, readable with numpy alone; version 1). Members:

============== =================================== ==============================================
member         dtype / shape                       meaning
============== =================================== ==============================================
format         str                                 ``"bioSNN.SpikeTrains"``
version        int                                 1
packed         uint8 [N, steps, ceil(n_in / 8)]    the spikes, ``packbits(..., axis=-1, bitorder="little")``
n_in           int                                 number of inputs
dt_seconds     float64                             time step in seconds
labels         int64 [N] (optional)                class index of each sample
class_names    str [C] (optional)                  name of each class index
image_shape    int [d] (optional)                  how inputs map to pixels (row-major)
provenance     str (JSON)                          dataset, encoder and its parameters, bioSNN version
============== =================================== ==============================================

Reading without bioSNN::

    z = np.load("train.npz")
    spikes = np.unpackbits(z["packed"], axis=-1, count=int(z["n_in"]), bitorder="little").astype(bool)
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from ..errors import DataError, InputError
from ..quantities import as_time

__all__ = ["SpikeTrains", "SpikeTrainsWriter", "FORMAT", "VERSION"]

FORMAT = "bioSNN.SpikeTrains"
VERSION = 1
_BITORDER = "little"
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)  # set bits of each byte
_COUNT_CHUNK = 1024  # samples per chunk in counts(), bounding its temporary memory


def _packed_width(n_in: int) -> int:
    return (n_in + 7) // 8


def _pack(dense: np.ndarray) -> np.ndarray:
    return np.packbits(dense, axis=-1, bitorder=_BITORDER)


def _check_dense(spikes: Any) -> np.ndarray:
    from ..arrays import to_numpy

    arr = to_numpy(spikes, "spikes")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise InputError(f"spikes must be [N, steps, n_in] (or [steps, n_in]), got shape {arr.shape}")
    if arr.dtype != bool:
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise InputError("spikes contain NaN or infinite values")
        if arr.size and not np.all((arr == 0) | (arr == 1)):
            raise InputError("spikes must be binary (0/1 or bool)")
        arr = arr.astype(bool)
    return arr


def _check_label_range(labels: np.ndarray, class_names: Sequence[str] | None) -> None:
    """Labels are class indices: non-negative, and below the number of class names when there are names."""
    if not labels.size:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0:
        raise InputError(f"labels must be non-negative class indices, found {low}")
    if class_names is not None and high >= len(class_names):
        raise InputError(f"label {high} is outside the {len(class_names)} class names "
                         f"(0..{len(class_names) - 1}: {', '.join(map(str, class_names[:5]))}"
                         f"{', ...' if len(class_names) > 5 else ''})")


@dataclass(frozen=True, eq=False)
class SpikeTrains:
    """Binary spike trains of ``N`` samples, ``steps`` time steps and ``n_in`` inputs (see module doc).

    Build one with :meth:`from_dense` or an encoder; save with :meth:`save`, read with :meth:`load`.

    Example:
        >>> import numpy as np
        >>> dense = np.zeros((2, 4, 3), bool); dense[0, 1, 2] = dense[1, 3, 0] = True
        >>> trains = SpikeTrains.from_dense(dense, dt=1e-3, labels=[0, 1])
        >>> trains.shape, trains.T, int(trains.counts().sum())
        ((2, 4, 3), 3, 2)
        >>> indices, times = trains.to_brian(1)
        >>> indices.tolist(), [round(float(t), 6) for t in times]
        ([0], [0.003])
    """

    packed: np.ndarray
    n_in: int
    dt_seconds: float
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] | None = None
    image_shape: tuple[int, ...] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        packed = np.asarray(self.packed)
        if packed.dtype != np.uint8 or packed.ndim != 3:
            raise InputError(f"packed must be uint8 [N, steps, bytes], got {packed.dtype} {packed.shape}")
        n_in = int(self.n_in)
        if n_in <= 0 or packed.shape[2] != _packed_width(n_in):
            raise InputError(f"packed has {packed.shape[2]} bytes per step, n_in={n_in} needs {_packed_width(n_in)}")
        if packed.shape[1] < 1:
            raise InputError(f"spike trains need at least one time step, got {packed.shape[1]} (shape {packed.shape})")
        object.__setattr__(self, "packed", packed)
        object.__setattr__(self, "n_in", n_in)
        object.__setattr__(self, "dt_seconds", as_time(self.dt_seconds))
        if self.labels is not None:
            labels = np.asarray(self.labels)
            if labels.shape != (packed.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
                raise InputError(f"labels must be integers of shape [{packed.shape[0]}], got {labels.dtype} {labels.shape}")
            object.__setattr__(self, "labels", labels.astype(np.int64, copy=False))
        if self.class_names is not None:
            object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))
        if self.labels is not None:
            _check_label_range(self.labels, self.class_names)
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if int(np.prod(shape)) != n_in:
                raise InputError(f"image_shape {shape} has {int(np.prod(shape))} pixels, not n_in={n_in}")
            object.__setattr__(self, "image_shape", shape)
        object.__setattr__(self, "provenance", dict(self.provenance))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dense(cls, spikes: Any, dt: Any, *, labels: Any = None, class_names: Sequence[str] | None = None,
                   image_shape: Sequence[int] | None = None, provenance: dict[str, Any] | None = None) -> "SpikeTrains":
        """From a binary ``[N, steps, n_in]`` (or ``[steps, n_in]``) array or tensor; ``dt`` a time
        quantity or seconds."""
        dense = _check_dense(spikes)
        return cls(_pack(dense), dense.shape[2], as_time(dt), None if labels is None else np.asarray(labels),
                   class_names, image_shape, provenance or {})

    @classmethod
    def concatenate(cls, parts: Sequence["SpikeTrains"]) -> "SpikeTrains":
        """Join samples of several sets with the same ``steps``, ``n_in`` and ``dt`` (metadata of the first)."""
        if not parts:
            raise InputError("nothing to concatenate")
        first = parts[0]
        for p in parts[1:]:
            if (p.steps, p.n_in) != (first.steps, first.n_in) or not np.isclose(p.dt_seconds, first.dt_seconds):
                raise InputError(f"cannot concatenate spike trains of shape/dt {p.shape[1:]}/{p.dt_seconds} "
                                 f"with {first.shape[1:]}/{first.dt_seconds}")
        has_labels = all(p.labels is not None for p in parts)
        labels = np.concatenate([p.labels for p in parts]) if has_labels else None
        return replace(first, packed=np.concatenate([p.packed for p in parts]), labels=labels)

    def with_labels(self, labels: Any, class_names: Sequence[str] | None = None) -> "SpikeTrains":
        """A copy with ``labels`` attached (and ``class_names``; by default the current ones are kept)."""
        return replace(self, labels=np.asarray(labels),
                       class_names=self.class_names if class_names is None else class_names)

    # ------------------------------------------------------------------ shape
    @property
    def n_samples(self) -> int:
        return int(self.packed.shape[0])

    @property
    def steps(self) -> int:
        """Rows per sample (``T + 1`` for the encoders of this package)."""
        return int(self.packed.shape[1])

    @property
    def T(self) -> int:
        """Last step index, ``steps - 1``."""
        return self.steps - 1

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(N, steps, n_in)``, the shape of :meth:`dense`."""
        return (self.n_samples, self.steps, self.n_in)

    @property
    def dt(self) -> Any:
        """The time step as a Brian2 quantity."""
        from brian2 import second

        return self.dt_seconds * second

    def __len__(self) -> int:
        return self.n_samples

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> "SpikeTrains":
        """The samples at ``index`` (an int gives a set of one sample)."""
        idx = np.atleast_1d(np.arange(self.n_samples)[index])
        return replace(self, packed=self.packed[idx], labels=None if self.labels is None else self.labels[idx])

    # ------------------------------------------------------------------ views
    def dense(self, index: int | slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """``bool [n, steps, n_in]`` spikes of the samples at ``index`` (all by default)."""
        packed = self.packed if index is None else self.packed[np.atleast_1d(np.arange(self.n_samples)[index])]
        return np.unpackbits(packed, axis=-1, count=self.n_in, bitorder=_BITORDER).astype(bool)

    def counts(self) -> np.ndarray:
        """Total number of spikes of each sample, ``int64 [N]`` (computed on the packed bits, in chunks)."""
        out = np.zeros(self.n_samples, dtype=np.int64)
        for start in range(0, self.n_samples, _COUNT_CHUNK):
            chunk = self.packed[start:start + _COUNT_CHUNK]
            out[start:start + len(chunk)] = _POPCOUNT[chunk].sum(axis=(1, 2), dtype=np.int64)
        return out

    def to_torch(self, index: int | slice | Sequence[int] | np.ndarray | None = None, *, device: Any = None,
                 dtype: Any = None, time_major: bool = True) -> Any:
        """Spikes as a torch tensor, ``[steps, B, n_in]`` (``time_major``, what
        :meth:`bioSNN.equations.TorchStep.run` takes) or ``[B, steps, n_in]``; ``float32`` by default."""
        import torch

        x = torch.from_numpy(self.dense(index)).to(device=device, dtype=dtype or torch.float32)
        return x.transpose(0, 1).contiguous() if time_major else x

    def to_brian(self, sample: int) -> tuple[np.ndarray, Any]:
        """``(indices, times)`` of one sample for ``brian2.SpikeGeneratorGroup(n_in, indices, times,
        dt=trains.dt)``: a spike in row ``k`` is emitted at ``times = k * dt``."""
        if not -self.n_samples <= sample < self.n_samples:
            raise InputError(f"sample {sample} out of range for {self.n_samples} samples")
        steps, inputs = np.nonzero(self.dense(sample)[0])
        return inputs.astype(np.int64), steps * self.dt

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str], *, compress: bool = True) -> Path:
        """Write the ``.npz`` file described in the module docstring (atomically)."""
        with SpikeTrainsWriter(path, self.n_samples, self.steps, self.n_in, self.dt_seconds,
                               class_names=self.class_names, image_shape=self.image_shape,
                               provenance=self.provenance, compress=compress) as writer:
            writer.write(self)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "SpikeTrains":
        """Read a file written by :meth:`save` or :class:`SpikeTrainsWriter`; a missing, truncated or
        foreign file raises :class:`~bioSNN.errors.DataError` naming it."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: spike-train file not found")
        try:
            z = np.load(path, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise DataError(f"{path}: not a {FORMAT} file (a single .npy array, not an .npz archive)")
            with z:
                if "format" not in z.files or str(z["format"]) != FORMAT:
                    raise DataError(f"{path}: not a {FORMAT} file (members: {', '.join(z.files)})")
                version = int(z["version"])
                if version > VERSION:
                    raise DataError(f"{path}: file version {version} is newer than this bioSNN reads ({VERSION})")
                get = lambda name: z[name] if name in z.files else None  # noqa: E731
                labels, names, image_shape = get("labels"), get("class_names"), get("image_shape")
                return cls(z["packed"], int(z["n_in"]), float(z["dt_seconds"]), labels,
                           None if names is None else tuple(names.tolist()),
                           None if image_shape is None else tuple(image_shape.tolist()),
                           json.loads(str(z["provenance"])))
        except DataError:
            raise
        except InputError as exc:  # readable, but its contents are inconsistent
            raise DataError(f"{path}: invalid spike-train file ({exc})") from exc
        except (zipfile.BadZipFile, OSError, EOFError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise DataError(f"{path}: corrupt or truncated spike-train file ({exc})") from exc


class SpikeTrainsWriter:
    """Stream spike trains to a ``.npz`` file chunk by chunk, so memory stays bounded by one chunk.

    The file appears at ``path`` only when the context exits without error and exactly ``n_samples``
    samples were written; otherwise nothing is left behind (the previous file, if any, is untouched).

    Example:
        >>> import numpy as np, tempfile
        >>> path = tempfile.mkdtemp() + "/s.npz"
        >>> with SpikeTrainsWriter(path, n_samples=3, steps=2, n_in=5, dt=1e-3) as w:
        ...     w.write(np.ones((2, 2, 5), bool), labels=[0, 1])
        ...     w.write(np.zeros((1, 2, 5), bool), labels=[1])
        >>> t = SpikeTrains.load(path); t.counts().tolist(), t.labels.tolist()
        ([10, 10, 0], [0, 1, 1])
    """

    def __init__(self, path: str | os.PathLike[str], n_samples: int, steps: int, n_in: int, dt: Any, *,
                 class_names: Sequence[str] | None = None, image_shape: Sequence[int] | None = None,
                 provenance: dict[str, Any] | None = None, compress: bool = True) -> None:
        self.path = Path(path)
        self.n_samples, self.steps, self.n_in = int(n_samples), int(steps), int(n_in)
        if self.n_samples < 0 or self.steps <= 0 or self.n_in <= 0:
            raise InputError(f"bad spike-train shape ({n_samples}, {steps}, {n_in})")
        self.dt_seconds = as_time(dt)
        self.class_names = class_names
        self.image_shape = image_shape
        self.provenance = dict(provenance or {})
        self._compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._labels: list[np.ndarray] = []
        self._labelled: bool | None = None
        self._written = 0

    def __enter__(self) -> "SpikeTrainsWriter":
        from ..fileio import atomic_path

        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        try:
            self._zip = zipfile.ZipFile(tmp, "w", compression=self._compression, compresslevel=1
                                        if self._compression == zipfile.ZIP_DEFLATED else None, allowZip64=True)
            self._stream = self._zip.open("packed.npy", "w", force_zip64=True)
            np.lib.format.write_array_header_2_0(self._stream, {
                "descr": "|u1", "fortran_order": False,
                "shape": (self.n_samples, self.steps, _packed_width(self.n_in))})
        except BaseException as exc:
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def write(self, chunk: "SpikeTrains | np.ndarray", labels: Iterable[int] | None = None) -> None:
        """Append samples: a :class:`SpikeTrains` (its labels are used) or a dense ``[n, steps, n_in]`` array."""
        if isinstance(chunk, SpikeTrains):
            if (chunk.steps, chunk.n_in) != (self.steps, self.n_in):
                raise InputError(f"chunk has steps/n_in {chunk.steps}/{chunk.n_in}, file {self.steps}/{self.n_in}")
            packed = chunk.packed
            labels = chunk.labels if labels is None else labels
        else:
            dense = _check_dense(chunk)
            if dense.shape[1:] != (self.steps, self.n_in):
                raise InputError(f"chunk has shape {dense.shape}, expected [n, {self.steps}, {self.n_in}]")
            packed = _pack(dense)
        if self._written + len(packed) > self.n_samples:
            raise InputError(f"{self.path}: more than the announced {self.n_samples} samples written")
        labelled = labels is not None
        if self._labelled is not None and labelled != self._labelled:
            raise InputError("either every chunk has labels or none has")
        self._labelled = labelled
        if labelled:
            lab = np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels, dtype=np.int64)
            if lab.shape != (len(packed),):
                raise InputError(f"{lab.shape[0] if lab.ndim else 0} labels for {len(packed)} samples")
            self._labels.append(lab)
        self._stream.write(np.ascontiguousarray(packed).tobytes())
        self._written += len(packed)

    def _member(self, name: str, value: Any) -> None:
        with self._zip.open(f"{name}.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.asarray(value), allow_pickle=False)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._stream.close()
            if exc_type is None:
                if self._written != self.n_samples:
                    raise InputError(f"{self.path}: {self._written} samples written, {self.n_samples} announced")
                self._member("format", FORMAT)
                self._member("version", VERSION)
                self._member("n_in", self.n_in)
                self._member("dt_seconds", self.dt_seconds)
                if self._labelled:
                    labels = np.concatenate(self._labels)
                    _check_label_range(labels, self.class_names)
                    self._member("labels", labels)
                if self.class_names is not None:
                    self._member("class_names", np.asarray([str(c) for c in self.class_names]))
                if self.image_shape is not None:
                    self._member("image_shape", np.asarray(self.image_shape, dtype=np.int64))
                self._member("provenance", json.dumps(self.provenance, sort_keys=True, default=str))
            self._zip.close()
        except BaseException as err:
            with contextlib.suppress(Exception):  # a full disk fails here again: the temporary file goes anyway
                self._zip.close()
            self._atomic.__exit__(type(err), err, err.__traceback__)
            raise
        self._atomic.__exit__(exc_type, exc, tb)
