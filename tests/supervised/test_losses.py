"""Losses: time alignment with the guidance, true-class rows, term parsing."""

import pytest
import torch

from bioSNN.errors import InputError
from bioSNN.supervised.losses import LossSpec, compute_loss, guidance_loss, guidance_targets_at
from bioSNN.supervised.models import NetworkOutput
from bioSNN.supervised.readout import ClassReadout


def test_guidance_row_k_is_step_first_step_plus_k():
    target = torch.arange(1.0, 6.0).reshape(1, 1, 5)  # rows 0..4 -> steps 1..5 (seed: first_step 1)
    aligned, valid = guidance_targets_at(target, torch.arange(7.0), first_step=1, initial=0.0)
    assert valid.tolist() == [True] * 6 + [False]
    assert aligned[:6, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # step 0: the initial potential
    half, _ = guidance_targets_at(target, torch.tensor([1.5, 0.5]), first_step=1, initial=0.0)
    assert half[:, 0, 0].tolist() == [1.5, 0.5]  # interpolated (the seed's interpolated time grid)


def test_no_overlap_and_neuron_count_are_errors():
    with pytest.raises(InputError, match="no output step"):
        guidance_targets_at(torch.zeros(1, 1, 3), torch.arange(3.0) + 10, first_step=0, initial=0.0)
    with pytest.raises(InputError, match="output neurons"):
        guidance_loss(torch.zeros(4, 2, 3), torch.arange(4.0), torch.zeros(2, 5, 4), 0, 0.0, None)


def test_true_rows_only_compare_the_labelled_neurons():
    readout = ClassReadout(torch.tensor([0, 1, 1]), 2)
    v = torch.zeros(4, 1, 3)
    target = torch.zeros(1, 3, 4)
    target[0, 0] = 100.0  # neuron 0 (class 0) far off
    rows = readout.true_rows(torch.tensor([1]))
    assert guidance_loss(v, torch.arange(4.0), target, 0, 0.0, rows, "mse") == 0.0
    assert guidance_loss(v, torch.arange(4.0), target, 0, 0.0, None, "mse") == pytest.approx(100.0**2 / 3)
    assert guidance_loss(v, torch.arange(4.0), target, 0, 0.0, None, "huber", 1.0) == pytest.approx(99.5 / 3)


def test_parse_and_combine():
    spec = LossSpec.parse("2*huber-guidance + 0.5*ce-rate", rows="all")
    assert spec.terms == (("huber-guidance", 2.0), ("ce-rate", 0.5)) and spec.needs_guidance
    assert LossSpec.from_dict(spec.to_dict()) == spec
    for bad in ("huber", "0*ce-rate", "ce-rate+"):
        with pytest.raises(InputError):
            LossSpec.parse(bad)
    readout = ClassReadout.identity(2)
    out = NetworkOutput(torch.zeros(5, 2, 2), torch.zeros(5, 2, 2), torch.arange(5.0), ())
    total, parts = compute_loss(spec, out, torch.tensor([0, 1]), readout, torch.ones(2, 2, 5))
    assert set(parts) == {"huber-guidance", "ce-rate"}
    assert float(total) == pytest.approx(2 * parts["huber-guidance"] + 0.5 * parts["ce-rate"])
    with pytest.raises(InputError, match="needs guidance"):
        compute_loss(spec, out, torch.tensor([0, 1]), readout, None)
