"""``train_supervised`` / ``evaluate_supervised``: the whole supervised stage in one call (behind
``biosnn supervised`` and ``biosnn evaluate``).

Defaults follow the data: with a guidance file the output layer is the guidance's neuron model at its
dt, with as many neurons as the guidance and its neuron -> class assignments, and image data sets are
encoded as the unsupervised stage encoded them. Without one the output layer is ``output_model``
(default ``lif_delta``) with ``population`` neurons per class.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from ..data.splits import VALIDATION_SEED, describe_split, validation_split
from ..equations import library
from ..errors import DataError, InputError
from .data import ENCODED_DATASETS, SUPERVISED_DATASETS, SupervisedSplit, encoder_settings, load_split
from .losses import LossSpec
from .models import ARCHITECTURES
from .readout import ClassReadout
from .trainer import TrainConfig, Trainer, evaluate_split

__all__ = ["train_supervised", "evaluate_supervised", "data_settings"]

logger = logging.getLogger(__name__)


def data_settings(dataset: str, guidance: Any, *, T: int | None, encoder: str | None, dt_ms: float | None,
                  options: dict[str, Any] | None = None) -> dict[str, Any]:
    """How to read/encode ``dataset``: ``{"encoder", "T", "dt", "options"}`` (from the guidance when
    given and no explicit ``encoder``)."""
    if dataset in ENCODED_DATASETS:
        return {"encoder": None, "T": T, "dt": None, "options": {}}
    if guidance is not None and encoder is None:
        s = encoder_settings(guidance)
        if T is not None:
            if T > s["T"]:
                raise InputError(f"T = {T} is longer than the guidance presentation ({s['T']} steps)")
            s["T"] = T
        if dt_ms is not None and not np.isclose(dt_ms * 1e-3, s["dt"]):
            raise InputError(f"--dt {dt_ms} ms differs from the guidance's dt ({s['dt'] * 1e3:g} ms)")
        return s
    name = encoder or ("rf-rate" if dataset == "mstar" else "poisson")
    return {"encoder": name, "T": T or (70 if name == "rf-rate" else 8), "dt": (dt_ms or 1.0) * 1e-3,
            "options": dict(options or {})}


def _load(dataset: str, root: Any, split: str, settings: dict[str, Any], progress: bool,
          trust_pickle: bool = False) -> SupervisedSplit:
    return load_split(dataset, root, split, encoder=settings["encoder"], T=settings["T"], dt=settings["dt"] or 1e-3,
                      options=settings["options"], progress=progress, trust_pickle=trust_pickle,
                      images=settings.get("images"))


def _val_split(train: SupervisedSplit, fraction: float,
               seed: int = VALIDATION_SEED) -> tuple[SupervisedSplit, SupervisedSplit | None]:
    """``(rest, validation)``: the stratified hold-out of :func:`bioSNN.data.splits.validation_split`
    (``fraction`` of every class, drawn by the split ``seed``, not the training seed)."""
    if not fraction:
        return train, None
    rest, val = validation_split(train.labels, fraction, seed)
    return train.subset(rest), train.subset(val)


def _legacy_hold_out(train: SupervisedSplit, n_val: int, seed: int) -> SupervisedSplit:
    """The validation part of runs written before the stratified rule (no ``holdout`` record):
    ``n_val`` samples drawn by the training seed alone."""
    perm = np.random.default_rng([seed, 7]).permutation(len(train))
    return train.subset(np.sort(perm[:n_val]))


def _draw_settings(dataset: str, settings: dict[str, Any], draw: int) -> dict[str, Any]:
    """``settings`` for the ``draw``-th independent encoding of the same images (0: the stored one):
    the random encoder's seed moved on by ``draw``."""
    if draw == 0:
        return settings
    if dataset in ENCODED_DATASETS:
        on_the_fly = ", ".join(d for d in SUPERVISED_DATASETS if d not in ENCODED_DATASETS)
        raise InputError(f"--dataset {dataset} holds one fixed encoding; several draws need images encoded "
                         f"on the fly (--dataset {on_the_fly})")
    from ..encoding import ENCODERS

    defaults = ENCODERS[settings["encoder"]].options
    if "seed" not in defaults:
        raise InputError(f"encoder {settings['encoder']!r} is deterministic: every draw would be the same")
    options = dict(settings["options"])
    options["seed"] = int(options.get("seed", defaults["seed"])) + draw
    return {**settings, "options": options}


