"""``biosnn hybrid STDP_DIR --out RUN``: the trained STDP network continues in PyTorch (its twin), chosen on
validation (epoch 0 included), or with ``--labelled K`` from K labels per class by the k-label rule;
``biosnn evaluate RUN`` scores it."""

from __future__ import annotations

import argparse
from typing import Any

from .common import _add_image_flags, _image_options


def _cmd_hybrid(args: argparse.Namespace) -> int:
    import json
    import logging

    import numpy as np
    import torch

    from ..data import load_images
    from ..data.splits import validation_split
    from ..errors import InputError
    from ..runfolder import prepare_run_folder
    from ..data.splits import labelled_split
    from ..supervised.hybrid import (HYBRID_OUTPUTS, HybridConfig, count_features, save_hybrid, train_hybrid,
                                     vote_scores)
    from ..unsupervised.assignment import assign_labels
    from ..supervised.twin import load_twin
    from ..unsupervised.pipeline import rates_of

    teacher, saved = load_twin(args.stdp)
    source = saved.meta.get("data", {})
    holdout = source.get("holdout")
    if holdout is None:
        raise InputError(f"{args.stdp} was trained without a validation hold-out (--val-fraction): the hybrid "
                         "chooses its epoch on it")
    dataset = args.dataset or source.get("reader")
    train = load_images(dataset, args.root or source.get("root"), "train", **_image_options(args, source),
                        progress=not args.no_progress)
    fit, val = validation_split(train.labels, holdout["fraction"], holdout["seed"])
    if args.n_train:
        fit = np.sort(fit[np.random.default_rng(args.seed).permutation(len(fit))[:args.n_train]])
    rates = rates_of(train.images, teacher.config.input_total)
    config = HybridConfig(epochs=args.hybrid_epochs, lr=args.lr, guidance=args.guidance, distill=args.distill,
                          init=args.init, seed=args.seed, batch_size=args.batch_size)
    torch.set_num_threads(args.threads) if args.threads else None
    n_classes = len(saved.class_names)
    data = {**dict(train.source), "holdout": holdout}
    pool = fit
    if args.labelled:  # the k-label protocol: K labels per class, the rest of the training images unlabelled
        lab = labelled_split(train.labels[fit], per_class=args.labelled, seed=args.labelled_seed)[0]
        fit, data["labelled"] = fit[lab], {"per_class": args.labelled, "seed": args.labelled_seed}
    unlabelled = None
    if config.distill:  # the teacher's vote on the (unlabelled) pool, neurons assigned from the labels in use
        pool_counts = count_features(teacher, rates[pool], seed=args.seed * 104729 + 5, progress=not args.no_progress,
                                     desc="teacher pool counts")
        in_pool = np.searchsorted(pool, fit)
        assignments = assign_labels(pool_counts[in_pool], train.labels[fit], n_classes)
        unlabelled = (rates[pool], vote_scores(pool_counts, assignments, n_classes))
    with prepare_run_folder(args.out, overwrite=args.overwrite, outputs=HYBRID_OUTPUTS) as out:
        result = train_hybrid(teacher, saved.assignments, n_classes, (rates[fit], train.labels[fit]),
                              None if args.labelled else (rates[val], train.labels[val]), config=config,
                              unlabelled=unlabelled, progress=not args.no_progress)
        save_hybrid(out, result, saved, config, stdp=args.stdp, data=data, n_train=len(fit))
    if args.labelled:
        print(f"trained on {len(fit)} labelled images, fixed recipe ({result.chosen}), read-out L2 "
              f"{result.readout_l2:g}; wrote {args.out}")
        return 0
    logging.getLogger("bioSNN").info("validation: %s", json.dumps(result.val))
    print(f"chosen {result.chosen}: validation {100 * result.val[result.chosen]:.2f} % "
          f"(STDP vote {100 * result.val.get('vote', float('nan')):.2f} %); wrote {args.out}")
    return 0


def _hybrid_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("hybrid", help="continue a trained diehl_cook STDP network in PyTorch (its twin): CE fine-tuning "
                                      "chosen on its validation hold-out, epoch 0 included")
    if not full:
        return
    from ..data import IMAGE_DATASETS
    from ..supervised.hybrid import INITS, HybridConfig

    d = HybridConfig()
    p.add_argument("stdp", help="a biosnn unsupervised --preset diehl_cook folder trained with --val-fraction")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS), help="default: the reader the network records")
    p.add_argument("--root", help="data folder (default: the one the network records)")
    _add_image_flags(p)
    p.add_argument("--epochs", dest="hybrid_epochs", type=int, default=d.epochs,
                   help=f"fine-tuning epochs; 0: the untouched network with its fitted read-out (default {d.epochs})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"Adam learning rate of the weights (default {d.lr})")
    p.add_argument("--guidance", type=float, default=d.guidance,
                   help="weight of the Huber anchor to the untouched network's potentials (default 0: CE alone)")
    p.add_argument("--distill", type=float, default=d.distill,
                   help="weight of distillation to the STDP vote on the unlabelled training images (default 0)")
    p.add_argument("--labelled", type=int, metavar="K",
                   help="use K labels per class (seeded, stratified); no validation split is read: the recipe is "
                        "fixed, the read-out's L2 chosen by cross-validation inside the K labels")
    p.add_argument("--labelled-seed", type=int, default=0)
    p.add_argument("--init", choices=INITS, default=d.init,
                   help="stdp: the trained network (the hybrid); random: the CE-only control")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--n-train", type=int, help="train on N of the training images (seeded subset)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_hybrid)
