"""Training curves (with a band over repeated runs), confusion matrices and firing rates per layer."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from .style import color, new_figure, style

__all__ = ["plot_curves", "plot_training", "plot_confusion", "plot_firing_rates"]

_LABELS = {"loss": "loss", "train_accuracy": "train", "test_accuracy": "test", "val_accuracy": "validation"}


def _series(histories: Sequence[Sequence[Mapping[str, Any]]], key: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``(epochs, values [runs, epochs])`` over the epochs every run has, or ``None`` if no run has ``key``."""
    runs = [{int(r["epoch"]): float(r[key]) for r in h if r.get(key) is not None} for h in histories]
    runs = [r for r in runs if r]
    if not runs:
        return None
    epochs = sorted(set.intersection(*(set(r) for r in runs)))
    return np.asarray(epochs), np.asarray([[r[e] for e in epochs] for r in runs])


def plot_curves(histories: Sequence[Sequence[Mapping[str, Any]]], keys: Sequence[str], *, ax: Any = None,
                ylabel: str = "", percent: bool = False) -> Any:
    """One line per ``key`` of per-epoch records (``metrics.json``'s ``history``) against the epoch.

    With several runs (``histories``: one history per run, e.g. seeds) the line is their mean and a
    shaded band spans their minimum to maximum. Returns the Axes.

    Example:
        >>> runs = [[{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.0}],
        ...         [{"epoch": 1, "loss": 2.4}, {"epoch": 2, "loss": 1.2}]]
        >>> ax = plot_curves(runs, ["loss"])
        >>> ax.lines[0].get_ydata().tolist()
        [2.2, 1.1]
    """
    if not histories:
        raise InputError("no training history to plot")
    with style():
        if ax is None:
            _, ax = new_figure()
        drawn = 0
        for i, key in enumerate(keys):
            series = _series(histories, key)
            if series is None:
                continue
            epochs, values = series
            values = values * (100 if percent else 1)
            label = _LABELS.get(key, key) + (f" ({values.shape[0]} runs)" if values.shape[0] > 1 else "")
            ax.plot(epochs, values.mean(0), color=color(i), marker="o", label=label)
            if values.shape[0] > 1:
                ax.fill_between(epochs, values.min(0), values.max(0), color=color(i), alpha=0.25, lw=0)
            drawn += 1
        if drawn == 0:
            raise InputError(f"the histories have none of {list(keys)}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        if drawn > 1 or len(histories) > 1:
            ax.legend(loc="best")
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def plot_training(histories: Sequence[Sequence[Mapping[str, Any]]], *, ax: Sequence[Any] | None = None) -> Any:
    """Two panels: loss, and accuracy (train, validation, test) in %, each with a band over runs.
    ``ax``: the two Axes to draw into. Returns the Figure."""
    if ax is None:
        fig, (left, right) = new_figure(1, 2, width="double", height=2.3)
    else:
        if len(ax) != 2:
            raise InputError(f"plot_training draws two panels: give two Axes, got {len(ax)}")
        (left, right), fig = ax, ax[0].figure
    plot_curves(histories, ["loss"], ax=left, ylabel="training loss")
    plot_curves(histories, ["train_accuracy", "val_accuracy", "test_accuracy"], ax=right, ylabel="accuracy (%)",
                percent=True)
    return fig


def plot_confusion(matrix: Any, class_names: Sequence[str] | None = None, *, normalize: bool = True,
                   ax: Any = None, title: str | None = None) -> Any:
    """Confusion matrix (rows: true class, columns: predicted), shaded by the fraction of each true
    class, annotated with the counts. Returns the Axes.

    Example:
        >>> ax = plot_confusion([[5, 1], [0, 4]], ["a", "b"])
        >>> [t.get_text() for t in ax.texts]
        ['5', '1', '0', '4']
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InputError(f"a confusion matrix is square, got shape {m.shape}")
    names = [str(n) for n in class_names] if class_names is not None else [str(i) for i in range(len(m))]
    if len(names) != len(m):
        raise InputError(f"{len(names)} class names for a {len(m)}-class confusion matrix")
    totals = m.sum(axis=1, keepdims=True)
    shade = m / np.where(totals == 0, 1, totals) if normalize else m
    n = len(m)
    with style():
        if ax is None:
            _, ax = new_figure(height=3.2 if n > 5 else 2.6)
        vmax = 1.0 if normalize else float(shade.max() or 1)
        image = ax.imshow(shade, cmap="Blues", vmin=0, vmax=vmax)
        size = 7 if n <= 5 else 5.5
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=size,
                        color="white" if shade[i, j] > 0.6 * vmax else "black")
        long = max(len(s) for s in names) > 3
        ax.set_xticks(range(n), names, rotation=45 if long else 0, ha="right" if long else "center",
                      rotation_mode="anchor")
        ax.set_yticks(range(n), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.spines[["top", "right"]].set_visible(True)
        acc = np.trace(m) / max(m.sum(), 1)
        ax.set_title(title if title is not None else f"accuracy {100 * acc:.1f} % ({int(m.sum())} samples)")
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                           label="fraction of true class" if normalize else "samples")
    return ax


def plot_firing_rates(rates: Sequence[float], *, names: Sequence[str] | None = None, dt: float | None = None,
                      ax: Any = None) -> Any:
    """Bar chart of the mean firing rate of each layer (input to output), as spikes per neuron per
    step, or in Hz when ``dt`` (seconds) is given. Returns the Axes.

    Example:
        >>> ax = plot_firing_rates([0.1, 0.05], dt=1e-3)
        >>> ax.get_ylabel(), [round(p.get_height()) for p in ax.patches]
        ('firing rate (Hz)', [100, 50])
    """
    r = np.asarray(rates, dtype=np.float64)
    if r.ndim != 1 or not len(r):
        raise InputError(f"rates must be one value per layer, got shape {r.shape}")
    labels = list(names) if names is not None else (["input"] + [f"hidden {i}" for i in range(1, len(r) - 1)]
                                                    + ["output"] if len(r) > 1 else ["output"])
    if len(labels) != len(r):
        raise InputError(f"{len(labels)} names for {len(r)} layers")
    values = r / dt if dt else r
    with style():
        if ax is None:
            _, ax = new_figure(height=2.0)
        ax.bar(range(len(r)), values, color=[color(i) for i in range(len(r))], width=0.6)
        ax.set_xticks(range(len(r)), labels)
        ax.set_ylabel("firing rate (Hz)" if dt else "spikes per neuron per step")
        ax.set_xlabel("layer")
    return ax
