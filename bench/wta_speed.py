"""Training speed of the seed WTA preset: Brian2's cython runtime target (the baseline) against the
compiled ``cpp_standalone`` network (:mod:`bioSNN.unsupervised.wta_standalone`), side by side in one
process on the same spike trains, and whether they learn the same weights.

    python bench/wta_speed.py [--n 300 --inputs 16384 --chunk 100]

Spike trains like the seed's (seeds_spec 1): ``--inputs`` inputs (128 x 128 pixels), 71 steps of 1 ms
(step 0 empty), random spikes at 0.6 % density; 3 output neurons, per-image thresholds. One epoch of
``--n`` images in chunks of ``--chunk`` (a checkpoint each in ``biosnn unsupervised``; one compiled run
each). cython is warmed up on one chunk first (its extensions are cached on disk); the compiled time
includes the build (printed apart). Prints images/s, the ratios and the largest weight difference.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--inputs", type=int, default=16384)
    ap.add_argument("--chunk", type=int, default=100)
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    logging.getLogger("brian2").setLevel(logging.ERROR)
    from brian2.codegen.runtime.cython_rt import CythonCodeObject

    from bioSNN.encoding import SpikeTrains
    from bioSNN.unsupervised.wta import WTAConfig, WTANetwork
    from bioSNN.unsupervised.wta_standalone import compiled_wta

    dense = np.random.default_rng(0).random((args.n, 71, args.inputs)) < 0.006
    dense[:, 0] = False
    trains = SpikeTrains.from_dense(dense, 1e-3)
    del dense
    config = WTAConfig(threshold="per_image", threshold_scale=0.5)

    def epoch(net) -> float:
        t = time.perf_counter()
        for first in range(0, args.n, args.chunk):
            net.present(trains[first:first + args.chunk], learning=True)
        return time.perf_counter() - t

    warm = WTANetwork(config, trains.n_in, trains.steps, trains.dt_seconds, codeobj_class=CythonCodeObject)
    warm.present(trains[:args.chunk], learning=True)
    runtime = WTANetwork(config, trains.n_in, trains.steps, trains.dt_seconds, codeobj_class=CythonCodeObject)
    t_runtime = epoch(runtime)
    with tempfile.TemporaryDirectory() as build:
        t0 = time.perf_counter()
        with compiled_wta(config, trains.n_in, trains.steps, trains.dt_seconds, build,
                          images_per_run=args.chunk) as net:
            t_build = time.perf_counter() - t0
            t_runs = epoch(net)
            w_compiled = net.weights_mV
    diff = float(np.abs(w_compiled - runtime.weights_mV).max())
    changed = float(np.abs(runtime.weights_mV - WTANetwork.initial_weights_mV(config, trains.n_in)).max())
    n = args.n
    print(f"seed WTA, {trains.n_in} inputs, 3 neurons, {n} images in chunks of {args.chunk}")
    print("| trainer | seconds | images/s | vs cython |\n|---|---|---|---|")
    print(f"| cython runtime (baseline) | {t_runtime:.1f} | {n / t_runtime:.1f} | 1.00x |")
    print(f"| cpp_standalone, build included | {t_build + t_runs:.1f} | {n / (t_build + t_runs):.1f} | "
          f"**{t_runtime / (t_build + t_runs):.2f}x** |")
    print(f"| cpp_standalone, runs only (build {t_build:.1f} s) | {t_runs:.1f} | {n / t_runs:.1f} | "
          f"{t_runtime / t_runs:.2f}x |")
    print(f"largest weight difference {diff:.2e} mV (weights moved up to {changed:.3f} mV)")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": n, "inputs": trains.n_in, "chunk": args.chunk,
                                               "cython_s": t_runtime, "build_s": t_build, "runs_s": t_runs,
                                               "max_weight_difference_mV": diff}, indent=2))


if __name__ == "__main__":
    main()
