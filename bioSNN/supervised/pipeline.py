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
from dataclasses import replace
from typing import Any

import numpy as np

from ..data.splits import VALIDATION_SEED, describe_split, validation_split
from ..equations import library
from ..errors import DataError, InputError, MissingDataError
from ..runfolder import SUPERVISED_OUTPUTS, SUPERVISED_SETTINGS, check_resume_settings, guard_run_folder
from .data import ENCODED_DATASETS, SUPERVISED_DATASETS, SupervisedSplit, encoder_settings, encoding_pipeline, load_split
from .losses import LossSpec
from .models import ARCHITECTURES
from .readout import ClassReadout
from .trainer import TrainConfig, Trainer, evaluate_split

__all__ = ["train_supervised", "evaluate_supervised", "data_settings", "init_from_network"]

logger = logging.getLogger(__name__)

#: steps of a random-encoder presentation when training without a guidance file and without --T
#: (short: gradient training over many images; the seed's rf-rate code keeps its own 70)
SHORT_PRESENTATION_T = 8


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
    from ..encoding import ENCODERS

    default_T = ENCODERS[name].default_T if name == "rf-rate" else SHORT_PRESENTATION_T
    return {"encoder": name, "T": T or default_T, "dt": (dt_ms or 1.0) * 1e-3,
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

    encoder = ENCODERS[settings["encoder"]]
    if not encoder.random:
        raise InputError(f"encoder {settings['encoder']!r} is deterministic: every draw would be the same")
    options = dict(settings["options"])
    options["seed"] = int(options.get("seed", encoder.options["seed"])) + draw
    return {**settings, "options": options}


def _attach_samples(train: SupervisedSplit, sample_guidance: Any, guidance: Any, settings: dict[str, Any],
                    expected: dict[str, Any] | None, rest: np.ndarray) -> tuple[SupervisedSplit, np.ndarray, Any]:
    """``(train, counts, file)``: ``train`` (before the validation hold-out) with the per-sample
    guidance as its targets and the recorded spike ``counts`` row for row, after
    checking that the file was recorded on exactly these images (see :func:`train_supervised`).
    ``expected``: this run's hold-out record (None without one); ``rest``: the rows it trains on.

    The file covers either every training sample (recorded without a hold-out: the validation
    samples' rows are then dropped with them) or exactly the samples left after this run's hold-out
    (recorded from a network trained with the same ``--val-fraction``/``--val-seed``); the samples of
    the validation part then get no target (NaN rows, never read: validation scores no loss)."""
    from ..unsupervised.sample_guidance import SampleGuidance

    name = str(sample_guidance)
    samples = sample_guidance if isinstance(sample_guidance, SampleGuidance) else SampleGuidance.load(sample_guidance)
    if not samples.complete:
        raise DataError(f"{name}: holds rows {samples.start}..{samples.stop} of {samples.n_total} (one shard); "
                        "merge the shards first (biosnn merge-guidance)")
    if guidance is not None:
        samples.check_model(guidance.model, guidance.dt_seconds)
    source = samples.source or {}
    recorded = source.get("holdout")
    if recorded is not None and recorded != expected:
        raise DataError(f"{name}: recorded on the training images with hold-out {recorded}, this run holds out "
                        f"{expected}: the samples would not line up")
    images = settings.get("images") or {}
    stored = {k: source.get(k) for k in ("crop", "size", "scaling", "classes") if source.get(k) is not None}
    if images and stored != images:
        raise DataError(f"{name}: recorded on images read with {stored}, this run reads {images}")
    if train.trains.dt_seconds and not np.isclose(train.trains.dt_seconds, samples.dt_seconds, rtol=1e-9):
        raise DataError(f"{name}: recorded at dt = {samples.dt_seconds} s, the spike trains have "
                        f"{train.trains.dt_seconds} s")
    traces = samples.traces
    if recorded is not None:  # rows = the samples after the hold-out: place them, validation rows empty
        if len(samples) != len(rest):
            raise DataError(f"{name}: {len(samples)} per-sample traces for the {len(rest)} training samples left "
                            "after the hold-out")
        traces = np.full((len(train), *samples.traces.shape[1:]), np.nan, samples.traces.dtype)
        traces[rest] = samples.traces
        counts = np.zeros((len(train), samples.counts.shape[1]), samples.counts.dtype)
        counts[rest] = samples.counts
    elif len(samples) != len(train):
        raise DataError(f"{name}: {len(samples)} per-sample traces for {len(train)} training samples (record them on "
                        "the same images: the network's training images, or the same --limit)")
    else:
        counts = samples.counts
    return (replace(train, targets=traces, first_step=samples.first_step, target_stride=samples.stride,
                    target_counts=counts), counts, samples)


def init_from_network(net: Any, directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Start ``net``'s first weight matrix from an unsupervised network's learned input weights.

    The STDP network's ``w [n_in, N]`` (its receptive fields) becomes ``net.input_weights()``
    ``[N, n_in]``, so the first layer's neuron ``j`` starts as STDP neuron ``j``; everything else keeps
    its seeded initialisation. Returns the record stored in ``config.json`` (path and model fingerprint).

    Example:
        >>> import numpy as np, torch
        >>> from bioSNN.supervised.models import SpikingMLP
        >>> net = SpikingMLP(784, 3, hidden=(400,))
        >>> record = init_from_network(net, "models/mstar3-stdp")          # doctest: +SKIP
        >>> torch.equal(net.input_weights(), torch.from_numpy(np.load(
        ...     "models/mstar3-stdp/network.npz")["w"].T).float())      # doctest: +SKIP
        True
    """
    import torch

    from ..unsupervised.artifacts import load_network

    saved = load_network(directory)
    if "w" not in saved.arrays:
        raise InputError(f"{directory}: the {saved.preset!r} network has no input weight matrix 'w' to start from")
    w = np.asarray(saved.arrays["w"], dtype=np.float64).T
    target = net.input_weights()
    if target is None:
        raise InputError(f"{net.architecture} has no single input weight matrix to start from {directory}")
    if tuple(target.shape) != w.shape:
        raise InputError(f"{directory}: weights [{w.shape[1]}, {w.shape[0]}] do not fit the first layer "
                         f"[{target.shape[1]} inputs, {target.shape[0]} neurons]: give it --hidden {w.shape[0]}")
    with torch.no_grad():
        target.copy_(torch.from_numpy(w).to(target.dtype))
    return {"path": str(directory), "fingerprint": saved.model.fingerprint(), "preset": saved.preset}


def _labelled_index(labels: np.ndarray, labelled: Any, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """``(indices, record)`` of the labelled samples: ``labelled`` per class (an int, drawn by
    ``seed``) or given as indices."""
    from ..data.splits import labelled_split

    if np.ndim(labelled) == 0:
        return (labelled_split(labels, per_class=int(labelled), seed=seed)[0],
                {"per_class": int(labelled), "seed": int(seed)})
    index = np.unique(np.asarray(labelled, dtype=np.int64))
    if index.size == 0 or index[0] < 0 or index[-1] >= len(labels):
        raise InputError(f"labelled indices must lie in [0, {len(labels)})")
    return index, {"indices": index.tolist()}


def _labelled_guidance(guidance: Any, train: SupervisedSplit, counts: np.ndarray, index: np.ndarray,
                       samples: Any) -> Any:
    """A guidance whose assignments and templates come from the labelled samples ``index`` of
    ``train`` only (their recorded spike ``counts`` and traces), not from the file's (which read every
    training label). Assignment: Diehl & Cook's rule on the counts; when that leaves a class without a
    neuron (too few labelled samples), the neurons silent on all of them take the class whose
    samples raised their time-mean potential most."""
    from ..unsupervised.assignment import assign_labels
    from ..unsupervised.guidance import Guidance

    n_classes = len(guidance.class_names)
    labels = train.labels[index]
    assignments = assign_labels(counts[index], labels, n_classes)
    traces = np.asarray(train.targets)[index].astype(np.float32)
    templates = np.stack([traces[labels == c].mean(0) for c in range(n_classes)])
    if len(set(assignments.tolist()) - {-1}) < n_classes:  # a class without a neuron (few labels):
        silent = assignments < 0  # neurons silent on every labelled sample take the class whose samples
        assignments[silent] = templates.mean(-1).argmax(0)[silent]  # raised their mean potential most
        logger.info("labelled assignment: %d silent neurons assigned by potential", int(silent.sum()))
    return Guidance(templates, assignments, guidance.class_names, guidance.dt_seconds, guidance.model,
                    encoder=guidance.encoder, network=guidance.network, first_step=samples.first_step,
                    stride=samples.stride)


@guard_run_folder(SUPERVISED_OUTPUTS, "checkpoint.pt")
def train_supervised(dataset: str, root: str | os.PathLike[str] | None, out: str | os.PathLike[str], *,
                     guidance: Any = None, model: str = "guided-bilayer", loss: str | LossSpec = "huber-guidance",
                     config: TrainConfig = TrainConfig(), architecture: dict[str, Any] | None = None,
                     output_model: str | None = None, hidden_model: str | None = None, population: int = 1,
                     T: int | None = None, encoder: str | None = None, dt_ms: float | None = None,
                     encoder_options: dict[str, Any] | None = None, val_fraction: float = 0.0,
                     val_seed: int = VALIDATION_SEED,
                     limit: int | None = None, test_limit: int | None = None, allow_mismatch: bool = False,
                     resume: bool = False, max_steps: int | None = None, loss_settings: dict[str, Any] | None = None,
                     overwrite: bool = False,
                     surrogate: Any = None, trust_pickle: bool = False,
                     evaluate_test: bool = True, sample_guidance: Any = None,
                     labelled: int | Any = None, labelled_seed: int = 0, init_from: Any = None) -> dict[str, Any]:
    """Train a ``model`` (a name in :data:`~bioSNN.supervised.models.ARCHITECTURES`) on ``dataset`` and
    write ``out/{checkpoint.pt,model.pt,metrics.json,config.json}``; returns the metrics.

    ``out`` must be empty unless ``resume`` (continue the run there, with the settings its
    ``config.json`` records: a difference is refused, only ``config.epochs`` may grow) or ``overwrite``
    (start afresh); it is locked while the run writes (:func:`~bioSNN.runfolder.prepare_run_folder`).

    ``guidance`` is a path to (or a loaded) guidance file; ``architecture`` holds the model's own
    options (``hidden``, ``channels``, ``fc``, ``dynamics``, ``interpolate``, ``trainable``...).
    ``trust_pickle`` lets dataset ``seed`` read joblib ``.pkl`` files (pickles can run code; refused
    without it). ``evaluate_test=False`` leaves the test split out of training altogether (the
    protocol's way: choose on ``val_fraction``, then ``biosnn evaluate`` the test split once).

    ``sample_guidance``: a per-sample guidance file (or a loaded
    :class:`~bioSNN.unsupervised.sample_guidance.SampleGuidance`) recorded on exactly the training
    images left after the validation hold-out (checked: count, image options, hold-out, model, dt);
    the ``*-sample`` loss terms regress it. ``labelled = N``: only ``N`` samples per class keep their
    labels (:func:`~bioSNN.data.splits.labelled_split`, drawn by ``labelled_seed``; the draw reads the
    classes to stratify, as a labelling budget is spent); or ``labelled`` = the indices (into the
    training split) of the samples that have labels. The label terms see only them. With a guidance file this needs ``sample_guidance``: the neuron -> class
    assignments (Diehl & Cook's rule on the recorded spike counts) and the class templates (mean
    per-sample trace) are then made from the labelled samples alone, not from the guidance file, whose
    assignments read every training label.

    ``init_from``: an unsupervised network folder whose learned input weights start the first layer
    (:func:`init_from_network`; the first hidden layer must have as many neurons as that network).
    """
    from ..unsupervised.guidance import Guidance
    from ..unsupervised.sample_guidance import SampleGuidance

    if model not in ARCHITECTURES:
        raise InputError(f"unknown model {model!r}; use one of {sorted(ARCHITECTURES)}")
    guidance_path = None
    if guidance is not None and not isinstance(guidance, Guidance):
        guidance_path = str(guidance)
        guidance = Guidance.load(guidance)
    spec = loss if isinstance(loss, LossSpec) else LossSpec.parse(loss, **(loss_settings or {}))
    settings = data_settings(dataset, guidance, T=T, encoder=encoder, dt_ms=dt_ms, options=encoder_options)
    train = _load(dataset, root, "train", settings, config.progress, trust_pickle).limit(limit)
    samples = None
    if sample_guidance is not None:
        rest = validation_split(train.labels, val_fraction, val_seed)[0] if val_fraction else np.arange(len(train))
        expected = describe_split(val_fraction, val_seed, "train") if val_fraction else None
        train, counts, samples = _attach_samples(train, sample_guidance, guidance, settings, expected, rest)
        counts = counts[rest]  # the rows of the training part, as _val_split keeps them
    train, val = _val_split(train, val_fraction, val_seed)
    lab_idx = None
    if labelled is not None:
        lab_idx, record = _labelled_index(train.labels, labelled, labelled_seed)
        mask = np.zeros(len(train), bool)
        mask[lab_idx] = True
        train = replace(train, labelled=mask)
        if guidance is not None:
            if samples is None:
                raise InputError("--labelled with a guidance file needs --sample-guidance: the file's neuron -> "
                                 "class assignments and templates were made with every training label")
            guidance = _labelled_guidance(guidance, train, counts, lab_idx, samples)
    test = None
    if evaluate_test:
        try:
            test = _load(dataset, root, "test", settings, config.progress, trust_pickle).limit(test_limit)
        except MissingDataError as exc:  # absent: train without it; present but unreadable: the error stands
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
    if ARCHITECTURES[model].has_hidden_layers:
        kwargs["hidden_model"] = library.get(hidden_model or "lif_delta")
    shape = train.trains.image_shape
    if ARCHITECTURES[model].input_kind == "image":
        if shape is None:
            raise InputError(f"{model} needs spike trains with an image shape")
        first: Any = shape
    else:
        first = train.trains.n_in
    import torch

    with torch.random.fork_rng(devices=[]):  # the initial weights are a function of the seed alone
        torch.manual_seed(config.seed)
        net = ARCHITECTURES[model](first, n_out, **kwargs)
    init_record = init_from_network(net, init_from) if init_from is not None else None
    meta = {"data": {"dataset": dataset, "root": None if root is None else str(root), **settings,
                     "n_train": len(train), "n_val": 0 if val is None else len(val),
                     "n_test": 0 if test is None else len(test), "image_shape": list(shape) if shape else None}}
    if val is not None:
        meta["data"]["holdout"] = describe_split(val_fraction, val_seed, "train")
    if samples is not None:
        meta["sample_guidance"] = {"path": None if isinstance(sample_guidance, SampleGuidance) else str(sample_guidance),
                                   "stride": samples.stride, "n": len(samples)}
    if init_record is not None:
        meta["init_from"] = init_record
    if lab_idx is not None:
        meta["data"]["labelled"] = {**record, "n": int(len(lab_idx))}
    if dataset in ENCODED_DATASETS:  # spike files that say how they were made: raw data can be encoded again
        pipelines = {part: encoding_pipeline(s.trains) for part, s in (("train", train), ("test", test)) if s is not None}
        if pipelines.get("train") is not None:
            meta["data"]["pipeline"] = {part: p for part, p in pipelines.items() if p is not None}
    if dataset == "seed":  # a record only: evaluating again needs trust_pickle given anew
        meta["data"]["trust_pickle"] = bool(trust_pickle)
    if guidance is not None:
        meta["guidance_path"] = guidance_path
    trainer = Trainer(net, spec, readout, train, out, config=config, test=test, val=val, guidance=guidance,
                      allow_mismatch=allow_mismatch, meta=meta)
    if resume:  # the settings as Trainer.fit records them
        from dataclasses import asdict

        check_resume_settings(out, {"spec": net.spec, "loss": spec.to_dict(), "train": asdict(config), **trainer.meta},
                              SUPERVISED_SETTINGS, may_grow=["train.epochs"])
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
    if dataset not in ENCODED_DATASETS and stored.get("dataset") in ENCODED_DATASETS:
        pipelines = stored.get("pipeline") or {}  # trained on spike files: encode the raw images as they were
        pipeline = pipelines.get("test" if split == "test" else "train") or pipelines.get("train")
        if pipeline is None:
            raise InputError(f"this network was trained on spike files ({stored.get('dataset')}) that do not record "
                             "how they were encoded: evaluate it on spike files (--dataset spikes --root FOLDER)")
        if pipeline["dataset"] != dataset:
            raise InputError(f"this network was trained on {pipeline['dataset']} images, not {dataset}")
        settings = {**{k: pipeline.get(k) for k in ("encoder", "T", "dt", "options", "images")},
                    "T": stored.get("T") or pipeline.get("T")}
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
                        progress: bool = False, draws: int = 1, trust_pickle: bool = False,
                        network: Any = None, record: bool = False) -> dict[str, Any]:
    """Accuracy and confusion matrix of a trained folder on a split (``train``, ``val`` or ``test``; by
    default of the data it was trained on). ``network``: the trained folder's
    :class:`~bioSNN.supervised.models.UserNetwork`, built again by the user's code. ``record=True``
    adds the result to the folder's ``metrics.json`` (:func:`~bioSNN.evaluations.record_evaluation`,
    as ``biosnn evaluate`` does), so that ``biosnn plot confusion`` draws it.

    With ``draws = K > 1`` every sample is presented as ``K`` independent draws of its spike trains
    (see :func:`stored_split`) and classified by its class scores summed over them, as one presentation
    ``K`` times as long would be (:func:`~bioSNN.supervised.trainer.evaluate_split`). ``trust_pickle``:
    see :func:`stored_split`.
    """
    import time

    from .checkpoint import load_trained

    if draws < 1:
        raise InputError(f"draws must be >= 1, got {draws}")
    from ..evaluations import MAX_DRAW_BYTES, MAX_DRAWS

    if draws > MAX_DRAWS:
        raise InputError(f"draws = {draws}: at most {MAX_DRAWS}")
    net, readout, data = load_trained(directory, map_location=device, network=network)
    first = stored_split(data, dataset=dataset, root=root, split=split, limit=limit, progress=progress, draw=0,
                         trust_pickle=trust_pickle)
    need = draws * first.trains.packed.nbytes
    if need > MAX_DRAW_BYTES:
        raise InputError(f"{draws} draws of these spike trains would hold {need / 2**30:.1f} GiB "
                         f"(at most {MAX_DRAW_BYTES / 2**30:g} GiB): give fewer --draws or --limit")
    parts = [first] + [stored_split(data, dataset=dataset, root=root, split=split, limit=limit, progress=progress,
                                    draw=k, trust_pickle=trust_pickle) for k in range(1, draws)]
    dataset = dataset or data["meta"]["data"]["dataset"]
    trained_on, given = data["readout"].get("class_names"), parts[0].trains.class_names
    if trained_on is not None and given is not None and tuple(map(str, trained_on)) != tuple(given):
        raise DataError(f"{directory}: trained on the classes {', '.join(map(str, trained_on))}; the {dataset} "
                        f"{split} data has {', '.join(given)}: its labels would be scored against other classes")
    parts[0].check_dt(net.dt)
    decision = data["meta"]["train"]["decision"]
    t0 = time.perf_counter()
    result = evaluate_split(net.to(device), parts, readout, decision=decision, batch_size=batch_size, device=device,
                            progress=progress)
    result.update(seconds=time.perf_counter() - t0, split=split, dataset=dataset, draws=draws,
                  class_names=data["readout"].get("class_names"))
    if record:
        from ..evaluations import EvaluationKey, record_evaluation

        record_evaluation(directory, EvaluationKey(dataset, split, result["n"], draws), result)
    return result
