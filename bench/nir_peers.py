"""NIR between bioSNN, snnTorch and Norse, measured both ways on MNIST (not run by CI).

    pip install --no-deps snntorch==1.0.0 norse==1.1.0 nir==1.0.8 nirtorch==2.6
    python bench/nir_peers.py --root ../shared/data/mnist --out runs/nir-peers

A. bioSNN -> NIR -> snnTorch, Norse: a bioSNN MLP (784 -> 100 ``lif_delta`` -> 10 ``lif_delta``, Poisson
   input, 20 steps of 0.1 ms, the time step snnTorch's importer assumes) trained by surrogate gradients
   on the first ``--train`` training digits; exported; run by each tool's own NIR importer on the
   first ``--test`` test digits: fraction of output spike entries equal to bioSNN's, and accuracy
   (output spike counts; ties to the lowest class).
B. snnTorch -> NIR -> bioSNN (torch and Brian2): the same-sized network trained in snnTorch
   (``Leaky``, reset to zero), exported by snnTorch, imported by bioSNN with both discretisations,
   and the first ``--brian2`` digits run in Brian2.

Every network is trained with fixed settings (nothing is chosen on the test digits); the numbers
measure agreement between tools, not a tuned accuracy.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bioSNN.data import load_images
from bioSNN.equations import library
from bioSNN.nir import export, load, to_brian2
from bioSNN.supervised import NeuronLayer

DT = 1e-4  # snnTorch's NIR importer assumes this step


def spikes(images: np.ndarray, T: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    p = torch.as_tensor(images.reshape(len(images), -1), dtype=torch.float32) / 255.0
    return (torch.rand(T, *p.shape, generator=g) < p).float()  # [T, N, 784]


def train(net: nn.Module, run, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float = 2e-3) -> None:
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for idx in torch.randperm(x.shape[1], generator=g).split(64):
            counts = run(net, x[:, idx]).sum(0)
            loss = nn.functional.cross_entropy(counts, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


def run_bio(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x)


def run_stepwise(net: nn.Module, x: torch.Tensor, reset) -> torch.Tensor:
    reset(net)
    out = []
    for t in range(x.shape[0]):
        o = net(x[t])
        out.append(o[0] if isinstance(o, tuple) else o)
    return torch.stack(out)


def accuracy(s: torch.Tensor, y: torch.Tensor) -> float:
    return float((s.sum(0).argmax(1) == y).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default="../shared/data/mnist")
    ap.add_argument("--out", default="runs/nir-peers")
    ap.add_argument("--train", type=int, default=10000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--brian2", type=int, default=20)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    torch.manual_seed(0)
    import snntorch as snn
    from snntorch import utils as snn_utils
    from snntorch.export_nir import export_to_nir
    from snntorch.import_nir import import_from_nir
    import norse.torch as norse

    tr, te = load_images("mnist", args.root, "train"), load_images("mnist", args.root, "test")
    xtr, ytr = spikes(tr.images[: args.train], args.T, 1), torch.as_tensor(tr.labels[: args.train])
    xte, yte = spikes(te.images[: args.test], args.T, 2), torch.as_tensor(te.labels[: args.test])
    result: dict = {"T": args.T, "dt": DT, "train": args.train, "test": args.test, "epochs": args.epochs}

    # ---------------------------------------------------------------- A: bioSNN -> peers
    lif = library.lif_delta()
    bio = nn.Sequential(nn.Linear(784, 100), NeuronLayer(lif, DT, 100, return_state=False),
                        nn.Linear(100, 10), NeuronLayer(lif, DT, 10, return_state=False))
    with torch.no_grad():  # drives in mV: start near the 10 mV threshold gap
        bio[0].weight.mul_(20)
        bio[2].weight.mul_(20)
    t0 = time.perf_counter()
    train(bio, run_bio, xtr, ytr, args.epochs, lr=0.02)  # weights in mV: a larger step than snnTorch's
    result["A_train_seconds"] = time.perf_counter() - t0
    bio.eval()
    graph = export(bio, input_shape=784)
    with torch.no_grad():
        ref = bio(xte)
        ours = load(graph)(xte).spikes
        peers = {
            "snntorch": run_stepwise(import_from_nir(graph), xte, snn_utils.reset),
            "norse": _norse_run(norse.from_nir(graph, dt=DT), xte),
        }
    result["A_bioSNN_accuracy"] = accuracy(ref, yte)
    result["A_bioSNN_roundtrip_identical"] = bool(torch.equal(ours, ref))
    for name, s in peers.items():
        result[f"A_{name}_same_spike_entries"] = float((s == ref).float().mean())
        result[f"A_{name}_accuracy"] = accuracy(s, yte)
        result[f"A_{name}_output_spikes_per_digit"] = float(s.sum() / s.shape[1])
    result["A_bioSNN_output_spikes_per_digit"] = float(ref.sum() / ref.shape[1])
    print(json.dumps(result, indent=1), flush=True)

    # ---------------------------------------------------------------- B: snnTorch -> bioSNN
    def leaky(n):
        return snn.Leaky(beta=torch.full((n,), 0.9), threshold=torch.ones(n), init_hidden=True,
                         reset_mechanism="zero", reset_delay=False)

    peer = nn.Sequential(nn.Linear(784, 100), leaky(100), nn.Linear(100, 10), leaky(10))
    t0 = time.perf_counter()
    train(peer, lambda m, x: run_stepwise(m, x, snn_utils.reset), xtr, ytr, args.epochs)
    result["B_train_seconds"] = time.perf_counter() - t0
    with torch.no_grad():
        ref = run_stepwise(peer, xte, snn_utils.reset)
        graph = export_to_nir(peer, torch.zeros(784))
        result["B_snntorch_accuracy"] = accuracy(ref, yte)
        for disc in ("input-first", "brian2"):
            s = load(graph, dt=DT, discretisation=disc)(xte).spikes
            result[f"B_bioSNN_{disc}_same_spike_entries"] = float((s == ref).float().mean())
            result[f"B_bioSNN_{disc}_accuracy"] = accuracy(s, yte)
        net64 = load(graph, dt=DT, discretisation="input-first").double()
        outs = net64.node_outputs(xte[:, : args.brian2].double())
        b2 = to_brian2(net64)
        last = net64._last
        same = [float((b2.run(xte[:, j]).spikes[last] == outs[last][:, j].numpy().astype(bool)).mean())
                for j in range(args.brian2)]
        result["B_brian2_digits"] = args.brian2
        result["B_brian2_same_spike_entries_vs_bioSNN_torch"] = float(np.mean(same))
        result["B_brian2_same_spike_entries_vs_snntorch"] = float(np.mean(
            [float((b2.run(xte[:, j]).spikes[last] == ref[:, j].numpy().astype(bool)).mean()) for j in range(args.brian2)]))
    print(json.dumps(result, indent=1), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=1))


def _norse_run(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Norse's graph executor keeps state between calls: one call per step, state carried."""
    state = None
    out = []
    for t in range(x.shape[0]):
        o, state = module(x[t], state)
        out.append(o)
    return torch.stack(out)


if __name__ == "__main__":
    main()
