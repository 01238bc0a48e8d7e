"""Encode a whole data set in chunks: bounded memory, a progress bar, optional streaming to a file."""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..errors import InputError
from ..progress import progress_bar
from ..arrays import check_images, check_steps, to_numpy
from .latency import latency
from .poisson import DEFAULT_MAX_RATE, DIEHL_COOK_INTENSITY, diehl_cook, poisson
from .rate_code import rate_code
from .receptive_field import receptive_field
from .regular import regular
from .spike_trains import SpikeTrains, SpikeTrainsWriter

__all__ = ["encode_images", "ENCODERS", "Encoder", "CHUNK_BYTES"]

#: Default size of one chunk of dense (boolean) spikes: 1,000 MNIST images at T = 70, 55 MSTAR chips.
CHUNK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Encoder:
    """How a named encoder turns a chunk of 8-bit images (``[n, H, W]``, 0..255) into spike trains:
    ``run(images, T, dt, first_index, **options)``."""

    run: Callable[..., SpikeTrains]
    description: str
    #: the last step when none is given (trains have ``default_T + 1`` rows): the seed's 70
    default_T: int = 70

    @property
    def options(self) -> dict[str, Any]:
        """The keyword options ``run`` accepts, with their defaults (read from its signature)."""
        params = list(inspect.signature(self.run).parameters.values())[4:]
        return {p.name: p.default for p in params}

    @property
    def random(self) -> bool:
        """Whether the encoder draws random spikes (it takes a ``seed``): several draws differ."""
        return "seed" in self.options


def _rf_rate(images: np.ndarray, T: int, dt: Any, first_index: int, variant: str = "training") -> SpikeTrains:
    trains = rate_code(receptive_field(images, variant=variant), T, dt=dt)
    trains.provenance.update(receptive_field=variant)
    return trains


def _poisson(images: np.ndarray, T: int, dt: Any, first_index: int, max_rate: Any = DEFAULT_MAX_RATE,
             seed: int = 0) -> SpikeTrains:
    return poisson(images / 255.0, T, dt, max_rate, seed=seed, first_index=first_index)


def _regular(images: np.ndarray, T: int, dt: Any, first_index: int, max_rate: Any = 1000.0) -> SpikeTrains:
    return regular(images / 255.0, T, dt, max_rate)


def _latency(images: np.ndarray, T: int, dt: Any, first_index: int, mode: str = "linear", threshold: float = 0.0,
             tau: Any = None) -> SpikeTrains:
    return latency(images / 255.0, T, dt, mode=mode, threshold=threshold, tau=tau)


def _diehl_cook(images: np.ndarray, T: int, dt: Any, first_index: int, intensity: float = DIEHL_COOK_INTENSITY,
                seed: int = 0, input_total: float | None = None) -> SpikeTrains:
    return diehl_cook(images, T, dt, intensity=intensity, seed=seed, first_index=first_index, input_total=input_total)


#: The encoders :func:`encode_images` and ``biosnn encode --encoder`` know, by name.
ENCODERS: dict[str, Encoder] = {
    "rf-rate": Encoder(_rf_rate, "receptive field + deterministic rate code (seed)"),
    "poisson": Encoder(_poisson, "Poisson, rate = pixel / 255 * max_rate (Hz)"),
    "regular": Encoder(_regular, "regular (noise-free) rate code, rate = pixel / 255 * max_rate (Hz)"),
    "latency": Encoder(_latency, "one spike per pixel, brighter earlier"),
    "diehl-cook": Encoder(_diehl_cook, "Poisson at pixel / 8 * intensity Hz"),
}


