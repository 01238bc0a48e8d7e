"""Speed of per-sample guidance recording (``biosnn sample-guidance``): Brian2's cython runtime target
(the baseline, how guidance was recorded before) against the compiled ``cpp_standalone`` device,
side by side in one process on the same trained network and images.

    python bench/guidance_recording_speed.py [--network models/mnist-dc100 --dataset mnist --n 640]
    python bench/guidance_recording_speed.py --network models/mstar3-stdp --dataset mstar --n 593

Both record the excitatory potentials every ``--stride`` steps (float16) and the spike counts with
plasticity off, in chunks of 64 images (:func:`~bioSNN.unsupervised.sample_guidance.record_sample_guidance`).
The compiled time includes generating and compiling the program (printed apart). cython is warmed up
on one chunk first (its compiled extensions are cached on disk, as in any later run); the compiled
build starts from an empty folder. Prints images/s and the ratio; ``--json`` keeps them.
Needs the data set (``../shared/data``); skips cleanly without it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
ROOTS = {"mnist": DATA / "mnist", "mstar": DATA / "mstar3"}


def _images(network: Path, dataset: str, n: int) -> np.ndarray:
    from bioSNN.data import load_images

    stored = json.loads((network / "config.json").read_text()).get("data", {})
    root = ROOTS[dataset]
    if not root.is_dir():
        print(f"skipped: no {root}")
        sys.exit(0)
    kw = {k: stored[k] for k in ("crop", "size", "scaling") if stored.get(k) is not None}
    return load_images(dataset, root, "train", **kw).images[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--network", default=str(HERE.parent / "models" / "mnist-dc100"))
    ap.add_argument("--dataset", default="mnist", choices=sorted(ROOTS))
    ap.add_argument("--n", type=int, default=640, help="images (default 640: ten chunks)")
    ap.add_argument("--stride", type=int, default=10)
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    logging.getLogger("brian2").setLevel(logging.ERROR)
    from bioSNN.unsupervised.sample_guidance import record_sample_guidance

    network = Path(args.network)
    images = _images(network, args.dataset, args.n)
    n = len(images)
    record_sample_guidance(network, images[:1], stride=args.stride, backend="cython", progress=False)  # warm-up
    t0 = time.perf_counter()
    cython = record_sample_guidance(network, images, stride=args.stride, backend="cython", progress=False)
    t_cython = time.perf_counter() - t0

    import bioSNN.unsupervised.standalone as standalone

    built = {}
    original = standalone._build_in_device

    def timed_build(*a, **k):  # the time to generate and compile, measured apart
        t = time.perf_counter()
        gen = original(*a, **k)
        value = next(gen)
        built["seconds"] = time.perf_counter() - t
        yield value
        yield from gen

    standalone._build_in_device = timed_build
    t0 = time.perf_counter()
    compiled = record_sample_guidance(network, images, stride=args.stride, backend="cpp_standalone", progress=False)
    t_compiled = time.perf_counter() - t0
    standalone._build_in_device = original
    assert compiled.traces.shape == cython.traces.shape
    run_only = t_compiled - built["seconds"]
    counts_c, counts_p = cython.counts.sum(1).mean(), compiled.counts.sum(1).mean()
    result = {"network": str(network), "n": n, "neurons": int(cython.traces.shape[1]), "stride": args.stride,
              "cython_s": t_cython, "compiled_s": t_compiled, "compile_s": built["seconds"],
              "cython_images_per_s": n / t_cython, "compiled_images_per_s": n / t_compiled,
              "ratio_with_build": t_cython / t_compiled, "ratio_runs_only": t_cython / run_only,
              "mean_spikes_cython": float(counts_c), "mean_spikes_compiled": float(counts_p)}
    print(f"{network.name}: {n} images, {result['neurons']} neurons, stride {args.stride}")
    print("| recorder | seconds | images/s | vs cython |\n|---|---|---|---|")
    print(f"| cython (baseline) | {t_cython:.1f} | {n / t_cython:.2f} | 1.00x |")
    print(f"| cpp_standalone, build included | {t_compiled:.1f} | {n / t_compiled:.2f} | "
          f"**{t_cython / t_compiled:.2f}x** |")
    print(f"| cpp_standalone, runs only (build {built['seconds']:.1f} s) | {run_only:.1f} | {n / run_only:.2f} | "
          f"{t_cython / run_only:.2f}x |")
    print(f"mean output spikes per image: cython {counts_c:.2f}, compiled {counts_p:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
