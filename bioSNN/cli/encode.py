"""``biosnn encode``: images -> spike trains (.npz)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..errors import InputError
from .common import _ENCODER_FLAGS, _add_image_flags, _image_options, _refuse_inapplicable, _check_out_file, _ranged, _COUNT, _POSITIVE


def _cmd_encode(args: argparse.Namespace) -> int:
    from brian2 import ms

    from ..data import load_images, read_seed_layout
    from ..encoding import encode_images

    _check_out_file(args.out)
    dt = args.dt * ms
    if args.dataset == "seed":
        if args.encoder is not None:
            raise InputError("--dataset seed already holds spike trains: leave out --encoder")
        if args.T is not None:
            raise InputError("--dataset seed already holds spike trains of their own length: leave out --T")
        _refuse_inapplicable(args)
        if args.root is None:
            raise InputError("--dataset seed needs --root")
        trains = read_seed_layout(args.root, args.split, dt=dt, trust_pickle=args.trust_pickle).spikes
        if args.limit is not None:
            trains = trains[: args.limit]
        trains.save(args.out)
        print(f"{len(trains)} samples x {trains.steps} steps x {trains.n_in} inputs -> {args.out}")
        return 0
    if args.trust_pickle:
        raise InputError(f"--trust-pickle applies to --dataset seed only, not --dataset {args.dataset}")
    args.encoder = args.encoder or "rf-rate"
    _refuse_inapplicable(args)
    from ..encoding import ENCODERS

    T = ENCODERS[args.encoder].default_T if args.T is None else args.T
    data = load_images(args.dataset, args.root, args.split, **_image_options(args),
                       progress=not args.no_progress)
    if args.limit is not None:
        data = data[: args.limit]
    options = {option: getattr(args, dest) for option, dest in _ENCODER_FLAGS.items() if getattr(args, dest) is not None}
    if "tau" in options:
        options["tau"] = options["tau"] * ms
    start = time.perf_counter()
    encode_images(data, args.encoder, T, dt=dt, out=args.out, chunk_size=args.chunk_size,
                  progress=not args.no_progress, **options)
    elapsed = time.perf_counter() - start
    print(f"{len(data)} images ({data.images.shape[1]} x {data.images.shape[2]}) -> {T + 1} steps, "
          f"encoder {args.encoder}, {elapsed:.1f} s -> {args.out}")
    return 0


def _encode_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("encode", help="encode images as spike trains (.npz)",
                       description="Read a data set, encode it chunk by chunk and stream the spike trains to "
                                   "a .npz file (see bioSNN.encoding.spike_trains for the format).")
    if not full:
        return
    from ..data import IMAGE_DATASETS
    from ..encoding import ENCODERS
    p.add_argument("--dataset", required=True, choices=[*IMAGE_DATASETS, "seed"],
                   help="mnist: IDX files in --root; mnist-subset: the subset shipped with bioSNN; mstar: "
                        "Phoenix chips in --root/SPLIT/CLASS; folder: --root/CLASS/IMAGE; seed: the SAR seed "
                        "project's --root/{Train,Test}/Spikes (already spike trains)")
    p.add_argument("--root", help="data folder")
    p.add_argument("--split", default="train", help="train or test (default train)")
    p.add_argument("--encoder", choices=list(ENCODERS),
                   help="default rf-rate: the seed's receptive field + deterministic rate code")
    p.add_argument("--T", type=int, help="last time step; trains have T + 1 steps (default: the encoder's, 70)")
    p.add_argument("--dt", type=_POSITIVE, default=1.0, help="time step in ms (default 1.0)")
    p.add_argument("--out", required=True, help="output .npz file (written atomically)")
    p.add_argument("--limit", type=int, help="encode only the first N images")
    p.add_argument("--trust-pickle", action="store_true",
                   help="--dataset seed: read joblib .pkl files (pickles can run code; refused without this)")
    p.add_argument("--chunk-size", type=int, help="images per chunk (bounds memory; default: 64 MiB of spikes)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_image_flags(p)
    g = p.add_argument_group("encoder options")
    defaults = {name: enc.options for name, enc in ENCODERS.items()}
    g.add_argument("--rf-variant", choices=["training", "formula"],
                   help=f"rf-rate: kernel (default {defaults['rf-rate']['variant']})")
    g.add_argument("--max-rate", type=_POSITIVE,
                   help=f"poisson, regular: rate in Hz at intensity 255 (default {defaults['poisson']['max_rate']}, regular {defaults['regular']['max_rate']})")
    g.add_argument("--intensity", type=_POSITIVE,
                   help=f"diehl-cook: rate = pixel / 8 * intensity Hz (default {defaults['diehl-cook']['intensity']})")
    g.add_argument("--seed", type=_COUNT, help="poisson, diehl-cook: random seed (default 0)")
    g.add_argument("--latency-mode", choices=["linear", "log"],
                   help=f"latency: mapping (default {defaults['latency']['mode']})")
    g.add_argument("--latency-threshold", type=_ranged(float, 0, 1), help="latency: intensity (0..1) below which no spike")
    g.add_argument("--tau-ms", type=_POSITIVE, help="latency, log mode: RC time constant in ms")
    p.set_defaults(func=_cmd_encode)
