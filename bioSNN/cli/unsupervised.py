"""``biosnn unsupervised``: train an STDP network (presets diehl_cook, wta) and write its guidance."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InputError
from .common import _flag, _add_image_flags, _image_options, _wta_trains, _neuron_model, _cuda_options, _COUNT, _POSITIVE, _NON_NEGATIVE, _FRACTION


def _cmd_unsupervised(args: argparse.Namespace) -> int:
    from ..data import load_images
    from ..data.splits import held_out
    from ..unsupervised.diehl_cook import DiehlCookConfig
    from ..unsupervised.pipeline import train_diehl_cook, train_wta
    from ..unsupervised.wta import WTAConfig

    only = {"diehl_cook": ("n_train", "n_assign", "guidance_per_class", "no_sample_traces", "timer_rate",
                           "input_total", "val_fraction", "nu_pre", "nu_post", "draws", "neuron_model"),
            "wta": ("depression", "spikes", "threshold", "silent_depression")}
    for preset, dests in only.items():
        for dest in dests:
            if preset != args.preset and getattr(args, dest) is not None:
                raise InputError(f"{_flag(dest)} does not apply to --preset {args.preset}")
    if args.preset == "wta":
        trains = _wta_trains(args, "train")
        config = WTAConfig(n_neurons=args.n_neurons or 3, seed=args.seed, depression=args.depression or "intended",
                           threshold=args.threshold or "fixed",
                           silent_depression_mV=0.06 if args.silent_depression is None else args.silent_depression)
        metrics = train_wta(trains, args.out, config=config, epochs=args.epochs or 1, chunk=args.slice,
                            shuffle=bool(args.shuffle),
                            backend=args.backend, resume=args.resume, overwrite=args.overwrite,
                            progress=not args.no_progress)
    else:
        if args.spikes or args.dataset is None:
            raise InputError("the diehl_cook preset draws its own Poisson input: give --dataset, not --spikes")
        data = load_images(args.dataset, args.root, "train", **_image_options(args), progress=not args.no_progress)
        val = None
        if args.val_fraction is not None:
            data, val = held_out(data, args.val_fraction, args.val_seed)
        config = DiehlCookConfig(n_neurons=args.n_neurons or 100, seed=args.seed, slice_examples=args.slice,
                                 timer_rate=100.0 if args.timer_rate is None else args.timer_rate,
                                 input_total=args.input_total,
                                 **{k: getattr(args, k) for k in ("nu_pre", "nu_post") if getattr(args, k) is not None})
        metrics = train_diehl_cook(data, args.out, config=config, n_train=args.n_train, val_set=val,
                                   draws=args.draws or 1,
                                   shuffle=bool(args.shuffle),
                                   n_assign=args.n_assign or 10000, guidance_per_class=args.guidance_per_class or 10,
                                   backend=args.backend, cuda=_cuda_options(args), sample_traces=not args.no_sample_traces,
                                   epochs=args.epochs or 1,
                                   resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress,
                                   neuron=_neuron_model(args.neuron_model))
    print(json.dumps(metrics, indent=2))
    return 0


def _unsupervised_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("unsupervised", help="train an STDP network and write its guidance signals",
                       description="Train an STDP network (checkpointed, resumable with --resume), then assign "
                                   "its neurons to classes and record guidance signals with plasticity off. "
                                   "Presets: diehl_cook (Poisson input drawn from --dataset images) and wta "
                                   "(the seed SAR network, on --spikes or on --dataset encoded with rf-rate).")
    if not full:
        return
    from ..data import IMAGE_DATASETS
    from ..unsupervised.backends import BACKENDS
    p.add_argument("--preset", default="diehl_cook", choices=["diehl_cook", "wta"], help="network (default diehl_cook)")
    p.add_argument("--neuron-model", help="diehl_cook: the excitatory neuron, a library name or a model JSON file "
                                          "(biosnn show NAME > FILE.json, then edit): it must define v, ge (on_pre "
                                          "ge += w), gi and theta (default diehl_cook_excitatory)")
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS))
    p.add_argument("--root", help="data folder")
    p.add_argument("--spikes", help="wta: labelled spike trains (.npz from biosnn encode) instead of --dataset")
    _add_image_flags(p)
    p.add_argument("--n-neurons", type=int, help="output neurons (default: 100 diehl_cook, 3 wta)")
    p.add_argument("--n-train", type=int, help="diehl_cook: training images, in file order (default: all)")
    p.add_argument("--n-assign", type=int,
                   help="diehl_cook: last N training images used to assign neurons to classes (default 10000)")
    p.add_argument("--guidance-per-class", type=int, help="diehl_cook: images per class whose traces "
                   "make the guidance templates (default 10)")
    p.add_argument("--timer-rate", type=_POSITIVE, help="diehl_cook: excitatory spike-block timer rate, 100 (the "
                   "original code as Brian 1 ran it, default) or 0.1 (Brian2 ports: 50 ms block)")
    p.add_argument("--no-sample-traces", action="store_true", default=None,
                   help="diehl_cook: keep only the per-class templates in guidance.npz, not every recorded trace")
    p.add_argument("--epochs", type=int, help="passes over the training images (default 1)")
    p.add_argument("--input-total", type=_POSITIVE, help="diehl_cook: scale every image so that its pixels sum to this "
                   "before drawing rates (default: unscaled; MNIST digits sum to about 26,000)")
    p.add_argument("--nu-post", type=_NON_NEGATIVE, help="diehl_cook: STDP potentiation rate (default 0.01, the original)")
    p.add_argument("--nu-pre", type=_NON_NEGATIVE, help="diehl_cook: STDP depression rate (default 0.0001, the original)")
    p.add_argument("--val-fraction", type=_FRACTION, help="diehl_cook: hold out this fraction of every class of the "
                   "training images (seeded by --val-seed, independent of --seed) and report the accuracy on it")
    p.add_argument("--val-seed", type=_COUNT, default=0, help="seed of the validation hold-out (default 0)")
    p.add_argument("--draws", type=int, help="diehl_cook: sum each image's spike counts over K presentations "
                   "(independent Poisson draws) to assign neurons and to classify (default 1; kept for evaluate)")
    p.add_argument("--depression", choices=["intended", "as_coded"],
                   help="wta: STDP depression bound w - w_min (intended) or the seed's w - |w_min| (as_coded)")
    p.add_argument("--shuffle", action="store_true", default=None,
                   help="a new image order every epoch, drawn from --seed (default: file order, as the originals)")
    p.add_argument("--silent-depression", type=_NON_NEGATIVE,
                   help="wta: mV taken from the winner's weights of inputs silent in an image (default 0.06)")
    p.add_argument("--threshold", choices=["fixed", "per_image"],
                   help="wta: P_th fixed at 80 mV (default) or per image, peak input spikes per step / 3 (in mV)")
    p.add_argument("--backend", default="cython", choices=list(BACKENDS), help="Brian2 target (default cython)")
    p.add_argument("--gpu-id", type=_COUNT, help="cuda_standalone: GPU to use")
    p.add_argument("--compute-capability", type=_POSITIVE,
                   help="cuda_standalone: e.g. 9.0; with --gpu-id, build without looking for a GPU")
    p.add_argument("--seed", type=_COUNT, default=0, help="seed of the initial weights (and Poisson input)")
    p.add_argument("--slice", type=int, default=500, help="examples between checkpoints (default 500)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz (with the settings "
                   "OUT/config.json records)")
    p.add_argument("--overwrite", action="store_true", help="start afresh in a non-empty OUT (the old run's files "
                   "are removed once the new run writes its own)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_unsupervised)
