"""Receptive-field mosaics and weight histories."""

import numpy as np
import pytest

from bioSNN.errors import DataError, InputError
from bioSNN.plotting import plot_receptive_fields, plot_weight_history, weight_tiles
from bioSNN.weight_history import WeightHistory, append_snapshot, load_weight_history, square_shape


def test_tiles_place_each_neuron():
    w = np.arange(3 * 6, dtype=float).reshape(6, 3)  # 3 neurons, 2x3 images
    mosaic = weight_tiles(w, (2, 3), columns=2)
    assert mosaic.shape == (5, 7)
    assert np.array_equal(mosaic[0:2, 0:3], w[:, 0].reshape(2, 3))
    assert np.array_equal(mosaic[0:2, 4:7], w[:, 1].reshape(2, 3))
    assert np.array_equal(mosaic[3:5, 0:3], w[:, 2].reshape(2, 3))
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[3:5, 4:7]).all()
    with pytest.raises(InputError, match="n_in = 6"):
        weight_tiles(np.zeros((5, 2)), (2, 3))


def test_signed_weights_get_a_centred_diverging_map():
    w = np.linspace(-1, 3, 32).reshape(16, 2)
    ax = plot_receptive_fields(w, (4, 4), unit="mV")
    image = ax.images[0]
    assert image.get_cmap().name == "RdBu_r"
    assert image.get_clim() == (-3.0, 3.0)
    assert ax.child_axes[0].get_ylabel() == "weight (mV)"  # the colour bar, beside the mosaic
    ax = plot_receptive_fields(np.abs(w), (4, 4), neurons=[1])
    assert ax.images[0].get_cmap().name == "viridis" and ax.images[0].get_array().shape == (4, 4)


def test_history_keeps_first_and_newest_and_replaces_redone_steps(tmp_path):
    path = tmp_path / "weights_history.npz"
    for step in range(0, 60, 10):
        append_snapshot(path, step, np.full((4, 3), step), image_shape=(2, 2), step_name="examples", unit="mV",
                        max_snapshots=4)
    h = load_weight_history(path)
    assert h.steps.tolist()[0] == 0 and h.steps.tolist()[-1] == 50 and len(h.steps) <= 4
    assert all(h.w[i, 0, 0] == s for i, s in enumerate(h.steps))
    append_snapshot(path, 20, np.full((4, 3), -1), image_shape=(2, 2), step_name="examples", unit="mV")  # resumed
    h = load_weight_history(tmp_path)  # the folder works too
    assert h.steps.tolist()[-1] == 20 and h.w[-1, 0, 0] == -1 and (h.steps < 20).sum() == len(h.steps) - 1
    assert h.image_shape == (2, 2) and h.unit == "mV"


def test_history_limits_neurons_and_rejects_bad_files(tmp_path):
    path = append_snapshot(tmp_path / "h.npz", 0, np.zeros((9, 100)), image_shape=(1, 3, 3), step_name="epoch",
                           unit="1")
    h = load_weight_history(path)
    assert h.w.shape == (1, 9, 16) and h.image_shape == (3, 3)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="unreadable weight history"):
        load_weight_history(tmp_path / "bad.npz")
    with pytest.raises(DataError, match="no weight history"):
        load_weight_history(tmp_path / "missing.npz")
    with pytest.raises(InputError, match="n_in, N"):
        append_snapshot(tmp_path / "h.npz", 1, np.zeros(9), image_shape=None, step_name="epoch", unit="1")
    assert square_shape(784) == (28, 28) and square_shape(10) is None


def test_history_figure_has_a_tile_per_snapshot_and_neuron():
    h = WeightHistory(np.arange(10), np.random.default_rng(0).random((10, 16, 5)), (4, 4), "epoch", "mV")
    fig = plot_weight_history(h, neurons=[0, 2, 4], max_rows=4)
    tiles = [a for a in fig.axes if a.images]
    assert len(tiles) == 12  # 4 rows (first and last included) x 3 neurons
    assert [a.get_title() for a in tiles[:3]] == ["neuron 0", "neuron 2", "neuron 4"]
    assert tiles[0].get_ylabel() == "epoch\n0" and tiles[-3].get_ylabel() == "epoch\n9"
    from bioSNN.plotting import new_figure

    fig, grid = new_figure(2, 2, width="double")
    assert plot_weight_history(h, neurons=[1, 3], max_rows=2, ax=grid) is fig
    assert grid[1, 0].get_ylabel() == "epoch\n9" and grid[0, 1].get_title() == "neuron 3"
    with pytest.raises(InputError, match="2 x 2 Axes"):
        plot_weight_history(h, neurons=[1, 3], max_rows=2, ax=grid[0])
    with pytest.raises(InputError, match="not in the history"):
        plot_weight_history(h, neurons=[7])
    with pytest.raises(InputError, match="image shape"):
        plot_weight_history(WeightHistory(h.steps, h.w, None, "epoch", "1"))
