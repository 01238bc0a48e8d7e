"""The hybrid: the STDP network's twin fine-tuned in torch, chosen on validation with epoch 0 included."""

import numpy as np
import pytest
import torch

from bioSNN.errors import InputError
from bioSNN.supervised.hybrid import (HybridConfig, count_features, fit_readout, present_batch, train_hybrid,
                                      vote_scores)
from bioSNN.supervised.twin import DiehlCookTwin
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState


def small_problem(seed: int = 0, n_per_class: int = 8):
    """Two classes of 'images' that drive two disjoint halves of the input; a network whose first
    neurons listen to the first half, the others to the second (as STDP would have learned)."""
    rng = np.random.default_rng(seed)
    n_in, n = 16, 6
    config = DiehlCookConfig(n_neurons=n, present_ms=20, rest_ms=10, tick_ms=10, max_intensity=4, seed=seed)
    state = DiehlCookState.initial(config, n_in)
    state.w[:, :] = 0.02
    state.w[:8, :3] = 0.9
    state.w[8:, 3:] = 0.9
    assignments = np.array([0, 0, 0, 1, 1, 1])

    def images(k):
        labels = np.repeat([0, 1], k)
        rates = rng.random((2 * k, n_in)) * 20
        rates[labels == 0, :8] += 180
        rates[labels == 1, 8:] += 180
        return rates, labels

    return DiehlCookTwin(config, state), assignments, images(n_per_class), images(4), images(4)


def test_present_batch_reshows_silent_samples():
    twin, *_ = small_problem()
    gen = torch.Generator().manual_seed(0)
    counts, v = present_batch(twin, torch.zeros(3, twin.n_in), gen, record_v=True)
    assert counts.sum() == 0 and v.shape == (40, 3, twin.n)  # silent: shown up to max_intensity, still 0


def test_count_features_are_reproducible_per_seed():
    twin, _, (rates, _), *_ = small_problem()
    a = count_features(twin, rates, seed=3, batch_size=5)
    b = count_features(twin, rates, seed=3, batch_size=5)
    c = count_features(twin, rates, seed=4, batch_size=5)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and a.sum() > 0


def test_vote_scores_and_readout():
    scores = vote_scores(np.array([[0, 0, 0], [3, 1, 0]]), np.array([0, 1, -1]), 2)
    np.testing.assert_allclose(scores, [[0.5, 0.5], [0.75, 0.25]])
    r = fit_readout(np.array([[9, 0], [0, 9], [8, 1], [1, 7]]), np.array([0, 1, 0, 1]), 2, 1e-3)
    assert r(torch.tensor([[0.0, 8.0]], dtype=torch.float64)).argmax(1).item() == 1


def test_epoch_zero_takes_part_in_the_choice():
    """A learning rate that wrecks the network cannot lower the validation score: epoch 0 is chosen."""
    twin, assignments, train, val, test = small_problem()
    res = train_hybrid(twin, assignments, 2, train, val, test,
                       config=HybridConfig(epochs=1, lr=50.0, batch_size=8, readout_lr=0.0))
    assert set(res.val) >= {"vote", "epoch 0", "epoch 1", "ensemble"}
    assert res.val[res.chosen] == max(v for k, v in res.val.items() if k.startswith("epoch"))
    assert res.val[res.chosen] >= res.val["epoch 0"]
    if res.val["epoch 1"] <= res.val["epoch 0"]:
        assert res.chosen == "epoch 0"
    assert set(res.test) == {"student", "vote", "readout", "ensemble"}
    assert res.val["epoch 0"] >= 0.75  # the separable toy problem is read out by the untouched twin


def test_training_changes_the_student_not_the_teacher():
    twin, assignments, train, val, _ = small_problem(1)
    w0 = twin.w.detach().clone()
    res = train_hybrid(twin, assignments, 2, train, val,
                       config=HybridConfig(epochs=1, lr=1e-2, batch_size=8, guidance=0.1))
    student = res.state["student"]
    assert torch.equal(twin.w.detach(), w0)  # the teacher given is never modified
    assert res.history[1]["loss"] > 0
    if res.chosen != "epoch 0":
        assert not torch.equal(student.w.detach().double(), w0)
    assert float(student.w.detach().min()) >= 0 and float(student.w.detach().max()) <= 1  # weights stay in STDP's range


def test_ce_only_control_starts_from_random_weights():
    twin, assignments, train, val, _ = small_problem(2)
    res = train_hybrid(twin, assignments, 2, train, val, config=HybridConfig(epochs=0, init="random"))
    assert "vote" not in res.val and "ensemble" not in res.val
    student = res.state["student"]
    assert not torch.allclose(student.w.detach().double(), twin.w.detach())
    assert torch.equal(student.delays, twin.delays)
    np.testing.assert_allclose(student.w.detach().sum(0).numpy(), twin.config.w_total, rtol=1e-5)


