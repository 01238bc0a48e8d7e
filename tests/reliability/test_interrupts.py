"""SIGINT/SIGTERM stop every trainer at its next safe point, after a checkpoint, with a named error;
resuming gives exactly the uninterrupted result (issue: interrupts)."""

import os
import signal

import numpy as np
import pytest
import torch
from brian2 import NetworkOperation, NumpyCodeObject, ms

from bioSNN.errors import RunInterrupted
from bioSNN.interrupts import stop_requests
from bioSNN.unsupervised import training
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig
from bioSNN.unsupervised.training import load_checkpoint, train

CFG = DiehlCookConfig(n_neurons=4, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0, seed=3)


def test_stop_requests_restores_the_previous_handlers():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_requests() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signal == "SIGTERM"
        with pytest.raises(RunInterrupted, match="SIGTERM received: stopped here; resume so"):
            stop.check("here", "resume so")
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


@pytest.mark.parametrize("sig", [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
                         ids=["SIGINT", "SIGTERM"])
def test_diehl_cook_signal_inside_a_brian2_run_finishes_the_slice_then_stops(tmp_path, monkeypatch, sig):
    rates = np.random.default_rng(0).integers(0, 256, size=(6, 16)).astype(float) / 8.0 * 6
    whole = train(CFG, rates, progress=False, codeobj_class=NumpyCodeObject)
    original = training.build_network

    def with_signal(*args, **kwargs):  # the signal arrives in the middle of the first slice's simulation
        built = original(*args, **kwargs)
        fired = []

        def send():
            if not fired:
                fired.append(True)
                os.kill(os.getpid(), sig)

        built.net.add(NetworkOperation(send, when="start", dt=120 * ms))
        return built

    monkeypatch.setattr(training, "build_network", with_signal)
    ckpt = tmp_path / "ckpt.npz"
    with pytest.raises(RunInterrupted, match=f"{sig.name} received: stopped after 2 of 6 training examples; "
                                             "continue with --resume"):
        train(CFG, rates, checkpoint=ckpt, progress=False, codeobj_class=NumpyCodeObject)
    assert load_checkpoint(ckpt).examples_done == 2  # the whole first slice, not a cut one
    monkeypatch.setattr(training, "build_network", original)
    resumed = train(CFG, rates, checkpoint=ckpt, resume=True, progress=False, codeobj_class=NumpyCodeObject)
    assert np.array_equal(whole.w, resumed.w) and np.array_equal(whole.theta, resumed.theta)


def test_supervised_trainer_stops_after_a_checkpoint_and_resumes_exactly(tmp_path, monkeypatch):
    from bioSNN.supervised import trainer as trainer_module

    from ..supervised.test_trainer import _mlp, _trainer

    kwargs = dict(net=_mlp, loss="ce-rate", guidance=False, decision="rate")
    straight = _trainer(tmp_path, "a", **kwargs)
    full = straight.fit()
    calls = {"n": 0}
    original = trainer_module.compute_loss

    def loss_then_signal(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 9:  # inside epoch 2 (6 batches per epoch)
            os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kw)

    monkeypatch.setattr(trainer_module, "compute_loss", loss_then_signal)
    with pytest.raises(RunInterrupted, match="SIGINT received: stopped at epoch 2, batch 3 of 6; continue with --resume"):
        _trainer(tmp_path, "b", **kwargs).fit()
    monkeypatch.setattr(trainer_module, "compute_loss", original)
    again = _trainer(tmp_path, "b", **kwargs)
    resumed = again.fit(resume=True)
    for (k, a), (_, b) in zip(straight.net.state_dict().items(), again.net.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    # the interrupted epoch's metrics count all of its batches, before and after the resume
    for ha, hb in zip(full["history"], resumed["history"]):
        for key in ("loss", "train_accuracy", "test_accuracy"):
            assert ha[key] == pytest.approx(hb[key], rel=1e-12, abs=1e-12), (ha["epoch"], key)


def test_cli_exits_130_with_the_message(monkeypatch, capsys):
    from bioSNN import cli
    from bioSNN.cli import verify

    def interrupted(args):
        raise RunInterrupted("SIGINT received: stopped at epoch 1, batch 2 of 5; continue with --resume (x)")

    monkeypatch.setattr(verify, "_cmd_verify", interrupted)
    assert cli.main(["verify"]) == 130
    assert "biosnn: interrupted: SIGINT received" in capsys.readouterr().err


@pytest.mark.slow  # compiles a cpp_standalone build (~1 min)
def test_standalone_training_stops_after_a_slice_and_resumes_exactly(tmp_path, monkeypatch):
    from bioSNN.unsupervised.diehl_cook import DiehlCookConfig
    from bioSNN.unsupervised.standalone import train_standalone

    cfg = DiehlCookConfig(n_neurons=3, present_ms=100, rest_ms=50, slice_examples=2, w_total=8.0, seed=5)
    rates = np.random.default_rng(0).integers(0, 256, size=(6, 16)).astype(float) / 8.0 * 6
    whole = train_standalone(cfg, rates, tmp_path / "build", progress=False)
    original = training.save_checkpoint

    def save_then_signal(*args, **kwargs):  # SIGINT arrives while the first slice's checkpoint is written
        original(*args, **kwargs)
        monkeypatch.setattr(training, "save_checkpoint", original)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(training, "save_checkpoint", save_then_signal)
    ckpt = tmp_path / "ckpt.npz"
    with pytest.raises(RunInterrupted, match="SIGINT received: stopped after 2 of 6 training examples"):
        train_standalone(cfg, rates, tmp_path / "build", progress=False, checkpoint=ckpt)
    assert load_checkpoint(ckpt).examples_done == 2
    resumed = train_standalone(cfg, rates, tmp_path / "build", progress=False, checkpoint=ckpt, resume=True)
    assert np.array_equal(whole.w, resumed.w) and np.array_equal(whole.theta, resumed.theta)


def test_wta_training_stops_after_a_chunk_on_sigint_and_resumes_exactly(tmp_path, monkeypatch):
    from bioSNN.unsupervised.artifacts import load_network
    from bioSNN.unsupervised.pipeline import train_wta
    from bioSNN.unsupervised.wta import WTAConfig, WTANetwork

    from ..unsupervised.test_wta import toy_trains

    trains = toy_trains()
    config = WTAConfig(n_neurons=3, P_th_mV=3.0, D_mV=0.1)
    train_wta(trains, tmp_path / "whole", config=config, epochs=2, chunk=4, backend="numpy", progress=False)
    calls, original = {"n": 0}, WTANetwork.present

    def signalled(self, *args, **kwargs):  # SIGINT arrives during the second epoch's second chunk
        calls["n"] += 1
        if calls["n"] == 4:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WTANetwork, "present", signalled)
    with pytest.raises(RunInterrupted, match="SIGINT received"):
        train_wta(trains, tmp_path / "cut", config=config, epochs=2, chunk=4, backend="numpy", progress=False)
    monkeypatch.setattr(WTANetwork, "present", original)
    train_wta(trains, tmp_path / "cut", config=config, epochs=2, chunk=4, backend="numpy", progress=False, resume=True)
    whole, cut = load_network(tmp_path / "whole"), load_network(tmp_path / "cut")
    assert np.array_equal(whole.arrays["w_mV"], cut.arrays["w_mV"])


def test_diehl_cook_signal_in_the_last_slice_or_after_training_stops_and_resumes_exactly(tmp_path, monkeypatch):
    """A stop requested during the last training slice, or during the assignment and recording that
    follow, was swallowed: the run finished with exit 0. Now: exit 130, and --resume ends as an
    uninterrupted run does."""
    from bioSNN.cli import main
    from bioSNN.unsupervised import pipeline
    from bioSNN.unsupervised.artifacts import load_network

    argv = ["unsupervised", "--dataset", "mnist-subset", "--n-neurons", "4", "--n-train", "6", "--n-assign", "6",
            "--guidance-per-class", "1", "--slice", "3", "--backend", "numpy", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "whole")]) == 0
    whole = load_network(tmp_path / "whole")
    original_counts, original_record = pipeline._counts, training._run_slices

    def last_slice(built, config, limit, start, after_slice, bar):  # the signal arrives in the final slice
        def after(index, done):
            if done == limit:
                os.kill(os.getpid(), signal.SIGINT)
            after_slice(index, done)
        return original_record(built, config, limit, start, after, bar)

    def counts_then_signal(*args, **kwargs):  # ... or while the neurons are being assigned
        out = original_counts(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)
        return out

    for name, patch in (("last", ("_run_slices", training, last_slice)),
                        ("assign", ("_counts", pipeline, counts_then_signal))):
        attr, module, fake = patch
        monkeypatch.setattr(module, attr, fake)
        assert main([*argv, "--out", str(tmp_path / name)]) == 130, name
        monkeypatch.setattr(module, attr, {"_run_slices": original_record, "_counts": original_counts}[attr])
        assert not (tmp_path / name / "network.npz").exists()
        assert main([*argv, "--resume", "--out", str(tmp_path / name)]) == 0
        again = load_network(tmp_path / name)
        for key in ("w", "theta"):
            assert np.array_equal(again.arrays[key], whole.arrays[key]), (name, key)
        assert np.array_equal(again.assignments, whole.assignments), name
