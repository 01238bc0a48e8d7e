"""``biosnn sample-guidance`` and ``biosnn merge-guidance``: per-sample guidance, recorded in shards and joined."""

from __future__ import annotations

import argparse
from typing import Any

from .common import _add_cuda_flags, _add_image_flags, _check_out_file, _cuda_options, _network_images


def _cmd_sample_guidance(args: argparse.Namespace) -> int:
    from ..unsupervised.artifacts import load_network
    from ..unsupervised.sample_guidance import parse_shard, record_sample_guidance

    _check_out_file(args.out)
    saved = load_network(args.network)
    stored = saved.meta.get("data", {})
    data = _network_images(args, stored)
    if args.split == "train" and stored.get("holdout") is not None:  # the images the network trained on
        from ..data.splits import held_out

        h = stored["holdout"]
        data = held_out(data, h["fraction"], h["seed"], part="train")
    if args.limit is not None:
        data = data[: args.limit]
    # pixels only: the recorder is never given the labels
    result = record_sample_guidance(args.network, data.images, stride=args.stride, dtype=args.dtype,
                                    shard=parse_shard(args.shard), backend=args.backend, source=dict(data.source),
                                    progress=not args.no_progress, cuda=_cuda_options(args))
    path = result.save(args.out)
    size = path.stat().st_size
    print(f"wrote {path}: rows {result.start}..{result.stop} of {result.n_total}, traces {result.traces.shape} "
          f"{result.traces.dtype} ({size / 2**20:.1f} MiB), recorded in {result.seconds:.0f} s")
    return 0


def _sample_guidance_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("sample-guidance", help="record a Diehl & Cook network's per-sample guidance (no labels)",
                       description="Record the output-layer potentials (every --stride steps) and spike counts of a "
                                   "trained diehl_cook network for every image of --split, plasticity off. Only "
                                   "pixels reach the recorder. --split train records the images the network "
                                   "trained on (its validation hold-out left out). Shard with --shard i/n, then "
                                   "join with biosnn merge-guidance.")
    if not full:
        return
    from ..data import IMAGE_DATASETS
    p.add_argument("network", help="folder of a trained diehl_cook network")
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS))
    p.add_argument("--root", help="data folder")
    p.add_argument("--split", default="train", choices=["train", "val", "test"])
    _add_image_flags(p)
    p.add_argument("--stride", type=int, default=10, help="keep every K-th step of the traces (default 10)")
    p.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    p.add_argument("--shard", default="0/1", help="record shard i of n (whole chunks of 64 images), e.g. 0/4")
    p.add_argument("--limit", type=int, help="the first N images only")
    from ..unsupervised.backends import BACKENDS
    p.add_argument("--backend", default="cython", choices=list(BACKENDS),
                   help="Brian2 target (default cython); cpp_standalone compiles the network once and runs it "
                        "once per chunk of 64 images")
    _add_cuda_flags(p)
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_sample_guidance)


def _cmd_merge_guidance(args: argparse.Namespace) -> int:
    from ..unsupervised.sample_guidance import SampleGuidance, merge_sample_guidance

    _check_out_file(args.out)
    merged = merge_sample_guidance([SampleGuidance.load(p) for p in args.shards])
    path = merged.save(args.out)
    print(f"wrote {path}: {len(merged)} samples from {len(args.shards)} shards")
    return 0


def _merge_guidance_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("merge-guidance", help="join per-sample guidance shards into one file")
    if not full:
        return
    p.add_argument("shards", nargs="+", help="shard files of one recording")
    p.add_argument("--out", required=True, help="output .npz")
    p.set_defaults(func=_cmd_merge_guidance)
