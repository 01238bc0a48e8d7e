"""Peak memory of one training step of the seed network against the presentation length T (not run by CI).

    python bench/memory_vs_T.py [--T 200,2000] [--batch 16] [--inputs 16384]

Each T runs in a fresh process: input spikes [T, batch, inputs] (drawn as bool, as a batch arrives
from a spike file, then float32 for the network), ``GuidedBilayer(dynamics="seed")`` (the seed's
integrator, 3 outputs) and ``GuidedBilayer(dynamics="model")`` with a ``lif_delta`` output layer,
forward + backward after a warm-up pass at T = 100 (the kernels' one-time allocations), with the batch dense (float32) or bit-packed (``PackedSpikes``, as
``TrainConfig(packed_input=True)`` delivers it). Reports the peak resident memory above the process's memory before the batch
was made (sampled every millisecond from ``/proc/self/statm``), and the ratio to the first T.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time
from typing import Any
import subprocess
import sys


def one(T: int, batch_size: int, inputs: int, dynamics: str, packed: bool) -> float:
    import torch
    from brian2 import ms

    from bioSNN.equations import library
    from bioSNN.supervised import GuidedBilayer

    torch.manual_seed(0)
    kwargs = {"dynamics": "seed"} if dynamics == "seed" else {"output_model": library.lif_delta()}
    net = GuidedBilayer(inputs, 3, dt=1 * ms, w_init=0.05, **kwargs)
    def batch(steps: int) -> Any:
        if packed:  # the batch as the spike file's bits (SupervisedSplit.batch(packed=True)): no dense copy
            from bioSNN.supervised.packed import PackedSpikes

            bits = torch.empty(steps, batch_size, (inputs + 7) // 8, dtype=torch.uint8).random_(0, 256)
            return PackedSpikes(bits, inputs)
        return (torch.rand(steps, batch_size, inputs) < 0.05).float()

    # warm-up at a short T: the kernels' one-time allocations and libraries are not the presentation's
    net(batch(100)).v.pow(2).mean().backward()
    net.zero_grad(set_to_none=True)
    base = _rss()
    peak = [base]
    done = threading.Event()

    def sample() -> None:  # resident memory every millisecond (ru_maxrss would keep the warm-up's peak)
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = net(batch(T))
    out.v.pow(2).mean().backward()
    done.set()
    sampler.join()
    return (max(peak[0], _rss()) - base) / 2**20  # MiB


def _rss() -> int:
    """This process's resident memory now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--T", default="200,2000")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--inputs", type=int, default=16384)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        dynamics, packed = args.one[1].split(":")
        print(json.dumps(one(int(args.one[0]), args.batch, args.inputs, dynamics, packed == "packed")))
        return
    for dynamics in ("seed:dense", "seed:packed", "model:dense", "model:packed"):
        first = None
        for T in [int(t) for t in args.T.split(",")]:
            res = subprocess.run([sys.executable, __file__, "--one", str(T), dynamics, "--batch", str(args.batch),
                                  "--inputs", str(args.inputs)], capture_output=True, text=True, check=True)
            mib = json.loads(res.stdout.strip().splitlines()[-1])
            first = first or mib
            print(f"{dynamics:12s} T={T:5d} batch={args.batch} inputs={args.inputs}: peak +{mib:8.0f} MiB "
                  f"({mib / first:.1f}x T={args.T.split(',')[0]})", flush=True)


if __name__ == "__main__":
    main()
