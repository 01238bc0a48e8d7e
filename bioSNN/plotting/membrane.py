"""Membrane traces: chosen neurons over time, threshold line, spike markers, Brian2 and torch overlaid.

Time convention (the library's): row ``k`` of a recorded trace is the state at the *end* of step
``k``, drawn at ``t = (k + 1) dt``.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from ..equations.model import NeuronModel
from ..errors import InputError
from ..quantities import as_time, display_unit
from .style import color, new_figure, style

__all__ = ["model_threshold", "plot_membrane"]

# "v > NAME" where NAME is the whole right-hand side (not "v > theta - offset")
_THRESHOLD = r"(?:^|[(\s]){var}\s*>=?\s*([A-Za-z_]\w*)\s*(?:$|\)|\band\b|\bor\b)"


def model_threshold(model: NeuronModel, variable: str = "v") -> Any | None:
    """The firing threshold of ``model`` as a quantity, when its ``threshold`` compares ``variable``
    with a single parameter or initialised state variable (``"v > v_th"``); otherwise ``None``.

    Example:
        >>> from bioSNN.equations import library
        >>> model_threshold(library.lif_delta())
        -55. * mvolt
    """
    match = re.search(_THRESHOLD.format(var=re.escape(variable)), model.threshold or "")
    if match is None:
        return None
    name = match.group(1)
    if name in model.parameters:
        return model.parameters[name]
    return model.initial.get(name)


def plot_membrane(v: Any, dt: Any, *, spikes: Any = None, neurons: Sequence[int] | None = None,
                  model: NeuronModel | None = None, threshold: Any = None, overlay: Any = None,
                  labels: tuple[str, str] = ("Brian2", "torch"), variable: str = "v", ax: Any = None,
                  title: str | None = None) -> Any:
    r"""Draw membrane traces ``v`` (``[T, n]``, a Brian2 quantity or SI values) against time.

    * ``neurons``: columns to draw (default: all, at most 8);
    * ``spikes`` (``[T, n]`` bool): a tick above the traces at each spike's time ``k dt`` (Brian2's
      spike time; the trace drops at the end of that step);
    * ``threshold``: a dotted line (quantity or SI; default: read from ``model`` with
      :func:`model_threshold`); the unit shown is the model variable's (mV for volts);
    * ``overlay``: a second trace of the same shape (e.g. the torch step on the same input), drawn
      dashed on top; the legend names both (``labels``) and the title reports the largest difference.

    Returns the Axes. Example:

    >>> import numpy as np
    >>> from brian2 import ms, mV
    >>> from bioSNN.equations import library, simulate
    >>> lif = library.lif_delta()
    >>> x = np.random.default_rng(0).random((100, 10)) < 0.2
    >>> a = simulate(lif, x, np.full((10, 2), 2.0) * mV, 0.5 * ms, backend="brian2")
    >>> b = simulate(lif, x, np.full((10, 2), 2.0) * mV, 0.5 * ms, backend="torch")
    >>> ax = plot_membrane(a["v"], 0.5 * ms, spikes=a["spikes"], model=lif, overlay=b["v"])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('time (ms)', 'v (mV)')
    """
    dim = getattr(v, "dim", None)
    if dim is None and model is not None and variable in model.brian_equations.names:
        dim = model.brian_equations.dimensions[variable]
    unit, factor = display_unit(dim) if dim is not None else ("V", 1.0)
    trace = np.asarray(v, dtype=np.float64)
    if trace.ndim == 1:
        trace = trace[:, None]
    if trace.ndim != 2:
        raise InputError(f"membrane traces must be [T, n], got shape {trace.shape}")
    if not np.all(np.isfinite(trace)):
        raise InputError("membrane traces contain NaN or infinite values")
    other = None
    if overlay is not None:
        other = np.asarray(overlay, dtype=np.float64)
        other = other[:, None] if other.ndim == 1 else other
        if other.shape != trace.shape:
            raise InputError(f"overlay has shape {other.shape}, the traces {trace.shape}")
    spk = None
    if spikes is not None:
        spk = np.asarray(spikes, dtype=bool)
        spk = spk[:, None] if spk.ndim == 1 else spk
        if spk.shape != trace.shape:
            raise InputError(f"spikes have shape {spk.shape}, the traces {trace.shape}")
    n = trace.shape[1]
    chosen = list(range(min(n, 8))) if neurons is None else [int(j) for j in neurons]
    bad = [j for j in chosen if not 0 <= j < n]
    if bad:
        raise InputError(f"neurons {bad} out of range: the traces have {n} neurons")
    dt_ms = as_time(dt) * 1e3
    t = (np.arange(trace.shape[0]) + 1) * dt_ms
    if threshold is None and model is not None:
        threshold = model_threshold(model, variable)
    with style():
        own = ax is None  # a figure of our own: the legend goes below the axes, outside the data
        if own:
            _, ax = new_figure()
        high = max(float(trace[:, chosen].max()), float(np.asarray(threshold, dtype=float)) if threshold is not None else -np.inf)
        top = high + 0.04 * (high - float(trace[:, chosen].min()) or abs(high) or 1.0)  # ticks just above the traces
        for i, j in enumerate(chosen):
            c = color(i)
            ax.plot(t, trace[:, j] / factor, color=c, lw=1.0, label=f"neuron {j}")
            if other is not None:
                ax.plot(t, other[:, j] / factor, color="black", lw=0.7, ls=(0, (3, 2)))
            if spk is not None and spk[:, j].any():  # at the spike's time, k dt (the trace drops at its end)
                ax.plot(t[spk[:, j]] - dt_ms, np.full(int(spk[:, j].sum()), top / factor), ls="none", marker="|",
                        markersize=6, color=c, markeredgewidth=1.0)
        if threshold is not None:
            ax.axhline(float(np.asarray(threshold, dtype=float)) / factor, color="0.4", lw=0.7, ls=":", label="threshold")
        handles, names = ax.get_legend_handles_labels()
        if other is not None:  # line styles say which simulator: solid first, dashed the overlay
            from matplotlib.lines import Line2D

            handles += [Line2D([], [], color="0.4", lw=1.0), Line2D([], [], color="black", lw=0.7, ls=(0, (3, 2)))]
            names += [f"{labels[0]} (solid)", f"{labels[1]} (dashed)"]
        ax.set_xlabel("time (ms)")
        ax.set_ylabel(f"{variable} ({unit})")
        if title is None and other is not None:
            err = float(np.abs(other[:, chosen] - trace[:, chosen]).max()) / factor
            title = f"{labels[0]} vs {labels[1]}: max |difference| = {err:.1e} {unit}"
        if title:
            ax.set_title(title)
        if own:
            ax.figure.legend(handles, names, loc="outside lower center", ncols=3)
        else:
            ax.legend(handles, names, loc="best")
    return ax
