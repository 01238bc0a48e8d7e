"""``Trainer``: batched surrogate-gradient training with checkpoints, exact resume and optional DDP.

What one :meth:`Trainer.fit` writes into ``out``:

* ``checkpoint.pt``: everything needed to resume (weights, optimizer, scheduler, RNG states, position
  in the epoch), every ``checkpoint_every`` steps and after each epoch (:mod:`.checkpoint`);
* ``model.pt``: the trained network (the best on the validation split when there is one, else the last);
* ``metrics.json``: per-epoch losses, accuracies, samples/s, firing rate per layer; ``config.json``;
* ``weights_history.npz``: the input weights (bilayer, MLP) at the start and after every epoch
  (:mod:`bioSNN.weight_history`), for receptive-field figures over training;
* ``tb/``: TensorBoard scalars and weight images, when ``tensorboard=True`` and it is installed.

Batches come from :func:`~bioSNN.supervised.data.batch_order` (a function of seed and epoch), and the
torch RNG (dropout) is saved with the checkpoint, so an interrupted run resumed with ``resume=True``
ends with exactly the weights of an uninterrupted one. Under ``torchrun`` (``WORLD_SIZE`` > 1) the
network is wrapped in ``DistributedDataParallel`` and each process takes its share of every global
batch of ``batch_size * world`` samples: the same gradients as one process with that batch (batch-norm
statistics excepted, which stay per process).

Example:
    >>> import tempfile, numpy as np
    >>> from brian2 import ms
    >>> from bioSNN.encoding import SpikeTrains
    >>> from bioSNN.equations import library
    >>> from bioSNN.supervised import SpikingMLP, LossSpec, ClassReadout, SupervisedSplit, TrainConfig, Trainer
    >>> rng = np.random.default_rng(0)
    >>> labels = rng.integers(0, 2, 64)
    >>> x = rng.random((64, 11, 10)) < np.where(labels[:, None, None] == 1, 0.4, 0.05)
    >>> data = SupervisedSplit(SpikeTrains.from_dense(x, 1e-3, labels=labels))
    >>> net = SpikingMLP(10, 2, hidden=(16,), dt=1 * ms)
    >>> trainer = Trainer(net, LossSpec.parse("ce-rate"), ClassReadout.identity(2), data, tempfile.mkdtemp(),
    ...                   config=TrainConfig(epochs=3, batch_size=16, lr=1e-2, decision="rate", progress=False))
    >>> metrics = trainer.fit()
    >>> metrics["history"][-1]["train_accuracy"] > 0.8
    True
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..equations.torch_step import BACKENDS
from ..errors import InputError, ModelMismatchError
from ..fileio import atomic_write_json
from ..interrupts import resume_hint, stop_requests
from ..progress import progress_bar
from ..weight_history import FILENAME, append_snapshot
from .checkpoint import load_checkpoint, save_checkpoint
from .data import SupervisedSplit, batch_order, shift_spikes
from .layers import set_backend
from .losses import LossSpec, compute_loss
from .readout import DECISIONS, ClassReadout

logger = logging.getLogger(__name__)

__all__ = ["TrainConfig", "Trainer", "check_device", "evaluate_split", "check_guidance", "guidance_context"]

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. ``schedule``: ``"none"``, ``"cosine"``, ``"step:EVERY:GAMMA"`` or
    ``"exp:GAMMA"`` (per epoch); ``clip``: max gradient norm; ``patience``: early stopping on the
    validation accuracy (epochs); ``checkpoint_every``: optimizer steps between checkpoints (0: per
    epoch); ``amp``: ``"bf16"`` autocast of the synaptic maps (neuron state stays float32);
    ``augment_shift``: translate every training sample by up to this many pixels (image inputs);
    ``redraw``: show every training sample in a fresh draw of its random encoder each epoch
    (:meth:`~bioSNN.supervised.data.SupervisedSplit.redrawn`, drawn from (seed, epoch, sample)) instead of
    the one stored draw, so the network cannot fit the draw's noise;
    ``packed_input``: training batches as bit-packed spikes (:mod:`bioSNN.supervised.packed`: long
    presentations in bounded memory; networks with ``accepts_packed``: ``guided-bilayer``,
    ``spiking-mlp``; not with ``augment_shift``);
    ``backend``: how the neuron steps run (``"eager"``, or ``"compile"``, ``"fused"``, ``"bptt"``: fused by
    ``torch.compile``, same values, compiled at first use; ``"bptt"`` the fastest to train on a CPU;
    :data:`~bioSNN.equations.torch_step.BACKENDS`; :func:`~bioSNN.supervised.layers.set_backend`, applied to the
    network given to :class:`Trainer` by ``fit``); ``None`` leaves the network's layers as they are."""

    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "none"
    clip: float | None = None
    patience: int | None = None
    checkpoint_every: int = 0
    seed: int = 0
    device: str = "cpu"
    amp: str | None = None
    decision: str = "potential"
    eval_batch_size: int = 128
    shuffle: bool = True
    augment_shift: int = 0
    redraw: bool = False
    packed_input: bool = False
    backend: str | None = None
    tensorboard: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise InputError("epochs and batch_size must be at least 1")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.decision not in DECISIONS:
            raise InputError(f"decision must be one of {DECISIONS}, got {self.decision!r}")
        if self.amp not in (None, "bf16"):
            raise InputError(f"amp must be None or 'bf16', got {self.amp!r}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise InputError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.augment_shift < 0:
            raise InputError(f"augment_shift must be >= 0, got {self.augment_shift}")
        if self.packed_input and self.augment_shift:
            raise InputError("packed_input and augment_shift do not combine (shifts move dense spikes)")
        if not self.lr > 0:
            raise InputError(f"lr must be positive, got {self.lr}")
        check_device(self.device)
        _lr_factor(self.schedule, self.epochs)(0)


def check_device(text: str) -> str:
    """``text`` if it names a torch device this machine has, else :class:`~bioSNN.errors.InputError`
    saying why (not a device name, no CUDA in this torch build, no such GPU, no MPS).

    Example:
        >>> check_device("cpu")
        'cpu'
    """
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError, TypeError):
        raise InputError(f"not a torch device: {text!r} (use cpu, cuda, cuda:1, mps ...)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise InputError(f"{text}: {why}")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise InputError(f"{text}: only {torch.cuda.device_count()} CUDA GPU(s) are visible")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"{text}: MPS is not available on this machine")
    return text


def _lr_factor(schedule: str, epochs: int) -> Any:
    parts = schedule.split(":")
    try:
        if parts[0] == "none" and len(parts) == 1:
            return lambda e: 1.0
        if parts[0] == "cosine" and len(parts) == 1:
            return lambda e: 0.5 * (1 + math.cos(math.pi * e / epochs))
        if parts[0] == "step" and len(parts) == 3:
            every, gamma = int(parts[1]), float(parts[2])
            return lambda e: gamma ** (e // every)
        if parts[0] == "exp" and len(parts) == 2:
            gamma = float(parts[1])
            return lambda e: gamma ** e
    except ValueError:
        pass
    raise InputError(f"schedule {schedule!r} not understood: use none, cosine, step:EVERY:GAMMA or exp:GAMMA")


def check_guidance(net: Any, guidance: Any, *, allow_mismatch: bool = False) -> None:
    """Refuse guidance recorded with another output neuron model or dt (unless ``allow_mismatch``),
    or with a different number of output neurons (always)."""
    n_out = guidance.templates.shape[1]
    if net.spec["n_out"] != n_out:
        raise InputError(f"the guidance has {n_out} output neurons, the network {net.spec['n_out']}: "
                         f"build it with n_out={n_out}")
    if allow_mismatch:
        return
    try:
        guidance.check_model(net.output_model, net.dt)
    except ModelMismatchError as exc:
        raise ModelMismatchError(f"{exc}; the network's output layer must use the guidance's model and dt "
                                 "(or pass allow_mismatch / --allow-model-mismatch to override)") from None


def guidance_context(net: Any, guidance: Any | None, split: SupervisedSplit) -> tuple[Any, int, float]:
    """``(templates tensor or None, first_step, initial potential)``: how targets line up with the output."""
    model = net.output_model
    v0 = model.initial.get(net.v_name, 0.0)
    from ..quantities import display_unit, si_value

    initial = float(si_value(v0)) / display_unit(model.brian_equations[net.v_name].dim)[1]
    if guidance is None:
        return None, split.first_step, initial
    return torch.as_tensor(guidance.templates), int(guidance.first_step), initial


def epoch_pool(train: SupervisedSplit, uses_samples: bool) -> np.ndarray:
    """The sample indices one epoch shows (each batch drawn from them by :func:`batch_order`).

    All samples once, unless ``train.labelled`` marks a labelled subset (semi-supervised training):
    then the labelled samples, repeated to the size of the whole split, followed by every sample
    once when a loss term learns from unlabelled samples (``uses_samples``), or by the repeated
    labelled samples again when none does. Every method thus takes the same number of steps per
    epoch, and the few labelled samples are seen as often as the many unlabelled ones.

    Example:
        >>> import numpy as np
        >>> from bioSNN.encoding.spike_trains import SpikeTrains
        >>> trains = SpikeTrains.from_dense(np.zeros((4, 3, 2), bool), 1e-3, labels=np.array([0, 1, 0, 1]))
        >>> epoch_pool(SupervisedSplit(trains, labelled=np.array([1, 0, 0, 0], bool)), True).tolist()
        [0, 0, 0, 0, 0, 1, 2, 3]
    """
    n = len(train)
    if train.labelled is None:
        return np.arange(n)
    labelled = np.flatnonzero(train.labelled)
    if labelled.size == 0:
        raise InputError("no labelled sample in the training split")
    repeated = np.resize(labelled, n)
    return np.concatenate([repeated, np.arange(n) if uses_samples else repeated])


def _distributed() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def evaluate_split(net: Any, split: SupervisedSplit | Sequence[SupervisedSplit], readout: ClassReadout, *,
                   decision: str = "potential", batch_size: int = 128, device: Any = "cpu", amp: str | None = None,
                   progress: bool = False) -> dict[str, Any]:
    """Accuracy and confusion matrix (rows: true class, columns: predicted) of ``net`` on ``split``.

    ``split`` may be several draws of the same samples (same labels, e.g. Poisson trains drawn with
    different seeds): a sample's class scores (``readout.scores``) are then summed over the draws, as
    for one presentation that long, and ``rates`` is averaged over them.
    """
    parts = [split] if isinstance(split, SupervisedSplit) else list(split)
    if not parts:
        raise InputError("evaluate_split needs at least one split")
    for part in parts[1:]:
        if len(part) != len(parts[0]) or not np.array_equal(part.labels, parts[0].labels):
            raise InputError("the draws of a split must hold the same samples with the same labels")
    was_training = net.training
    net.eval()
    C = readout.n_classes
    confusion = np.zeros((C, C), dtype=np.int64)
    rates: list[np.ndarray] = []
    order = batch_order(len(parts[0]), batch_size, seed=0, epoch=0, shuffle=False)
    with progress_bar(len(parts[0]), "evaluate", "sample", enabled=progress) as bar:
        for index in order:
            scores = 0
            for part in parts:
                x, y, _ = part.batch(index, device)
                with _autocast(device, amp):
                    out = net(x)
                scores = scores + readout.scores(out.spikes.float(), out.v.float(), decision)
                rates.append(torch.stack([torch.as_tensor(r, dtype=torch.float32) for r in out.rates]).cpu().numpy()
                             * len(index))
            pred = scores.argmax(1).cpu().numpy()
            np.add.at(confusion, (y.cpu().numpy(), pred), 1)
            bar.update(len(index))
    net.train(was_training)
    n = int(confusion.sum())
    return {"accuracy": float(np.trace(confusion) / max(n, 1)), "n": n, "confusion": confusion.tolist(),
            "rates": (np.sum(rates, 0) / max(n * len(parts), 1)).tolist()}


def _autocast(device: Any, amp: str | None) -> Any:
    if amp != "bf16":
        return nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


class Trainer:
    """Trains ``net`` on ``train`` with ``loss`` (see the module docstring for the files it writes).

    Parameters
    ----------
    net: a network of :mod:`bioSNN.supervised.models`, or the user's own wrapped as a
        :class:`~bioSNN.supervised.models.UserNetwork` (which states the protocol a network meets).
    loss: the :class:`LossSpec`.
    readout: output neurons -> classes.
    train: the training split; ``test``/``val``: optional evaluation splits (``val`` drives early
        stopping and the choice of ``model.pt``; ``test`` is only reported).
    out: output folder.
    guidance: a :class:`~bioSNN.unsupervised.guidance.Guidance` (class templates), checked against the
        network's output model and dt unless ``allow_mismatch``; per-sample targets in ``train`` take
        precedence.
    meta: extra provenance stored in ``config.json`` and the checkpoints.
    """

    def __init__(self, net: Any, loss: LossSpec, readout: ClassReadout, train: SupervisedSplit,
                 out: str | os.PathLike[str], *, config: TrainConfig = TrainConfig(), test: SupervisedSplit | None = None,
                 val: SupervisedSplit | None = None, guidance: Any = None, allow_mismatch: bool = False,
                 meta: dict[str, Any] | None = None):
        missing = [a for a in ("spec", "output_model", "dt", "v_name") if not hasattr(net, a)]
        if missing:
            raise InputError(f"{type(net).__name__} lacks {missing} of the network protocol: wrap a network of your own "
                             "as UserNetwork(body, output_layer) or UserNetwork.from_sequential(nn.Sequential(...))")
        if readout.n_out != net.spec["n_out"]:
            raise InputError(f"readout maps {readout.n_out} neurons, the network has {net.spec['n_out']} outputs")
        if loss.needs_samples and train.targets is None:
            raise InputError(f"loss {[t for t, _ in loss.terms]} needs per-sample guidance: give --sample-guidance")
        if loss.needs_guidance and guidance is None and train.targets is None:
            raise InputError(f"loss {[t for t, _ in loss.terms]} needs guidance: give a guidance file "
                             "(or data with per-sample guidance)")
        if guidance is not None:
            check_guidance(net, guidance, allow_mismatch=allow_mismatch)
        train.check_dt(net.dt)
        for name, split in (("validation", val), ("test", test)):  # scored by the same network
            if split is not None:
                split.check_like(train, name, net.dt)
        if config.augment_shift:
            shape = train.trains.image_shape
            if shape is None or len(tuple(shape)) not in (2, 3):
                raise InputError("--augment-shift needs spike trains on an image grid (these have no image shape)")
            if train.targets is not None:
                raise InputError("--augment-shift cannot be used with per-sample guidance targets: the targets "
                                 "were recorded for the unshifted images")
        if config.packed_input and not getattr(net, "accepts_packed", False):
            from .models import packed_architectures

            raise InputError(f"packed_input: {type(net).__name__} takes dense spikes (packed input is taken by "
                             f"{packed_architectures()})")
        if config.redraw and train.encoding is None:
            raise InputError("--redraw needs images encoded on the fly by a random encoder (poisson, diehl-cook); "
                             f"{train.source or 'the training split'} holds one fixed draw")
        self.net, self.loss, self.readout, self.train = net, loss, readout, train
        self.test, self.val, self.config = test, val, config
        self.out = Path(out)
        self.meta = dict(meta or {})
        self.templates, self.first_step, self.initial = guidance_context(net, guidance, train)
        self.template_stride = guidance.stride if guidance is not None else train.target_stride
        self.pool = epoch_pool(train, loss.needs_samples)
        self.device = torch.device(config.device)
        if guidance is not None:
            self.meta.setdefault("guidance", {"fingerprint": guidance.model.fingerprint(), "dt_seconds": guidance.dt_seconds,
                                              "first_step": guidance.first_step, "class_names": list(guidance.class_names)})

    # ------------------------------------------------------------------ pieces
    def _counts(self, index: np.ndarray) -> torch.Tensor | None:
        """The recorded spike counts of the per-sample guidance for these samples (``kd-sample``)."""
        counts = self.train.target_counts
        return None if counts is None else torch.as_tensor(counts[index], device=self.device)

    def _targets(self, labels: torch.Tensor, per_sample: torch.Tensor | None) -> torch.Tensor | None:
        """Targets of the ``*-guidance`` terms: the class templates, or (no templates: the seed
        layout) the data's own per-sample targets."""
        if self.templates is None:
            return per_sample
        return self.templates.to(labels.device)[labels]

    def _optimizer(self, params: Any) -> torch.optim.Optimizer:
        c = self.config
        if c.optimizer == "sgd":
            return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
        return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)

    def _payload(self, full: bool, opt: Any, sched: Any, progress: dict[str, int], history: list[Any],
                 state_dict: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = {"spec": self.net.spec, "fingerprint": self.net.output_model.fingerprint(),
                   "state_dict": state_dict if state_dict is not None else self.net.state_dict(),
                   "readout": {"assignments": self.readout.assignments.tolist(), "n_classes": self.readout.n_classes,
                               "class_names": list(self.train.trains.class_names or [])},
                   "meta": {"loss": self.loss.to_dict(), "train": asdict(self.config), **self.meta},
                   "progress": dict(progress), "history": history}
        if full:
            payload.update(optimizer=opt.state_dict(), scheduler=sched.state_dict(),
                           rng={"torch": torch.get_rng_state(),
                                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None})
        return payload

    def _writer(self) -> Any:
        if not self.config.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is an optional extra
            logger.warning("tensorboard is not installed (pip install bioSNN[tensorboard]); no TensorBoard logs")
            return None
        return SummaryWriter(str(self.out / "tb"))

    # ------------------------------------------------------------------ the loop
    def fit(self, *, resume: bool = False, max_steps: int | None = None) -> dict[str, Any]:
        """Train (or continue a run with ``resume``); ``max_steps`` stops after that many optimizer
        steps in this call (a checkpoint is written), for time-boxed jobs. Returns the metrics.

        The run seeds torch's generator from ``config.seed`` (dropout, shuffling draws) inside
        :func:`torch.random.fork_rng`: the caller's global RNG state is the same afterwards."""
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            return self._fit(resume=resume, max_steps=max_steps)

    def _fit(self, *, resume: bool, max_steps: int | None) -> dict[str, Any]:
        c = self.config
        rank, world = _distributed()
        torch.manual_seed(c.seed)
        net = self.net.to(self.device)
        if c.backend is not None:
            set_backend(net, c.backend)
        model = net
        if world > 1:
            from torch.nn.parallel import DistributedDataParallel

            model = DistributedDataParallel(net, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        opt = self._optimizer(net.parameters())
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor(c.schedule, c.epochs))
        progress = {"epoch": 0, "batch": 0, "step": 0}
        history: list[dict[str, Any]] = []
        best = {"accuracy": -1.0, "state": None, "epoch": -1}
        ckpt_path = self.out / "checkpoint.pt"
        resumed = resume and ckpt_path.exists()
        if resumed:
            data = load_checkpoint(ckpt_path, map_location=self.device)
            if data["spec"] != net.spec:
                raise ModelMismatchError(f"{ckpt_path} was written by a different network; start a new --out folder")
            net.load_state_dict(data["state_dict"])
            opt.load_state_dict(data["optimizer"])
            sched.load_state_dict(data["scheduler"])
            torch.set_rng_state(data["rng"]["torch"].cpu())
            if data["rng"].get("cuda") is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state_all([s.cpu() for s in data["rng"]["cuda"]])
            progress, history = dict(data["progress"]), list(data["history"])
            best = data.get("best", best)
        if rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.out / "config.json", {"spec": net.spec, "loss": self.loss.to_dict(),
                                                         "train": asdict(c), "world_size": world, **self.meta})
            if not resumed:
                self._snapshot(0)  # the initial weights
        writer = self._writer() if rank == 0 else None
        t_start = time.perf_counter()
        with stop_requests() as stop_request:  # SIGINT/SIGTERM: checkpoint after this step, then stop
            return self._epochs(c, net, model, opt, sched, progress, history, best, rank, world, writer, t_start,
                                max_steps, stop_request)

    def _epochs(self, c: Any, net: Any, model: Any, opt: Any, sched: Any, progress: dict[str, Any],
                history: list[Any], best: dict[str, Any], rank: int, world: int, writer: Any, t_start: float,
                max_steps: int | None, stop_request: Any) -> dict[str, Any]:
        """The epoch loop of :meth:`fit` (from ``progress`` on)."""
        ckpt_path = self.out / "checkpoint.pt"

        def checkpoint() -> None:
            if rank == 0:
                payload = self._payload(True, opt, sched, progress, history)
                payload["best"] = best
                save_checkpoint(ckpt_path, payload)

        steps_this_call = 0
        while progress["epoch"] < c.epochs:
            epoch = progress["epoch"]
            order = [self.pool[i] for i in batch_order(len(self.pool), c.batch_size, seed=c.seed, epoch=epoch,
                                                       shuffle=c.shuffle, rank=rank, world=world)]
            # the running sums of this epoch travel in the checkpoint, so that a resumed epoch's metrics
            # count every batch, before and after the interruption
            running = progress.get("running") if progress["batch"] else None
            sums: dict[str, float] = dict(running["sums"]) if running else {}
            correct, seen, n_scored = (running["correct"], running["seen"], running["n_scored"]) if running else (0, 0, 0)
            t0 = time.perf_counter() - (running["seconds"] if running else 0.0)
            net.train()
            with progress_bar(sum(len(i) for i in order) * world, f"epoch {epoch + 1}/{c.epochs}", "sample",
                              enabled=c.progress and rank == 0,
                              initial=sum(len(i) for i in order[:progress["batch"]]) * world) as bar:
                for b in range(progress["batch"], len(order)):
                    x, y, t = self.train.batch(order[b], self.device, draw=(c.seed, epoch) if c.redraw else None,
                                               packed=c.packed_input)
                    if c.augment_shift:
                        x = shift_spikes(x, self.train.trains.image_shape or (), c.augment_shift,
                                         seed=c.seed, epoch=epoch, index=order[b])
                    with _autocast(self.device, c.amp):
                        out = model(x)
                    out = out._replace(v=out.v.float(), spikes=out.spikes.float())
                    lab = self.train.labelled
                    lab_mask = None if lab is None else torch.as_tensor(lab[order[b]], device=self.device)
                    loss, parts = compute_loss(self.loss, out, y, self.readout, self._targets(y, t), self.first_step,
                                               self.initial, stride=self.template_stride, samples=t,
                                               sample_first_step=self.train.first_step,
                                               sample_stride=self.train.target_stride, labelled=lab_mask,
                                               sample_counts=self._counts(order[b]))
                    if not torch.isfinite(loss):
                        raise FloatingPointError(f"loss became {float(loss.detach())} at epoch {epoch + 1}, batch {b}: "
                                                 "lower the learning rate or clip gradients (--clip)")
                    opt.zero_grad(set_to_none=True)
                    if loss.requires_grad:  # False only when no term had a sample to read
                        loss.backward()
                        if c.clip:
                            torch.nn.utils.clip_grad_norm_(net.parameters(), c.clip)
                        opt.step()
                    with torch.no_grad():  # accuracy on the samples whose labels training may read
                        pred = self.readout.scores(out.spikes, out.v, c.decision).argmax(1)
                        hit = pred == y if lab_mask is None else (pred == y)[lab_mask]
                        correct += int(hit.sum())
                        n_scored += int(hit.numel())
                    seen += len(y)
                    for k, v in {"loss": float(loss.detach()), **parts}.items():
                        sums[k] = sums.get(k, 0.0) + v * len(y)
                    progress["batch"], progress["step"] = b + 1, progress["step"] + 1
                    progress["running"] = {"sums": dict(sums), "correct": correct, "seen": seen, "n_scored": n_scored,
                                           "seconds": time.perf_counter() - t0}
                    steps_this_call += 1
                    bar.update(len(y) * world)
                    if hasattr(bar, "set_postfix"):
                        bar.set_postfix(loss=f"{float(loss.detach()):.4g}", refresh=False)
                    if c.checkpoint_every and progress["step"] % c.checkpoint_every == 0:
                        checkpoint()
                    if max_steps is not None and steps_this_call >= max_steps and b + 1 < len(order):
                        checkpoint()
                        return self._metrics(history, t_start, partial=True)
                    if stop_request and (b + 1 < len(order) or progress["epoch"] + 1 < c.epochs):
                        checkpoint()
                        stop_request.check(f"at epoch {epoch + 1}, batch {b + 1} of {len(order)}",
                                                resume_hint(ckpt_path))
            sched.step()
            seconds = time.perf_counter() - t0
            record: dict[str, Any] = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"],
                                      "train_accuracy": correct / max(n_scored, 1),
                                      **{k: v / max(seen, 1) for k, v in sums.items()},
                                      "seconds": seconds, "samples_per_s": seen * world / max(seconds, 1e-9)}
            for name, split in (("val", self.val), ("test", self.test)):
                if split is not None and rank == 0:
                    ev = evaluate_split(net, split, self.readout, decision=c.decision, batch_size=c.eval_batch_size,
                                        device=self.device, amp=c.amp)
                    record[f"{name}_accuracy"] = ev["accuracy"]
                    record[f"{name}_rates"] = ev["rates"]
            history.append(record)
            if rank == 0:
                self._snapshot(record["epoch"])
            if rank == 0 and c.progress:
                logger.info("%s", json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()
                                             if not isinstance(v, list)}))
            if writer is not None:
                self._log(writer, record)
            stop = False
            if self.val is not None:
                if record["val_accuracy"] > best["accuracy"]:
                    best = {"accuracy": record["val_accuracy"], "epoch": epoch + 1,
                            "state": {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}}
                elif c.patience is not None and epoch + 1 - best["epoch"] >= c.patience:
                    stop = True
            progress = {"epoch": epoch + 1, "batch": 0, "step": progress["step"]}
            if stop:
                progress["epoch"] = c.epochs
            checkpoint()
            if stop and rank == 0 and c.progress:
                logger.info("early stopping: no better validation accuracy for %d epochs (best: epoch %d)", c.patience,
                            best["epoch"])
        if writer is not None:
            writer.close()
        if rank == 0:
            save_checkpoint(self.out / "model.pt", self._payload(False, opt, sched, progress, history, best["state"]))
        metrics = self._metrics(history, t_start, partial=False, best_epoch=best["epoch"])
        if world > 1:  # every process returns once rank 0 has written the files (and none tears down early)
            import torch.distributed as dist

            dist.barrier()
        return metrics

    def _metrics(self, history: list[Any], t_start: float, *, partial: bool, best_epoch: int = -1) -> dict[str, Any]:
        metrics = {"history": history, "complete": not partial, "seconds_this_run": time.perf_counter() - t_start}
        if history:
            metrics["final"] = {k: v for k, v in history[-1].items() if not isinstance(v, list)}
        if best_epoch > 0:
            metrics["best_val_epoch"] = best_epoch
        if _distributed()[0] == 0:
            atomic_write_json(self.out / "metrics.json", metrics)
        return metrics

    def _snapshot(self, epoch: int) -> None:
        """Append the input weights to ``weights_history.npz`` (networks with one input matrix)."""
        w = self.net.input_weights()
        if w is not None:
            append_snapshot(self.out / FILENAME, epoch, w.detach().float().cpu().numpy().T,
                            image_shape=self.train.trains.image_shape, step_name="epoch", unit=self.net.input_weight_unit,
                            source=self.net.architecture)

    def _log(self, writer: Any, record: dict[str, Any]) -> None:
        epoch = record["epoch"]
        for k, v in record.items():
            if isinstance(v, float):
                writer.add_scalar(k, v, epoch)
        shape = self.train.trains.image_shape
        weight = getattr(self.net, "weight", None)
        if weight is not None and shape is not None and len(shape) == 2:
            w = weight.detach().cpu().reshape(-1, 1, *shape)
            w = (w - w.amin((2, 3), keepdim=True)) / (w.amax((2, 3), keepdim=True) - w.amin((2, 3), keepdim=True) + 1e-12)
            writer.add_images("weights", w, epoch)
