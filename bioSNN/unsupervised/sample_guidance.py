r"""Per-sample guidance: a trained network's output-layer potentials for every image, recorded without labels.

The class templates of :class:`~bioSNN.unsupervised.guidance.Guidance` need labels; per-sample guidance
does not: it is the trained Diehl & Cook network's response to each image, plasticity off, so it can
teach a supervised network on unlabelled data. :func:`record_sample_guidance` takes *images only*
(an ``[N, H, W]`` array; no labels are passed in, so none can be read) and is sharded by fixed
chunks, so that ``n`` processes (``shard=(i, n)``) together write exactly what one would, and
:func:`merge_sample_guidance` joins the shards.

File format (``*.npz``, numpy-readable; version 1):

=========== ============================== ====================================================
member      dtype / shape                  meaning
=========== ============================== ====================================================
traces      float16/32 [n, n_out, T']      membrane potential, mV; row ``k`` = end of step
                                           ``first_step + k * stride`` of the presentation
counts      int32 [n, n_out]               spike counts of the same presentation
meta        str (JSON)                     format, version, dt_seconds, first_step, stride,
                                           ``start``/``stop`` (rows of the full image list this
                                           file holds), ``n_total``, ``shard``, ``chunk``, the
                                           data ``source``, the ``network`` config, the neuron
                                           ``model`` and its ``fingerprint``, ``seconds``
=========== ============================== ====================================================

There is no ``labels`` member, by design.

Example:
    >>> import tempfile
    >>> from bioSNN.equations import library
    >>> g = SampleGuidance(np.zeros((4, 3, 5), np.float16), np.zeros((4, 3), np.int32), 5e-4, library.lif_delta(),
    ...                    stride=10, n_total=4)
    >>> SampleGuidance.load(g.save(tempfile.mkdtemp() + "/s.npz")).traces.shape
    (4, 3, 5)
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..equations.model import NeuronModel, check_same_model
from ..errors import DataError, InputError
from ..fileio import READ_ERRORS, atomic_savez
from .guidance import check_time_step, dt_fingerprint, read_header

__all__ = ["SampleGuidance", "record_sample_guidance", "merge_sample_guidance", "shard_range", "parse_shard",
           "FORMAT", "VERSION", "DTYPES"]

logger = logging.getLogger(__name__)

FORMAT = "bioSNN.SampleGuidance"
VERSION = 1
DTYPES = {"float16": np.float16, "float32": np.float32}
#: Images per recording run; shards are whole chunks, so sharded and unsharded runs record alike.
CHUNK = 64


@dataclass(frozen=True, eq=False)
class SampleGuidance:
    """Per-sample traces ``[n, n_out, T']`` (mV) and spike counts ``[n, n_out]`` of rows
    ``start .. stop`` of ``n_total`` images (see the module docstring)."""

    traces: np.ndarray
    counts: np.ndarray
    dt_seconds: float
    model: NeuronModel
    first_step: int = 0
    stride: int = 1
    start: int = 0
    stop: int | None = None
    n_total: int | None = None
    shard: tuple[int, int] = (0, 1)
    source: dict[str, Any] = field(default_factory=dict)
    network: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dt_seconds", check_time_step(self.dt_seconds))
        tr = np.asarray(self.traces)
        if tr.ndim != 3 or tr.dtype not in (np.float16, np.float32):
            raise InputError(f"traces must be float16/float32 [n, n_out, T], got {tr.dtype} {tr.shape}")
        if not np.all(np.isfinite(tr)):
            raise InputError("sample guidance traces contain NaN or infinite values")
        c = np.asarray(self.counts, dtype=np.int32)
        if c.shape != tr.shape[:2]:
            raise InputError(f"counts must be [n, n_out] = {tr.shape[:2]}, got {c.shape}")
        if self.stride < 1:
            raise InputError(f"stride must be at least 1, got {self.stride}")
        stop = self.start + len(tr) if self.stop is None else int(self.stop)
        if stop - self.start != len(tr):
            raise InputError(f"rows {self.start}..{stop} do not hold {len(tr)} traces")
        object.__setattr__(self, "counts", c)
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "n_total", stop if self.n_total is None else int(self.n_total))
        object.__setattr__(self, "shard", (int(self.shard[0]), int(self.shard[1])))

    def __len__(self) -> int:
        return int(self.traces.shape[0])

    @property
    def complete(self) -> bool:
        """Whether this file holds every image (not one shard)."""
        return self.start == 0 and self.stop == self.n_total

    def targets(self) -> np.ndarray:
        """``float32 [n, n_out, T']`` traces in mV."""
        return self.traces.astype(np.float32)

    def check_model(self, model: NeuronModel, dt_seconds: float | None = None) -> None:
        """Refuse a ``model`` (or ``dt``) other than the one that produced these traces."""
        check_same_model(self.model, model, "sample guidance", made_dt=self.dt_seconds, used_dt=dt_seconds)

    def _meta(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "dt_seconds": self.dt_seconds, "first_step": self.first_step,
                "stride": self.stride, "start": self.start, "stop": self.stop, "n_total": self.n_total,
                "shard": list(self.shard), "chunk": CHUNK, "source": self.source, "network": self.network,
                "seconds": self.seconds, "units": "mV",
                "time": "row k = end of step first_step + k * stride of the presentation",
                "model": self.model.to_dict(), "fingerprint": self.model.fingerprint(),
                "dt_fingerprint": dt_fingerprint(self.model.fingerprint(), self.dt_seconds)}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the file (atomically; uncompressed, so that it loads fast)."""
        return atomic_savez(path, traces=self.traces, counts=self.counts,
                            meta=np.asarray(json.dumps(self._meta(), sort_keys=True, default=str)))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "SampleGuidance":
        """Read a file written by :meth:`save` (a :class:`~bioSNN.errors.DataError` if it is not one)."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"{path}: sample guidance file not found")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta, model = read_header(z, path, FORMAT, VERSION)
                return cls(z["traces"], z["counts"], float(meta["dt_seconds"]), model, int(meta["first_step"]),
                           int(meta["stride"]), int(meta["start"]), int(meta["stop"]), int(meta["n_total"]),
                           tuple(meta["shard"]), meta.get("source", {}), meta.get("network", {}),
                           float(meta.get("seconds", 0.0)))
        except DataError:
            raise
        except READ_ERRORS as exc:
            raise DataError(f"{path}: unreadable sample guidance file, corrupt or truncated ({exc})") from exc


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``.

    Example:
        >>> parse_shard("1/4")
        (1, 4)
    """
    try:
        i, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise InputError(f"a shard is written i/n (e.g. 0/4), got {text!r}") from None
    if not 0 <= i < n:
        raise InputError(f"shard {text!r}: need 0 <= i < n")
    return i, n


def shard_range(n_images: int, shard: tuple[int, int], chunk: int = CHUNK) -> tuple[int, int]:
    """Rows ``[start, stop)`` of shard ``i`` of ``n``: whole chunks, shared out as evenly as possible.

    Example:
        >>> [shard_range(200, (i, 3), chunk=64) for i in range(3)]
        [(0, 64), (64, 128), (128, 200)]
    """
    i, n = shard
    chunks = -(-n_images // chunk)
    first, last = i * chunks // n, (i + 1) * chunks // n
    return min(first * chunk, n_images), min(last * chunk, n_images)


def record_sample_guidance(directory: str | os.PathLike[str], images: np.ndarray, *, stride: int = 10,
                           dtype: str = "float16", shard: tuple[int, int] = (0, 1), backend: str = "cython",
                           source: dict[str, Any] | None = None, chunk: int = CHUNK,
                           progress: bool = True, cuda: Any = None) -> SampleGuidance:
    r"""Record the trained Diehl & Cook network in ``directory`` on every image of ``images``
    (``[N, H, W]`` or ``[N, n_in]`` pixel values, as :func:`~bioSNN.unsupervised.pipeline.rates_of`
    reads them), plasticity off: the excitatory potentials every ``stride`` steps and the spike counts.

    Only pixels go in: the function cannot see labels. Images are recorded in chunks of ``chunk``
    (default :data:`CHUNK`; each chunk is one Brian2 run whose Poisson input is seeded by the network's seed
    and the chunk's index), so ``shard=(i, n)`` records exactly rows :func:`shard_range` of the
    unsharded result. A compiled ``backend`` (``cpp_standalone``, or ``cuda_standalone`` configured by
    ``cuda``, a :class:`~bioSNN.unsupervised.backends.CudaOptions`) builds the network once per call
    and runs it once per chunk (:func:`~bioSNN.unsupervised.standalone.record_standalone`): statistically
    the same recording, not the same Poisson draws as the runtime targets'.

    Example:
        >>> import numpy as np
        >>> g = record_sample_guidance("models/mstar3-stdp", np.zeros((1, 28, 28)), progress=False)  # doctest: +SKIP
        >>> g.traces.shape  # doctest: +SKIP
        (1, 400, 70)
    """
    from .artifacts import load_network
    from .backends import STANDALONE_BACKENDS, codeobj_class
    from .diehl_cook import DiehlCookConfig, DiehlCookState, excitatory_model
    from .pipeline import rates_of
    from .training import record

    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    if stride < 1:
        raise InputError(f"stride must be at least 1, got {stride}")
    images = np.asarray(images)
    if images.ndim not in (2, 3) or len(images) == 0:
        raise InputError(f"images must be a non-empty [N, H, W] or [N, n_in] array, got shape {images.shape}")
    if not np.all(np.isfinite(images)):
        raise InputError("images contain NaN or infinite values")
    saved = load_network(directory)
    if saved.preset != "diehl_cook":
        raise InputError(f"{directory} holds a {saved.preset!r} network; per-sample guidance is recorded from "
                         "diehl_cook networks")
    config = DiehlCookConfig(**saved.meta["config"])
    neuron = saved.model  # the neuron it was trained with (library's or a user's), theta frozen
    model = excitatory_model(False, config, neuron)
    state = DiehlCookState(saved.arrays["w"], saved.arrays["delay_ms"], saved.arrays["theta"])
    rates = rates_of(images, config.input_total)
    if rates.shape[1] != state.w.shape[0]:
        raise InputError(f"the network has {state.w.shape[0]} inputs, the images {rates.shape[1]} pixels")
    if chunk < 1:
        raise InputError(f"chunk must be at least 1, got {chunk}")
    cls = codeobj_class(backend)  # refuses an unknown backend
    start, stop = shard_range(len(rates), shard, chunk)
    traces, counts = [], []
    t0 = time.perf_counter()
    if backend in STANDALONE_BACKENDS and stop > start:  # one build; every chunk one run, seeded by its index
        from .standalone import record_standalone

        with tempfile.TemporaryDirectory(prefix="biosnn-guidance-") as build:
            rec = record_standalone(replace(config, slice_examples=chunk), rates[start:stop], state, build, traces=True,
                                    stride=stride, trace_dtype=DTYPES[dtype], seed_slice_offset=start // chunk,
                                    backend=backend, cuda=cuda, progress=progress, neuron=neuron)
        traces.append(rec.traces)
        counts.append(rec.counts.astype(np.int32))
        logger.info("sample guidance: rows %d..%d of %d recorded (%s)", start, stop, len(rates), backend)
    elif stop > start:
        for first in range(start, stop, chunk):
            chunk_config = replace(config, seed=_chunk_seed(config.seed, first // chunk))
            rec = record(chunk_config, rates[first:min(first + chunk, stop)], state, traces=True, progress=progress,
                         codeobj_class=cls, neuron=neuron)
            traces.append(rec.traces[:, :, stride - 1::stride].astype(DTYPES[dtype]))
            counts.append(rec.counts.astype(np.int32))
            logger.info("sample guidance: rows %d..%d of %d recorded", first, min(first + chunk, stop), len(rates))
    n_out = config.n_neurons
    empty_T = len(range(stride - 1, int(round(config.present_ms / config.dt_ms)), stride))
    return SampleGuidance(np.concatenate(traces) if traces else np.zeros((0, n_out, empty_T), DTYPES[dtype]),
                          np.concatenate(counts) if counts else np.zeros((0, n_out), np.int32),
                          config.dt_ms * 1e-3, model, first_step=stride - 1, stride=stride, start=start, stop=stop,
                          n_total=len(rates), shard=shard, source=dict(source or {}),
                          network={**config.to_dict(), "weights_sha256": network_digest(state)},
                          seconds=time.perf_counter() - t0)


def network_digest(state: DiehlCookState) -> str:
    """SHA-256 of a network's learned arrays (weights, delays, thetas; float64, C order): shards of one
    network share it, shards of two networks with the same settings do not.

    Example:
        >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
        >>> s = DiehlCookState.initial(DiehlCookConfig(n_neurons=2), 4)
        >>> network_digest(s) == network_digest(s), len(network_digest(s))
        (True, 64)
    """
    import hashlib

    h = hashlib.sha256()
    for a in (state.w, state.delay_ms, state.theta):
        arr = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(repr(arr.shape).encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def _chunk_seed(seed: int, chunk: int) -> int:
    """The Poisson seed of one recording chunk (a function of the network's seed and the chunk alone)."""
    return int(np.random.default_rng([seed, 17, chunk]).integers(2**31 - 1))


def merge_sample_guidance(parts: Sequence[SampleGuidance]) -> SampleGuidance:
    """Join shards into one complete file; refuses gaps, overlaps and shards of different recordings.

    Example:
        >>> from bioSNN.equations import library
        >>> a = SampleGuidance(np.zeros((2, 1, 3), np.float16), np.zeros((2, 1)), 1e-3, library.lif_delta(),
        ...                    start=0, stop=2, n_total=3, shard=(0, 2))
        >>> b = SampleGuidance(np.ones((1, 1, 3), np.float16), np.zeros((1, 1)), 1e-3, library.lif_delta(),
        ...                    start=2, stop=3, n_total=3, shard=(1, 2))
        >>> merge_sample_guidance([b, a]).traces[:, 0, 0].tolist()
        [0.0, 0.0, 1.0]
    """
    if not parts:
        raise InputError("no shards to merge")
    parts = sorted(parts, key=lambda p: p.start)
    first = parts[0]
    same = ("dt_seconds", "first_step", "stride", "n_total", "source", "network")
    for p in parts[1:]:
        for name in same:
            if name == "network" and p.network.get("weights_sha256") != first.network.get("weights_sha256"):
                raise DataError("shards were recorded from different networks (their weights, delays or thetas "
                                "differ): merge shards of one network only")
            if getattr(p, name) != getattr(first, name):
                raise DataError(f"shards differ in {name}: {getattr(first, name)!r} vs {getattr(p, name)!r}")
        if p.model.fingerprint() != first.model.fingerprint():
            raise DataError("shards were recorded with different neuron models")
        if p.traces.dtype != first.traces.dtype or p.traces.shape[1:] != first.traces.shape[1:]:
            raise DataError("shards differ in dtype or trace shape")
    position = 0
    for p in parts:
        if p.start != position:
            kind = "overlap" if p.start < position else "gap"
            raise DataError(f"shards {kind} at row {min(p.start, position)}: rows {position}.. expected, a shard "
                            f"starts at {p.start}")
        position = p.stop  # type: ignore[assignment]
    if position != first.n_total:
        raise DataError(f"the shards cover rows 0..{position} of {first.n_total}: some are missing")
    return SampleGuidance(np.concatenate([p.traces for p in parts]), np.concatenate([p.counts for p in parts]),
                          first.dt_seconds, first.model, first.first_step, first.stride, 0, first.n_total,
                          first.n_total, (0, 1), first.source, first.network, sum(p.seconds for p in parts))
