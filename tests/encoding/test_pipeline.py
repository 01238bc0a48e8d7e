"""encode_images: chunking does not change the result, streaming matches in-memory, options checked."""

import numpy as np
import pytest

from bioSNN.data import load_mnist_subset
from bioSNN.encoding import SpikeTrains, encode_images, rate_code, receptive_field
from bioSNN.errors import InputError


@pytest.fixture(scope="module")
def digits():
    return load_mnist_subset("test")[:60]


@pytest.mark.parametrize("encoder,options", [("rf-rate", {}), ("poisson", {"seed": 5}), ("latency", {}),
                                             ("regular", {"max_rate": 500.0}), ("diehl-cook", {"intensity": 3.0})])
def test_chunking_and_streaming_agree(tmp_path, digits, encoder, options):
    whole = encode_images(digits, encoder, T=40, chunk_size=1000, **options)
    chunked = encode_images(digits, encoder, T=40, chunk_size=7, **options)
    encode_images(digits, encoder, T=40, chunk_size=11, out=tmp_path / "s.npz", **options)
    streamed = SpikeTrains.load(tmp_path / "s.npz")
    assert np.array_equal(whole.packed, chunked.packed) and np.array_equal(whole.packed, streamed.packed)
    assert streamed.labels.tolist() == digits.labels.tolist() and streamed.class_names == digits.class_names
    assert streamed.provenance["encoder"] == encoder and streamed.provenance["source"]["reader"] == "mnist-subset"
    assert streamed.image_shape == (28, 28) and whole.counts().sum() > 0


def test_rf_rate_is_receptive_field_then_rate_code(digits):
    direct = rate_code(receptive_field(digits.images), 70)
    assert np.array_equal(encode_images(digits, "rf-rate", T=70).packed, direct.packed)


def test_option_errors(digits):
    with pytest.raises(InputError, match="has no option"):
        encode_images(digits, "rf-rate", T=10, max_rate=10)
    with pytest.raises(InputError, match="unknown encoder"):
        encode_images(digits, "morse", T=10)
    with pytest.raises(InputError, match="T must be positive"):
        encode_images(digits, "rf-rate", T=0)
    with pytest.raises(InputError, match="images must be"):
        encode_images(np.zeros((3, 4)), "rf-rate", T=10)


@pytest.mark.parametrize("encoder", ["rf-rate", "poisson", "regular", "latency", "diehl-cook"])
def test_empty_input(encoder):
    trains = encode_images(np.zeros((0, 6, 6), np.uint8), encoder, T=5)
    assert trains.shape == (0, 6, 36)


def test_torch_input_with_grad_and_label_checks(digits):
    import torch

    images = torch.tensor(digits.images[:4], dtype=torch.float32, requires_grad=True)
    trains = encode_images(images, "rf-rate", T=40, labels=torch.tensor([0, 1, 2, 3]))
    assert np.array_equal(trains.packed, encode_images(digits.images[:4], "rf-rate", T=40).packed)
    with pytest.raises(InputError, match="labels must be integers"):
        encode_images(digits.images[:2], "rf-rate", T=10, labels=[0.7, 1.2])


def test_encoder_options_come_from_signatures():
    from bioSNN.encoding import ENCODERS
    from bioSNN.encoding.poisson import DEFAULT_MAX_RATE, DIEHL_COOK_INTENSITY

    assert ENCODERS["poisson"].options == {"max_rate": DEFAULT_MAX_RATE, "seed": 0} and DEFAULT_MAX_RATE == 63.75
    assert ENCODERS["diehl-cook"].options["intensity"] == DIEHL_COOK_INTENSITY == 2.0
    assert ENCODERS["rf-rate"].options == {"variant": "training"}


def test_failure_midway_leaves_no_file(tmp_path):
    images = np.zeros((20, 8, 8))
    images[15, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        encode_images(images, "rf-rate", T=10, chunk_size=4, out=tmp_path / "x.npz")
    images[15, 0, 0] = 0
    (tmp_path / "x.npz").write_bytes(b"previous")

    def failing_rate_code(*args, **kwargs):
        raise RuntimeError("interrupted")

    import bioSNN.encoding.pipeline as pipeline
    original = pipeline.rate_code
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        return failing_rate_code() if calls["n"] == 3 else original(*args, **kwargs)

    pipeline.rate_code = flaky
    try:
        with pytest.raises(RuntimeError, match="interrupted"):
            encode_images(images, "rf-rate", T=10, chunk_size=4, out=tmp_path / "x.npz")
    finally:
        pipeline.rate_code = original
    assert (tmp_path / "x.npz").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npz"]
