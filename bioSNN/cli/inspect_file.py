"""``biosnn inspect FILE``: summarise a spike-train file."""

from __future__ import annotations

import argparse
import json
from typing import Any



def _cmd_inspect(args: argparse.Namespace) -> int:
    import numpy as np

    from ..encoding import SpikeTrains

    trains = SpikeTrains.load(args.file)
    counts = trains.counts()
    print(f"file        {args.file}")
    print(f"samples     {trains.n_samples}")
    print(f"steps       {trains.steps} (T = {trains.T}), dt = {trains.dt}")
    print(f"inputs      {trains.n_in}" + (f" (image {' x '.join(map(str, trains.image_shape))})" if trains.image_shape else ""))
    if len(counts):
        print(f"spikes      {int(counts.sum())} in all, {counts.mean():.1f} per sample "
              f"(min {counts.min()}, max {counts.max()})")
    if trains.labels is not None:
        hist = np.bincount(trains.labels)
        names = trains.class_names or tuple(str(i) for i in range(len(hist)))
        print("labels      " + ", ".join(f"{names[i]}: {n}" for i, n in enumerate(hist)))
    print(f"provenance  {json.dumps(trains.provenance, sort_keys=True)}")
    return 0


def _inspect_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("inspect", help="summarise a spike-train .npz file")
    if not full:
        return
    p.add_argument("file")
    p.set_defaults(func=_cmd_inspect)