def encode_images(images: Any, encoder: str = "rf-rate", T: int | None = None, *, dt: Any = 1e-3,
                  labels: Any = None, class_names: Any = None, out: str | os.PathLike[str] | None = None,
                  chunk_size: int | None = None, progress: bool = False, source: dict[str, Any] | None = None,
                  **options: Any) -> SpikeTrains | None:
    """Encode 8-bit ``images`` (``[N, H, W]`` array, or a :class:`bioSNN.data.ImageSet`) chunk by chunk.

    Args:
        images: intensities 0..255 (MSTAR magnitudes: convert with :func:`bioSNN.data.to_uint8` first).
        encoder: a name in :data:`ENCODERS`; ``options`` are passed to it (e.g. ``max_rate=``, ``seed=``).
        T: last step (trains have ``T + 1`` rows; default: the encoder's ``default_T``, 70).
        dt: the time step (quantity or seconds).
        labels, class_names: attached to the trains (taken from an ``ImageSet`` when not given).
        out: if given, stream the trains to this ``.npz`` (atomically) and return ``None``; otherwise
            return the :class:`SpikeTrains` in memory.
        chunk_size: images encoded at once; by default as many as fit in :data:`CHUNK_BYTES` of dense
            spikes (memory is bounded by one chunk when ``out`` is given).
        progress: show a progress bar.
        source: provenance of the images (taken from an ``ImageSet`` when not given).

    Example:
        >>> imgs = np.zeros((3, 8, 8), np.uint8); imgs[:, 3:5, 3:5] = 255
        >>> trains = encode_images(imgs, "rf-rate", T=70, labels=[0, 1, 1], chunk_size=2)
        >>> trains.shape, trains.labels.tolist(), trains.provenance["encoder"]
        ((3, 71, 64), [0, 1, 1], 'rf-rate')
    """
    if encoder not in ENCODERS:
        raise InputError(f"unknown encoder {encoder!r}; use one of {sorted(ENCODERS)}")
    spec = ENCODERS[encoder]
    T = spec.default_T if T is None else T
    unknown = set(options) - set(spec.options)
    if unknown:
        raise InputError(f"encoder {encoder!r} has no option(s) {sorted(unknown)}; it takes {sorted(spec.options)}")
    T = check_steps(T)
    if hasattr(images, "images") and hasattr(images, "labels"):  # an ImageSet
        labels = images.labels if labels is None else labels
        class_names = images.class_names if class_names is None else class_names
        source = dict(images.source) if source is None else source
        images = images.images
    images = to_numpy(images, "images")
    if images.ndim != 3:
        raise InputError(f"images must be [N, H, W], got shape {images.shape}")
    if 0 in images.shape[1:]:
        raise InputError(f"images must have at least one row and column, got shape {images.shape}")
    n = images.shape[0]
    if chunk_size is None:
        chunk_size = max(1, CHUNK_BYTES // ((T + 1) * images.shape[1] * images.shape[2]))
    if chunk_size < 1:
        raise InputError(f"chunk_size must be at least 1, got {chunk_size}")
    if labels is not None:
        labels = to_numpy(labels, "labels")
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise InputError(f"labels must be integers of shape [{n}], got {labels.dtype} {labels.shape}")
    params = {**spec.options, **options}
    provenance = {"encoder": encoder, "options": params,
                  "T": T, "source": source or {}, "bioSNN": __version__}
    chunks = range(0, n, chunk_size)
    bar = progress_bar(n, f"encode {encoder}", "img", enabled=progress)

    def encode_chunk(start: int) -> SpikeTrains:
        stop = min(start + chunk_size, n)
        chunk = check_images(images[start:stop], "images", upper=255.0, hint="8-bit intensities expected")
        trains = spec.run(chunk, T, dt, start, **params)
        bar.update(stop - start)
        return trains if labels is None else trains.with_labels(labels[start:stop])

    try:
        if out is None:
            h, w = images.shape[1:]
            parts = [encode_chunk(s) for s in chunks] or [
                SpikeTrains.from_dense(np.zeros((0, T + 1, h * w), bool), dt, labels=labels, image_shape=(h, w))]
            return replace(SpikeTrains.concatenate(parts), class_names=class_names, provenance=provenance)
        h, w = images.shape[1:]
        with SpikeTrainsWriter(out, n, T + 1, h * w, dt, class_names=class_names, image_shape=(h, w),
                               provenance=provenance) as writer:
            for start in chunks:
                writer.write(encode_chunk(start))
        return None
    finally:
        bar.close()
