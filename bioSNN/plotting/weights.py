"""Learned input weights as receptive fields on the image grid, once or over training."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from .style import DOUBLE_COLUMN, image_axes, new_figure, style

__all__ = ["weight_tiles", "plot_receptive_fields", "plot_weight_history"]


def weight_tiles(w: np.ndarray, image_shape: Sequence[int], columns: int | None = None) -> np.ndarray:
    """Arrange ``w`` (``[n_in, N]``) as a mosaic: tile ``k`` is ``w[:, k]`` reshaped to ``image_shape``,
    separated by one-pixel NaN gaps (drawn as background).

    Example:
        >>> weight_tiles(np.arange(8.0).reshape(4, 2), (2, 2)).shape
        (2, 5)
    """
    w = np.asarray(w, dtype=np.float64)
    h, wd = (int(s) for s in image_shape)
    if w.ndim != 2 or w.shape[0] != h * wd:
        raise InputError(f"weights must be [n_in = {h * wd}, N], got {w.shape}")
    n = w.shape[1]
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    mosaic = np.full((rows * (h + 1) - 1, columns * (wd + 1) - 1), np.nan)
    for k in range(n):
        r, c = divmod(k, columns)
        mosaic[r * (h + 1): r * (h + 1) + h, c * (wd + 1): c * (wd + 1) + wd] = w[:, k].reshape(h, wd)
    return mosaic


def _cmap(values: np.ndarray) -> tuple[str, float | None, float | None]:
    """Signed weights: diverging map centred on 0; otherwise viridis."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() < 0 < finite.max():
        m = float(np.abs(finite).max())
        return "RdBu_r", -m, m
    return "viridis", None, None


def plot_receptive_fields(w: Any, image_shape: Sequence[int], *, neurons: Sequence[int] | None = None,
                          columns: int | None = None, unit: str = "", ax: Any = None, title: str | None = None) -> Any:
    """Mosaic of the input weights ``w`` (``[n_in, N]``) of ``neurons`` (default all), each reshaped to
    ``image_shape``, with one shared colour bar (diverging around 0 for signed weights). Returns the Axes.

    Example:
        >>> import numpy as np
        >>> ax = plot_receptive_fields(np.random.default_rng(0).random((16, 6)), (4, 4), unit="mV")
        >>> ax.images[0].get_array().shape
        (9, 14)
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise InputError(f"weights must be [n_in, N], got shape {w.shape}")
    if neurons is not None:
        w = w[:, [int(j) for j in neurons]]
    mosaic = weight_tiles(w, image_shape, columns)
    cmap, vmin, vmax = _cmap(mosaic)
    with style():
        if ax is None:
            rows_cols = mosaic.shape[0] / max(mosaic.shape[1], 1)
            _, ax = new_figure(height=min(3.5 * rows_cols + 0.4, 8))
        image = ax.imshow(np.ma.masked_invalid(mosaic), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_axis_off()
        if title:
            ax.set_title(title)
        ax.figure.colorbar(image, cax=ax.inset_axes([1.03, 0.0, 0.04, 1.0]),
                           label=f"weight ({unit})" if unit else "weight")
    return ax


def plot_weight_history(history: Any, *, neurons: Sequence[int] | None = None, max_rows: int = 6,
                        ax: Any = None) -> Any:
    """Receptive fields over training from a :class:`~bioSNN.weight_history.WeightHistory`: one row
    per snapshot (at most ``max_rows``, spread over the run, first and last included), one column per
    neuron (default: the first 8), one colour scale for all. ``ax``: a ``[rows, neurons]`` grid of
    Axes to draw into (rows as chosen from ``max_rows``). Returns the Figure.

    Example:
        >>> import numpy as np
        >>> from bioSNN.weight_history import WeightHistory
        >>> h = WeightHistory(np.arange(3), np.random.default_rng(0).random((3, 16, 4)), (4, 4), "epoch", "1")
        >>> fig = plot_weight_history(h)
        >>> len(fig.axes)  # 3 x 4 tiles and the colour bar
        13
    """
    if history.image_shape is None:
        raise InputError("the weight history does not know the input's image shape")
    h, wd = history.image_shape
    cols = list(range(min(8, history.w.shape[2]))) if neurons is None else [int(j) for j in neurons]
    bad = [j for j in cols if not 0 <= j < history.w.shape[2]]
    if bad:
        raise InputError(f"neurons {bad} not in the history (it keeps {history.w.shape[2]})")
    S = len(history.steps)
    rows = sorted(set(np.linspace(0, S - 1, min(S, max_rows)).round().astype(int).tolist()))
    data = history.w[rows][:, :, cols].astype(np.float64)
    cmap, vmin, vmax = _cmap(data)
    if vmin is None:
        vmin, vmax = float(data.min()), float(data.max())
    width = min(DOUBLE_COLUMN, 0.85 * len(cols) + 1.3)
    with style():
        if ax is None:
            fig, axes = new_figure(len(rows), len(cols), width=width, height=0.85 * len(rows) + 0.3, squeeze=False)
        else:
            axes = np.asarray(ax, dtype=object).reshape(-1, len(cols)) if np.size(ax) == len(rows) * len(cols) else None
            if axes is None:
                raise InputError(f"ax must hold {len(rows)} x {len(cols)} Axes (snapshots x neurons), got {np.size(ax)}")
            fig = axes[0, 0].figure
        for r, row in enumerate(rows):
            for c, j in enumerate(cols):
                ax = axes[r, c]
                image = ax.imshow(data[r, :, c].reshape(h, wd), cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
                image_axes(ax)
                if r == 0:
                    ax.set_title(f"neuron {j}")
                if c == 0:
                    ax.set_ylabel(f"{history.step_name}\n{int(history.steps[row])}")
        unit = f" ({history.unit})" if history.unit and history.unit != "1" else ""
        fig.colorbar(image, ax=axes, fraction=0.03, pad=0.02, label=f"weight{unit}")
    return fig