def train_supervised(dataset: str, root: str | os.PathLike[str] | None, out: str | os.PathLike[str], *,
                     guidance: Any = None, model: str = "guided-bilayer", loss: str | LossSpec = "huber-guidance",
                     config: TrainConfig = TrainConfig(), architecture: dict[str, Any] | None = None,
                     output_model: str | None = None, hidden_model: str | None = None, population: int = 1,
                     T: int | None = None, encoder: str | None = None, dt_ms: float | None = None,
                     encoder_options: dict[str, Any] | None = None, val_fraction: float = 0.0,
                     val_seed: int = VALIDATION_SEED,
                     limit: int | None = None, test_limit: int | None = None, allow_mismatch: bool = False,
                     resume: bool = False, max_steps: int | None = None, loss_settings: dict[str, Any] | None = None,
                     surrogate: Any = None, trust_pickle: bool = False,
                     evaluate_test: bool = True) -> dict[str, Any]:
    """Train a ``model`` (a name in :data:`~bioSNN.supervised.models.ARCHITECTURES`) on ``dataset`` and
    write ``out/{checkpoint.pt,model.pt,metrics.json,config.json}``; returns the metrics.

    ``guidance`` is a path to (or a loaded) guidance file; ``architecture`` holds the model's own
    options (``hidden``, ``channels``, ``fc``, ``dynamics``, ``interpolate``, ``trainable``...).
    ``trust_pickle`` lets dataset ``seed`` read joblib ``.pkl`` files (pickles can run code; refused
    without it). ``evaluate_test=False`` leaves the test split out of training altogether (the
    protocol's way: choose on ``val_fraction``, then ``biosnn evaluate`` the test split once).
    """
    from ..unsupervised.guidance import Guidance

    if model not in ARCHITECTURES:
        raise InputError(f"unknown model {model!r}; use one of {sorted(ARCHITECTURES)}")
    guidance_path = None
    if guidance is not None and not isinstance(guidance, Guidance):
        guidance_path = str(guidance)
        guidance = Guidance.load(guidance)
    spec = loss if isinstance(loss, LossSpec) else LossSpec.parse(loss, **(loss_settings or {}))
    settings = data_settings(dataset, guidance, T=T, encoder=encoder, dt_ms=dt_ms, options=encoder_options)
    train = _load(dataset, root, "train", settings, config.progress, trust_pickle).limit(limit)
    train, val = _val_split(train, val_fraction, val_seed)
    test = None
    if evaluate_test:
        try:
            test = _load(dataset, root, "test", settings, config.progress, trust_pickle).limit(test_limit)
        except DataError as exc:
            logger.warning("no test split (%s); training without test evaluation", exc)
    n_classes = train.n_classes
    if guidance is not None:
        out_model, n_out = guidance.model, guidance.templates.shape[1]
        readout = ClassReadout(guidance.assignments, len(guidance.class_names))
        if len(guidance.class_names) != n_classes:
            raise InputError(f"the guidance has {len(guidance.class_names)} classes, the data {n_classes}")
    elif train.targets is not None:  # seed layout: neuron j <-> class j
        out_model = library.get(output_model) if output_model else library.seed_wta_if()
        n_out = train.targets.shape[1]
        readout = ClassReadout.identity(n_out)
        n_classes = n_out
    else:
        out_model = library.get(output_model or "lif_delta")
        readout = ClassReadout.population(n_classes, population)
        n_out = readout.n_out
    empty = sorted(set(np.unique(train.labels).tolist()) - set(readout.assignments.tolist()))
    if empty and any(name.startswith("ce-") for name, _ in spec.terms):
        raise InputError(f"classes {empty} have no output neuron (guidance assignments {readout.assignments.tolist()}), "
                         "so a cross-entropy loss cannot train them: use an unsupervised network with more neurons, "
                         "or a guidance-only loss")
    if guidance is not None and output_model:
        out_model = library.get(output_model)  # an explicit override: check_guidance refuses it unless allowed
    dt = guidance.dt_seconds if guidance is not None else train.trains.dt_seconds
    arch = dict(architecture or {})
    kwargs: dict[str, Any] = {"dt": dt, "output_model": out_model, **arch}
    if surrogate is not None:
        kwargs["surrogate"] = surrogate
    if model != "guided-bilayer":
        kwargs["hidden_model"] = library.get(hidden_model or "lif_delta")
    shape = train.trains.image_shape
    if model in ("spiking-convnet", "spiking-resnet19"):
        if shape is None:
            raise InputError(f"{model} needs spike trains with an image shape")
        first: Any = shape
    else:
        first = train.trains.n_in
    import torch

    torch.manual_seed(config.seed)  # the initial weights are a function of the seed
    net = ARCHITECTURES[model](first, n_out, **kwargs)
    meta = {"data": {"dataset": dataset, "root": None if root is None else str(root), **settings,
                     "n_train": len(train), "n_val": 0 if val is None else len(val),
                     "n_test": 0 if test is None else len(test), "image_shape": list(shape) if shape else None}}
    if val is not None:
        meta["data"]["holdout"] = describe_split(val_fraction, val_seed, "train")
    if dataset == "seed":  # a record only: evaluating again needs trust_pickle given anew
        meta["data"]["trust_pickle"] = bool(trust_pickle)
    if guidance is not None:
        meta["guidance_path"] = guidance_path
    trainer = Trainer(net, spec, readout, train, out, config=config, test=test, val=val, guidance=guidance,
                      allow_mismatch=allow_mismatch, meta=meta)
    return trainer.fit(resume=resume, max_steps=max_steps)


