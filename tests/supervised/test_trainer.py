"""Trainer: learning, exact resume, guidance checks, clear errors, the CLI."""

import json

import numpy as np
import pytest
import torch

from bioSNN.cli import main
from bioSNN.data.seed_layout import write_seed_layout
from bioSNN.equations import library
from bioSNN.errors import InputError, ModelMismatchError
from bioSNN.supervised import ClassReadout, GuidedBilayer, LossSpec, SpikingMLP, TrainConfig, Trainer
from bioSNN.supervised.checkpoint import load_trained

from .helpers import toy_guidance, toy_split


def _trainer(tmp_path, name="run", epochs=3, net=None, loss="huber-guidance+0.1*ce-membrane", guidance=True,
             rows="all", **cfg):
    torch.manual_seed(0)
    net = net() if net else GuidedBilayer(12, 2, dynamics="model", w_init=2.0)
    config = TrainConfig(epochs=epochs, batch_size=8, lr=0.05, progress=False, **cfg)
    return Trainer(net, LossSpec.parse(loss, rows=rows), ClassReadout.identity(2), toy_split(image_shape=(3, 4)),
                   tmp_path / name,
                   config=config, test=toy_split(seed=1), guidance=toy_guidance() if guidance else None)


def test_loss_decreases_and_accuracy_rises(tmp_path):
    metrics = _trainer(tmp_path, epochs=6).fit()
    h = metrics["history"]
    assert h[-1]["loss"] < 0.6 * h[0]["loss"]
    assert h[-1]["test_accuracy"] >= 0.9
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"model.pt", "checkpoint.pt", "metrics.json", "config.json"} <= files
    net, readout, data = load_trained(tmp_path / "run")
    assert data["history"][-1]["epoch"] == 6 and readout.n_classes == 2


def _mlp():
    return SpikingMLP(12, 2, hidden=(6,), dropout=0.2, output_model=library.lif_delta())


@pytest.mark.parametrize("shift", [0, 1])
def test_resume_is_exact(tmp_path, shift):
    straight = _trainer(tmp_path, "a", net=_mlp,
                        loss="ce-rate", guidance=False, decision="rate", augment_shift=shift)
    straight.fit()
    first = _trainer(tmp_path, "b", net=_mlp,
                     loss="ce-rate", guidance=False, decision="rate", augment_shift=shift)
    partial = first.fit(max_steps=8)  # stops inside epoch 2 (6 batches per epoch)
    assert not partial["complete"]
    again = _trainer(tmp_path, "b", net=_mlp,
                     loss="ce-rate", guidance=False, decision="rate", augment_shift=shift)
    again.fit(resume=True)
    for (k, a), (_, b) in zip(straight.net.state_dict().items(), again.net.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)


def test_guidance_from_another_model_or_dt_is_refused(tmp_path):
    other = toy_guidance(model=library.seed_wta_if(D=2.0 * 1e-3 * 1000 * library.seed_wta_if().parameters["D"] / 5))
    net = GuidedBilayer(12, 2)
    with pytest.raises(ModelMismatchError, match="allow_mismatch"):
        Trainer(net, LossSpec(), ClassReadout.identity(2), toy_split(), tmp_path, guidance=other)
    Trainer(net, LossSpec(), ClassReadout.identity(2), toy_split(), tmp_path, guidance=other, allow_mismatch=True)
    g = toy_guidance()
    slow = GuidedBilayer(12, 2, dt=2e-3)
    with pytest.raises(ModelMismatchError, match="dt"):
        Trainer(slow, LossSpec(), ClassReadout.identity(2), toy_split(dt=2e-3), tmp_path, guidance=g)
    with pytest.raises(InputError, match="dt = 1 ms"):
        Trainer(slow, LossSpec.parse("ce-rate"), ClassReadout.identity(2), toy_split(), tmp_path)
    with pytest.raises(InputError, match="3 outputs"):
        Trainer(GuidedBilayer(12, 3), LossSpec(), ClassReadout.identity(2), toy_split(), tmp_path, guidance=g)


def test_missing_guidance_and_nan_loss_are_clear(tmp_path):
    with pytest.raises(InputError, match="needs guidance"):
        _trainer(tmp_path, guidance=False)
    trainer = _trainer(tmp_path, "nan", net=_mlp, loss="ce-membrane", guidance=False)
    with torch.no_grad():
        trainer.net.readout.weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        trainer.fit()


