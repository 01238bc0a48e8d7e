"""Every speed and memory measurement of issue 18, side by side, from one command (not run by CI).

    python bench/speed_all.py [--threads 1] [--quick]

Runs, each in its own process so that one's memory and compiled caches do not colour the next:
``torch_step_speed.py`` (generated step, backends eager and fused, against a hand-written loop),
``supervised_speed.py --part layer`` at 1,000 and 4,096 neurons (bioSNN's backends against a
hand-written loop, the Linear-alone floor and the peers installed: snnTorch, SpikingJelly, Norse, with
``pip install --no-deps snntorch==1.0.0 spikingjelly==2.0.0 norse==1.1.0``), and ``memory_vs_T.py``
(peak memory of the seed network at T = 200 and 2,000, dense and bit-packed input). Prints each
bench's own table of ratios; ``--quick`` uses fewer repeats.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeats = "1" if args.quick else "3"
    runs = [
        ("generated step, forward", ["torch_step_speed.py", "--threads", str(args.threads), "--repeats", repeats]),
        ("LIF layer, 1,000 neurons, forward + backward",
         ["supervised_speed.py", "--part", "layer", "--threads", str(args.threads), "--repeats", repeats]),
        ("LIF layer, 4,096 neurons, forward + backward",
         ["supervised_speed.py", "--part", "layer", "--threads", str(args.threads), "--repeats", repeats,
          "--neurons", "4096"]),
        ("memory against T", ["memory_vs_T.py"]),
    ]
    for title, cmd in runs:
        print(f"\n=== {title}: python bench/{' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:]], capture_output=True, text=True)
        lines = [ln for ln in res.stdout.splitlines() if ln.strip() and not ln.startswith("[warn")]
        print("\n".join(lines[-14:]))
        if res.returncode:
            print(f"(exit status {res.returncode}: {res.stderr.strip().splitlines()[-1:]})")
        print(f"({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
