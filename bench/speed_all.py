"""Every speed and memory measurement of issue 18, side by side, from one command (not run by CI).

    python bench/speed_all.py [--threads 1] [--quick] [--allocator {default,keep,both}] [--no-unsupervised]

Runs, each in its own process so that one's memory and compiled caches do not colour the next:
``torch_step_speed.py`` (generated step, backends eager, fused and bptt, against a hand-written loop),
``supervised_speed.py --part layer`` at 1,000 and 4,096 neurons (bioSNN's backends against a
hand-written loop, the Linear-alone floor and the peers installed: snnTorch, SpikingJelly, Norse, with
``pip install --no-deps snntorch==1.0.0 spikingjelly==2.0.0 norse==1.1.0``), ``memory_vs_T.py``
(peak memory of the seed network at T = 200 and 2,000, dense and bit-packed input), and, unless
``--no-unsupervised``, ``guidance_recording_speed.py`` (Diehl & Cook guidance traces, cython against
cpp_standalone; needs the MNIST files in ``../shared/data``) and ``wta_speed.py`` (the wta preset's
training, cython against cpp_standalone). Prints each bench's own table of ratios; ``--quick`` uses
fewer repeats and fewer images.

``--allocator``: the layer benches allocate and free buffers of ~100 MB per pass (the drive, the
spikes, their gradients). glibc serves each from a fresh ``mmap`` and returns it on ``free``, so every
pass pays the kernel's page faults for them; ``keep`` runs the layer benches with
``MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736`` in their environment (glibc
keeps freed memory for reuse: what jemalloc or tcmalloc also do), ``both`` (default) runs them each way.
bioSNN itself never sets these variables: they are the user's choice for the process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: glibc settings under which freed large blocks are kept for reuse instead of unmapped (``--allocator keep``)
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(4 << 30), "MALLOC_TRIM_THRESHOLD_": str(64 << 30)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--allocator", choices=["default", "keep", "both"], default="both")
    ap.add_argument("--no-unsupervised", action="store_true", help="leave out the Brian2 benches")
    args = ap.parse_args()
    repeats = "1" if args.quick else "3"
    threads = ["--threads", str(args.threads)]
    allocators = ["default", "keep"] if args.allocator == "both" else [args.allocator]
    runs = [("generated step, forward", ["torch_step_speed.py", *threads, "--repeats", repeats], "default")]
    for allocator in allocators:
        for n in ("1000", "4096"):
            runs.append((f"LIF layer, {n} neurons, forward + backward, allocator {allocator}",
                         ["supervised_speed.py", "--part", "layer", *threads, "--repeats", repeats, "--neurons", n],
                         allocator))
    runs.append(("memory against T", ["memory_vs_T.py"], "default"))
    if not args.no_unsupervised:
        runs.append(("Diehl & Cook guidance traces, cython against cpp_standalone",
                     ["guidance_recording_speed.py", "--n", "640" if args.quick else "2000"], "default"))
        runs.append(("wta preset training, cython against cpp_standalone",
                     ["wta_speed.py", "--n", "100" if args.quick else "300"], "default"))
    for title, cmd, allocator in runs:
        print(f"\n=== {title}: python bench/{' '.join(cmd)}", flush=True)
        env = {**os.environ, **(KEEP_FREED_MEMORY if allocator == "keep" else {})}
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:]], capture_output=True, text=True, env=env)
        lines = [ln for ln in res.stdout.splitlines() if ln.strip() and not ln.startswith("[warn")]
        print("\n".join(lines[-16:]))
        if res.returncode:
            print(f"(exit status {res.returncode}: {res.stderr.strip().splitlines()[-1:]})")
        print(f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
