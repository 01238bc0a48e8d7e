"""Accuracy of a Diehl & Cook training checkpoint, for following a long run while it trains.

    python bench/dc_checkpoint_accuracy.py runs/dc100/checkpoint.npz --mnist ../shared/data/mnist --n 2000

Assigns neurons on the last ``n`` training examples seen before the checkpoint (file order, epochs
wrapping around) and tests on the first ``n`` test digits, both with plasticity off, recorded on
``--backend`` (``cpp_standalone`` compiles into a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

from bioSNN.data import load_mnist
from bioSNN.unsupervised.assignment import accuracy, assign_labels, predict
from bioSNN.unsupervised.backends import STANDALONE_BACKENDS, codeobj_class
from bioSNN.unsupervised.pipeline import rates_of
from bioSNN.unsupervised.standalone import record_standalone
from bioSNN.unsupervised.training import load_checkpoint, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--mnist", required=True, help="folder of the MNIST IDX files")
    parser.add_argument("--n", type=int, default=2000, help="examples for assignment and for the test")
    parser.add_argument("--backend", default="cython")
    args = parser.parse_args()
    ckpt = load_checkpoint(args.checkpoint)
    done = ckpt.examples_done
    train, test = load_mnist(args.mnist, "train"), load_mnist(args.mnist, "test")
    start = time.perf_counter()
    assign_idx = np.arange(max(0, done - args.n), done) % len(train)

    def counts_of(images: np.ndarray) -> np.ndarray:
        if args.backend in STANDALONE_BACKENDS:
            with tempfile.TemporaryDirectory() as build:
                return record_standalone(ckpt.config, rates_of(images, ckpt.config.input_total), ckpt.state, build, backend=args.backend,
                                         progress=False).counts
        return record(ckpt.config, rates_of(images, ckpt.config.input_total), ckpt.state, progress=False,
                      codeobj_class=codeobj_class(args.backend)).counts

    counts = counts_of(train.images[assign_idx])
    assignments = assign_labels(counts, train.labels[assign_idx], 10)
    test_counts = counts_of(test.images[: args.n])
    print(json.dumps({"examples_trained": done, "assigned_on_images": [int(assign_idx[0]), int(assign_idx[-1]) + 1],
                      "test_images": args.n, "accuracy": accuracy(predict(test_counts, assignments, 10),
                                                                  test.labels[: args.n]),
                      "neurons_per_class": np.bincount(assignments[assignments >= 0], minlength=10).tolist(),
                      "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
