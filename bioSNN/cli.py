"""The ``biosnn`` command line.

Stages that exist so far:

* ``biosnn models`` lists the library of neuron models with their fingerprints;
* ``biosnn show MODEL`` prints a model as the JSON that artifacts store;
* ``biosnn verify [--model NAME ...]`` simulates each model in Brian2 and in the generated torch step
  on the same random input and reports how closely they agree (exit status 1 if they do not);
* ``biosnn encode --dataset ... --encoder ... --out FILE.npz`` turns images into spike trains;
* ``biosnn inspect FILE.npz`` summarises a spike-train file;
* ``biosnn export-seed FILE.npz --root DIR`` writes spike trains in the SAR seed project's layout;
* ``biosnn unsupervised --preset diehl_cook ... --out DIR`` trains an STDP network (resumable) and
  writes ``DIR/{network.npz,guidance.npz,config.json,metrics.json}``;
* ``biosnn supervised --dataset ... --guidance FILE --model ... --loss ... --out DIR`` trains a PyTorch
  network guided by membrane potentials (resumable) and writes ``DIR/{model.pt,checkpoint.pt,metrics.json}``;
* ``biosnn evaluate DIR --dataset ... --split test`` prints the accuracy of an unsupervised or
  supervised folder (and, for supervised ones, the confusion matrix);
* ``biosnn plot {membrane,raster,guidance,weights,curves,confusion,rates} ARTIFACT --out FILE`` draws a
  paper figure from those files;
* ``biosnn demo`` runs the whole pipeline on the shipped MNIST subset and draws every figure.

Errors about inputs and files print one line naming the problem and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__
from .errors import InputError

if TYPE_CHECKING:
    from .encoding import SpikeTrains


def _cmd_models(args: argparse.Namespace) -> int:
    from .equations import library

    for factory in library.MODELS:
        model = factory()
        print(f"{factory.__name__:24s} {model.fingerprint()[:12]}  {model.description}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from .equations import library

    print(json.dumps(library.get(args.model).to_dict(), indent=2))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .equations import library
    from .equations.verify import DEFAULT_DRIVES, ONE_STEP_BOUND, WHOLE_RUN_BOUND, verify_model, worst
    from .fileio import atomic_write_json

    if args.out:
        _check_out_file(args.out)
    names = args.model or [f.__name__ for f in library.MODELS]
    report: dict[str, object] = {}
    failed = False
    print(f"{'model':24s} {'one step max|err|/max|x|':>25s} {'whole run max|err|/range':>25s} {'spikes':>7s} "
          f"{'identical':>9s} {'float32 agree':>13s} {'time':>6s}")
    for name in names:
        start = time.perf_counter()
        model = library.get(name)
        result = verify_model(model, DEFAULT_DRIVES[name], steps=args.steps, n_in=args.n_in, n_out=args.n_out,
                              seed=args.seed)
        elapsed = time.perf_counter() - start
        r64, r32, one = result["float64"], result["float32"], result["one_step"]
        whole, step_err = worst(r64), worst(one)
        ok = (step_err <= ONE_STEP_BOUND and one["spikes"]["identical"] and whole <= WHOLE_RUN_BOUND
              and r64["spikes"]["identical"] and r32["spikes"]["agreement"] >= 0.999)
        failed |= not ok
        report[name] = {**result, "fingerprint": model.fingerprint(), "ok": ok}
        print(f"{name:24s} {step_err:25.3e} {whole:25.3e} {r64['spikes']['count']:7d} "
              f"{str(r64['spikes']['identical'] and one['spikes']['identical']):>9s} "
              f"{r32['spikes']['agreement']:13.5f} {elapsed:5.1f}s")
    if args.out:
        atomic_write_json(args.out, report)
        print(f"report written to {args.out}")
    print(f"bounds: one step <= {ONE_STEP_BOUND:g} of the variable's largest magnitude, whole run <= "
          f"{WHOLE_RUN_BOUND:g} of its range (float64)")
    print("all models agree" if not failed else "MISMATCH: see the table above")
    return 1 if failed else 0


# encoder option -> argparse dest of its command-line flag
_ENCODER_FLAGS = {"variant": "rf_variant", "max_rate": "max_rate", "seed": "seed", "intensity": "intensity",
                  "mode": "latency_mode", "threshold": "latency_threshold", "tau": "tau_ms"}
# image option (argparse dest) -> datasets it applies to
_IMAGE_FLAGS = {"classes": ("mstar",), "scaling": ("mstar",), "crop": ("mstar",), "size": ("mstar", "folder")}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _add_image_flags(p: argparse.ArgumentParser) -> None:
    """The image-reading flags (one definition for encode, unsupervised and evaluate)."""
    g = p.add_argument_group("images")
    g.add_argument("--classes", help="MSTAR: comma-separated class folders, in label order")
    g.add_argument("--scaling", choices=["enhanced", "minmax"],
                   help="MSTAR magnitude -> 8-bit conversion (default enhanced; see bioSNN.data.mstar)")
    g.add_argument("--crop", type=_POSITIVE_INT, help="MSTAR: central crop size")
    g.add_argument("--size", type=_POSITIVE_INT, help="MSTAR/folder: resize to SIZE x SIZE")


def _image_options(args: argparse.Namespace, stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """``load_images`` options from the image flags; with ``stored`` (the ``source`` a trained network
    recorded), the stored settings are the defaults and a flag that contradicts one is refused."""
    given = {"classes": args.classes.split(",") if args.classes else None, "crop": args.crop, "size": args.size,
             "scaling": args.scaling}
    if stored is None:
        return {**given, "scaling": given["scaling"] or "enhanced"}
    from .supervised.data import image_options

    recorded = image_options(stored)
    options = {}
    for key, value in given.items():
        kept = recorded.get(key)
        kept = list(kept) if key == "classes" and kept is not None else kept
        if value is not None and kept is not None and value != kept:
            raise InputError(f"{_flag(key)} {value} differs from the {kept} the network was trained with")
        options[key] = kept if kept is not None else value
    options["scaling"] = options["scaling"] or "enhanced"
    return options


def _refuse_inapplicable(args: argparse.Namespace) -> None:
    from .encoding import ENCODERS

    for dest, datasets in _IMAGE_FLAGS.items():
        if getattr(args, dest) is not None and args.dataset not in datasets:
            raise InputError(f"{_flag(dest)} does not apply to --dataset {args.dataset}")
    encoder_options = ENCODERS[args.encoder].options if args.encoder else {}
    for option, dest in _ENCODER_FLAGS.items():
        if getattr(args, dest) is not None and option not in encoder_options:
            where = f"encoder {args.encoder!r}" if args.encoder else f"--dataset {args.dataset}"
            raise InputError(f"{_flag(dest)} does not apply to {where}")


def _check_out_file(path: str) -> None:
    """Refuse, before any work, an output file path that is a folder or lies under a file."""
    from pathlib import Path

    from .errors import OutputError

    out = Path(path)
    if out.is_dir():
        raise OutputError(f"--out {out} is a folder: give a file name")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"--out {out}: {parent} is a file, not a folder")
            break


def _cmd_encode(args: argparse.Namespace) -> int:
    from brian2 import ms

    from .data import load_images, read_seed_layout
    from .encoding import encode_images

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
    T = args.T  # None: the encoder's default
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


def _cmd_inspect(args: argparse.Namespace) -> int:
    import numpy as np

    from .encoding import SpikeTrains

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


def _cmd_export_seed(args: argparse.Namespace) -> int:
    import numpy as np

    from .data import write_seed_layout
    from .encoding import SpikeTrains

    trains = SpikeTrains.load(args.file)
    guidance = None
    if args.guidance and args.guidance.endswith(".npz"):  # a guidance file: class templates of the labels
        from .errors import InputError
        from .unsupervised.guidance import Guidance

        if trains.labels is None:
            raise InputError(f"{args.file} has no labels, so the class templates of {args.guidance} cannot be used")
        loaded = Guidance.load(args.guidance, expect_dt=trains.dt_seconds)
        if trains.class_names is not None and tuple(trains.class_names) != loaded.class_names:
            raise InputError(f"{args.file} has classes {trains.class_names}, {args.guidance} {loaded.class_names}")
        if trains.labels.min() < 0 or trains.labels.max() >= len(loaded.class_names):
            raise InputError(f"labels of {args.file} lie outside 0..{len(loaded.class_names) - 1}")
        guidance = loaded.per_sample(trains.labels)
    elif args.guidance:
        from .errors import DataError

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


def _wta_trains(args: argparse.Namespace, split: str, steps: int | None = None) -> "SpikeTrains":
    """Spike trains for the WTA preset: --spikes FILE, or --dataset encoded with the seed's rf-rate code."""
    from .data import load_images
    from .encoding import SpikeTrains, encode_images

    if args.spikes:
        trains = SpikeTrains.load(args.spikes)
    elif args.dataset:
        data = load_images(args.dataset, args.root, split, **_image_options(args), progress=not args.no_progress)
        trains = encode_images(data, "rf-rate", T=(steps or 71) - 1, progress=not args.no_progress)
    else:
        raise InputError("give --spikes FILE.npz or --dataset")
    return trains[: args.limit] if getattr(args, "limit", None) else trains


