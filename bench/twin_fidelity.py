"""The torch twin of a trained Diehl & Cook network against its Brian2 evaluation (issue 31, item 1).

For a trained folder (default ``models/mstar3-stdp``) and its test split:

1. Brian2 records the test images as ``biosnn evaluate`` does (the network's own backend, seeds and
   slices), with every presentation's input spikes (``record_standalone(input_spikes=True)``);
2. the twin (:mod:`bioSNN.supervised.twin`, float64) is fed exactly those input spikes with the same
   presentation protocol: spike counts compared example by example, vote accuracy against the shipped
   number;
3. the twin with its own Poisson draws (``--draw-seeds``): vote accuracy per seed;
4. wall times of both, as a ratio (one process, one after the other, same threads).

    python bench/twin_fidelity.py --model models/mstar3-stdp
    python bench/twin_fidelity.py --model models/mnist-dc100

Writes ``bench/results/twin-fidelity-<model>.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from bioSNN.data.datasets import load_images
from bioSNN.fileio import atomic_write_json
from bioSNN.supervised.data import image_options
from bioSNN.supervised.twin import PoissonSource, RecordedSource, load_twin, present
from bioSNN.unsupervised.assignment import accuracy, predict
from bioSNN.unsupervised.diehl_cook import DiehlCookState
from bioSNN.unsupervised.pipeline import rates_of
from bioSNN.unsupervised.standalone import record_standalone
from bioSNN.unsupervised.training import record


def test_images(saved, root: str | None, split: str, model: str | None = None):
    """The network's test images, read as it read its training images (older folders keep the data
    source in config.json only)."""
    source = saved.meta.get("data") or json.loads((Path(model) / "config.json").read_text())["data"]
    return load_images(source["reader"], root or source["root"], split, **image_options(source))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/mstar3-stdp")
    p.add_argument("--root", help="data root (default: the one the network records)")
    p.add_argument("--split", default="test")
    p.add_argument("--n", type=int, help="first N images only")
    p.add_argument("--draw-seeds", type=int, default=3, help="twin runs with its own Poisson draws")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="JSON file (default bench/results/twin-fidelity-<model>.json)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    twin, saved = load_twin(args.model)
    config = twin.config
    data = test_images(saved, args.root, args.split, args.model)
    if args.n:
        data = data[np.arange(min(args.n, len(data)))]
    rates = rates_of(data.images, config.input_total)
    state = DiehlCookState(saved.arrays["w"], saved.arrays["delay_ms"], saved.arrays["theta"])
    backend = json.loads((Path(args.model) / "config.json").read_text()).get("backend", "cython")
    n_classes = len(saved.class_names)
    start = time.perf_counter()
    if backend == "cpp_standalone":
        with tempfile.TemporaryDirectory(prefix="twin-bench-") as tmp:
            rec = record_standalone(config, rates, state, tmp, neuron=saved.model, input_spikes=True)
        reset = "run"
    else:
        from bioSNN.unsupervised.backends import codeobj_class

        rec = record(config, rates, state, neuron=saved.model, codeobj_class=codeobj_class(backend),
                     input_spikes=True)
        reset = "slice"
    brian_s = time.perf_counter() - start
    brian_acc = accuracy(predict(rec.counts, saved.assignments, n_classes), data.labels)
    start = time.perf_counter()
    res = present(twin, len(rates), RecordedSource(rec.presentations, twin.n_in), reset=reset, progress=True)
    twin_s = time.perf_counter() - start
    twin_acc = accuracy(predict(res.counts, saved.assignments, n_classes), data.labels)
    same = res.counts == rec.counts
    draws = []
    for seed in range(args.draw_seeds):
        r = present(twin, len(rates), PoissonSource(rates, dt=config.dt_ms * 1e-3, seed=seed),
                    reset=reset, progress=True)
        draws.append(accuracy(predict(r.counts, saved.assignments, n_classes), data.labels))
    shipped = {k: v["accuracy"] for k, v in json.loads((Path(args.model) / "metrics.json").read_text())
               .get("evaluations", {}).items()}
    result = {
        "model": args.model, "split": args.split, "n": len(rates), "backend": backend, "reset": reset,
        "brian2_vote": brian_acc, "twin_vote_on_brian2_input": twin_acc, "shipped_evaluations": shipped,
        "examples_with_identical_counts": int(same.all(axis=1).sum()),
        "neuron_counts_differing": int((~same).sum()),
        "presentations": int(sum(len(c) for c in rec.presentations)),
        "twin_own_draws_vote": draws,
        "twin_own_draws_mean_std": [float(np.mean(draws)), float(np.std(draws, ddof=1))] if len(draws) > 1 else None,
        "brian2_seconds": brian_s, "twin_seconds": twin_s, "twin_over_brian2_time": twin_s / brian_s,
        "threads": args.threads, "torch": torch.__version__,
        "command": "python bench/twin_fidelity.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in
                                                               vars(args).items() if v is not None),
    }
    print(json.dumps(result, indent=1))
    out = Path(args.out or f"bench/results/twin-fidelity-{Path(args.model).name}.json")
    atomic_write_json(out, result)


if __name__ == "__main__":
    main()
