"""Figures from the files the other stages write (what ``biosnn plot ...`` draws).

=========== =====================================================================================
figure      artifact
=========== =====================================================================================
membrane    a library model name (random input), an unsupervised ``wta`` folder with spike trains,
            or a supervised folder (a sample of its own data); Brian2 and torch overlaid
raster      a spike-train ``.npz`` (input only) or a network folder as for ``membrane``
guidance    a ``guidance.npz`` or the folder holding it
weights     an unsupervised or supervised folder (final weights), or ``weights_history.npz``
curves      one or more supervised folders (``metrics.json``; several: band over runs)
confusion   a supervised folder after ``biosnn evaluate`` (its ``metrics.json``)
rates       a supervised folder (firing rate per layer on the test data, last epoch)
=========== =====================================================================================
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..equations.model import NeuronModel
from ..errors import DataError, InputError
from ..quantities import as_time
from ..runfolder import run_kind
from .style import new_figure, style

__all__ = ["Response", "network_response", "membrane_figure", "raster_figure", "guidance_figure",
           "weights_figure", "curves_figure", "confusion_figure", "rates_figure", "FIGURES"]


def _styled(draw: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``draw`` inside the paper style, so titles and labels set after plotting get it too."""
    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with style():
            return draw(*args, **kwargs)
    return wrapper


@dataclass
class Response:
    """One presentation: input spikes, and the output layer's potential and spikes in Brian2 and torch."""

    label: str
    model: NeuronModel
    dt: float
    input_spikes: np.ndarray               # [T_in, n_in] bool
    image_shape: tuple[int, ...] | None
    v: np.ndarray                          # [T, n] SI, the reference run (Brian2 when there is one)
    spikes: np.ndarray                     # [T, n] bool
    overlay: np.ndarray | None = None      # [T, n] SI, the torch step on the same input
    overlay_labels: tuple[str, str] = ("Brian2", "torch")
    classes: np.ndarray | None = None      # [n] class of each output neuron
    class_names: tuple[str, ...] | None = None


def _library_response(name: str, seed: int) -> Response:
    from ..equations import library, simulate
    from ..equations.verify import DEFAULT_DRIVES, random_inputs

    try:
        model = library.get(name)
    except KeyError:
        raise DataError(f"{name}: no such file or folder, and not a library model "
                        f"({', '.join(f.__name__ for f in library.MODELS)})") from None
    drive = DEFAULT_DRIVES.get(name)
    if drive is None:
        raise InputError(f"no default random input for model {name!r}")
    x, w = random_inputs(drive, 200, 30, 4, seed)
    a = simulate(model, x, w, drive.dt, backend="brian2")
    b = simulate(model, x, w, drive.dt, backend="torch")
    return Response(f"{name}, random input", model, as_time(drive.dt), x, None, a["v"], a["spikes"], b["v"])


def _sample(trains: Any, sample: int) -> np.ndarray:
    """Sample ``sample`` of ``trains`` as a ``[steps, n_in]`` bool array."""
    return trains.to_torch(np.array([_checked(sample, trains.n_samples)]))[:, 0].numpy().astype(bool)


def _wta_response(directory: Path, spikes: str | None, sample: int) -> Response:
    from brian2 import mV

    from ..encoding import SpikeTrains
    from ..equations import simulate
    from ..unsupervised.artifacts import load_network

    saved = load_network(directory)
    if saved.preset != "wta":
        raise InputError(f"{directory}: a {saved.preset} network is recurrent (delays, inhibitory layer), so its "
                         "traces are not one layer's; plot its guidance signals (biosnn plot guidance) instead")
    if spikes is None:
        raise InputError(f"{directory} is an unsupervised wta network: give --spikes FILE.npz with its input")
    trains = SpikeTrains.load(spikes)
    if abs(trains.dt_seconds - saved.meta["dt_seconds"]) > 1e-12 or trains.steps != saved.meta["steps"]:
        raise InputError(f"{spikes}: {trains.steps} steps of {trains.dt_seconds * 1e3:g} ms, the network was built "
                         f"for {saved.meta['steps']} of {saved.meta['dt_seconds'] * 1e3:g} ms")
    x = _sample(trains, sample)
    model = saved.model
    if saved.meta["config"].get("threshold") == "per_image":
        from ..unsupervised.wta import WTAConfig, thresholds_mV

        th = thresholds_mV(WTAConfig(**saved.meta["config"]), x.sum(axis=1).max(keepdims=True))[0]
        model = model.replace(parameters={**model.parameters, "P_th": float(th) * mV}, initial={**model.initial, "th": float(th) * mV})
    w = saved.arrays["w_mV"] * mV
    a = simulate(model, x, w, trains.dt_seconds, backend="brian2")
    b = simulate(model, x, w, trains.dt_seconds, backend="torch")
    return Response(f"{directory.name}, sample {sample}", model, trains.dt_seconds, x, trains.image_shape,
                    a["v"], a["spikes"], b["v"], classes=saved.assignments, class_names=tuple(saved.class_names))


