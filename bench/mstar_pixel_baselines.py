"""How hard is MSTAR 3-class for a prototype learner? Pixel-space baselines beside `models/mstar3-stdp`.

The same chips the STDP network sees (central 64 x 64, resized to 28 x 28, `minmax` scaling), the same
validation hold-out (15 % per class, split seed 0); cosine similarity on the flattened pixels:

* 1-nearest neighbour (every training chip a prototype);
* k-means with K prototypes (seeded, 30 iterations), each prototype named by the majority class of its
  training chips: what a competitive STDP layer of K neurons could reach at best if it found the same
  prototypes.

Usage: ``python bench/mstar_pixel_baselines.py --root ../shared/data/mstar3`` (about 30 s).
"""

from __future__ import annotations

import argparse

import numpy as np

from bioSNN.data import load_images
from bioSNN.data.splits import validation_split


def _unit(x: np.ndarray) -> np.ndarray:
    x = x.reshape(len(x), -1).astype(np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def kmeans(x: np.ndarray, k: int, seed: int, iterations: int = 30) -> np.ndarray:
    """Spherical k-means: ``k`` unit prototypes of the unit rows of ``x``."""
    centres = x[np.random.default_rng(seed).choice(len(x), k, replace=False)].copy()
    for _ in range(iterations):
        nearest = (x @ centres.T).argmax(1)
        for j in range(k):
            if (nearest == j).any():
                centres[j] = x[nearest == j].mean(0)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    return centres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="../shared/data/mstar3")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    read = {"crop": 64, "size": 28, "scaling": "minmax"}
    train = load_images("mstar", args.root, "train", **read)
    test = load_images("mstar", args.root, "test", **read)
    fit, val = validation_split(train.labels)
    x, y = _unit(train.images), train.labels
    xt, yt = _unit(test.images), test.labels
    parts = {"validation": (x[val], y[val]), "test": (xt, yt)}
    for name, (q, yq) in parts.items():
        print(f"1-NN, {name}: {(y[fit][(q @ x[fit].T).argmax(1)] == yq).mean():.4f}")
    for k in (30, 100, 400):
        scores = {name: [] for name in parts}
        for seed in range(args.seeds):
            centres = kmeans(x[fit], k, seed)
            owner = (x[fit] @ centres.T).argmax(1)
            label = np.array([np.bincount(y[fit][owner == j], minlength=3).argmax() if (owner == j).any() else -1
                              for j in range(k)])
            for name, (q, yq) in parts.items():
                scores[name].append((label[(q @ centres.T).argmax(1)] == yq).mean())
        print(f"k-means K={k}: " + ", ".join(f"{name} {np.mean(v):.4f} +- {np.std(v):.4f}" for name, v in scores.items()))


if __name__ == "__main__":
    main()