def stored_split(checkpoint: dict[str, Any], *, dataset: str | None = None, root: Any = None, split: str = "test",
                 limit: int | None = None, progress: bool = False, draw: int = 0,
                 trust_pickle: bool = False) -> SupervisedSplit:
    """A split of the data a checkpoint (``load_trained``'s third value) was trained on, encoded the
    same way; ``dataset``/``root`` override where it is read from.

    ``split="val"`` is the validation part held out of the training split (``--val-fraction``), found
    again from the recorded sizes and seed. ``draw = k > 0`` encodes the same images again with a
    random encoder's seed moved on by ``k`` (an independent draw of the spike trains).
    ``trust_pickle`` lets dataset ``seed`` read ``.pkl`` files; the checkpoint's own record of it is
    not used (a file does not grant itself trust).
    """
    meta = checkpoint["meta"]
    stored = meta.get("data", {})
    dataset = dataset or stored.get("dataset")
    root = root if root is not None else stored.get("root")
    if dataset is None:
        raise InputError("give --dataset (the checkpoint does not say what it was trained on)")
    settings = {k: stored.get(k) for k in ("encoder", "T", "dt", "options", "images")}
    if settings["options"] is None:
        settings["options"] = {}
    settings = _draw_settings(dataset, settings, draw)
    if split != "val":
        return _load(dataset, root, split, settings, progress, trust_pickle).limit(limit)
    n_val = int(stored.get("n_val") or 0)
    if not n_val:
        raise InputError("this network was trained without a validation split (--val-fraction)")
    train = _load(dataset, root, "train", settings, progress, trust_pickle).limit(int(stored["n_train"]) + n_val)
    holdout = stored.get("holdout")
    if holdout is None:
        return _legacy_hold_out(train, n_val, int(meta["train"]["seed"])).limit(limit)
    val = _val_split(train, holdout["fraction"], holdout["seed"])[1]
    if val is None or len(val) != n_val:
        raise DataError(f"the validation hold-out found again has {0 if val is None else len(val)} samples, the "
                        f"run recorded {n_val}: the training data changed")
    return val.limit(limit)


def evaluate_supervised(directory: str | os.PathLike[str], *, dataset: str | None = None, root: Any = None,
                        split: str = "test", limit: int | None = None, device: str = "cpu", batch_size: int = 128,
                        progress: bool = False, draws: int = 1, trust_pickle: bool = False) -> dict[str, Any]:
    """Accuracy and confusion matrix of a trained folder on a split (``train``, ``val`` or ``test``; by
    default of the data it was trained on).

    With ``draws = K > 1`` every sample is presented as ``K`` independent draws of its spike trains
    (see :func:`stored_split`) and classified by its class scores summed over them, as one presentation
    ``K`` times as long would be (:func:`~bioSNN.supervised.trainer.evaluate_split`). ``trust_pickle``:
    see :func:`stored_split`.
    """
    import time

    from .checkpoint import load_trained

    if draws < 1:
        raise InputError(f"draws must be >= 1, got {draws}")
    net, readout, data = load_trained(directory, map_location=device)
    parts = [stored_split(data, dataset=dataset, root=root, split=split, limit=limit, progress=progress, draw=k,
                          trust_pickle=trust_pickle) for k in range(draws)]
    dataset = dataset or data["meta"]["data"]["dataset"]
    parts[0].check_dt(net.dt)
    decision = data["meta"]["train"]["decision"]
    t0 = time.perf_counter()
    result = evaluate_split(net.to(device), parts, readout, decision=decision, batch_size=batch_size, device=device,
                            progress=progress)
    result.update(seconds=time.perf_counter() - t0, split=split, dataset=dataset, draws=draws,
                  class_names=data["readout"].get("class_names"))
    return result