def _supervised_response(directory: Path, sample: int, split: str) -> Response:
    import torch

    from ..equations import simulate
    from ..supervised.checkpoint import load_trained
    from ..supervised.pipeline import stored_split

    net, readout, data = load_trained(directory)
    part = stored_split(data, split=split)
    x = part.trains.to_torch(np.array([_checked(sample, len(part))]))
    layer = net.output_layer
    captured: dict[str, torch.Tensor] = {}

    def keep_drive(module: Any, args: Any, output: Any) -> None:  # returns None: the output stays as it is
        captured["drive"] = args[0]

    hook = layer.register_forward_hook(keep_drive) if layer is not None else None
    with torch.no_grad():
        out = net(x)
    if hook is not None:
        hook.remove()
    model = net.output_model
    scale = layer.record_scale[net.v_name] if layer is not None else 1e-3
    v_torch = out.v[:, 0].double().numpy() * scale
    spikes = out.spikes[:, 0].numpy().astype(bool)
    label = f"{directory.name}, {split} sample {sample}"
    names = data["readout"].get("class_names") or part.trains.class_names
    names = tuple(str(n) for n in names) if names else None
    if layer is None or len(layer.trainable):
        # the seed integrator or per-neuron trained parameters: no Brian2 counterpart to run
        return Response(label, model, net.dt, x[:, 0].numpy().astype(bool), part.trains.image_shape, v_torch, spikes,
                        overlay_labels=("torch", ""), classes=readout.assignments.numpy(), class_names=names)
    drive = captured["drive"][:, 0].double().numpy() * layer.drive_scale  # [T, n] SI per step
    steps = drive.shape[0]
    # Brian2 gets the same per-step drive: input channel k fires once, at step k, with weights drive[k]
    a = simulate(model, np.eye(steps, dtype=bool), drive, net.dt, backend="brian2", record=(net.v_name,))
    return Response(label, model, net.dt, x[:, 0].numpy().astype(bool), part.trains.image_shape,
                    a[net.v_name], a["spikes"], v_torch, classes=readout.assignments.numpy(), class_names=names)


def _checked(sample: int, n: int) -> int:
    if not 0 <= sample < n:
        raise InputError(f"sample {sample} out of range: the split holds {n} samples")
    return sample


def network_response(source: str | os.PathLike[str], *, spikes: str | None = None, sample: int = 0,
                     split: str = "test", seed: int = 0) -> Response:
    """Run ``source`` (library model name, unsupervised wta folder, supervised folder) on one input and
    return its :class:`Response`; Brian2 and the generated torch step both run when the network's
    output layer is a neuron model with fixed parameters."""
    path = Path(source)
    if path.is_dir():
        kind = run_kind(path)
        if kind == "supervised":
            return _supervised_response(path, sample, split)
        if kind == "unsupervised":
            return _wta_response(path, spikes, sample)
        raise DataError(f"{path}: neither a supervised (model.pt) nor an unsupervised (network.npz) folder")
    if path.exists():
        raise DataError(f"{source}: not a network folder (a supervised or unsupervised one) or a library model")
    if path.suffix or os.sep in str(source):
        raise DataError(f"{source}: no such file or folder")
    return _library_response(str(source), seed)


@_styled
def membrane_figure(source: str | os.PathLike[str], *, spikes: str | None = None, sample: int = 0,
                    split: str = "test", neurons: Sequence[int] | None = None, seed: int = 0) -> Any:
    """Membrane traces of :func:`network_response` (Brian2 solid, torch dashed)."""
    from .membrane import plot_membrane

    r = network_response(source, spikes=spikes, sample=sample, split=split, seed=seed)
    if neurons is None and r.classes is not None and r.v.shape[1] > 8:
        neurons = _most_active(r.v)
    ax = plot_membrane(r.v, r.dt, spikes=r.spikes, model=r.model, neurons=neurons,
                       overlay=r.overlay, labels=r.overlay_labels)
    fig = ax.figure
    if r.overlay is None:
        ax.set_title(f"{r.overlay_labels[0]}: {r.label}")
    else:
        ax.set_title(f"{r.label}\n{ax.get_title()}")
    return fig


