"""Spike rasters and the input spike-time map of one image."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from ..quantities import as_time
from .style import color, group_colors, image_axes, new_figure, style

__all__ = ["plot_raster", "plot_spike_time_map", "first_spike_times"]


def _spike_matrix(spikes: Any) -> np.ndarray:
    s = np.asarray(spikes)
    if s.ndim != 2:
        raise InputError(f"spikes must be [T, n], got shape {s.shape}")
    return s.astype(bool)


def plot_raster(spikes: Any, dt: Any, *, ax: Any = None, ylabel: str = "neuron", title: str | None = None,
                groups: Sequence[int] | None = None, group_names: Sequence[str] | None = None,
                tick_size: float = 3.0) -> Any:
    """Spike raster of ``spikes`` (``[T, n]`` bool; row ``k`` = step ``k``, drawn at Brian2's spike
    time ``t = k dt``), one vertical tick ``tick_size`` points tall per spike.

    ``groups`` (``[n]`` ints, e.g. each neuron's class; -1: none, grey) colours the rows by group;
    with ``group_names`` a legend names the groups that spiked. Returns the Axes.

    Example:
        >>> import numpy as np
        >>> ax = plot_raster(np.eye(5, dtype=bool), 1e-3)
        >>> ax.get_xlabel(), len(ax.collections)
        ('time (ms)', 1)
    """
    s = _spike_matrix(spikes)
    dt_ms = as_time(dt) * 1e3
    steps, neurons = np.nonzero(s)
    with style():
        if ax is None:
            _, ax = new_figure()
        if groups is None:
            colors: Any = color(0)
        else:
            g = np.asarray(groups)
            if g.shape != (s.shape[1],):
                raise InputError(f"groups must have one entry per neuron ({s.shape[1]}), got {g.shape}")
            palette = group_colors(max(int(g.max()) + 1, 1) if len(g) else 1)
            colors = [palette[int(x)] if x >= 0 else "0.8" for x in g[neurons]]
            if group_names is not None:
                from matplotlib.lines import Line2D

                shown = sorted({int(x) for x in g[neurons] if x >= 0})
                if shown:
                    ax.legend([Line2D([], [], color=palette[k], marker="|", ls="none", markersize=6) for k in shown],
                              [str(group_names[k]) for k in shown], loc="upper left", bbox_to_anchor=(1.0, 1.0),
                              fontsize=6, handletextpad=0.2, borderaxespad=0.2, title="class",
                              title_fontsize=6)  # right of the axes, never over spikes
        ax.scatter(steps * dt_ms, neurons, s=tick_size ** 2, marker="|", c=colors, linewidths=0.6)
        ax.set_xlim(0, s.shape[0] * dt_ms)
        ax.set_ylim(-0.5, s.shape[1] - 0.5)
        ax.set_xlabel("time (ms)")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    return ax


def first_spike_times(spikes: Any, dt: Any) -> np.ndarray:
    """Time (ms) of each channel's first spike, NaN for silent channels: ``[T, n]`` -> ``[n]``."""
    s = _spike_matrix(spikes)
    first = np.argmax(s, axis=0).astype(np.float64) * as_time(dt) * 1e3
    first[~s.any(axis=0)] = np.nan
    return first


def plot_spike_time_map(spikes: Any, image_shape: Sequence[int], dt: Any, *, ax: Any = None,
                        title: str | None = None, colorbar: bool = True) -> Any:
    """Heat map of each pixel's first input spike time (ms) on the image grid; silent pixels blank.

    Example:
        >>> import numpy as np
        >>> s = np.zeros((10, 4), bool); s[3, 0] = s[7, 2] = True
        >>> ax = plot_spike_time_map(s, (2, 2), 1e-3)
        >>> float(ax.images[0].get_array()[0, 0])
        3.0
    """
    h, w = (int(x) for x in image_shape)
    first = first_spike_times(spikes, dt)
    if first.size != h * w:
        raise InputError(f"{first.size} input channels do not fill an image of {h} x {w}")
    with style():
        if ax is None:
            _, ax = new_figure()
        image = ax.imshow(np.ma.masked_invalid(first.reshape(h, w)), cmap="viridis_r", interpolation="nearest")
        image_axes(ax)
        if title:
            ax.set_title(title)
        if colorbar:  # attached to the drawn image (an equal-aspect image does not fill its cell)
            ax.figure.colorbar(image, cax=ax.inset_axes([1.04, 0.0, 0.05, 1.0]), label="first spike (ms)")
    return ax