def test_cli_trains_seed_layout_and_evaluates(tmp_path, capsys):
    split = toy_split(n=24, steps=16)
    targets = np.stack([toy_guidance().templates[y] for y in split.labels]).astype(np.float64)
    for name in ("train", "test"):
        write_seed_layout(tmp_path / "seed", name, split.trains, targets)
    out = tmp_path / "out"
    rc = main(["supervised", "--dataset", "seed", "--root", str(tmp_path / "seed"), "--model", "guided-bilayer",
               "--dynamics", "seed", "--loss", "huber-guidance", "--epochs", "2", "--batch-size", "4", "--lr", "0.05",
               "--out", str(out), "--no-progress"])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 2 and "test_accuracy" in metrics["final"]
    capsys.readouterr()
    assert main(["evaluate", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "confusion" in text
    assert main(["supervised", "--dataset", "seed", "--root", str(tmp_path / "nowhere"), "--overwrite",
                 "--out", str(out)]) == 2
    assert "nowhere" in capsys.readouterr().err and (out / "model.pt").exists()  # the old run is put back


def test_tensorboard_logs_when_installed(tmp_path):
    pytest.importorskip("tensorboard")
    trainer = _trainer(tmp_path, "tb", epochs=1, tensorboard=True)
    trainer.fit()
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb" / "tb").iterdir())


def test_shift_augmentation_moves_spikes_on_the_grid():
    from bioSNN.supervised.data import shift_spikes

    x = torch.zeros(4, 16, 2, 6, 6)  # [T, B, C, H, W]: one 2 x 2 blob per channel in the centre
    x[..., 2:4, 2:4] = 1
    flat = x.reshape(4, 16, -1)
    y = shift_spikes(flat, (2, 6, 6), 2, seed=0, epoch=1, index=range(16)).reshape(x.shape)
    assert torch.equal(y.sum((2, 3, 4)), x.sum((2, 3, 4)))  # a shift of <= 2 keeps the blob inside
    moved = [not torch.equal(y[:, b], x[:, b]) for b in range(16)]
    assert sum(moved) >= 12  # (0, 0) has probability 1/25 per sample
    assert torch.equal(y[:, :, 0], y[:, :, 1])  # channels move together
    # a sample's shift depends on its index, not on the batch it is in
    part = shift_spikes(flat[:, 5:9], (2, 6, 6), 2, seed=0, epoch=1, index=range(5, 9)).reshape(4, 4, 2, 6, 6)
    assert torch.equal(part, y[:, 5:9])
    with pytest.raises(InputError, match="image grid"):
        shift_spikes(torch.zeros(2, 1, 10), (3, 3), 1, seed=0, epoch=0, index=[0])
    with pytest.raises(InputError, match="augment_shift"):
        TrainConfig(augment_shift=-1)
    with pytest.raises(InputError, match="backend must be one of"):
        TrainConfig(backend="cupy")


def test_shift_augmentation_needs_an_image_grid(tmp_path):
    net = GuidedBilayer(12, 2)
    config = TrainConfig(epochs=1, augment_shift=1, progress=False)
    with pytest.raises(InputError, match="image grid"):
        Trainer(net, LossSpec.parse("ce-membrane"), ClassReadout.identity(2), toy_split(), tmp_path, config=config)


def test_resume_keeps_the_initial_weight_snapshot(tmp_path):
    from bioSNN.weight_history import load_weight_history

    first = _trainer(tmp_path, "r", checkpoint_every=2)
    w0 = first.net.weight.detach().clone()
    first.fit(max_steps=3)
    _trainer(tmp_path, "r", checkpoint_every=2).fit(resume=True)
    h = load_weight_history(tmp_path / "r")
    assert h.steps.tolist() == [0, 1, 2, 3] and h.image_shape == (3, 4)
    np.testing.assert_array_equal(h.w[0], w0.numpy().T)


def _image_split(n=24, seed=0):
    """Images encoded on the fly (Poisson): class 1 bright on the left half, class 0 on the right."""
    from bioSNN.encoding import encode_images
    from bioSNN.supervised.data import Redraw, SupervisedSplit

    labels = np.arange(n) % 2
    images = np.zeros((n, 3, 4), np.uint8)
    images[labels == 1, :, :2] = 250
    images[labels == 0, :, 2:] = 250
    options = {"max_rate": 400.0, "seed": seed}
    trains = encode_images(images, "poisson", T=15, dt=1e-3, labels=labels, class_names=("a", "b"), **options)
    return SupervisedSplit(trains, source="toy images", encoding=Redraw(images, "poisson", 15, 1e-3, options))


def test_redraw_shows_fresh_spikes_every_epoch_and_resumes_exactly(tmp_path):
    split = _image_split()
    idx = np.array([3, 7])
    a0 = split.redrawn(idx, seed=0, epoch=0)
    assert a0.shape == split.batch(idx)[0].shape
    assert torch.equal(a0, split.redrawn(idx, seed=0, epoch=0))           # a function of (seed, epoch, sample)
    assert not torch.equal(a0, split.redrawn(idx, seed=0, epoch=1))       # ... new each epoch
    assert torch.equal(split.redrawn(np.array([7]), seed=0, epoch=0)[:, 0], a0[:, 1])  # not of the batch
    assert torch.equal(split.subset(idx).redrawn(np.array([1]), seed=0, epoch=0)[:, 0],
                       split.subset(idx).redrawn(np.array([1]), seed=0, epoch=0)[:, 0])

    def run(name, **kw):
        torch.manual_seed(0)
        net = SpikingMLP(12, 2, hidden=(6,), output_model=library.lif_delta())
        config = TrainConfig(epochs=6, batch_size=8, lr=0.05, progress=False, redraw=True, decision="rate")
        trainer = Trainer(net, LossSpec.parse("ce-rate"), ClassReadout.identity(2), split, tmp_path / name,
                          config=config)
        return trainer, trainer.fit(**kw)

    straight, metrics = run("a")
    assert metrics["history"][-1]["train_accuracy"] >= 0.75
    assert not run("b", max_steps=8)[1]["complete"]   # stops inside epoch 3 (3 batches per epoch)
    again, _ = run("b", resume=True)
    for (k, a), (_, b) in zip(straight.net.state_dict().items(), again.net.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)


def test_redraw_needs_a_random_encoder_on_images(tmp_path):
    from bioSNN.supervised.data import Redraw

    config = TrainConfig(epochs=1, redraw=True, progress=False)
    with pytest.raises(InputError, match="--redraw needs images"):
        Trainer(GuidedBilayer(12, 2), LossSpec.parse("ce-membrane"), ClassReadout.identity(2), toy_split(), tmp_path,
                config=config)
    with pytest.raises(InputError, match="deterministic"):
        Redraw(np.zeros((1, 3, 4), np.uint8), "regular", 10, 1e-3, {})


def test_training_leaves_the_global_random_generators_alone(tmp_path):
    """The run seeds its own draws; the caller's torch and numpy generator states are unchanged."""
    from bioSNN.supervised.pipeline import train_supervised

    toy_split(n=16, steps=8).trains.save(tmp_path / "train.npz")
    torch.manual_seed(123)
    np.random.seed(7)
    before_torch, before_np = torch.get_rng_state(), np.random.get_state()[1].copy()
    train_supervised("spikes", tmp_path, tmp_path / "run", model="spiking-mlp", architecture={"hidden": [4]},
                     loss="ce-membrane", config=TrainConfig(epochs=1, batch_size=8, progress=False),
                     evaluate_test=False)
    assert torch.equal(torch.get_rng_state(), before_torch)
    assert np.array_equal(np.random.get_state()[1], before_np)


@pytest.mark.slow  # ~30 s of compiling; tests/supervised/test_layers.py pins the bptt layer to eager in CI
def test_bptt_backend_trains_like_eager(tmp_path, monkeypatch):
    """``TrainConfig(backend="bptt")`` (the CLI's ``--torch-backend bptt``) trains the same weights as the
    reference ``"eager"`` backend, to float32 rounding, over a whole epoch of updates."""
    from bioSNN.equations import torch_step

    monkeypatch.setattr(torch_step, "BPTT_STEPS", 4)  # short chunks compile quickly
    nets = {}
    for backend in ("eager", "bptt"):
        trainer = _trainer(tmp_path, backend, net=_mlp, epochs=1, loss="ce-rate", guidance=False, decision="rate",
                           backend=backend)
        trainer.fit()
        nets[backend] = trainer.net.state_dict()
    torch.manual_seed(0)  # the initial weights, as _trainer draws them
    assert any(not torch.equal(a, b) for a, b in zip(nets["eager"].values(), _mlp().state_dict().values()))
    for k, a in nets["eager"].items():
        torch.testing.assert_close(nets["bptt"][k], a, rtol=1e-4, atol=1e-5, msg=k)
