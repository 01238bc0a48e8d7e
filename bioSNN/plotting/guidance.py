"""Guidance signals: one panel per class, one line per output neuron, the event step marked.

This is the figure the SAR seed project shows for BMP2 / BTR70 / T72: the output potentials the
supervised stage regresses onto.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from .style import DOUBLE_COLUMN, SINGLE_COLUMN, color, new_figure, style

__all__ = ["event_step", "plot_guidance"]


def event_step(template: np.ndarray, drop: float = 0.25) -> int | None:
    """Row of the first *event* in a class template ``[n_out, T]``: the first row where some neuron's
    potential falls by more than ``drop`` x the template's range (a reset or a WTA inhibition).
    ``None`` when there is none (e.g. an average of many samples).

    Example:
        >>> t = np.array([[0, 40, 80, 0, 0], [0, 30, 60, -500, -500.]])
        >>> event_step(t)
        3
    """
    t = np.asarray(template, dtype=np.float64)
    span = float(t.max() - t.min())
    if t.shape[-1] < 2 or span == 0:
        return None
    falls = np.nonzero((np.diff(t, axis=-1) < -drop * span).any(axis=0))[0]
    return int(falls[0]) + 1 if len(falls) else None


def plot_guidance(guidance: Any, *, classes: Sequence[int] | None = None, ax: Sequence[Any] | None = None,
                  mark_event: bool | None = None, columns: int | None = None) -> Any:
    r"""Draw a :class:`~bioSNN.unsupervised.guidance.Guidance`'s class templates (mV against ms).

    One panel per class (``classes``: which, default all); with at most 8 output neurons each neuron
    has its own colour and legend entry (its assigned class in brackets), with more the neurons
    assigned to the panel's class are drawn in colour and the rest in grey. The event step
    (:func:`event_step`) is a dashed vertical line; by default it is marked for winner-take-all models
    (whose neurons act on each other, like the seed's), where the first spike ends the competition,
    and not for averaged templates of independent neurons. ``ax``: one Axes per class to draw into.
    Returns the Figure.

    Example:
        >>> import numpy as np
        >>> from bioSNN.equations import library
        >>> from bioSNN.unsupervised.guidance import Guidance
        >>> g = Guidance(np.cumsum(np.ones((2, 3, 20)), -1), np.array([0, 1, -1]), ("a", "b"), 1e-3,
        ...              library.seed_wta_if(), first_step=1)
        >>> fig = plot_guidance(g)
        >>> [a.get_title() for a in fig.axes]
        ['a', 'b']
    """
    templates = np.asarray(guidance.templates, dtype=np.float64)
    n_classes, n_out, T = templates.shape
    chosen = list(range(n_classes)) if classes is None else [int(c) for c in classes]
    bad = [c for c in chosen if not 0 <= c < n_classes]
    if bad:
        raise InputError(f"classes {bad} out of range: the guidance has {n_classes} classes")
    dt_ms = guidance.dt_seconds * 1e3
    t = (np.arange(T) + guidance.first_step + 1) * dt_ms  # row k: end of step first_step + k
    names = guidance.class_names
    if mark_event is None:
        mark_event = bool(guidance.model.lateral_targets)
    assignments = np.asarray(guidance.assignments)
    with style():
        if ax is None:
            cols = columns or min(len(chosen), 5)
            rows = math.ceil(len(chosen) / cols)
            width = SINGLE_COLUMN if cols <= 2 else DOUBLE_COLUMN
            fig, axes = new_figure(rows, cols, width=width, height=1.45 * rows + 0.35, sharex=True, sharey=True,
                                   squeeze=False)
            axes = list(axes.ravel())
            for extra in axes[len(chosen):]:
                extra.set_visible(False)
        else:
            cols = 1  # the caller's layout: label every panel
            axes = [ax] if hasattr(ax, "plot") else list(ax)
            if len(axes) != len(chosen):
                raise InputError(f"ax has {len(axes)} Axes for {len(chosen)} classes")
            fig = axes[0].figure
        few = n_out <= 8
        for panel, c in zip(axes, chosen):
            for j in range(n_out):
                own = assignments[j] == c
                if few:
                    label = f"{j} ({names[assignments[j]] if assignments[j] >= 0 else '-'})"
                    panel.plot(t, templates[c, j], color=color(j), lw=1.0, label=label)
                else:
                    panel.plot(t, templates[c, j], color=color(0) if own else "0.75", lw=0.8 if own else 0.5,
                               zorder=3 if own else 2)
            event = event_step(templates[c]) if mark_event else None
            if event is not None:
                panel.axvline(t[event], color="0.3", ls="--", lw=0.7)
            panel.set_title(names[c])
        for i, panel in enumerate(axes[: len(chosen)]):
            if i % cols == 0:
                panel.set_ylabel("potential (mV)")
            if i + cols >= len(chosen):  # no panel below
                panel.set_xlabel("time (ms)")
        if few:
            handles, labels = axes[0].get_legend_handles_labels()
            title = "output neuron (assigned class)"
        else:
            from matplotlib.lines import Line2D

            handles, labels = [Line2D([], [], color=color(0)), Line2D([], [], color="0.75")], \
                ["neurons of the panel's class", "other neurons"]
            title = None
        if ax is None:  # our figure: one legend below the panels
            fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 6), title=title)
        else:  # the caller's layout: a legend in the first panel
            axes[0].legend(handles, labels, loc="best", title=title, fontsize=6)
    return fig
