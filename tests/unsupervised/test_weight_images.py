"""Weight mosaics: tile k is neuron k's weights on the pixel grid."""

import numpy as np
import pytest

from bioSNN.errors import InputError
from bioSNN.unsupervised.weight_images import save_weight_image, weight_tiles


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


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_saved_formats(tmp_path, suffix, magic):
    path = save_weight_image(tmp_path / f"w{suffix}", np.random.default_rng(0).random((16, 5)), (4, 4))
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"w{suffix}"]
