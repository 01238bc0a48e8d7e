"""``biosnn supervised``: gradient training of a PyTorch SNN guided by membrane potentials."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..errors import InputError
from .common import _POSITIVE_INT, _COUNT, _POSITIVE, _NON_NEGATIVE, _PROBABILITY, _sizes, _device


def _cmd_supervised(args: argparse.Namespace) -> int:
    from ..supervised.pipeline import train_supervised
    from ..supervised.models import ARCHITECTURES
    from ..supervised.trainer import TrainConfig

    if args.resume and not os.path.exists(os.path.join(args.out, "checkpoint.pt")):
        raise InputError(f"--resume: no checkpoint.pt in {args.out}")
    if args.trust_pickle and args.dataset != "seed":
        raise InputError(f"--trust-pickle applies to --dataset seed only, not --dataset {args.dataset}")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                         weight_decay=args.weight_decay, schedule=args.schedule, clip=args.clip, patience=args.patience,
                         checkpoint_every=args.checkpoint_every, seed=args.seed, device=args.device,
                         amp=args.amp, decision=args.decision, tensorboard=args.tensorboard,
                         augment_shift=args.augment_shift, redraw=args.redraw, packed_input=args.packed_input,
                         backend=args.torch_backend,
                         progress=not args.no_progress)
    arch: dict[str, Any] = {}
    for key in ("hidden", "channels", "fc", "widths", "blocks"):
        value = getattr(args, key)
        if value is not None:
            if key == "fc" and ARCHITECTURES[args.model].single_fc:
                if len(value) != 1:
                    raise InputError(f"--fc of spiking-resnet19 is one FC width, got {','.join(map(str, value))}")
                value = value[0]
            arch[key] = value
    for key in ("dynamics", "interpolate", "input_pool", "dropout", "stem", "leak", "w_init"):
        if getattr(args, key) is not None:
            arch[key] = getattr(args, key)
    if "dynamics" in arch and ARCHITECTURES[args.model].has_hidden_layers:
        arch["output_dynamics"] = arch.pop("dynamics")
    if args.trainable:
        arch["trainable"] = args.trainable.split(",")
    if args.no_center:
        arch["center"] = False
    surrogate = None
    if args.surrogate_width is not None:
        from brian2 import mV

        from ..equations.surrogate import Surrogate

        surrogate = Surrogate(args.surrogate, args.surrogate_width * mV)
    metrics = train_supervised(
        args.dataset, args.root, args.out, guidance=args.guidance, model=args.model, loss=args.loss, config=config,
        architecture=arch, output_model=args.output_model, hidden_model=args.hidden_model, population=args.population,
        T=args.T, encoder=args.encoder, dt_ms=args.dt,
        encoder_options={"max_rate": args.max_rate} if args.max_rate is not None else None, val_fraction=args.val_fraction,
        val_seed=args.val_seed, limit=args.limit,
        test_limit=args.test_limit, evaluate_test=not args.no_test, allow_mismatch=args.allow_model_mismatch,
        resume=args.resume, overwrite=args.overwrite,
        loss_settings={"rows": args.rows, "delta": args.delta, "rate_scale": args.rate_scale,
                       "membrane_scale": args.membrane_scale}, surrogate=surrogate, trust_pickle=args.trust_pickle,
        sample_guidance=args.sample_guidance, labelled=args.labelled, labelled_seed=args.labelled_seed,
        init_from=args.init_from)
    final = metrics.get("final", {})
    print(json.dumps({k: final.get(k) for k in ("epoch", "train_accuracy", "val_accuracy", "test_accuracy",
                                                 "samples_per_s") if k in final}))
    print(f"wrote {args.out}/model.pt, checkpoint.pt, metrics.json, config.json")
    return 0


def _supervised_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("supervised", help="train a PyTorch SNN guided by membrane potentials (resumable)",
                       description="Surrogate-gradient training of bioSNN.supervised networks. With --guidance the "
                                   "output layer is the guidance's neuron model at its dt (checked) and image data "
                                   "sets are encoded as the unsupervised stage encoded them.")
    if not full:
        return
    from ..encoding import ENCODERS
    from ..equations.torch_step import BACKENDS
    from ..supervised.data import SUPERVISED_DATASETS
    from ..supervised.losses import LOSS_TERMS, ROWS
    from ..supervised.models import ARCHITECTURES, DYNAMICS
    from ..supervised.readout import DECISIONS
    p.add_argument("--dataset", required=True, choices=list(SUPERVISED_DATASETS))
    p.add_argument("--root", help="data folder (spikes: folder with train.npz/test.npz; seed: folder with Train/ Test/; folder: "
                        "<root>/<split>/<class>/<image>, read as the guidance says)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="--dataset seed: read joblib .pkl files (pickles can run code; refused without this)")
    p.add_argument("--guidance", help="guidance.npz written by biosnn unsupervised")
    p.add_argument("--sample-guidance", help="per-sample guidance (biosnn sample-guidance) of the training images "
                                             "left after the same --val-fraction hold-out: targets of the *-sample terms")
    p.add_argument("--labelled", type=int, help="keep the labels of only N training samples per class (seeded, "
                                                "stratified); label terms see only them, *-sample terms see all")
    p.add_argument("--labelled-seed", type=_COUNT, default=0, help="seed of the --labelled draw (default 0)")
    p.add_argument("--init-from", help="an unsupervised network folder: its learned input weights start the first "
                                       "layer (that layer needs as many neurons, e.g. --hidden 400)")
    p.add_argument("--model", default="guided-bilayer", choices=sorted(ARCHITECTURES))
    p.add_argument("--loss", default="huber-guidance",
                   help=f"terms joined by '+', each optionally weighted 'W*term'; terms: {', '.join(LOSS_TERMS)}")
    p.add_argument("--rows", default="true", choices=list(ROWS), help="guidance rows in the loss")
    p.add_argument("--delta", type=_POSITIVE, default=1.0, help="Huber delta, mV")
    p.add_argument("--rate-scale", type=_POSITIVE, default=1.0, help="ce-rate: logits = pooled spike counts x this")
    p.add_argument("--membrane-scale", type=_POSITIVE, default=0.1, help="ce-membrane: logits = pooled mean mV x this")
    p.add_argument("--decision", default="potential", choices=list(DECISIONS))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=_POSITIVE, default=1e-3)
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    p.add_argument("--weight-decay", type=_NON_NEGATIVE, default=0.0)
    p.add_argument("--schedule", default="none", help="none, cosine, step:EVERY:GAMMA or exp:GAMMA (per epoch)")
    p.add_argument("--clip", type=_POSITIVE, help="max gradient norm")
    p.add_argument("--patience", type=_POSITIVE_INT, help="early stopping on validation accuracy (needs --val-fraction)")
    p.add_argument("--val-fraction", type=_PROBABILITY, default=0.0,
                   help="hold out this fraction of every class of train for validation (stratified)")
    p.add_argument("--val-seed", type=_COUNT, default=0,
                   help="seed of the validation hold-out (default 0; independent of --seed)")
    p.add_argument("--checkpoint-every", type=_COUNT, default=0, help="optimizer steps between checkpoints (0: per epoch)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (with the settings "
                   "OUT/config.json records; --epochs may grow)")
    p.add_argument("--overwrite", action="store_true", help="start afresh in a non-empty OUT (the old run's files "
                   "are removed once the new run writes its own)")
    p.add_argument("--seed", type=_COUNT, default=0)
    p.add_argument("--device", default="cpu", type=_device, help="torch device: cpu, cuda, cuda:1 ...")
    p.add_argument("--amp", choices=["bf16"], help="bf16 autocast of the synaptic maps")
    p.add_argument("--torch-backend", choices=list(BACKENDS), default="eager",
                   help="neuron steps: eager (the reference), compile (torch.compile per step), fused (20 steps per "
                        "compiled call, for inference) or bptt (compiled chunks forward and backward: the "
                        "fastest training on a CPU); same values, compiled at first use")
    p.add_argument("--augment-shift", type=_COUNT, default=0,
                   help="translate each training sample by up to K pixels (image inputs; default 0: off)")
    p.add_argument("--packed-input", action="store_true",
                   help="train on bit-packed input spikes (1 bit per entry, the spike file's own bits): long "
                        "presentations in bounded memory (guided-bilayer, spiking-mlp)")
    p.add_argument("--redraw", action="store_true",
                   help="a fresh draw of the random encoder (poisson, diehl-cook) for every training sample and "
                        "epoch, seeded by (seed, epoch, sample), instead of one stored draw")
    p.add_argument("--hidden", type=_sizes, help="spiking-mlp: hidden sizes, e.g. 800 or 800,400")
    p.add_argument("--channels", type=_sizes, help="spiking-convnet: conv channels, e.g. 32,64")
    p.add_argument("--fc", type=_sizes, help="spiking-convnet: hidden FC sizes; spiking-resnet19: FC width")
    p.add_argument("--widths", type=_sizes, help="spiking-resnet19: stage widths, e.g. 128,256,512")
    p.add_argument("--blocks", type=_sizes, help="spiking-resnet19: blocks per stage, e.g. 3,3,2")
    p.add_argument("--stem", type=_POSITIVE_INT, help="spiking-resnet19: stem channels")
    p.add_argument("--input-pool", type=_POSITIVE_INT, help="spiking-convnet: average-pool the input by this factor")
    p.add_argument("--dropout", type=_PROBABILITY, help="dropout probability, 0 (default) up to 1 (excluded)")
    p.add_argument("--no-center", action="store_true",
                   help="spiking-mlp/convnet: normalise drives without shifting them (silent input drives nothing)")
    p.add_argument("--dynamics", choices=list(DYNAMICS),
                   help="output layer: the output neuron model (default), or the seed's non-spiking integrator")
    p.add_argument("--leak", type=_NON_NEGATIVE, help="--dynamics seed: leak per step in mV (default 0.005)")
    p.add_argument("--w-init", type=_POSITIVE, help="guided-bilayer: initial weights uniform in [0, W) (default 1)")
    p.add_argument("--interpolate", type=_POSITIVE_INT, help="guided-bilayer --dynamics seed: interpolate input to K+1 points")
    p.add_argument("--trainable", help="per-neuron trainable model parameters, e.g. v_th,tau_m")
    p.add_argument("--output-model", help="model of the output layer, a library name or a model JSON file "
                                          "(default: the guidance's)")
    p.add_argument("--hidden-model", help="model of hidden layers, a library name or a model JSON file "
                                          "(default lif_delta)")
    p.add_argument("--surrogate", default="atan", choices=["atan", "sigmoid", "rectangular"])
    p.add_argument("--surrogate-width", type=_POSITIVE, help="surrogate width in mV (default 1)")
    p.add_argument("--population", type=int, default=1, help="without guidance: output neurons per class")
    p.add_argument("--T", type=int, help="steps per presentation (a window of the guidance's presentation)")
    p.add_argument("--encoder", help=f"image data without guidance: {', '.join(ENCODERS)}")
    p.add_argument("--dt", type=_POSITIVE, help="image data without guidance: time step in ms (default 1)")
    p.add_argument("--max-rate", type=_POSITIVE, help="poisson, regular encoders: rate of a white pixel in Hz (1000 at 1 ms: p = pixel/255)")
    p.add_argument("--limit", type=int, help="train on the first N samples only")
    p.add_argument("--test-limit", type=int, help="evaluate on the first N test samples only")
    p.add_argument("--no-test", action="store_true",
                   help="do not read or score the test split while training (choose on --val-fraction, then "
                        "biosnn evaluate the test split once)")
    p.add_argument("--allow-model-mismatch", action="store_true",
                   help="train against guidance from another neuron model or dt (not recommended)")
    p.add_argument("--tensorboard", action="store_true", help="write TensorBoard logs to OUT/tb (needs tensorboard)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_supervised)
