"""``biosnn export-seed``: spike trains in the SAR seed project's layout."""

from __future__ import annotations

import argparse
from typing import Any



def _cmd_export_seed(args: argparse.Namespace) -> int:
    import numpy as np

    from ..data import write_seed_layout
    from ..encoding import SpikeTrains

    trains = SpikeTrains.load(args.file)
    guidance = None
    if args.guidance and args.guidance.endswith(".npz"):  # a guidance file: class templates of the labels
        from ..errors import InputError
        from ..unsupervised.guidance import Guidance

        if trains.labels is None:
            raise InputError(f"{args.file} has no labels, so the class templates of {args.guidance} cannot be used")
        loaded = Guidance.load(args.guidance, expect_dt=trains.dt_seconds)
        if trains.class_names is not None and tuple(trains.class_names) != loaded.class_names:
            raise InputError(f"{args.file} has classes {trains.class_names}, {args.guidance} {loaded.class_names}")
        if trains.labels.min() < 0 or trains.labels.max() >= len(loaded.class_names):
            raise InputError(f"labels of {args.file} lie outside 0..{len(loaded.class_names) - 1}")
        guidance = loaded.per_sample(trains.labels)
    elif args.guidance:
        from ..errors import DataError

        try:
            guidance = np.load(args.guidance, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"{args.guidance}: cannot read guidance array ({exc})") from exc
    dest = write_seed_layout(args.root, args.split, trains, guidance, fmt=args.format, overwrite=args.overwrite)
    print(f"{len(trains)} samples written to {dest}")
    if guidance is None:
        print("note: no --guidance, so only Spikes/ was written (the seed project's loader also needs Labels/; "
              "class labels are not part of the seed layout)")
    return 0


def _export_seed_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("export-seed", help="write spike trains in the SAR seed project's layout")
    if not full:
        return
    p.add_argument("file", help="spike-train .npz")
    p.add_argument("--root", required=True, help="folder that receives Train/ or Test/")
    p.add_argument("--split", default="train", help="train or test (default train)")
    p.add_argument("--guidance", help="optional guidance: a .npy [N, n_out, T] in mV, or a guidance.npz written "
                                      "by biosnn unsupervised (the template of each sample's class)")
    p.add_argument("--format", default="npy", choices=["npy", "pkl"], help="file format (default npy)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing split folder")
    p.set_defaults(func=_cmd_export_seed)