def _most_active(v: np.ndarray, k: int = 4) -> list[int]:
    return sorted(np.argsort(v.max(axis=0))[-k:].tolist())


@_styled
def raster_figure(source: str | os.PathLike[str], *, spikes: str | None = None, sample: int = 0,
                  split: str = "test") -> Any:
    """Input spike-time map, input raster and (for a network) output raster of one presentation."""
    from .raster import plot_raster, plot_spike_time_map

    path = Path(source)
    if path.suffix == ".npz" and path.is_file():
        from ..encoding import SpikeTrains

        trains = SpikeTrains.load(path)
        x, shape, dt, out, classes, names = _sample(trains, sample), trains.image_shape, trains.dt_seconds, None, None, None
        label = f"{path.name}, sample {sample}"
    else:
        r = network_response(source, spikes=spikes, sample=sample, split=split)
        x, shape, dt, out, classes, names, label = (r.input_spikes, r.image_shape, r.dt, r.spikes, r.classes,
                                                    r.class_names, r.label)
    panels = 1 + (shape is not None and len(shape) == 2) + (out is not None)
    fig, axes = new_figure(1, panels, width="double", height=2.3, squeeze=False)
    axes = list(axes[0])
    if shape is not None and len(shape) == 2:
        plot_spike_time_map(x, shape, dt, ax=axes.pop(0), title="input: first spike")
    plot_raster(x, dt, ax=axes.pop(0), ylabel="input channel", title=f"input ({int(x.sum())} spikes)")
    if out is not None:
        plot_raster(out, dt, ax=axes.pop(0), ylabel="output neuron", groups=classes, group_names=names,
                    tick_size=5, title=f"output ({int(out.sum())} spikes)")
    fig.suptitle(label)
    return fig


def _guidance_path(artifact: str | os.PathLike[str]) -> Path:
    path = Path(artifact)
    return path / "guidance.npz" if path.is_dir() else path


@_styled
def guidance_figure(artifact: str | os.PathLike[str], *, classes: Sequence[int] | None = None) -> Any:
    """Class templates of a guidance file, one panel per class."""
    from ..unsupervised.guidance import Guidance
    from .guidance import plot_guidance

    return plot_guidance(Guidance.load(_guidance_path(artifact)), classes=classes)


def _supervised_weights(directory: Path) -> tuple[np.ndarray, tuple[int, ...] | None, str]:
    from ..supervised.checkpoint import load_trained

    net, _, data = load_trained(directory)
    w = net.input_weights()
    if w is None:
        raise InputError(f"{directory}: a {net.architecture} has no single input weight matrix to draw")
    shape = data["meta"].get("data", {}).get("image_shape")
    return w.detach().double().numpy().T, tuple(shape) if shape else None, net.input_weight_unit


@_styled
def weights_figure(artifact: str | os.PathLike[str], *, neurons: Sequence[int] | None = None,
                   shape: Sequence[int] | None = None, history: bool = False) -> Any:
    """Receptive fields of a folder's input weights; over training with ``history`` (or when given a
    ``weights_history.npz``)."""
    from ..weight_history import FILENAME, load_weight_history, square_shape
    from .weights import plot_receptive_fields, plot_weight_history

    path = Path(artifact)
    if history or path.name == FILENAME:
        h = load_weight_history(path)
        if shape is not None:
            if int(np.prod(shape)) != h.w.shape[1]:
                raise InputError(f"--shape {'x'.join(map(str, shape))} does not hold the {h.w.shape[1]} inputs")
            h = dataclasses.replace(h, image_shape=tuple(shape))
        return plot_weight_history(h, neurons=neurons)
    if run_kind(path) == "supervised":
        w, image_shape, unit = _supervised_weights(path)
        what = "supervised"
    else:
        from ..unsupervised.artifacts import load_network

        saved = load_network(path)
        w, unit = (saved.arrays["w"], "1") if saved.preset == "diehl_cook" else (saved.arrays["w_mV"], "mV")
        image_shape, what = None, f"STDP ({saved.preset})"
    if shape is not None:
        image_shape = tuple(shape)
    image_shape = image_shape or square_shape(w.shape[0])
    if image_shape is None:
        raise InputError(f"{w.shape[0]} inputs are not a square image: give the pixel grid (--shape HxW)")
    chosen = list(neurons) if neurons is not None else list(range(min(w.shape[1], 100)))
    ax = plot_receptive_fields(w, image_shape, neurons=chosen, unit="" if unit == "1" else unit,
                               title=f"{what}: {len(chosen)} of {w.shape[1]} neurons"
                               if len(chosen) < w.shape[1] else f"{what}: {w.shape[1]} neurons")
    return ax.figure


