"""Guidance panels, training curves with bands, confusion matrices, firing rates."""

import numpy as np
import pytest

from bioSNN.equations import library
from bioSNN.errors import InputError
from bioSNN.plotting import (event_step, new_figure, plot_confusion, plot_curves, plot_firing_rates, plot_guidance,
                             plot_training)
from bioSNN.unsupervised.guidance import Guidance


def _wta_guidance(n_out=3):
    t = np.zeros((3, n_out, 30), np.float32)
    for c in range(3):
        t[c, :, :10 + c] = np.linspace(0, 80, 10 + c)
        t[c, :, 10 + c:] = -500
        t[c, c % n_out, 10 + c:] = 0
    return Guidance(t, np.arange(n_out) % 3, ("BMP2", "BTR70", "T72"), 1e-3, library.seed_wta_if(), first_step=1)


def test_guidance_one_panel_per_class_one_line_per_neuron_event_marked():
    g = _wta_guidance()
    fig = plot_guidance(g)
    panels = [a for a in fig.axes if a.get_visible()]
    assert [a.get_title() for a in panels] == ["BMP2", "BTR70", "T72"]
    for c, ax in enumerate(panels):
        traces = [l for l in ax.lines if l.get_linestyle() == "-"]
        assert len(traces) == 3
        events = [l for l in ax.lines if l.get_linestyle() == "--"]
        assert len(events) == 1 and events[0].get_xdata()[0] == pytest.approx((10 + c + 2) * 1.0)  # ms
        assert ax.get_xlabel() == "time (ms)"
    assert panels[0].get_ylabel() == "potential (mV)"
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 3


def test_guidance_with_many_neurons_highlights_the_class_and_draws_into_given_axes():
    g = _wta_guidance(n_out=12)
    fig, axes = new_figure(1, 2, width="double")
    plot_guidance(g, classes=[0, 2], ax=list(axes))
    coloured = [l for l in axes[1].lines if l.get_color() != "0.75" and l.get_linestyle() == "-"]
    assert len(coloured) == int((g.assignments == 2).sum())
    with pytest.raises(InputError, match="out of range"):
        plot_guidance(g, classes=[3])
    assert event_step(np.ones((2, 5))) is None


def test_curves_mean_and_band_over_runs():
    runs = [[{"epoch": e, "loss": 2.0 / e, "test_accuracy": 0.5 + 0.1 * e + 0.01 * k} for e in (1, 2, 3)]
            for k in range(3)]
    ax = plot_curves(runs, ["test_accuracy"], percent=True, ylabel="accuracy (%)")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [61, 71, 81])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(60) and band.max() == pytest.approx(82)
    assert "3 runs" in ax.get_legend().get_texts()[0].get_text()
    fig = plot_training(runs[:1])
    assert [a.get_ylabel() for a in fig.axes] == ["training loss", "accuracy (%)"]
    assert not fig.axes[0].collections  # one run: no band
    fig, axes = new_figure(1, 2, width="double")
    assert plot_training(runs, ax=axes) is fig and axes[1].get_ylabel() == "accuracy (%)"
    with pytest.raises(InputError, match="none of"):
        plot_curves(runs, ["nope"])


def test_confusion_annotations_and_shading():
    ax = plot_confusion([[8, 2, 0], [1, 9, 0], [0, 0, 0]], ["a", "b", "c"])
    assert [t.get_text() for t in ax.texts][:3] == ["8", "2", "0"]
    assert ax.images[0].get_array()[0, 0] == pytest.approx(0.8)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert "85.0 %" in ax.get_title()
    with pytest.raises(InputError, match="square"):
        plot_confusion(np.zeros((2, 3)))


def test_firing_rates_in_hz():
    ax = plot_firing_rates([0.01, 0.1, 0.02], dt=5e-4)
    assert [round(p.get_height()) for p in ax.patches] == [20, 200, 40]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["input", "hidden 1", "output"]
    with pytest.raises(InputError, match="names"):
        plot_firing_rates([0.1, 0.2], names=["x"])
