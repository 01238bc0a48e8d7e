"""Trivial baselines beside every accuracy table: what the pixels alone give, on a network's own images.

For a trained folder (unsupervised, hybrid or supervised: the images are read as it read them, its
validation hold-out found again), seeds 0..S-1 (k-means draws), test scored once per seed:

* pixel 1-NN (cosine, every training image a prototype);
* spherical k-means with K prototypes per ``--prototypes`` entry (default: the STDP neurons), each
  named by the majority class of its training images;
* a logistic read-out on the pixels, its L2 chosen on the validation hold-out.

    python bench/pixel_baselines.py --model models/mnist-dc100 --prototypes 100,400
    python bench/pixel_baselines.py --model models/mstar3-stdp

Writes ``bench/results/pixel-baselines-<model>.json`` (mean +- std over the seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bioSNN.data.datasets import load_images
from bioSNN.data.splits import validation_split
from bioSNN.fileio import atomic_write_json
from bioSNN.supervised.data import image_options
from bioSNN.unsupervised.artifacts import load_network

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hybrid_study import trivial_baselines  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/mstar3-stdp")
    p.add_argument("--root")
    p.add_argument("--prototypes", help="comma-separated K (default: the network's neurons)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out")
    args = p.parse_args(argv)
    saved = load_network(args.model)
    source = saved.meta.get("data") or json.loads((Path(args.model) / "config.json").read_text())["data"]
    options = image_options(source)
    train = load_images(source["reader"], args.root or source["root"], "train", **options)
    test = load_images(source["reader"], args.root or source["root"], "test", **options)
    holdout = source.get("holdout") or {"fraction": 0.15, "seed": 0}
    fit, val = validation_split(train.labels, holdout["fraction"], holdout["seed"])
    n_classes = len(saved.class_names)
    ks = [int(k) for k in args.prototypes.split(",")] if args.prototypes else [int(saved.arrays["w"].shape[1])]
    rows: dict[str, list[float]] = {}
    for seed in range(args.seeds):
        for k in ks:
            got = trivial_baselines(train.images[fit], train.labels[fit], train.images[val], train.labels[val],
                                    test.images, test.labels, n_classes, k, seed)
            for name, value in got.items():
                if name.startswith("k-means") or k == ks[0]:
                    rows.setdefault(name, []).append(value)
    summary = {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None, "values": v}
               for k, v in rows.items()}
    result = {"model": args.model, "n_train": len(fit), "n_val": len(val), "n_test": len(test), "summary": summary,
              "protocol": "the network's images and validation hold-out; L2 of the pixel read-out chosen on validation; "
                          "test scored once per seed",
              "command": "python bench/pixel_baselines.py " + " ".join(sys.argv[1:] if argv is None else argv)}
    atomic_write_json(Path(args.out or f"bench/results/pixel-baselines-{Path(args.model).name}.json"), result)
    print(json.dumps({k: (round(100 * v["mean"], 2), v["std"] and round(100 * v["std"], 2)) for k, v in summary.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