def _metrics(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The folder's ``metrics.json`` (:func:`~bioSNN.evaluations.read_metrics`), which must exist."""
    from ..evaluations import METRICS_FILE, read_metrics

    if not (Path(directory) / METRICS_FILE).exists():
        raise DataError(f"{Path(directory) / METRICS_FILE}: missing (not a trained folder?)")
    return read_metrics(directory)


@_styled
def curves_figure(directories: Sequence[str | os.PathLike[str]]) -> Any:
    """Loss and accuracy per epoch of one or more supervised runs (band: min..max over runs)."""
    from .curves import plot_training

    histories = []
    for d in directories:
        history = _metrics(d).get("history")
        if not history:
            raise DataError(f"{d}/metrics.json has no per-epoch history (not a supervised folder?)")
        histories.append(history)
    _check_comparable(directories)
    return plot_training(histories)


#: settings that must agree for runs to be drawn as one band (the seed may differ)
COMPARABLE_SETTINGS = ("loss", "spec", "train.epochs", "train.lr", "train.batch_size", "data.dataset")


def _check_comparable(directories: Sequence[str | os.PathLike[str]]) -> None:
    """Refuse to band runs that differ in more than their seed (loss, network, epochs...)."""
    if len(directories) < 2:
        return
    from ..runfolder import setting_differences

    configs = []
    for d in directories:
        try:
            configs.append(json.loads((Path(d) / "config.json").read_text()))
        except (OSError, ValueError) as exc:
            raise DataError(f"{d}/config.json: unreadable ({exc}); runs are banded only when their settings "
                            "are known to agree") from exc
    for d, config in zip(directories[1:], configs[1:]):
        diff = setting_differences(configs[0], config, COMPARABLE_SETTINGS)
        if diff:
            raise InputError(f"{directories[0]} and {d} are different runs, not seeds of one ({'; '.join(diff[:3])}): "
                             "plot them separately")


@_styled
def confusion_figure(directory: str | os.PathLike[str]) -> Any:
    """The confusion matrix of the folder's most recent evaluation (``biosnn evaluate DIR``; its
    ``latest_evaluation``)."""
    from .curves import plot_confusion

    from ..evaluations import evaluation

    try:
        key, result = evaluation(_metrics(directory), needs="confusion")
    except DataError as exc:
        raise DataError(f"{directory}: {exc}; run `biosnn evaluate {directory}` first") from None
    fig, ax = new_figure(height=3.0 if len(result["confusion"]) > 5 else 2.5)
    plot_confusion(result["confusion"], result.get("class_names"), ax=ax)
    ax.set_title(f"{key.label}: accuracy {100 * result['accuracy']:.2f} %")
    return fig


@_styled
def rates_figure(directory: str | os.PathLike[str]) -> Any:
    """Mean firing rate per layer on the test data at the last epoch."""
    from .curves import plot_firing_rates

    history = _metrics(directory).get("history") or []
    rates = next((r["test_rates"] for r in reversed(history) if r.get("test_rates")), None)
    if rates is None:
        raise DataError(f"{directory}/metrics.json records no firing rates (train with test data)")
    from ..supervised.checkpoint import load_checkpoint

    path = Path(directory) / "model.pt"
    spec = load_checkpoint(path if path.exists() else Path(directory) / "checkpoint.pt")["spec"]
    fig, ax = new_figure(height=2.0)
    plot_firing_rates(rates, dt=spec["dt_seconds"], ax=ax)
    return fig


#: figure kind -> function of the artifact (the ``biosnn plot`` sub-commands)
FIGURES = {"membrane": membrane_figure, "raster": raster_figure, "guidance": guidance_figure,
           "weights": weights_figure, "curves": curves_figure, "confusion": confusion_figure, "rates": rates_figure}
