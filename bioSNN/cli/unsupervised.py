"""``biosnn unsupervised``: train an STDP network (presets diehl_cook, wta) and write its guidance."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InputError
from .common import _flag, _add_cuda_flags, _add_image_flags, _image_options, _spike_inputs, _cuda_options, _COUNT, _FRACTION


def _cmd_unsupervised(args: argparse.Namespace) -> int:
    from ..data import load_images
    from ..data.splits import held_out
    from ..unsupervised.presets import presets

    table = presets()
    preset = table[args.preset]
    for other in table.values():
        for dest in other.dests:
            if dest not in preset.dests and getattr(args, dest, None) is not None:
                raise InputError(f"{_flag(dest)} does not apply to --preset {args.preset}")
    val = None
    if preset.input == "images":
        if args.spikes or args.dataset is None:
            raise InputError(f"the {preset.name} preset draws its own input from images: give --dataset, not --spikes")
        inputs = load_images(args.dataset, args.root, "train", **_image_options(args), progress=not args.no_progress)
        if args.val_fraction is not None:
            inputs, val = held_out(inputs, args.val_fraction, args.val_seed)
    else:
        if args.val_fraction is not None:
            raise InputError(f"--val-fraction does not apply to --preset {args.preset} (it reads spike trains)")
        inputs = _spike_inputs(args, "train")
    metrics = preset.train(inputs, args.out, options={d: getattr(args, d, None) for d in preset.dests}, val=val,
                           n_neurons=args.n_neurons, seed=args.seed, epochs=args.epochs or 1, slice=args.slice,
                           shuffle=bool(args.shuffle), backend=args.backend, cuda=_cuda_options(args),
                           resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress)
    print(json.dumps(metrics, indent=2))
    return 0


def _unsupervised_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("unsupervised", help="train an STDP network and write its guidance signals",
                       description="Train an STDP network (checkpointed, resumable with --resume), then assign "
                                   "its neurons to classes and record guidance signals with plasticity off. "
                                   "The networks are the registered presets (bioSNN.unsupervised.presets): those "
                                   "that read images draw their own input from --dataset; those that read spike "
                                   "trains take --spikes, or --dataset encoded with the seed's rf-rate code.")
    if not full:
        return
    from ..data import IMAGE_DATASETS
    from ..unsupervised.backends import BACKENDS
    from ..unsupervised.presets import presets

    table = presets()
    p.add_argument("--preset", default="diehl_cook", choices=list(table),
                   help="network: " + "; ".join(f"{name}: {pr.description}" for name, pr in table.items()))
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS))
    p.add_argument("--root", help="data folder")
    p.add_argument("--spikes", help="presets that read spike trains: labelled spike trains (.npz from biosnn "
                                    "encode) instead of --dataset")
    _add_image_flags(p)
    p.add_argument("--n-neurons", type=int, help="output neurons (default: "
                   + ", ".join(f"{pr.default_neurons} {name}" for name, pr in table.items()) + ")")
    p.add_argument("--epochs", type=int, help="passes over the training images (default 1)")
    p.add_argument("--val-fraction", type=_FRACTION, help="presets that read images: hold out this fraction of "
                   "every class of the training images (seeded by --val-seed, independent of --seed) and report "
                   "the accuracy on it")
    p.add_argument("--val-seed", type=_COUNT, default=0, help="seed of the validation hold-out (default 0)")
    p.add_argument("--shuffle", action="store_true", default=None,
                   help="a new image order every epoch, drawn from --seed (default: file order, as the originals)")
    p.add_argument("--backend", default="cython", choices=list(BACKENDS), help="Brian2 target (default cython)")
    _add_cuda_flags(p)
    p.add_argument("--seed", type=_COUNT, default=0, help="seed of the initial weights (and Poisson input)")
    p.add_argument("--slice", type=int, default=500, help="examples between checkpoints (default 500)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz (with the settings "
                   "OUT/config.json records)")
    p.add_argument("--overwrite", action="store_true", help="start afresh in a non-empty OUT (the old run's files "
                   "are removed once the new run writes its own)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    for name, pr in table.items():  # each preset's own flags
        group = p.add_argument_group(f"--preset {name}")
        for flag, kwargs in pr.flags:
            group.add_argument(flag, **kwargs)
    p.set_defaults(func=_cmd_unsupervised)
