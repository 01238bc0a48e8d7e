"""Paper-ready figures: membrane traces, rasters, guidance signals, receptive fields, curves.

Every function takes data (arrays, our artifact objects), returns the matplotlib Figure or Axes it
drew, accepts ``ax=`` to draw into a panel of your own figure, and never calls ``plt.show()``.
Figures are built on private ``Figure`` objects (no pyplot state) in one paper style
(:mod:`bioSNN.plotting.style`); :func:`save` writes PDF/SVG and 300 dpi PNG atomically.
:mod:`bioSNN.plotting.artifacts` draws straight from the files the other stages write (``biosnn plot``).

Example:
    >>> import numpy as np, tempfile
    >>> from bioSNN.plotting import new_figure, plot_raster, plot_confusion, save
    >>> fig, (a, b) = new_figure(1, 2, width="double")
    >>> _ = plot_raster(np.random.default_rng(0).random((50, 20)) < 0.1, 1e-3, ax=a)
    >>> _ = plot_confusion([[9, 1], [2, 8]], ["cat", "dog"], ax=b)
    >>> [p.name for p in save(fig, tempfile.mkdtemp() + "/panels.pdf")]
    ['panels.pdf']
"""

from .curves import plot_confusion, plot_curves, plot_firing_rates, plot_training
from .guidance import event_step, plot_guidance
from .membrane import model_threshold, plot_membrane
from .raster import first_spike_times, plot_raster, plot_spike_time_map
from .style import DOUBLE_COLUMN, PALETTE, SINGLE_COLUMN, new_figure, save, style
from .weights import plot_receptive_fields, plot_weight_history, weight_tiles

__all__ = ["style", "new_figure", "save", "PALETTE", "SINGLE_COLUMN", "DOUBLE_COLUMN", "plot_membrane",
           "model_threshold", "plot_raster", "plot_spike_time_map", "first_spike_times", "plot_guidance",
           "event_step", "plot_receptive_fields", "plot_weight_history", "weight_tiles", "plot_curves",
           "plot_training", "plot_confusion", "plot_firing_rates"]
