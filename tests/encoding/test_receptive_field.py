"""Receptive field: kernel values of seeds_spec 2.2 and a naive per-pixel reference."""

import numpy as np
import pytest
import torch

from bioSNN.encoding import kernel, receptive_field
from bioSNN.errors import InputError


def naive(img, values):
    """Per-pixel loop over the window, skipping taps outside the image (the seed's structure)."""
    h, w = img.shape
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            total = 0.0
            for a in range(-2, 3):
                for b in range(-2, 3):
                    if 0 <= i + a < h and 0 <= j + b < w:
                        total += values[abs(a) + abs(b)] * img[i + a, j + b] / 255
            out[i, j] = total
    return out


def test_kernel_values_and_counts():
    k = kernel("training")
    assert k[2, 2] == 1 and k[2, 3] == 0.625 and k[2, 4] == 0.125 and k[1, 4] == -0.125 and k[0, 0] == -0.5
    values, counts = np.unique(k, return_counts=True)
    assert dict(zip(values.tolist(), counts.tolist())) == {-0.5: 4, -0.125: 8, 0.125: 8, 0.625: 4, 1.0: 1}
    assert k.sum() == 1.5 and k[k > 0].sum() == 4.5
    assert kernel("formula")[2, 4] == 0.25
    assert np.array_equal(kernel("formula"), 1 - 0.375 * (np.abs(np.arange(-2, 3))[:, None] + np.abs(np.arange(-2, 3))))


@pytest.mark.parametrize("variant", ["training", "formula"])
def test_matches_naive_loop_on_non_square(variant):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(3, 7, 11)).astype(np.uint8)
    values = {"training": (1, 0.625, 0.125, -0.125, -0.5), "formula": (1, 0.625, 0.25, -0.125, -0.5)}[variant]
    pot = receptive_field(imgs, variant)
    assert pot.shape == imgs.shape and pot.dtype == np.float64
    for k in range(3):
        assert np.allclose(pot[k], naive(imgs[k].astype(float), values), rtol=0, atol=1e-13)


def test_torch_input_gives_same_result():
    imgs = np.random.default_rng(1).integers(0, 256, size=(2, 9, 9))
    assert np.array_equal(receptive_field(torch.tensor(imgs, dtype=torch.float32)), receptive_field(imgs))


@pytest.mark.parametrize("bad,msg", [
    (np.full((2, 4, 4), np.nan), "NaN"),
    (np.full((2, 4, 4), -1.0), "non-negative"),
    (np.full((2, 4, 4), 300.0), "must not exceed 255.*to_uint8"),
    (np.zeros(5), "at least 2 dimensions"),
])
def test_bad_input(bad, msg):
    with pytest.raises(InputError, match=msg):
        receptive_field(bad)


def test_unknown_variant():
    with pytest.raises(InputError, match="unknown receptive-field variant"):
        receptive_field(np.zeros((4, 4)), "gaussian")