def _neuron_model(name: str | None) -> Any:
    """A library model name or a model JSON file (``biosnn show`` writes one) as a NeuronModel; None stays None."""
    if name is None:
        return None
    from .equations import library

    return library.get(name)


def _cmd_unsupervised(args: argparse.Namespace) -> int:
    from .data import load_images
    from .data.splits import held_out
    from .unsupervised.diehl_cook import DiehlCookConfig
    from .unsupervised.pipeline import train_diehl_cook, train_wta
    from .unsupervised.wta import WTAConfig

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


def _cuda_options(args: argparse.Namespace) -> Any:
    """``CudaOptions`` from ``--gpu-id`` / ``--compute-capability`` (refused on other backends)."""
    from .unsupervised.backends import CudaOptions

    given = args.gpu_id is not None or args.compute_capability is not None
    if args.backend != "cuda_standalone":
        if given:
            raise InputError("--gpu-id and --compute-capability apply to --backend cuda_standalone only")
        return None
    return CudaOptions(gpu_id=args.gpu_id, compute_capability=args.compute_capability)


def _cmd_supervised(args: argparse.Namespace) -> int:
    from .supervised.pipeline import train_supervised
    from .supervised.trainer import TrainConfig

    if args.resume and not os.path.exists(os.path.join(args.out, "checkpoint.pt")):
        raise InputError(f"--resume: no checkpoint.pt in {args.out}")
    if args.trust_pickle and args.dataset != "seed":
        raise InputError(f"--trust-pickle applies to --dataset seed only, not --dataset {args.dataset}")
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                         weight_decay=args.weight_decay, schedule=args.schedule, clip=args.clip, patience=args.patience,
                         checkpoint_every=args.checkpoint_every, seed=args.seed, device=args.device,
                         amp=args.amp, decision=args.decision, tensorboard=args.tensorboard,
                         augment_shift=args.augment_shift, redraw=args.redraw, backend=args.torch_backend,
                         progress=not args.no_progress)
    arch: dict[str, Any] = {}
    for key in ("hidden", "channels", "fc", "widths", "blocks"):
        value = getattr(args, key)
        if value is not None:
            if key == "fc" and args.model == "spiking-resnet19":
                if len(value) != 1:
                    raise InputError(f"--fc of spiking-resnet19 is one FC width, got {','.join(map(str, value))}")
                value = value[0]
            arch[key] = value
    for key in ("dynamics", "interpolate", "input_pool", "dropout", "stem", "leak", "w_init"):
        if getattr(args, key) is not None:
            arch[key] = getattr(args, key)
    if "dynamics" in arch and args.model != "guided-bilayer":
        arch["output_dynamics"] = arch.pop("dynamics")
    if args.trainable:
        arch["trainable"] = args.trainable.split(",")
    if args.no_center:
        arch["center"] = False
    surrogate = None
    if args.surrogate_width is not None:
        from brian2 import mV

        from .equations.surrogate import Surrogate

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


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Check the folder (a trained run, writable, readable ``metrics.json``) before any work, then
    evaluate while holding its lock: the result goes into ``metrics.json``, which a writer would replace."""
    import contextlib
    from pathlib import Path

    from .errors import DataError, OutputError
    from .runfolder import run_kind, run_lock

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such folder (give a folder written by biosnn unsupervised or supervised)")
    kind = run_kind(directory)
    supervised = kind == "supervised"
    if kind is None:
        raise DataError(f"{directory}: neither model.pt/checkpoint.pt (biosnn supervised) nor network.npz "
                        "(biosnn unsupervised): not a trained folder")
    _read_metrics(directory)
    with contextlib.ExitStack() as stack:
        if args.no_record:  # nothing is written: no lock, and a read-only folder is fine
            return _evaluate_supervised(args) if supervised else _evaluate_unsupervised(args)
        try:
            stack.enter_context(run_lock(directory, advice="evaluate it once that run ends"))
        except OutputError as exc:
            raise OutputError(f"{exc}; biosnn evaluate records its result in {directory / 'metrics.json'}, so the "
                              "folder must be writable (copy it elsewhere to evaluate it)") from exc
        return _evaluate_supervised(args) if supervised else _evaluate_unsupervised(args)


def _read_metrics(directory: Any) -> dict[str, Any]:
    from .evaluations import read_metrics

    return read_metrics(directory)


def _evaluate_unsupervised(args: argparse.Namespace) -> int:
    from .unsupervised.artifacts import load_network
    from .unsupervised.pipeline import evaluate, evaluate_wta

    saved = load_network(args.directory)
    if saved.preset == "wta":
        if args.draws is not None:
            raise InputError("--draws does not apply to a wta network (its input is deterministic)")
        trains = _wta_trains(args, args.split, steps=int(saved.meta["steps"]))
        result = evaluate_wta(args.directory, trains, backend=args.backend)
        key = _evaluation_key(args.spikes or args.dataset, args.split, result["n_test"])
    else:
        data = _network_images(args, saved.meta.get("data", {}))
        if args.limit is not None:
            data = data[: args.limit]
        result = evaluate(args.directory, data, backend=args.backend, cuda=_cuda_options(args),
                          progress=not args.no_progress, draws=args.draws)
        key = _evaluation_key(args.dataset, args.split, result["n_test"], result["draws"])
    drawn = f", {result['draws']} draws each" if result.get("draws", 1) > 1 else ""
    print(f"accuracy {result['accuracy']:.4f} on {result['n_test']} {args.split} samples{drawn} "
          f"({result['seconds']:.0f} s)")
    _record_evaluation(args.directory, key, result, record=not args.no_record)
    return 0


def _cmd_sample_guidance(args: argparse.Namespace) -> int:
    from .unsupervised.artifacts import load_network
    from .unsupervised.sample_guidance import parse_shard, record_sample_guidance

    _check_out_file(args.out)
    saved = load_network(args.network)
    stored = saved.meta.get("data", {})
    data = _network_images(args, stored)
    if args.split == "train" and stored.get("holdout") is not None:  # the images the network trained on
        from .data.splits import held_out

        h = stored["holdout"]
        data = held_out(data, h["fraction"], h["seed"], part="train")
    if args.limit is not None:
        data = data[: args.limit]
    # pixels only: the recorder is never given the labels
    result = record_sample_guidance(args.network, data.images, stride=args.stride, dtype=args.dtype,
                                    shard=parse_shard(args.shard), backend=args.backend, source=dict(data.source),
                                    progress=not args.no_progress)
    path = result.save(args.out)
    size = path.stat().st_size
    print(f"wrote {path}: rows {result.start}..{result.stop} of {result.n_total}, traces {result.traces.shape} "
          f"{result.traces.dtype} ({size / 2**20:.1f} MiB), recorded in {result.seconds:.0f} s")
    return 0


def _cmd_merge_guidance(args: argparse.Namespace) -> int:
    from .unsupervised.sample_guidance import SampleGuidance, merge_sample_guidance

    _check_out_file(args.out)
    merged = merge_sample_guidance([SampleGuidance.load(p) for p in args.shards])
    path = merged.save(args.out)
    print(f"wrote {path}: {len(merged)} samples from {len(args.shards)} shards")
    return 0


def _network_images(args: argparse.Namespace, stored: dict[str, Any]) -> Any:
    """The images of ``--split`` read as the network's training images were (crop, size, scaling,
    classes from ``stored``, its data ``source``); ``--split val`` finds its validation hold-out again."""
    from .data import load_images
    from .data.splits import held_out

    if args.dataset is None:
        raise InputError("give --dataset (and --root) of the images to evaluate on")
    holdout = stored.get("holdout")
    split = "train" if args.split == "val" else args.split
    if args.split == "val" and holdout is None:
        raise InputError("--split val: this network was trained without a validation hold-out (--val-fraction)")
    data = load_images(args.dataset, args.root, split, **_image_options(args, stored), progress=not args.no_progress)
    if args.split == "val":
        data = held_out(data, holdout["fraction"], holdout["seed"], part="val")
    return data


def _evaluation_key(dataset: str, split: str, n: int, draws: int = 1) -> Any:
    from .evaluations import EvaluationKey

    return EvaluationKey(dataset, split, int(n), int(draws or 1))


def _record_evaluation(directory: str, key: Any, result: dict[str, Any], *, record: bool = True) -> None:
    from .evaluations import record_evaluation

    if record:
        record_evaluation(directory, key, result)


def _evaluate_supervised(args: argparse.Namespace) -> int:
    from .supervised.pipeline import evaluate_supervised

    result = evaluate_supervised(args.directory, dataset=args.dataset, root=args.root, split=args.split,
                                 limit=args.limit, device=args.device, progress=not args.no_progress,
                                 draws=args.draws or 1, trust_pickle=args.trust_pickle)
    drawn = f", {result['draws']} draws each" if result["draws"] > 1 else ""
    print(f"accuracy {result['accuracy']:.4f} on {result['n']} {args.split} samples{drawn} ({result['seconds']:.0f} s)")
    names = result.get("class_names") or [str(i) for i in range(len(result["confusion"]))]
    width = max(6, *(len(n) for n in names))
    print("confusion (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width + 1}}" for n in names))
    for name, row in zip(names, result["confusion"]):
        print(f"{name:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    key = _evaluation_key(result["dataset"], args.split, result["n"], result["draws"])
    _record_evaluation(args.directory, key, result, record=not args.no_record)
    return 0


def _ranged(kind: type, low: float | None = None, high: float | None = None, *, low_open: bool = False,
            high_open: bool = False) -> Any:
    """argparse type: an ``int`` or finite ``float`` within ``[low, high]`` (``low_open``/``high_open``:
    the bound itself excluded); argparse reports a value outside as a usage error (exit status 2)."""
    what = "an integer" if kind is int else "a number"
    lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
    hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
    bounds = " and ".join(b for b in (lo, hi) if b)

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if ((low is not None and (value < low or (low_open and value == low)))
                or (high is not None and (value > high or (high_open and value == high)))):
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {text}")
        return value

    parse.__name__ = f"{kind.__name__} {bounds}"
    return parse


_POSITIVE_INT = _ranged(int, 1)
_COUNT = _ranged(int, 0)  # seeds, indices, shifts: 0 or more
_POSITIVE = _ranged(float, 0, low_open=True)
_NON_NEGATIVE = _ranged(float, 0)
_FRACTION = _ranged(float, 0, 1, low_open=True, high_open=True)  # a hold-out fraction, strictly between
_PROBABILITY = _ranged(float, 0, 1, high_open=True)  # dropout: 0 (off) up to, not including, 1


def _sizes(text: str) -> list[int]:
    """argparse type: ``"800,400"`` -> ``[800, 400]`` (layer sizes: positive integers)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers like 800,400, got {text!r}") \
            from None
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return values


