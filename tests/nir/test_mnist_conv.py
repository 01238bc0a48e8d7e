"""The shipped models/mnist-conv through NIR: the same accuracy read back, the same spikes in Brian2 (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("nir")

from bioSNN.nir import evaluate_run, export, load, read, to_brian2, write  # noqa: E402
from bioSNN.supervised.checkpoint import load_trained  # noqa: E402
from bioSNN.supervised.pipeline import stored_split  # noqa: E402
from bioSNN.supervised.trainer import evaluate_split  # noqa: E402

RUN = Path(__file__).resolve().parents[2] / "models" / "mnist-conv"


@pytest.mark.slow
def test_mnist_conv_through_nir_and_brian2(mnist_root, tmp_path):
    torch.set_grad_enabled(False)
    try:
        original, readout, data = load_trained(RUN)
        net = load(read(write(tmp_path / "net.nir", export(original))))
        decision = data["meta"]["train"]["decision"]
        test = stored_split(data, split="test", root=mnist_root)
        ours = evaluate_run(net, RUN, root=mnist_root)
        theirs = evaluate_split(original, test, readout, decision=decision)
        assert ours["n"] == 10_000 and ours["confusion"] == theirs["confusion"]
        assert ours["accuracy"] == pytest.approx(0.9932)
        net64 = net.double()
        x, _, _ = test.batch(np.arange(100), "cpu")
        outs = net64.node_outputs(x.double())
        o = original(x)
        expected = readout.scores(o.spikes.float(), o.v.float(), decision).argmax(1).numpy()
        brian = to_brian2(net64)
        for j in range(100):
            r = brian.run(x[:, j])
            for name, s in r.spikes.items():
                assert np.array_equal(s, outs[name][:, j].reshape(s.shape[0], -1).numpy().astype(bool)), (j, name)
            scores = readout.scores(torch.zeros(r.v.shape[0], 1, r.v.shape[1]), torch.as_tensor(r.v[:, None]).float(),
                                    decision)
            assert int(scores.argmax(1)[0]) == expected[j], j
    finally:
        torch.set_grad_enabled(True)
