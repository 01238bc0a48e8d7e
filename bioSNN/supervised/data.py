"""What the supervised stage trains on: labelled spike trains, optionally with per-sample guidance.

Sources (``biosnn supervised --dataset``):

* ``spikes``: spike-train files written by ``biosnn encode``, ``<root>/<split>.npz`` (``root`` may also
  be the file itself for one split);
* ``seed``: the SAR seed project's layout ``<root>/{Train,Test}/{Spikes,Labels}/*.npy``; its per-sample
  guidance potentials become the targets, its winner rows the labels;
* ``mnist``, ``mnist-subset``, ``mstar``: images encoded on the fly. With a guidance file the encoder,
  its options and dt are those the unsupervised stage used (stored in the guidance file), so both stages
  see the same kind of spike trains; ``T`` may be shortened to a window of the presentation.

Batches are index lists drawn from ``(seed, epoch)`` alone (:func:`batch_order`), so a resumed run and a
run sharded over several processes see exactly the samples an uninterrupted single run would.

Example:
    >>> order = batch_order(10, 4, seed=0, epoch=0, shuffle=False)
    >>> [b.tolist() for b in order]
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..encoding.spike_trains import SpikeTrains
from ..errors import DataError, InputError, MissingDataError

__all__ = ["shift_spikes", "SupervisedSplit", "Redraw", "load_split", "encoder_settings", "batch_order", "SUPERVISED_DATASETS"]

#: Sources that hold spike trains already encoded (one fixed draw); the others are images encoded on the fly.
ENCODED_DATASETS = ("spikes", "seed")
SUPERVISED_DATASETS = (*ENCODED_DATASETS, "mnist", "mnist-subset", "mstar", "folder")


@dataclass(frozen=True, eq=False)
class SupervisedSplit:
    """Labelled ``trains`` and optional per-sample guidance ``targets`` (``float16/32 [N, n_out, T]``, mV;
    row ``j`` at the end of step ``first_step + j * target_stride``).

    ``labelled``: ``bool [N]``, the samples whose labels training may read (None: all of them; see
    :func:`bioSNN.data.splits.labelled_split`). The labels of the others stay in ``trains`` for the
    record but the trainer does not pass them to any loss term.

    ``target_counts``: ``[N, n_out]`` spike counts recorded with the per-sample ``targets`` (the
    ``kd-sample`` loss term).

    ``encoding``: for images encoded on the fly, the :class:`Redraw` that made ``trains`` (its images
    and encoder), so that training can show a fresh draw of a random code every epoch
    (:meth:`redrawn`)."""

    trains: SpikeTrains
    targets: np.ndarray | None = None
    first_step: int = 1
    source: str = ""
    target_stride: int = 1
    labelled: np.ndarray | None = None
    encoding: "Redraw | None" = None
    target_counts: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.trains.labels is None:
            raise DataError(f"{self.source or 'spike trains'}: supervised training needs labelled spike trains")
        if self.targets is not None and len(self.targets) != len(self.trains):
            raise DataError(f"{len(self.targets)} guidance targets for {len(self.trains)} samples")
        if self.target_counts is not None and len(self.target_counts) != len(self.trains):
            raise DataError(f"{len(self.target_counts)} recorded spike counts for {len(self.trains)} samples")
        if self.labelled is not None:
            mask = np.asarray(self.labelled, dtype=bool)
            if mask.shape != (len(self.trains),):
                raise InputError(f"labelled mask must be [{len(self.trains)}], got {mask.shape}")
            object.__setattr__(self, "labelled", mask)

    def __len__(self) -> int:
        return len(self.trains)

    @property
    def labels(self) -> np.ndarray:
        return self.trains.labels  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        names = self.trains.class_names
        return len(names) if names else int(self.labels.max()) + 1

    def batch(self, index: np.ndarray, device: Any = "cpu", *, draw: tuple[int, int] | None = None,
              packed: bool = False) -> tuple[Any, torch.Tensor, torch.Tensor | None]:
        """``(spikes [steps, B, n_in] float32, labels [B], targets [B, n_out, T] or None)`` on ``device``;
        with ``draw = (seed, epoch)`` the spikes are that fresh draw (:meth:`redrawn`), not the stored one;
        with ``packed`` they are :class:`~bioSNN.supervised.packed.PackedSpikes` (1 bit per entry, the
        stored bits themselves: no dense copy is made)."""
        if packed:
            from .packed import PackedSpikes

            if draw is None:
                bits = np.asarray(self.trains.packed[np.atleast_1d(np.arange(len(self))[index])])
            else:
                bits = np.packbits(self._draw(index, draw) != 0, axis=-1, bitorder="little")
            x = PackedSpikes(torch.from_numpy(np.ascontiguousarray(bits)).to(device).transpose(0, 1).contiguous(),
                             self.trains.n_in)
        else:
            x = (self.trains.to_torch(index, device=device) if draw is None
                 else self.redrawn(index, seed=draw[0], epoch=draw[1], device=device))
        y = torch.as_tensor(self.labels[index], device=device)
        t = None if self.targets is None else torch.as_tensor(self.targets[index], device=device).float()
        return x, y, t

    def subset(self, index: np.ndarray | slice) -> "SupervisedSplit":
        """The samples at ``index``, with their targets."""
        return SupervisedSplit(self.trains[index], None if self.targets is None else self.targets[index],
                               self.first_step, self.source, self.target_stride,
                               None if self.labelled is None else self.labelled[index],
                               None if self.encoding is None else self.encoding.subset(index),
                               None if self.target_counts is None else self.target_counts[index])

    def redrawn(self, index: np.ndarray, *, seed: int, epoch: int, device: Any = "cpu") -> torch.Tensor:
        """``[steps, B, n_in]``: the samples at ``index`` encoded afresh by their random encoder, draw
        ``(seed, epoch)`` (:meth:`Redraw.draw`), in place of the stored draw of :meth:`batch`."""
        return torch.from_numpy(self._draw(index, (seed, epoch))).to(device=device, dtype=torch.float32).transpose(0, 1).contiguous()

    def _draw(self, index: np.ndarray, draw: tuple[int, int]) -> np.ndarray:
        """``[B, steps, n_in]``: draw ``(seed, epoch)`` of the samples at ``index`` (:meth:`Redraw.draw`)."""
        if self.encoding is None:
            raise InputError(f"{self.source or 'these spike trains'}: a fresh draw per epoch needs images encoded on "
                             "the fly (--dataset mnist, mnist-subset or mstar), not stored spike trains")
        return np.asarray(self.encoding.draw(index, seed=draw[0], epoch=draw[1]))

    def limit(self, n: int | None) -> "SupervisedSplit":
        """The first ``n`` samples (all when ``n`` is None)."""
        return self if n is None else self.subset(slice(0, n))

    def check_like(self, train: "SupervisedSplit", name: str, dt_seconds: float) -> None:
        """Refuse an evaluation split (``name``) that the network trained on ``train`` cannot score:
        another ``dt`` or other class names."""
        self.check_dt(dt_seconds)
        ours, theirs = self.trains.class_names, train.trains.class_names
        if ours and theirs and tuple(ours) != tuple(theirs):
            raise InputError(f"the {name} split has classes {list(ours)}, the training split {list(theirs)}")

    def check_dt(self, dt_seconds: float) -> None:
        """Refuse to feed these spike trains to a network running at another ``dt``."""
        if not np.isclose(self.trains.dt_seconds, dt_seconds, rtol=1e-9, atol=0):
            raise InputError(f"the spike trains have dt = {self.trains.dt_seconds * 1e3:g} ms, "
                             f"the network {dt_seconds * 1e3:g} ms")


@dataclass(frozen=True, eq=False)
class Redraw:
    """Images and the random encoder that turns them into spike trains, for a fresh draw per epoch.

    Draw ``(seed, epoch)`` of sample ``i`` (its row in ``images``) is the encoder run on that image
    alone with the encoder seed ``SeedSequence([options["seed"], seed, epoch]).generate_state(1)[0]``
    and ``first_index = i``: a function of the sample, the training seed and the epoch only, so
    batches, processes and resumed runs see the same spikes.

    Example:
        >>> imgs = np.full((2, 4, 4), 200, np.uint8)
        >>> r = Redraw(imgs, "poisson", T=50, dt=1e-3, options={"max_rate": 500.0})
        >>> a, b = r.draw(np.array([1]), seed=0, epoch=0), r.draw(np.array([1]), seed=0, epoch=1)
        >>> a.shape, bool((a == r.draw(np.array([1]), seed=0, epoch=0)).all()), bool((a != b).any())
        ((1, 51, 16), True, True)
    """

    images: np.ndarray
    encoder: str
    T: int
    dt: float
    options: dict[str, Any]

    def __post_init__(self) -> None:
        from ..encoding import ENCODERS

        if self.encoder not in ENCODERS:
            raise InputError(f"unknown encoder {self.encoder!r}")
        if not ENCODERS[self.encoder].random:
            raise InputError(f"encoder {self.encoder!r} is deterministic: a fresh draw per epoch would be the same "
                             "spikes; redraw needs a random encoder (poisson, diehl-cook)")

    def subset(self, index: np.ndarray | slice) -> "Redraw":
        return Redraw(self.images[index], self.encoder, self.T, self.dt, self.options)

    def draw(self, index: np.ndarray, *, seed: int, epoch: int) -> np.ndarray:
        """``bool [B, T + 1, n_in]``: draw ``(seed, epoch)`` of the samples at ``index``."""
        from ..encoding import ENCODERS

        spec = ENCODERS[self.encoder]
        base = int(self.options.get("seed", spec.options["seed"]))
        enc_seed = int(np.random.SeedSequence([base, int(seed), int(epoch)]).generate_state(1)[0])
        options = {**self.options, "seed": enc_seed}
        return np.concatenate([spec.run(self.images[i:i + 1], self.T, self.dt, int(i), **options).dense()
                               for i in np.asarray(index).tolist()])


def encoder_settings(guidance: Any) -> dict[str, Any]:
    """``{"encoder", "T", "dt", "options"}`` of the spike trains a guidance file was recorded from."""
    enc = dict(guidance.encoder or {})
    name = enc.get("encoder")
    if name is None:
        raise DataError("the guidance file does not say which encoder made its input; give --encoder")
    if name == "diehl-cook":
        T = int(round(float(enc.get("present_ms", guidance.T * guidance.dt_seconds * 1e3)) / (guidance.dt_seconds * 1e3)))
        options = {"intensity": float(enc.get("intensity", 2.0))}
        if enc.get("input_total") is not None:
            options["input_total"] = float(enc["input_total"])
    else:
        T = int(enc.get("T", guidance.T))
        options = dict(enc.get("options", {}))
    settings = {"encoder": name, "T": T, "dt": guidance.dt_seconds, "options": options}
    images = image_options(enc.get("source") or {})
    if images:
        settings["images"] = images
    return settings


def image_options(source: dict[str, Any]) -> dict[str, Any]:
    """The ``load_images`` options (``classes``, ``crop``, ``size``, ``scaling``) recorded in a data
    ``source``: how the images were read, so that a later stage reads them the same way.

    Example:
        >>> image_options({"reader": "mstar", "crop": 64, "size": 28, "scaling": "minmax", "split": "train"})
        {'crop': 64, 'size': 28, 'scaling': 'minmax'}
    """
    return {k: source[k] for k in ("classes", "crop", "size", "scaling") if source.get(k) is not None}


def encoding_pipeline(trains: Any) -> dict[str, Any] | None:
    """How a spike file was made from raw images, from its provenance: ``{"dataset", "encoder", "T",
    "dt", "options", "images"}``, the settings :func:`load_split` needs to encode other images the same
    way; None when the provenance does not say (files written by hand or by the seed layout).

    Example:
        >>> from bioSNN.encoding import encode_images
        >>> import numpy as np
        >>> t = encode_images(np.zeros((1, 8, 8), np.uint8), "rf-rate", T=70, source={"reader": "mstar", "crop": 8})
        >>> p = encoding_pipeline(t); p["dataset"], p["encoder"], p["T"], p["images"]
        ('mstar', 'rf-rate', 70, {'crop': 8})
    """
    prov = dict(getattr(trains, "provenance", {}) or {})
    source = dict(prov.get("source") or {})
    if not prov.get("encoder") or not source.get("reader"):
        return None
    return {"dataset": source["reader"], "encoder": prov["encoder"], "T": prov.get("T"), "dt": trains.dt_seconds,
            "options": dict(prov.get("options") or {}), "images": image_options(source)}


def load_split(dataset: str, root: str | os.PathLike[str] | None, split: str, *, encoder: str | None = None,
               T: int | None = None, dt: float = 1e-3, options: dict[str, Any] | None = None,
               classes: list[str] | None = None, progress: bool = False, trust_pickle: bool = False,
               images: dict[str, Any] | None = None) -> SupervisedSplit:
    """One split of a :data:`SUPERVISED_DATASETS` source (see the module docstring).

    ``trust_pickle``: dataset ``seed`` only, read a layout of joblib ``.pkl`` files (pickles can run
    code; without it they are refused, see :func:`~bioSNN.data.seed_layout.read_seed_layout`).
    ``images``: how image data sets are read (:func:`image_options`: crop, size, scaling, classes)."""
    if dataset not in SUPERVISED_DATASETS:
        raise InputError(f"unknown dataset {dataset!r}; use one of {SUPERVISED_DATASETS}")
    if dataset == "seed":
        from ..data.seed_layout import read_seed_layout

        if root is None:
            raise DataError("--dataset seed needs --root (the folder holding Train/ and Test/)")
        part = read_seed_layout(root, split, trust_pickle=trust_pickle)
        trains = part.spikes if T is None else _window(part.spikes, T)
        targets = None if part.guidance is None else part.guidance.astype(np.float32)
        return SupervisedSplit(trains, targets, first_step=1, source=f"{root}/{split}")
    if dataset == "spikes":
        if root is None:
            raise DataError("--dataset spikes needs --root (a folder with <split>.npz, or one .npz file)")
        path = Path(root)
        path = path if path.suffix == ".npz" else path / f"{split}.npz"
        if not path.exists():
            raise MissingDataError(f"{path}: spike-train file not found")
        trains = SpikeTrains.load(path)
        return SupervisedSplit(trains if T is None else _window(trains, T), source=str(path))
    from ..data import load_images
    from ..encoding import ENCODERS, encode_images

    name = encoder or ("rf-rate" if dataset == "mstar" else "poisson")
    read = {"classes": classes, **(images or {})}
    data = load_images(dataset, root, split, **read, progress=progress)
    T = T or ENCODERS[name].default_T
    trains = encode_images(data, name, T=T, dt=dt, progress=progress, **(options or {}))
    assert trains is not None
    redraw = (Redraw(data.images, name, T, float(dt), dict(options or {}))
              if ENCODERS[name].random else None)
    return SupervisedSplit(trains, source=f"{dataset}/{split}", encoding=redraw)


def _window(trains: SpikeTrains, T: int) -> SpikeTrains:
    """The first ``T`` steps after row 0 (``T + 1`` rows)."""
    if T + 1 > trains.steps:
        raise InputError(f"T = {T} is longer than the spike trains ({trains.steps - 1} steps)")
    if T + 1 == trains.steps:
        return trains
    from dataclasses import replace

    return replace(trains, packed=np.ascontiguousarray(trains.packed[:, : T + 1]))


def batch_order(n: int, batch_size: int, *, seed: int, epoch: int, shuffle: bool = True, rank: int = 0,
                world: int = 1) -> list[np.ndarray]:
    """Index batches of one epoch. The permutation depends on ``(seed, epoch)`` only; with ``world``
    processes each global batch of ``batch_size * world`` is split in ``world`` consecutive parts and
    process ``rank`` takes its part (the last global batch is dropped if it cannot be split evenly)."""
    if batch_size < 1 or n < 1:
        raise InputError(f"need at least one sample and a batch size >= 1 (n={n}, batch_size={batch_size})")
    perm = np.random.default_rng([int(seed), int(epoch)]).permutation(n) if shuffle else np.arange(n)
    step = batch_size * world
    batches = []
    for start in range(0, n, step):
        chunk = perm[start:start + step]
        if world > 1:
            if len(chunk) < step:
                break
            chunk = chunk[rank * batch_size:(rank + 1) * batch_size]
        batches.append(chunk)
    return batches


def shift_spikes(x: torch.Tensor, image_shape: Sequence[int], max_shift: int, *, seed: int, epoch: int,
                 index: Sequence[int]) -> torch.Tensor:
    """Translate each sample of ``x`` (``[T, B, n_in]``, inputs on the pixel grid ``image_shape``,
    ``(H, W)`` or ``(C, H, W)``) by its own random ``(dy, dx)`` in ``[-max_shift, max_shift]``;
    pixels shifted in from outside are silent. Sample ``b``'s shift is drawn from
    ``numpy.random.default_rng([seed, epoch, index[b]])`` (``index``: the samples' positions in the
    split), so it does not depend on the batch size or the number of processes, and an augmented run
    resumes exactly.

    Example:
        >>> x = torch.zeros(2, 1, 9); x[:, 0, 4] = 1          # the centre pixel of a 3 x 3 image
        >>> y = shift_spikes(x, (3, 3), 1, seed=0, epoch=0, index=[7])
        >>> int(y.sum()), y.shape == x.shape                  # moved, never duplicated
        (2, True)
    """
    if max_shift <= 0:
        return x
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or int(np.prod(shape)) != x.shape[-1]:
        raise InputError(f"shift augmentation needs inputs on an image grid; {x.shape[-1]} inputs, shape {shape}")
    if len(index) != x.shape[1]:
        raise InputError(f"{len(index)} sample indices for a batch of {x.shape[1]}")
    T, B = x.shape[:2]
    H, W = shape[-2:]
    k = max_shift
    shifts = [np.random.default_rng([int(seed), int(epoch), int(i)]).integers(-k, k + 1, 2).tolist() for i in index]
    padded = torch.nn.functional.pad(x.reshape(T, B, -1, H, W), (k, k, k, k))
    out = torch.stack([padded[:, b, :, k - dy:k - dy + H, k - dx:k - dx + W] for b, (dy, dx) in enumerate(shifts)], 1)
    return out.reshape(x.shape)
