"""Semi-supervised training: a labelled subset, per-sample guidance on every sample, labels of the
rest never read."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from bioSNN.data.splits import labelled_split
from bioSNN.errors import DataError, InputError
from bioSNN.supervised.losses import LossSpec, compute_loss, guidance_targets_at
from bioSNN.supervised.models import NetworkOutput
from bioSNN.supervised.pipeline import train_supervised
from bioSNN.supervised.readout import ClassReadout
from bioSNN.supervised.trainer import epoch_pool
from bioSNN.unsupervised.sample_guidance import SampleGuidance

from .helpers import toy_guidance, toy_split


def _output(B=4, T=6, n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return NetworkOutput(torch.rand(T, B, n, generator=g), torch.randn(T, B, n, generator=g), torch.arange(T).float(), ())


def test_label_terms_read_only_labelled_samples():
    spec = LossSpec.parse("ce-membrane+rate-mse+0.5*huber-sample")
    out, readout = _output(), ClassReadout.identity(2)
    samples = torch.randn(4, 2, 3)
    mask = torch.tensor([True, False, True, False])
    a, parts_a = compute_loss(spec, out, torch.tensor([0, 0, 1, 1]), readout, samples=samples, sample_stride=2,
                              labelled=mask)
    b, parts_b = compute_loss(spec, out, torch.tensor([0, 1, 1, 0]), readout, samples=samples, sample_stride=2,
                              labelled=mask)  # only unlabelled labels differ
    assert float(a) == float(b) and parts_a == parts_b
    c, _ = compute_loss(spec, out, torch.tensor([0, 0, 1, 1]), readout, samples=samples * 2, sample_stride=2,
                        labelled=mask)
    assert float(c) != float(a)  # the sample term reads every sample
    none, parts = compute_loss(LossSpec.parse("ce-membrane"), out, torch.tensor([0, 0, 1, 1]), readout,
                               labelled=torch.zeros(4, dtype=torch.bool))
    assert float(none) == 0.0 and not none.requires_grad and parts["ce-membrane"] == 0.0
    with pytest.raises(InputError, match="per-sample"):
        compute_loss(spec, out, torch.tensor([0, 0, 1, 1]), readout)


def test_distillation_reads_every_samples_recorded_vote_and_no_label():
    spec = LossSpec.parse("kd-sample", rate_scale=2.0)
    out, readout = _output(), ClassReadout.identity(2)
    counts = torch.tensor([[5, 0], [0, 3], [2, 2], [0, 0]])
    a, _ = compute_loss(spec, out, torch.tensor([0, 0, 1, 1]), readout, sample_counts=counts,
                        labelled=torch.tensor([True, False, False, False]))
    b, _ = compute_loss(spec, out, torch.tensor([1, 1, 0, 0]), readout, sample_counts=counts)
    assert float(a) == float(b) > 0                      # labels and the labelled mask: not read
    c, _ = compute_loss(spec, out, torch.tensor([0, 0, 1, 1]), readout, sample_counts=counts.flip(1))
    assert float(c) != float(a)                          # the recorded vote: read, every sample
    with pytest.raises(InputError, match="kd-sample"):
        compute_loss(spec, out, torch.tensor([0, 0, 1, 1]), readout)


def test_strided_targets_line_up_and_interpolate():
    target = torch.arange(4.0).reshape(1, 1, 4) * 10  # rows at steps 2, 5, 8, 11
    values, valid = guidance_targets_at(target, torch.arange(13.0), first_step=2, initial=-1.0, stride=3)
    assert valid.tolist() == [False, False] + [True] * 10 + [False]
    assert values[2, 0, 0] == 0 and values[5, 0, 0] == 10 and values[11, 0, 0] == 30
    assert values[6, 0, 0] == pytest.approx(10 + 10 / 3)


def test_epoch_pool_gives_every_method_the_same_steps():
    split = replace(toy_split(n=10), labelled=np.eye(10, dtype=bool)[[0, 3]].any(0))
    with_samples, without = epoch_pool(split, True), epoch_pool(split, False)
    assert len(with_samples) == len(without) == 20
    assert set(without.tolist()) == {0, 3} and set(with_samples.tolist()) == set(range(10))


def _files(tmp_path, n=40, stride=3, steps=16):
    split = toy_split(n=n, steps=steps)
    split.trains.save(tmp_path / "train.npz")
    g = toy_guidance(steps=steps)
    rng = np.random.default_rng(1)
    T = len(range(stride - 1, steps - 1, stride))
    samples = SampleGuidance(rng.normal(5, 3, (n, 2, T)).astype(np.float16), rng.integers(0, 5, (n, 2)), g.dt_seconds,
                             g.model, first_step=stride - 1, stride=stride, n_total=n)
    g.save(tmp_path / "guidance.npz")
    samples.save(tmp_path / "samples.npz")
    return split


def _train(tmp_path, name, loss="0.1*huber-sample+ce-membrane", **kw):
    from bioSNN.supervised.trainer import TrainConfig

    train_supervised("spikes", tmp_path, tmp_path / name, guidance=tmp_path / "guidance.npz",
                     sample_guidance=tmp_path / "samples.npz", model="spiking-mlp",
                     architecture={"hidden": [8]}, loss=loss,
                     config=TrainConfig(epochs=1, batch_size=8, progress=False), evaluate_test=False, **kw)
    return torch.load(tmp_path / name / "model.pt", weights_only=True)


@pytest.mark.parametrize("loss", ["0.1*huber-sample+ce-membrane", "kd-sample+ce-rate"])
def test_training_never_reads_unlabelled_labels(tmp_path, loss):
    split = _files(tmp_path)
    lab, unl = labelled_split(split.labels, per_class=2, seed=5)
    a = _train(tmp_path, "a", loss, labelled=2, labelled_seed=5)
    a2 = _train(tmp_path, "a2", loss, labelled=lab)  # the same samples, named by index
    scrambled = split.labels.copy()
    scrambled[unl] = 1 - scrambled[unl]
    replace(split.trains, labels=scrambled).save(tmp_path / "train.npz")
    b = _train(tmp_path, "b", loss, labelled=lab)
    for key in a["state_dict"]:
        torch.testing.assert_close(a["state_dict"][key], b["state_dict"][key], rtol=0, atol=0)
    assert a["readout"]["assignments"] == b["readout"]["assignments"]
    assert a["meta"]["data"]["labelled"] == {"per_class": 2, "seed": 5, "n": 4}
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], a2["state_dict"][key])
    c = _train(tmp_path, "c", loss)  # every label read: other weights
    assert any(not torch.equal(a["state_dict"][k], c["state_dict"][k]) for k in a["state_dict"])


def test_sample_guidance_must_match_the_training_split(tmp_path):
    _files(tmp_path)
    with pytest.raises(DataError, match="per-sample traces for"):
        _train(tmp_path, "x", limit=30)
    v = _train(tmp_path, "v", val_fraction=0.25)  # recorded on every sample: the validation rows are dropped
    samples = SampleGuidance.load(tmp_path / "samples.npz")
    from bioSNN.data.splits import describe_split, validation_split

    rest = validation_split(toy_split(n=40).labels, 0.25, 0)[0]
    part = replace(samples, traces=samples.traces[rest], counts=samples.counts[rest], stop=len(rest),
                   n_total=len(rest), source={"holdout": describe_split(0.25, 0, "train")})
    part.save(tmp_path / "samples.npz")
    w = _train(tmp_path, "w", val_fraction=0.25)  # recorded on the training part of the same hold-out
    for key in v["state_dict"]:  # the same targets either way
        assert torch.equal(v["state_dict"][key], w["state_dict"][key])
    with pytest.raises(DataError, match="hold-out"):
        _train(tmp_path, "y", val_fraction=0.5)
    samples.save(tmp_path / "samples.npz")
    replace(samples, start=0, stop=20, traces=samples.traces[:20], counts=samples.counts[:20]).save(tmp_path / "samples.npz")
    with pytest.raises(DataError, match="one shard"):
        _train(tmp_path, "z")


def test_labelled_with_a_guidance_file_needs_sample_guidance(tmp_path):
    from bioSNN.supervised.trainer import TrainConfig

    _files(tmp_path)
    with pytest.raises(InputError, match="needs --sample-guidance"):
        train_supervised("spikes", tmp_path, tmp_path / "o", guidance=tmp_path / "guidance.npz", model="spiking-mlp",
                         architecture={"hidden": [8]}, loss="ce-membrane", labelled=2,
                         config=TrainConfig(epochs=1, progress=False), evaluate_test=False)


def test_labelled_assignment_gives_every_class_a_neuron():
    """With one labelled sample per class a class can win no neuron by spike counts; the neurons silent
    on every labelled sample then take the class whose samples raised their potential most."""
    from bioSNN.supervised.pipeline import _labelled_guidance

    split = toy_split(n=4, steps=16)
    labels = np.array([0, 1, 0, 1])
    split = replace(split, trains=replace(split.trains, labels=labels))
    traces = np.zeros((4, 3, 5), np.float16)
    traces[1, 2] = 9.0  # neuron 2 rises on the class-1 sample
    counts = np.array([[4, 0, 0], [2, 0, 0], [0, 0, 0], [0, 0, 0]])  # neuron 0 fires more for class 0
    split = replace(split, targets=traces, first_step=4, target_stride=5)
    samples = SampleGuidance(traces, counts, 1e-3, toy_guidance().model, first_step=4, stride=5)
    g = _labelled_guidance(toy_guidance(), split, counts, np.array([0, 1]), samples)
    assert g.assignments.tolist()[0] == 0 and g.assignments.tolist()[2] == 1
    assert g.stride == 5 and g.templates.shape == (2, 3, 5)


def test_test_split_checked_like_the_training_split(tmp_path):
    """A test split at another dt or with other classes is refused before training (not scored silently)."""
    from bioSNN.supervised.losses import LossSpec
    from bioSNN.supervised.models import SpikingMLP
    from bioSNN.supervised.trainer import Trainer
    from bioSNN.equations import library

    train = toy_split(n=8)
    net = SpikingMLP(12, 2, hidden=[4], dt=1e-3, output_model=library.lif_delta(), hidden_model=library.lif_delta())
    spec, readout = LossSpec.parse("ce-membrane"), ClassReadout.identity(2)
    with pytest.raises(InputError, match="dt"):
        Trainer(net, spec, readout, train, tmp_path / "a", test=toy_split(n=4, dt=0.5e-3))
    other = toy_split(n=4)
    other = replace(other, trains=replace(other.trains, class_names=("b", "a")))
    with pytest.raises(InputError, match="classes"):
        Trainer(net, spec, readout, train, tmp_path / "b", val=other)
