"""Membrane traces and rasters: labels with units, one line per neuron, overlay, spike markers."""

import numpy as np
import pytest
from brian2 import mV, ms

from bioSNN.equations import library, simulate
from bioSNN.errors import InputError
from bioSNN.plotting import first_spike_times, model_threshold, plot_membrane, plot_raster, plot_spike_time_map


@pytest.fixture(scope="module")
def lif_runs():
    model = library.lif_delta()
    x = np.random.default_rng(1).random((80, 12)) < 0.2
    w = np.full((12, 3), 3.0) * mV
    return model, simulate(model, x, w, 1 * ms, backend="brian2"), simulate(model, x, w, 1 * ms, backend="torch")


def test_membrane_overlay_units_threshold_and_spikes(lif_runs):
    model, a, b = lif_runs
    ax = plot_membrane(a["v"], 1 * ms, spikes=a["spikes"], model=model, overlay=b["v"], neurons=[0, 2])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("time (ms)", "v (mV)")
    solid = [l for l in ax.lines if l.get_linestyle() == "-"]
    dashed = [l for l in ax.lines if l.get_linestyle() == "--"]
    assert len(solid) == 2 and len(dashed) == 2  # neurons 0 and 2, Brian2 and torch
    np.testing.assert_allclose(solid[0].get_ydata(), a["v"][:, 0] / 1e-3)
    assert solid[0].get_xdata()[0] == 1.0  # row 0 is the end of step 0
    threshold = [l for l in ax.lines if l.get_linestyle() == ":"]
    assert len(threshold) == 1 and threshold[0].get_ydata()[0] == pytest.approx(-55.0)
    ticks = [l for l in ax.lines if l.get_marker() == "|"]
    assert sum(len(t.get_xdata()) for t in ticks) == int(a["spikes"][:, [0, 2]].sum()) > 0
    assert "max |difference|" in ax.get_title()
    labels = [t.get_text() for t in ax.figure.legends[0].get_texts()]  # own figure: legend below the axes
    assert "torch (dashed)" in labels and "threshold" in labels and "neuron 2" in labels
    first_tick = min(min(t.get_xdata()) for t in ticks)
    assert first_tick == int(np.argmax(a["spikes"][:, [0, 2]].any(axis=1)))  # k dt, dt = 1 ms


def test_membrane_into_a_given_axes_keeps_its_legend_there(lif_runs):
    from bioSNN.plotting import new_figure

    model, a, b = lif_runs
    fig, (left, right) = new_figure(1, 2, width="double")
    assert plot_membrane(a["v"], 1 * ms, model=model, ax=right) is right
    assert right.get_legend() is not None and not fig.legends and not left.lines


def test_membrane_bad_input(lif_runs):
    model, a, b = lif_runs
    with pytest.raises(InputError, match="out of range"):
        plot_membrane(a["v"], 1 * ms, neurons=[5])
    with pytest.raises(InputError, match="overlay has shape"):
        plot_membrane(a["v"], 1 * ms, overlay=b["v"][:10])
    bad = np.array(a["v"])
    bad[3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        plot_membrane(bad, 1 * ms)


def test_model_threshold_only_for_a_plain_comparison():
    assert model_threshold(library.lif_delta()) == -55 * mV
    assert model_threshold(library.seed_wta_if()) == 80 * mV  # the initial value of the state variable th
    assert model_threshold(library.diehl_cook_excitatory()) is None  # v > theta + v_th: per neuron


def test_raster_and_spike_time_map():
    s = np.zeros((20, 9), bool)
    s[2, 0] = s[5, 4] = s[6, 4] = True
    ax = plot_raster(s, 0.5 * ms, groups=[0, 0, 1, 1, 2, 2, -1, -1, -1])
    offsets = ax.collections[0].get_offsets()
    assert sorted(map(tuple, offsets.tolist())) == [(1.0, 0.0), (2.5, 4.0), (3.0, 4.0)]
    assert ax.get_xlim() == (0, 10.0) and ax.get_ylabel() == "neuron"
    np.testing.assert_array_equal(first_spike_times(s, 1e-3)[[0, 4]], [2.0, 5.0])
    assert np.isnan(first_spike_times(s, 1e-3)[1])
    ax = plot_spike_time_map(s, (3, 3), 1e-3)
    image = ax.images[0].get_array()
    assert image[0, 0] == 2.0 and image[1, 1] == 5.0 and image.mask[0, 1]
    assert ax.child_axes[0].get_ylabel() == "first spike (ms)"  # the colour bar, beside the image
    with pytest.raises(InputError, match="do not fill an image"):
        plot_spike_time_map(s, (2, 2), 1e-3)
    with pytest.raises(InputError, match="one entry per neuron"):
        plot_raster(s, 1e-3, groups=[0, 1])
