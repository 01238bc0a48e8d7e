"""models/mnist-conv through NIR: exported, read back, scored in bioSNN; the first digits run in Brian2.

    python bench/nir_mnist_conv.py --out runs/nir-mnist-conv [--brian2 100] [--limit N]

Prints (and writes ``result.json``): the shipped network's test accuracy (one draw) beside the NIR
network's, the digits whose decision differs, and for the first ``--brian2`` digits the fraction of
identical spikes of every spiking node (Brian2 numpy target against the NIR network in float64) and
of identical decisions (Brian2 against the shipped float32 network).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from bioSNN.nir import evaluate_run, export, load, read, to_brian2, write
from bioSNN.supervised.checkpoint import load_trained
from bioSNN.supervised.pipeline import stored_split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default="models/mnist-conv")
    ap.add_argument("--out", default="runs/nir-mnist-conv")
    ap.add_argument("--limit", type=int, default=None, help="test digits scored in torch (default all)")
    ap.add_argument("--brian2", type=int, default=100, help="first test digits run in Brian2")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_grad_enabled(False)
    original, readout, data = load_trained(args.run)
    path = write(out / "network.nir", export(original))
    result = {"file_bytes": path.stat().st_size}
    net = load(read(path))
    decision = data["meta"]["train"]["decision"]
    t0 = time.perf_counter()
    nir_eval = evaluate_run(net, args.run, limit=args.limit)
    from bioSNN.supervised.trainer import evaluate_split

    test = stored_split(data, split="test", limit=args.limit)
    orig_eval = evaluate_split(original, test, readout, decision=decision)
    result.update(n=nir_eval["n"], accuracy_original=orig_eval["accuracy"], accuracy_nir=nir_eval["accuracy"],
                  same_confusion_matrix=bool(np.array_equal(orig_eval["confusion"], nir_eval["confusion"])),
                  torch_seconds=time.perf_counter() - t0)
    print(f"test accuracy, {nir_eval['n']} digits: original {100 * orig_eval['accuracy']:.2f} %, "
          f"through NIR {100 * nir_eval['accuracy']:.2f} %", flush=True)
    # decisions digit by digit, and Brian2 on the first digits
    n_b = min(args.brian2, len(test))
    x, y, _ = test.batch(np.arange(n_b), "cpu")
    o = original(x)
    d_orig = readout.scores(o.spikes.float(), o.v.float(), decision).argmax(1).numpy()
    net64 = net.double()
    outs = net64.node_outputs(x.double())
    nir_out = net64(x.double())
    d_nir64 = readout.scores(nir_out.spikes.float(), nir_out.v.float(), decision).argmax(1).numpy()
    t0 = time.perf_counter()
    b2 = to_brian2(net64)
    build = time.perf_counter() - t0
    same = {k: [] for k in b2.spike_monitors}
    d_b2 = []
    t0 = time.perf_counter()
    for j in range(n_b):
        r = b2.run(x[:, j])
        for k, s in r.spikes.items():
            ref = outs[k][:, j].reshape(s.shape[0], -1).numpy().astype(bool)
            same[k].append(float((s == ref).mean()))
        scores = readout.scores(torch.zeros(r.v.shape[0], 1, r.v.shape[1]), torch.as_tensor(r.v[:, None]).float(), decision)
        d_b2.append(int(scores.argmax(1)[0]))
    d_b2 = np.asarray(d_b2)
    result.update(brian2_digits=n_b, brian2_build_seconds=build, brian2_seconds=time.perf_counter() - t0,
                  brian2_identical_spike_fraction={k: float(np.mean(v)) for k, v in same.items()},
                  brian2_digits_all_spikes_identical=int(sum(all(v[j] == 1.0 for v in same.values()) for j in range(n_b))),
                  brian2_same_decision_as_original=float((d_b2 == d_orig).mean()),
                  nir64_same_decision_as_original=float((d_nir64 == d_orig).mean()),
                  brian2_accuracy=float((d_b2 == y.numpy()).mean()), original_accuracy_first=float((d_orig == y.numpy()).mean()))
    print(json.dumps(result, indent=1), flush=True)
    (out / "result.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