def _device(text: str) -> str:
    """argparse type: a torch device this machine has (``cpu`` is checked without importing torch)."""
    if text == "cpu":
        return text
    from .supervised.trainer import check_device

    try:
        return check_device(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; use --device cpu") from None


def _index_list(text: str) -> list[int]:
    """argparse type: ``"0,3,5"`` -> ``[0, 3, 5]`` (non-negative, at least one)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated indices like 0,3,5, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"indices must be >= 0, got {text!r}")
    return values


def _grid(text: str) -> tuple[int, ...]:
    """argparse type: ``"28x28"`` -> ``(28, 28)``."""
    try:
        values = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        values = ()
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected a pixel grid HxW like 28x28, got {text!r}")
    return values


def _cmd_plot(args: argparse.Namespace) -> int:
    from .plotting import save
    from .plotting.artifacts import FIGURES

    kind = args.kind
    options: dict[str, Any] = {}
    if kind in ("membrane", "raster"):
        options = {"spikes": args.spikes, "sample": args.sample, "split": args.split}
        if kind == "membrane":
            options.update(neurons=args.neurons, seed=args.seed)
    elif kind == "weights":
        options = {"neurons": args.neurons, "history": args.history, "shape": args.shape}
    elif kind == "guidance":
        options = {"classes": args.classes}
    given = {"--spikes": args.spikes is not None, "--neurons": args.neurons is not None,
             "--classes": args.classes is not None, "--history": args.history, "--shape": args.shape is not None}
    applies = {"membrane": ("--spikes", "--neurons"), "raster": ("--spikes",), "weights": ("--neurons", "--history",
               "--shape"), "guidance": ("--classes",)}
    wrong = [flag for flag, on in given.items() if on and flag not in applies.get(kind, ())]
    if wrong:
        raise InputError(f"{', '.join(wrong)} does not apply to biosnn plot {kind}")
    artifacts = args.artifact
    if kind != "curves" and len(artifacts) != 1:
        raise InputError(f"biosnn plot {kind} takes one artifact, got {len(artifacts)}")
    fig = FIGURES[kind](artifacts if kind == "curves" else artifacts[0], **options)
    for path in save(fig, args.out, formats=args.format):
        print(f"{kind} -> {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import DemoConfig, run_demo

    run_demo(args.out, DemoConfig.quick() if args.quick else DemoConfig(), figures=args.figures,
             progress=not args.no_progress)
    return 0


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``biosnn`` parser. With ``command``, only that subcommand gets its options (their choices
    import the library: torch, Brian2); the others are listed by name and help, so that ``biosnn
    --help`` and any one command start without importing what they do not use."""

    parser = argparse.ArgumentParser(
        prog="biosnn",
        description="bioSNN: one neuron-model definition drives Brian2 (STDP) and PyTorch (gradients).",
    )
    parser.add_argument("--version", action="version", version=f"bioSNN {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _PARSERS.items():
        add(sub, command is None or command == name)
    return parser


def _models_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("models", help="list the library of neuron models")
    if not full:
        return
    p.set_defaults(func=_cmd_models)


def _show_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("show", help="print a library model as JSON")
    if not full:
        return
    p.add_argument("model")
    p.set_defaults(func=_cmd_show)


def _verify_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("verify", help="check Brian2 and the generated torch step against each other")
    if not full:
        return
    p.add_argument("--model", action="append", help="library model (repeatable; default: all)")
    p.add_argument("--steps", type=_POSITIVE_INT, default=2000, help="time steps (default 2000)")
    p.add_argument("--n-in", type=_POSITIVE_INT, default=30, help="input channels (default 30)")
    p.add_argument("--n-out", type=_POSITIVE_INT, default=6, help="neurons (default 6)")
    p.add_argument("--seed", type=_COUNT, default=0, help="seed of the random input (default 0)")
    p.add_argument("--out", help="also write the report as JSON to this file")
    p.set_defaults(func=_cmd_verify)


def _encode_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("encode", help="encode images as spike trains (.npz)",
                       description="Read a data set, encode it chunk by chunk and stream the spike trains to "
                                   "a .npz file (see bioSNN.encoding.spike_trains for the format).")
    if not full:
        return
    from .data import IMAGE_DATASETS
    from .encoding import ENCODERS
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


def _inspect_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("inspect", help="summarise a spike-train .npz file")
    if not full:
        return
    p.add_argument("file")
    p.set_defaults(func=_cmd_inspect)


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


def _sample_guidance_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("sample-guidance", help="record a Diehl & Cook network's per-sample guidance (no labels)",
                       description="Record the output-layer potentials (every --stride steps) and spike counts of a "
                                   "trained diehl_cook network for every image of --split, plasticity off. Only "
                                   "pixels reach the recorder. --split train records the images the network "
                                   "trained on (its validation hold-out left out). Shard with --shard i/n, then "
                                   "join with biosnn merge-guidance.")
    if not full:
        return
    from .data import IMAGE_DATASETS
    p.add_argument("network", help="folder of a trained diehl_cook network")
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS))
    p.add_argument("--root", help="data folder")
    p.add_argument("--split", default="train", choices=["train", "val", "test"])
    _add_image_flags(p)
    p.add_argument("--stride", type=int, default=10, help="keep every K-th step of the traces (default 10)")
    p.add_argument("--dtype", default="float16", choices=["float16", "float32"])
    p.add_argument("--shard", default="0/1", help="record shard i of n (whole chunks of 64 images), e.g. 0/4")
    p.add_argument("--limit", type=int, help="the first N images only")
    p.add_argument("--backend", default="cython", choices=["cython", "numpy"], help="Brian2 runtime target")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_sample_guidance)