def test_config_errors():
    with pytest.raises(InputError, match="init"):
        HybridConfig(init="imagenet")
    with pytest.raises(InputError, match="epochs"):
        HybridConfig(epochs=-1)
    with pytest.raises(InputError, match="dtype"):
        HybridConfig(dtype="float16")


def test_fixed_recipe_without_validation_keeps_the_last_epoch():
    """The k-label protocol: no validation images; the recipe's last epoch; L2 by CV inside the labels."""
    twin, assignments, train, _, test = small_problem()
    res = train_hybrid(twin, assignments, 2, train, None, test, config=HybridConfig(epochs=2, lr=1e-3))
    assert res.chosen == "epoch 2" and res.val == {} and res.ensemble_weight == 1.0
    assert res.history[0]["readout_selection"]["rule"] == "cv"
    assert res.test["student"] >= 0.75 and res.test["readout"] >= 0.75
    one = (train[0][[0, 8]], train[1][[0, 8]])  # one label per class: the fixed default L2
    res1 = train_hybrid(twin, assignments, 2, one, None, config=HybridConfig(epochs=1))
    assert res1.history[0]["readout_selection"]["rule"] == "fixed"
    from bioSNN.supervised.hybrid import READOUT_L2_DEFAULT
    assert res1.readout_l2 == READOUT_L2_DEFAULT


def test_distillation_pulls_the_readout_to_the_targets():
    """Distillation to targets that contradict the labels moves the student's decisions toward them."""
    twin, assignments, train, _, _ = small_problem()
    pool = small_problem(seed=1, n_per_class=8)[2][0]
    flipped = np.tile([[0.0, 1.0]], (len(pool), 1))  # the 'teacher' says class 1 for everything
    cfg = HybridConfig(epochs=3, batch_size=4, lr=0.0, readout_lr=0.2, distill=5.0)
    res = train_hybrid(twin, assignments, 2, train, None, config=cfg, unlabelled=(pool, flipped))
    plain = train_hybrid(twin, assignments, 2, train, None, config=HybridConfig(epochs=3, batch_size=4, lr=0.0, readout_lr=0.2))
    counts = count_features(twin, pool, seed=9)
    import torch as _t
    p = lambda r: _t.softmax(r.state["readout"](_t.as_tensor(counts, dtype=_t.float32)), 1)[:, 1].mean().item()
    assert p(res) > p(plain) + 0.05
    with pytest.raises(InputError, match="needs unlabelled"):
        train_hybrid(twin, assignments, 2, train, None, config=HybridConfig(distill=1.0))
    with pytest.raises(InputError, match="targets must be finite"):
        train_hybrid(twin, assignments, 2, train, None, config=cfg, unlabelled=(pool, flipped[:3]))


def _stdp_folder(path, n=6):
    """A diehl_cook folder on the shipped digits (short presentations), as biosnn unsupervised writes it."""
    from bioSNN.data import load_images
    from bioSNN.unsupervised.artifacts import SavedNetwork, save_network
    from bioSNN.unsupervised.diehl_cook import excitatory_model

    config = DiehlCookConfig(n_neurons=n, present_ms=10, rest_ms=5, tick_ms=5, max_intensity=3, seed=0)
    state = DiehlCookState.initial(config, 784)
    source = {**dict(load_images("mnist-subset", split="train").source),
              "holdout": {"fraction": 0.5, "seed": 0, "rule": "stratified", "part": "train"}}
    save_network(path, SavedNetwork("diehl_cook", {"w": state.w, "delay_ms": state.delay_ms, "theta": state.theta},
                                    np.arange(n) % 10, tuple(str(d) for d in range(10)),
                                    excitatory_model(False, config), {"config": config.to_dict(), "data": source}),
                 metrics={}, run_config={"preset": "diehl_cook"})
    return path


def test_cli_hybrid_with_k_labels_and_distillation(tmp_path, capsys):
    """`biosnn hybrid --labelled K --distill W`: K labels per class, no validation read; evaluable."""
    from bioSNN.cli import main
    from bioSNN.supervised.hybrid import load_hybrid

    stdp = _stdp_folder(tmp_path / "stdp")
    assert main(["hybrid", str(stdp), "--labelled", "2", "--distill", "1", "--epochs", "1", "--n-train", "200",
                 "--no-progress", "--out", str(tmp_path / "run")]) == 0
    assert "trained on 20 labelled images, fixed recipe (epoch 1)" in capsys.readouterr().out
    import json
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["labelled"] == {"per_class": 2, "seed": 0} and config["hybrid"]["distill"] == 1.0
    twin, readout, *_ = load_hybrid(tmp_path / "run")
    assert twin.n == 6 and readout.linear.weight.shape == (10, 6)
    assert main(["evaluate", str(tmp_path / "run"), "--limit", "20", "--no-progress"]) == 0
    assert "accuracy" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["hybrid", str(stdp), "--labelled", "0", "--no-progress", "--out", str(tmp_path / "run2")])
    assert "--labelled must be at least 1" in capsys.readouterr().err
