"""The unsupervised stage end to end (what ``biosnn unsupervised`` and ``biosnn evaluate`` run).

* ``train_diehl_cook``: STDP training on images (checkpointed, resumable), then with plasticity off:
  spike counts on the last ``n_assign`` training images -> neuron-to-class assignment, and membrane
  traces of ``guidance_per_class`` images per class -> guidance templates (their mean).
* ``train_wta``: the seed network on spike trains for ``epochs`` passes (checkpointed every ``chunk``
  images, resumable), then with plasticity off: the winner of every training image -> assignment,
  per-sample guidance traces, and per class the trace of one representative (the seed's labels).

Both write ``network.npz``, ``guidance.npz``, ``config.json`` and ``metrics.json`` into the output folder.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import __version__, arrays
from ..data.imageset import ImageSet
from ..errors import DataError, InputError, ModelMismatchError, RunInterrupted
from ..encoding.poisson import scaled_to_total
from ..encoding.spike_trains import SpikeTrains
from ..equations.model import NeuronModel, check_same_model
from ..fileio import READ_ERRORS, atomic_savez, atomic_write_json
from ..interrupts import resume_hint, stop_requests
from ..progress import progress_bar
from ..runfolder import (DIEHL_COOK_SETTINGS, UNSUPERVISED_OUTPUTS, WTA_SETTINGS, check_resume_settings,
                         guard_run_folder)
from ..weight_history import FILENAME as WEIGHTS_FILE, append_snapshot
from .artifacts import SavedNetwork, load_network, save_network, trained_backend
from .backends import BACKENDS, STANDALONE_BACKENDS, CudaOptions, codeobj_class
from .assignment import accuracy, assign_labels, predict
from .diehl_cook import DiehlCookConfig, DiehlCookState, excitatory_model
from .guidance import Guidance
from .training import record, train
from .wta import WTAConfig, WTANetwork, wta_model

__all__ = ["train_diehl_cook", "train_wta", "evaluate", "evaluate_wta", "BACKENDS", "codeobj_class"]

def rates_of(images: np.ndarray, input_total: float | None = None) -> np.ndarray:
    """Diehl & Cook's input rates at intensity 1 (Hz): ``pixel / 8``, flattened per image; with
    ``input_total``, each image first scaled so that its pixels sum to it
    (:func:`~bioSNN.encoding.poisson.scaled_to_total`).

    Example:
        >>> rates_of(np.array([[[8, 24]]]), input_total=64).tolist()
        [[2.0, 6.0]]
    """
    return scaled_to_total(images, input_total) / 8.0


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """The order of ``n`` examples in ``epoch``: file order, or with ``shuffle`` a permutation drawn from
    ``numpy.random.default_rng([seed, epoch])`` (one rule for both presets, so a resume finds it again).

    Example:
        >>> epoch_order(4, 0, 0, False).tolist()
        [0, 1, 2, 3]
        >>> sorted(epoch_order(4, 0, 1, True).tolist())
        [0, 1, 2, 3]
    """
    return np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)


def _guidance_examples(labels: np.ndarray, n_classes: int, per_class: int) -> np.ndarray:
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(n_classes)]))


@guard_run_folder(UNSUPERVISED_OUTPUTS, "checkpoint.npz")
def train_diehl_cook(train_set: ImageSet, out: str | os.PathLike[str], *, config: DiehlCookConfig,
                     n_train: int | None = None, n_assign: int = 10000, guidance_per_class: int = 10,
                     backend: str = "cython", cuda: CudaOptions | None = None, resume: bool = False,
                     sample_traces: bool = True, epochs: int = 1, shuffle: bool = False,
                     val_set: ImageSet | None = None, draws: int = 1, progress: bool = True,
                     overwrite: bool = False, neuron: NeuronModel | None = None) -> dict[str, Any]:
    """Train, assign and record guidance; write the artifacts into ``out``. Returns the metrics.

    ``neuron``: the excitatory neuron model (default Diehl & Cook's; a user's model must define ``v``,
    ``ge`` (``on_pre``: ``ge += w``), ``gi`` and ``theta``, see
    :func:`~bioSNN.unsupervised.diehl_cook.excitatory_model`); stored with the network, which later
    records and evaluations use.

    Training shows the first ``n_train`` images ``epochs`` times, in file order (as the original
    code does) or, with ``shuffle``, in a new order every epoch drawn from
    ``numpy.random.default_rng([config.seed, epoch])`` (data sets stored class by class, as MSTAR's
    folders are, need it); assignment uses the last ``n_assign`` of them (in file order), with
    plasticity off. A ``val_set`` (held out from the training images, see
    :func:`bioSNN.data.splits.held_out`) is recorded as :func:`evaluate` records a test set and
    scored with that assignment: ``metrics["val_accuracy"]``, the number to choose settings on.
    ``draws = K`` sums every image's spike counts over ``K`` presentations (independent Poisson
    draws) for the assignment and every later evaluation (stored with the network): a read-out with
    less input noise, as one presentation ``K`` times as long.

    The guidance templates average ``guidance_per_class`` recorded images per class; their per-sample
    traces are kept in the file unless ``sample_traces=False`` (a file ten times smaller).

    With a compiled ``backend`` the training, the assignment counts and the guidance traces run
    compiled (builds in ``out/standalone``, ``out/standalone_record`` and ``out/standalone_guidance``).

    ``out`` must be empty unless ``resume`` (continue from ``out/checkpoint.npz``; the settings that
    change the training must equal those ``out/config.json`` records) or ``overwrite`` (start
    afresh); it is locked while the run writes (:func:`~bioSNN.runfolder.prepare_run_folder`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cls = codeobj_class(backend)
    n_train = len(train_set) if n_train is None else min(n_train, len(train_set))
    if n_train < 1 or epochs < 1:
        raise InputError("n_train and epochs must be at least 1")
    run_config = {"preset": "diehl_cook", "config": config.to_dict(), "n_train": n_train, "epochs": epochs,
                  "shuffle": shuffle, "draws": draws,
                  "n_assign": n_assign,
                  "guidance_per_class": guidance_per_class, "sample_traces": sample_traces, "backend": backend,
                  "data": dict(train_set.source), "neuron": neuron.to_dict() if neuron is not None else None}
    if resume:
        check_resume_settings(out, run_config, DIEHL_COOK_SETTINGS)
    if not (resume and (out / "checkpoint.npz").exists()):  # a new run: recorded now, in case it is interrupted
        atomic_write_json(out / "config.json", run_config)
    rates = rates_of(train_set.images[:n_train], config.input_total)
    schedule = np.concatenate([rates[epoch_order(n_train, config.seed, e, shuffle)] for e in range(epochs)])
    if not (resume and (out / "checkpoint.npz").exists()):
        w0 = DiehlCookState.initial(config, rates.shape[1]).w
        append_snapshot(out / WEIGHTS_FILE, 0, w0, image_shape=train_set.images.shape[1:], step_name="examples",
                        unit="1", source="diehl_cook")
    start = time.perf_counter()
    if backend in STANDALONE_BACKENDS:
        from .standalone import train_standalone

        state = train_standalone(config, schedule, out / "standalone", checkpoint=out / "checkpoint.npz",
                                 resume=resume, progress=progress, backend=backend, cuda=cuda, neuron=neuron)
    else:
        state = train(config, schedule, checkpoint=out / "checkpoint.npz", resume=resume, progress=progress,
                      codeobj_class=cls, neuron=neuron)
    del schedule
    train_seconds = time.perf_counter() - start
    with _stoppable("after training, while assigning and recording (the checkpoint holds the trained network)",
                    "continue with --resume: the assignment and the guidance are made again, exactly") as stop:
        return _assign_and_save(out, config, train_set, val_set, state, rates, n_train, n_assign, epochs, draws,
                                guidance_per_class, sample_traces, backend, cuda, neuron, cls, run_config,
                                train_seconds, progress, stop)


@contextmanager
def _stoppable(where: str, how_to_resume: str) -> Iterator[Any]:
    """A phase that Ctrl+C / SIGTERM stops with :class:`~bioSNN.errors.RunInterrupted` (exit 130): where
    the phase checks the yielded request, at its end, or at once where a compiled run was stopped by the
    same signal; never silently."""
    with stop_requests() as stop:
        checked = (lambda: stop.check(where, how_to_resume))
        try:
            yield checked
        except RuntimeError as exc:
            if stop and not isinstance(exc, RunInterrupted):
                raise RunInterrupted(f"{stop.signal} received: stopped {where}; {how_to_resume}") from exc
            raise
        checked()


def _assign_and_save(out: Path, config: DiehlCookConfig, train_set: ImageSet, val_set: ImageSet | None,
                     state: DiehlCookState, rates: np.ndarray, n_train: int, n_assign: int, epochs: int, draws: int,
                     guidance_per_class: int, sample_traces: bool, backend: str, cuda: CudaOptions | None,
                     neuron: NeuronModel | None, cls: Any, run_config: dict[str, Any], train_seconds: float,
                     progress: bool, check_stop: Any = lambda: None) -> dict[str, Any]:
    """The phases after training: neurons assigned to classes, guidance recorded, network saved
    (``check_stop()`` between them raises :class:`~bioSNN.errors.RunInterrupted` once a stop was asked for)."""
    assign_idx = np.arange(max(0, n_train - n_assign), n_train)
    n_classes = len(train_set.class_names)
    if val_set is not None and tuple(val_set.class_names) != tuple(train_set.class_names):
        raise InputError(f"validation classes {val_set.class_names} differ from the training classes "
                         f"{train_set.class_names}")
    counts = _counts(config, rates[assign_idx], state, backend, cuda, out / "standalone_record", progress, draws,
                     neuron)
    check_stop()
    assignments = assign_labels(counts, train_set.labels[assign_idx], n_classes)
    train_acc = accuracy(predict(counts, assignments, n_classes), train_set.labels[assign_idx])
    chosen = assign_idx[_guidance_examples(train_set.labels[assign_idx], n_classes, guidance_per_class)]
    if backend in STANDALONE_BACKENDS:  # compiled too: slices of TRACE_SLICE examples, a run's potentials in memory
        from .standalone import TRACE_SLICE, record_standalone

        traces = record_standalone(replace(config, slice_examples=min(config.slice_examples, TRACE_SLICE)),
                                   rates[chosen], state, out / "standalone_guidance", traces=True, backend=backend,
                                   cuda=cuda, progress=progress, neuron=neuron).traces
    else:
        traces = record(config, rates[chosen], state, traces=True, progress=progress, codeobj_class=cls,
                        neuron=neuron).traces
    check_stop()
    labels = train_set.labels[chosen]
    templates = np.stack([traces[labels == c].mean(axis=0) if (labels == c).any()
                          else np.zeros(traces.shape[1:], np.float32) for c in range(n_classes)])
    model = excitatory_model(False, config, neuron)
    encoder = {"encoder": "diehl-cook", "rate": "pixel / 8 * intensity Hz", "intensity": config.intensity,
               "input_total": config.input_total,
               "present_ms": config.present_ms, "rest_ms": config.rest_ms, "source": dict(train_set.source)}
    Guidance(templates, assignments, train_set.class_names, config.dt_ms * 1e-3, model,
             traces if sample_traces else None, labels if sample_traces else None,
             encoder, config.to_dict()).save(out / "guidance.npz")
    metrics = {"bioSNN": __version__, "backend": backend, "n_train": n_train, "epochs": epochs,
               "train_seconds": train_seconds,
               "train_examples_per_second": n_train * epochs / train_seconds if train_seconds > 0 else None,
               "n_assign": len(assign_idx), "assignment_set_accuracy": train_acc,
               "neurons_per_class": np.bincount(assignments[assignments >= 0], minlength=n_classes).tolist(),
               "silent_neurons": int((assignments < 0).sum())}
    if val_set is not None:  # recorded exactly as `biosnn evaluate --split val` records it
        val_counts = _counts(config, rates_of(val_set.images, config.input_total), state, backend, cuda, None,
                             progress, draws, neuron)
        metrics.update(n_val=len(val_set), val_accuracy=accuracy(predict(val_counts, assignments, n_classes),
                                                                 val_set.labels))
    check_stop()
    arrays = {"w": state.w, "delay_ms": state.delay_ms, "theta": state.theta}
    save_network(out, SavedNetwork("diehl_cook", arrays, assignments, train_set.class_names, model,
                                   {"config": config.to_dict(), "data": dict(train_set.source), "draws": draws}),
                 metrics=metrics, run_config=run_config)
    return metrics


def _counts(config: DiehlCookConfig, rates: np.ndarray, state: DiehlCookState, backend: str,
            cuda: CudaOptions | None, build_dir: Path | None, progress: bool, draws: int = 1,
            neuron: NeuronModel | None = None) -> np.ndarray:
    """Spike counts with plasticity off, on ``backend`` (compiled ones build into ``build_dir``, or
    into a temporary folder when it is ``None``), summed over ``draws`` presentations of every image
    (one run shows all images ``draws`` times in turn, so each draw has its own Poisson input)."""
    from ..evaluations import MAX_DRAWS

    if not 1 <= draws <= MAX_DRAWS:
        raise InputError(f"draws must be between 1 and {MAX_DRAWS}, got {draws}")
    shown = np.tile(rates, (draws, 1)) if draws > 1 else rates
    if backend not in STANDALONE_BACKENDS:
        counts = record(config, shown, state, progress=progress, codeobj_class=codeobj_class(backend),
                        neuron=neuron).counts
    else:
        from .standalone import record_standalone

        if build_dir is None:
            with tempfile.TemporaryDirectory(prefix="biosnn-record-") as tmp:
                counts = record_standalone(config, shown, state, tmp, backend=backend, cuda=cuda, progress=progress,
                                           neuron=neuron).counts
        else:
            counts = record_standalone(config, shown, state, build_dir, backend=backend, cuda=cuda, progress=progress,
                                       neuron=neuron).counts
    return counts.reshape(draws, len(rates), -1).sum(axis=0)


def evaluate(directory: str | os.PathLike[str], test_set: ImageSet, *, backend: str | None = None,
             cuda: CudaOptions | None = None, progress: bool = True, draws: int | None = None) -> dict[str, Any]:
    """Accuracy of a trained Diehl & Cook network's spike-count vote on ``test_set`` (plasticity off),
    with the network's own number of ``draws`` per image unless given, on the backend it was trained
    on unless ``backend`` is given (:func:`trained_backend`)."""
    backend = backend or trained_backend(directory)
    saved = load_network(directory)
    if saved.preset != "diehl_cook":
        raise InputError(f"{directory} holds a {saved.preset!r} network: evaluate it on spike trains")
    config = DiehlCookConfig(**saved.meta["config"])
    neuron = saved.model  # the neuron it was trained with, as it records (theta frozen): library's or a user's
    if tuple(test_set.class_names) != saved.class_names:
        raise InputError(f"test classes {test_set.class_names} differ from the network's {saved.class_names}")
    state = DiehlCookState(saved.arrays["w"], saved.arrays["delay_ms"], saved.arrays["theta"])
    start = time.perf_counter()
    draws = int(saved.meta.get("draws", 1)) if draws is None else draws
    counts = _counts(config, rates_of(test_set.images, config.input_total), state, backend, cuda, None, progress,
                     draws, neuron)
    predicted = predict(counts, saved.assignments, len(saved.class_names))
    return {"accuracy": accuracy(predicted, test_set.labels), "n_test": len(test_set), "backend": backend,
            "draws": draws,
            "seconds": time.perf_counter() - start, "data": dict(test_set.source)}


# ------------------------------------------------------------------------------------------ WTA
#: images per run of a compiled WTA network that only records (evaluation)
WTA_EVALUATION_RUN = 100
#: the header of a ``wta`` training checkpoint (files without one, from earlier versions, still read)
WTA_CHECKPOINT_FORMAT = "bioSNN.WTACheckpoint"


def _wta_checkpoint(path: Path, w_volt: np.ndarray, meta: dict[str, Any]) -> None:
    meta = {**meta, "format": WTA_CHECKPOINT_FORMAT, "version": 1}
    atomic_savez(path, w_volt=w_volt, meta=np.asarray(json.dumps(meta, sort_keys=True)))


def _winner_predictions(winners: np.ndarray, assignments: np.ndarray) -> np.ndarray:
    return np.where(winners >= 0, assignments[np.maximum(winners, 0)], -1)


@guard_run_folder(UNSUPERVISED_OUTPUTS, "checkpoint.npz")
def train_wta(trains: SpikeTrains, out: str | os.PathLike[str], *, config: WTAConfig, epochs: int = 1,
              chunk: int = 100, shuffle: bool = False, backend: str = "cython", resume: bool = False,
              progress: bool = True, overwrite: bool = False, cuda: CudaOptions | None = None) -> dict[str, Any]:
    """Train the seed WTA network on labelled ``trains``; write the artifacts into ``out``.

    A compiled ``backend`` (``cpp_standalone``, ``cuda_standalone``) builds the network once into
    ``out/standalone`` and runs every ``chunk`` of images as one run of it
    (:class:`~bioSNN.unsupervised.wta_standalone.CompiledWTANetwork`): the same weights and guidance as
    the runtime targets (the network holds no random number).

    Images are shown in file order (the seed's way) or, with ``shuffle``, in a new order every
    epoch drawn from ``numpy.random.default_rng([config.seed, epoch])``. ``out`` must be empty unless
    ``resume`` (continue from ``out/checkpoint.npz`` with the settings ``out/config.json`` records;
    ``epochs`` may grow) or ``overwrite`` (start afresh); see :func:`~bioSNN.runfolder.prepare_run_folder`.
    """
    if trains.labels is None:
        raise InputError("the spike trains have no labels: they are needed to assign neurons to classes")
    if epochs < 1 or chunk < 1:
        raise InputError("epochs and chunk must be positive")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cls = codeobj_class(backend)
    run_config = {"preset": "wta", "config": config.to_dict(), "epochs": epochs, "shuffle": shuffle, "backend": backend,
                  "spike_trains": dict(trains.provenance)}
    if resume:
        check_resume_settings(out, run_config, WTA_SETTINGS, may_grow=["epochs"])
    if not (resume and (out / "checkpoint.npz").exists()):  # a new run: recorded now, in case it is interrupted
        atomic_write_json(out / "config.json", run_config)
    digest = arrays.digest(trains.packed)
    ckpt_path = out / "checkpoint.npz"
    epoch, position, weights = 0, 0, None
    if resume and ckpt_path.exists():
        try:
            with np.load(ckpt_path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                weights = z["w_volt"]
            if meta.get("format", WTA_CHECKPOINT_FORMAT) != WTA_CHECKPOINT_FORMAT:
                raise DataError(f"{ckpt_path}: a {meta['format']} file, not a wta checkpoint")
            missing = {"config", "trains_sha256", "epoch", "position"} - set(meta)
            if missing:
                raise KeyError(f"no {', '.join(sorted(missing))} in its meta")
        except READ_ERRORS as exc:
            raise DataError(f"{ckpt_path}: unreadable checkpoint, corrupt or truncated ({exc}); give --overwrite "
                            "to start afresh") from exc
        if (meta["config"] != config.to_dict() or meta["trains_sha256"] != digest
                or meta.get("shuffle", False) != shuffle):
            raise ModelMismatchError(f"{ckpt_path}: written for another configuration, order or spike trains")
        epoch, position = meta["epoch"], meta["position"]
    with _wta_network(config, trains, backend, cls, out / "standalone", chunk, cuda) as net:
        if weights is not None:
            net.weights_volt = weights
        return _train_and_record_wta(net, trains, out, config, epochs, epoch, position, chunk, shuffle, digest,
                                     ckpt_path, weights is None, backend, run_config, progress)


@contextmanager
def _wta_network(config: WTAConfig, trains: SpikeTrains, backend: str, cls: Any, build_dir: Path, images_per_run: int,
                 cuda: CudaOptions | None, weights_mV: np.ndarray | None = None) -> Iterator[WTANetwork]:
    """The WTA network for ``trains`` on ``backend``: a runtime one, or compiled into ``build_dir`` (a
    temporary folder when ``None``) for runs of ``images_per_run`` images."""
    if backend not in STANDALONE_BACKENDS:
        yield WTANetwork(config, trains.n_in, trains.steps, trains.dt_seconds, codeobj_class=cls, weights_mV=weights_mV)
        return
    from .wta_standalone import compiled_wta

    with tempfile.TemporaryDirectory(prefix="biosnn-wta-") if build_dir is None else nullcontext(build_dir) as folder:
        with compiled_wta(config, trains.n_in, trains.steps, trains.dt_seconds, folder, images_per_run=images_per_run,
                          weights_mV=weights_mV, backend=backend, cuda=cuda) as net:
            yield net


def _train_and_record_wta(net: WTANetwork, trains: SpikeTrains, out: Path, config: WTAConfig, epochs: int, epoch: int,
                          position: int, chunk: int, shuffle: bool, digest: str, ckpt_path: Path, fresh: bool,
                          backend: str, run_config: dict[str, Any], progress: bool) -> dict[str, Any]:

    def snapshot(examples: int) -> None:
        append_snapshot(out / WEIGHTS_FILE, examples, net.weights_mV, image_shape=trains.image_shape,
                        step_name="examples", unit="mV", source="wta")

    if fresh:
        snapshot(0)
    n = trains.n_samples
    bar = progress_bar(epochs * n, "STDP training (wta)", "img", enabled=progress, initial=epoch * n + position)
    start = time.perf_counter()
    try:
        with stop_requests() as stop_request:
            while epoch < epochs:
                order = epoch_order(n, config.seed, epoch, shuffle)
                while position < n:
                    stop = min(n, position + chunk)
                    net.present(trains[order[position:stop]], learning=True)
                    bar.update(stop - position)
                    position = stop
                    snapshot(epoch * n + position)
                    done_epoch, done_pos = (epoch + 1, 0) if position >= n else (epoch, position)
                    _wta_checkpoint(ckpt_path, net.weights_volt, {"config": config.to_dict(), "trains_sha256": digest,
                                                               "epoch": done_epoch, "position": done_pos,
                                                               "shuffle": shuffle})
                    if done_epoch < epochs:
                        stop_request.check(f"at epoch {done_epoch + 1}, image {done_pos} of {n}",
                                           resume_hint(ckpt_path))
                epoch, position = epoch + 1, 0
    finally:
        bar.close()
    train_seconds = time.perf_counter() - start
    rec = net.present(trains, learning=False, record_v=True)
    n_classes = len(trains.class_names) if trains.class_names else int(trains.labels.max()) + 1
    class_names = trains.class_names or tuple(str(c) for c in range(n_classes))
    onehot = np.zeros((n, config.n_neurons))
    won = rec["winner"] >= 0
    onehot[np.flatnonzero(won), rec["winner"][won]] = 1
    assignments = assign_labels(onehot, trains.labels, n_classes)
    predicted = _winner_predictions(rec["winner"], assignments)
    templates = np.zeros((n_classes, config.n_neurons, trains.T), np.float32)
    representatives = []
    for c in range(n_classes):
        members = np.flatnonzero(trains.labels == c)
        good = members[predicted[members] == c]
        k = int(good[0]) if len(good) else (int(members[0]) if len(members) else -1)
        representatives.append(k)
        if k >= 0:
            templates[c] = rec["v"][k]
    Guidance(templates, assignments, class_names, trains.dt_seconds, net.model, rec["v"], trains.labels,
             dict(trains.provenance), {**config.to_dict(), "representatives": representatives},
             first_step=1).save(out / "guidance.npz")
    metrics = {"bioSNN": __version__, "preset": "wta", "backend": backend, "n_train": n, "epochs": epochs,
               "train_seconds": train_seconds, "train_images_per_second": epochs * n / train_seconds
               if train_seconds > 0 else None, "train_accuracy": accuracy(predicted, trains.labels),
               "images_without_winner": int((~won).sum()),
               "neurons_per_class": np.bincount(assignments[assignments >= 0], minlength=n_classes).tolist()}
    save_network(out, SavedNetwork("wta", {"w_mV": net.weights_mV}, assignments, class_names, net.model,
                                   {"config": config.to_dict(), "steps": trains.steps, "dt_seconds": trains.dt_seconds}),
                 metrics=metrics, run_config=run_config)
    return metrics


def evaluate_wta(directory: str | os.PathLike[str], trains: SpikeTrains, *, backend: str | None = None,
                 cuda: CudaOptions | None = None) -> dict[str, Any]:
    """Accuracy of a trained WTA network (class of each image's winner) on labelled ``trains``, on the
    backend it was trained on unless ``backend`` is given (a compiled one builds into a temporary
    folder and runs :data:`WTA_EVALUATION_RUN` images at a time)."""
    backend = backend or trained_backend(directory)
    saved = load_network(directory)
    if saved.preset != "wta":
        raise InputError(f"{directory} holds a {saved.preset!r} network")
    config = WTAConfig(**saved.meta["config"])
    check_same_model(saved.model, wta_model(config, trains.steps, trains.dt_seconds), str(directory),
                     hint="these spike trains' dt or length differ")
    if trains.labels is None:
        raise InputError("the spike trains have no labels")
    if trains.class_names is not None and tuple(trains.class_names) != saved.class_names:
        raise InputError(f"spike-train classes {trains.class_names} differ from the network's {saved.class_names}")
    start = time.perf_counter()
    with _wta_network(config, trains, backend, codeobj_class(backend), None, WTA_EVALUATION_RUN, cuda,
                      weights_mV=saved.arrays["w_mV"]) as net:
        winners = net.present(trains, learning=False)["winner"]
    predicted = _winner_predictions(winners, saved.assignments)
    return {"accuracy": accuracy(predicted, trains.labels), "n_test": trains.n_samples,
            "images_without_winner": int((winners < 0).sum()), "seconds": time.perf_counter() - start,
            "spike_trains": dict(trains.provenance)}