def _merge_guidance_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("merge-guidance", help="join per-sample guidance shards into one file")
    if not full:
        return
    p.add_argument("shards", nargs="+", help="shard files of one recording")
    p.add_argument("--out", required=True, help="output .npz")
    p.set_defaults(func=_cmd_merge_guidance)


def _unsupervised_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("unsupervised", help="train an STDP network and write its guidance signals",
                       description="Train an STDP network (checkpointed, resumable with --resume), then assign "
                                   "its neurons to classes and record guidance signals with plasticity off. "
                                   "Presets: diehl_cook (Poisson input drawn from --dataset images) and wta "
                                   "(the seed SAR network, on --spikes or on --dataset encoded with rf-rate).")
    if not full:
        return
    from .data import IMAGE_DATASETS
    from .unsupervised.backends import BACKENDS
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


def _evaluate_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("evaluate", help="accuracy of a trained network (unsupervised or supervised folder)")
    if not full:
        return
    from .data import IMAGE_DATASETS
    from .unsupervised.backends import BACKENDS
    p.add_argument("directory", help="folder written by biosnn unsupervised or biosnn supervised")
    p.add_argument("--no-record", action="store_true",
                   help="print the result only (by default it is recorded in the folder's metrics.json)")
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS))
    p.add_argument("--root", help="data folder")
    p.add_argument("--spikes", help="wta: labelled spike trains instead of --dataset")
    _add_image_flags(p)
    p.add_argument("--split", default="test", help="train, test, or val (the hold-out of a network trained with --val-fraction)")
    p.add_argument("--limit", type=int, help="evaluate only the first N samples")
    p.add_argument("--draws", type=int,
                   help="classify each sample by its scores summed over K independent draws of its spike trains "
                        "(supervised, random encoders: seeds seed..seed+K-1, default 1; diehl_cook: default the "
                        "network's own, set by biosnn unsupervised --draws)"),
    p.add_argument("--backend", choices=list(BACKENDS),
                   help="unsupervised networks: Brian2 backend (default: the one the network was trained on)")
    p.add_argument("--gpu-id", type=_COUNT, help="cuda_standalone: GPU to use")
    p.add_argument("--compute-capability", type=_POSITIVE,
                   help="cuda_standalone: e.g. 9.0; with --gpu-id, build without looking for a GPU")
    p.add_argument("--device", default="cpu", type=_device, help="supervised: torch device")
    p.add_argument("--trust-pickle", action="store_true",
                   help="supervised, trained on --dataset seed: read its joblib .pkl files (pickles can run code; "
                        "refused without this)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_evaluate)


def _demo_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("demo", help="the whole pipeline on the shipped MNIST subset, figures included",
                       description="encode -> Brian2 STDP (Diehl & Cook, short) -> guidance -> supervised torch "
                                   "training guided by it -> evaluation -> every figure, on the data shipped "
                                   "inside the package, in a few minutes on a CPU.")
    if not full:
        return
    p.add_argument("--out", default="runs/demo", help="folder for the artifacts (default runs/demo)")
    p.add_argument("--figures", help="folder for the figures (default OUT/figures; figures/regenerate.sh "
                                     "writes the committed ones)")
    p.add_argument("--quick", action="store_true", help="a much smaller run (tests, smoke checks)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_demo)


def _plot_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("plot", help="draw a figure from the files the stages write",
                       description="membrane: library model name, unsupervised wta folder (--spikes) or supervised "
                                   "folder, Brian2 and torch overlaid; raster: spike-train .npz or such a folder; "
                                   "guidance: guidance.npz or its folder; weights: trained folder or "
                                   "weights_history.npz; curves: supervised folders (several: band over runs); "
                                   "confusion: supervised folder after biosnn evaluate; rates: supervised folder.")
    if not full:
        return
    from .plotting.artifacts import FIGURES
    from .plotting.style import FORMATS
    p.add_argument("kind", choices=list(FIGURES))
    p.add_argument("artifact", nargs="+", help="file or folder (curves: one or more folders)")
    p.add_argument("--out", required=True, help="figure file (.pdf, .svg, .png); without suffix: PDF and PNG")
    p.add_argument("--format", action="append", choices=list(FORMATS), help="write these formats (repeatable)")
    p.add_argument("--spikes", help="membrane/raster of a wta folder: its input spike trains (.npz)")
    p.add_argument("--sample", type=_COUNT, default=0, help="membrane/raster: which sample (default 0)")
    p.add_argument("--split", default="test", help="membrane/raster of a supervised folder: data split (default test)")
    p.add_argument("--neurons", type=_index_list, help="membrane/weights: comma-separated neuron indices")
    p.add_argument("--classes", type=_index_list, help="guidance: comma-separated class indices")
    p.add_argument("--history", action="store_true", help="weights: receptive fields over training")
    p.add_argument("--shape", type=_grid, help="weights: pixel grid HxW (default: from the artifact, else square)")
    p.add_argument("--seed", type=_COUNT, default=0, help="membrane of a library model: seed of the random input")
    p.set_defaults(func=_cmd_plot)


def _supervised_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("supervised", help="train a PyTorch SNN guided by membrane potentials (resumable)",
                       description="Surrogate-gradient training of bioSNN.supervised networks. With --guidance the "
                                   "output layer is the guidance's neuron model at its dt (checked) and image data "
                                   "sets are encoded as the unsupervised stage encoded them.")
    if not full:
        return
    from .encoding import ENCODERS
    from .equations.torch_step import BACKENDS
    from .supervised.data import SUPERVISED_DATASETS
    from .supervised.losses import LOSS_TERMS, ROWS
    from .supervised.models import ARCHITECTURES, DYNAMICS
    from .supervised.readout import DECISIONS
    p.add_argument("--dataset", required=True, choices=list(SUPERVISED_DATASETS))
    p.add_argument("--root", help="data folder (spikes: folder with train.npz/test.npz; seed: folder with Train/ Test/)")
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
                   help="neuron steps: eager (reference) or compile (torch.compile: fused kernels, same values, "
                        "compiled at first use)")
    p.add_argument("--augment-shift", type=_COUNT, default=0,
                   help="translate each training sample by up to K pixels (image inputs; default 0: off)")
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


#: each subcommand and the function that declares it (its options only when asked for)
_PARSERS: dict[str, Any] = {
    "models": _models_parser,
    "show": _show_parser,
    "verify": _verify_parser,
    "encode": _encode_parser,
    "inspect": _inspect_parser,
    "export-seed": _export_seed_parser,
    "sample-guidance": _sample_guidance_parser,
    "merge-guidance": _merge_guidance_parser,
    "unsupervised": _unsupervised_parser,
    "supervised": _supervised_parser,
    "evaluate": _evaluate_parser,
    "plot": _plot_parser,
    "demo": _demo_parser,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)  # the subcommand comes first
    parser = build_parser(command or "")  # "": no subcommand's options (biosnn --help)
    args = parser.parse_args(argv)
    _show_library_log()
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if getattr(args, "steps", 1) < 1:
        parser.error("--steps must be at least 1")
    from .errors import DataError, InputError, ModelError, ModelMismatchError, OutputError, RunInterrupted

    for flag in ("T", "limit", "chunk_size", "n_neurons", "n_train", "n_assign", "guidance_per_class", "slice",
                 "epochs", "batch_size", "population", "test_limit", "draws", "labelled", "stride"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            parser.error(f"{_flag(flag)} must be at least 1")
    try:
        return int(args.func(args))
    except KeyError as exc:
        parser.error(str(exc.args[0]) if exc.args else str(exc))
    except (DataError, InputError, ModelError, ModelMismatchError, OutputError) as exc:
        print(f"biosnn: error: {exc}", file=sys.stderr)
    except RunInterrupted as exc:
        from .interrupts import EXIT_INTERRUPTED

        print(f"biosnn: interrupted: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # any other file-system failure: one line naming the file, not a traceback
        print(f"biosnn: error: {_describe_os_error(exc)}", file=sys.stderr)
    return 2


def _show_library_log() -> None:
    """The command line is an application: it shows the library's INFO messages (per-epoch records,
    notices) on stderr, once, unless the caller configured the ``bioSNN`` logger already."""
    import logging

    class _Stderr(logging.StreamHandler):  # whatever sys.stderr is when a message comes (tests swap it)
        def emit(self, record: logging.LogRecord) -> None:
            self.stream = sys.stderr
            super().emit(record)

    log = logging.getLogger("bioSNN")
    if not log.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _describe_os_error(exc: OSError) -> str:
    """``PATH: reason`` of a file-system failure (both paths of a failed rename)."""
    where = " -> ".join(str(f) for f in (exc.filename, getattr(exc, "filename2", None)) if f is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{where}: {reason}" if where else reason


if __name__ == "__main__":
    sys.exit(main())
