"""``biosnn evaluate``: accuracy of a trained folder, recorded in its metrics.json."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InputError
from ..evaluations import EvaluationKey, read_metrics, record_evaluation
from .common import _add_cuda_flags, _add_image_flags, _spike_inputs, _cuda_options, _network_images, _device


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Check the folder (a trained run, writable, readable ``metrics.json``) before any work, then
    evaluate while holding its lock: the result goes into ``metrics.json``, which a writer would replace."""
    import contextlib
    from pathlib import Path

    from ..errors import DataError, OutputError
    from ..runfolder import run_kind, run_lock

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: no such folder (give a folder written by biosnn unsupervised or supervised)")
    kind = run_kind(directory)
    if kind is None:
        raise DataError(f"{directory}: neither model.pt/checkpoint.pt (biosnn supervised) nor network.npz "
                        "(biosnn unsupervised): not a trained folder")
    read_metrics(directory)  # an unreadable metrics.json stops here, before any work
    run = {"supervised": _evaluate_supervised, "hybrid": _evaluate_hybrid}.get(kind, _evaluate_unsupervised)
    with contextlib.ExitStack() as stack:
        if args.no_record:  # nothing is written: no lock, and a read-only folder is fine
            return run(args)
        try:
            stack.enter_context(run_lock(directory, advice="evaluate it once that run ends"))
        except OutputError as exc:
            raise OutputError(f"{exc}; biosnn evaluate records its result in {directory / 'metrics.json'}, so the "
                              "folder must be writable (copy it elsewhere to evaluate it)") from exc
        return run(args)


def _evaluate_unsupervised(args: argparse.Namespace) -> int:
    from ..unsupervised.artifacts import load_network
    from ..unsupervised.presets import presets

    saved = load_network(args.directory)
    preset = presets()[saved.preset]
    if args.draws is not None and not preset.draws:
        raise InputError(f"--draws does not apply to a {saved.preset} network (its input is deterministic)")
    if preset.input == "spikes":
        inputs = _spike_inputs(args, args.split, steps=int(saved.meta["steps"]))
        name = args.spikes or args.dataset
    else:
        inputs = _network_images(args, saved.meta.get("data", {}))
        if args.limit is not None:
            inputs = inputs[: args.limit]
        name = args.dataset
    result = preset.evaluate(args.directory, inputs, backend=args.backend, cuda=_cuda_options(args),
                             progress=not args.no_progress, draws=args.draws)
    key = EvaluationKey(name, args.split, result["n_test"], result.get("draws", 1))
    drawn = f", {result['draws']} draws each" if result.get("draws", 1) > 1 else ""
    print(f"accuracy {result['accuracy']:.4f} on {result['n_test']} {args.split} samples{drawn} "
          f"({result['seconds']:.0f} s)")
    if not args.no_record:
        record_evaluation(args.directory, key, result)
    return 0


def _evaluate_hybrid(args: argparse.Namespace) -> int:
    from ..supervised.hybrid import evaluate_hybrid
    from ..unsupervised.artifacts import load_network

    saved = load_network(args.directory)
    stored = saved.meta.get("data", {})
    args.dataset = args.dataset or stored.get("reader")
    args.root = args.root or stored.get("root")
    images = _network_images(args, saved.meta.get("data", {}))
    if args.limit is not None:
        images = images[: args.limit]
    result = evaluate_hybrid(args.directory, images, progress=not args.no_progress)
    print(f"accuracy {result['accuracy']:.4f} on {result['n_test']} {args.split} samples ({result['seconds']:.0f} s)")
    if not args.no_record:
        record_evaluation(args.directory, EvaluationKey(args.dataset, args.split, result["n_test"], 1), result)
    return 0


def _evaluate_supervised(args: argparse.Namespace) -> int:
    from ..supervised.pipeline import evaluate_supervised

    result = evaluate_supervised(args.directory, dataset=args.dataset, root=args.root, split=args.split,
                                 limit=args.limit, device=args.device, progress=not args.no_progress,
                                 draws=args.draws or 1, trust_pickle=args.trust_pickle, record=not args.no_record)
    drawn = f", {result['draws']} draws each" if result["draws"] > 1 else ""
    print(f"accuracy {result['accuracy']:.4f} on {result['n']} {args.split} samples{drawn} ({result['seconds']:.0f} s)")
    names = result.get("class_names") or [str(i) for i in range(len(result["confusion"]))]
    width = max(6, *(len(n) for n in names))
    print("confusion (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width + 1}}" for n in names))
    for name, row in zip(names, result["confusion"]):
        print(f"{name:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    return 0


def _evaluate_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("evaluate", help="accuracy of a trained network (unsupervised or supervised folder)")
    if not full:
        return
    from ..data import IMAGE_DATASETS
    from ..unsupervised.backends import BACKENDS
    p.add_argument("directory", help="folder written by biosnn unsupervised or biosnn supervised")
    p.add_argument("--no-record", action="store_true",
                   help="print the result only (by default it is recorded in the folder's metrics.json)")
    p.add_argument("--dataset", choices=list(IMAGE_DATASETS))
    p.add_argument("--root", help="data folder")
    p.add_argument("--spikes", help="wta: labelled spike trains instead of --dataset")
    _add_image_flags(p)
    p.add_argument("--split", default="test", help="train, test, or val (the hold-out of a network trained with --val-fraction)")
    p.add_argument("--limit", type=int, help="evaluate only the first N samples")
    from ..evaluations import MAX_DRAWS
    from ..flagtypes import ranged

    p.add_argument("--draws", type=ranged(int, 1, MAX_DRAWS),
                   help="classify each sample by its scores summed over K independent draws of its spike trains "
                        "(supervised, random encoders: seeds seed..seed+K-1, default 1; diehl_cook: default the "
                        "network's own, set by biosnn unsupervised --draws)"),
    p.add_argument("--backend", choices=list(BACKENDS),
                   help="unsupervised networks: Brian2 backend (default: the one the network was trained on)")
    _add_cuda_flags(p)
    p.add_argument("--device", default="cpu", type=_device, help="supervised: torch device")
    p.add_argument("--trust-pickle", action="store_true",
                   help="supervised, trained on --dataset seed: read its joblib .pkl files (pickles can run code; "
                        "refused without this)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_evaluate)
