"""Flag types and helpers the command modules share (one definition each)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..flagtypes import (  # the flag types live with the library; these are the names the commands use
    COUNT as _COUNT, FRACTION as _FRACTION, NON_NEGATIVE as _NON_NEGATIVE, POSITIVE as _POSITIVE,
    POSITIVE_INT as _POSITIVE_INT, PROBABILITY as _PROBABILITY, ranged as _ranged,
)

__all__ = ["_COUNT", "_FRACTION", "_NON_NEGATIVE", "_POSITIVE", "_POSITIVE_INT", "_PROBABILITY", "_ranged"]

if TYPE_CHECKING:
    from ..encoding import SpikeTrains


# encoder option -> argparse dest of its command-line flag
_ENCODER_FLAGS = {"variant": "rf_variant", "max_rate": "max_rate", "seed": "seed", "intensity": "intensity",
                  "mode": "latency_mode", "threshold": "latency_threshold", "tau": "tau_ms"}


# image option (argparse dest) -> datasets it applies to
_IMAGE_FLAGS = {"classes": ("mstar",), "scaling": ("mstar",), "crop": ("mstar", "folder"), "size": ("mstar", "folder")}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _add_image_flags(p: argparse.ArgumentParser) -> None:
    """The image-reading flags (one definition for encode, unsupervised and evaluate)."""
    g = p.add_argument_group("images")
    g.add_argument("--classes", help="MSTAR: comma-separated class folders, in label order")
    g.add_argument("--scaling", choices=["enhanced", "minmax"],
                   help="MSTAR magnitude -> 8-bit conversion (default enhanced; see bioSNN.data.mstar)")
    g.add_argument("--crop", type=_POSITIVE_INT, help="MSTAR/folder: central crop size (before --size)")
    g.add_argument("--size", type=_POSITIVE_INT, help="MSTAR/folder: resize to SIZE x SIZE")


def _image_options(args: argparse.Namespace, stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """``load_images`` options from the image flags; with ``stored`` (the ``source`` a trained network
    recorded), the stored settings are the defaults and a flag that contradicts one is refused."""
    given = {"classes": args.classes.split(",") if args.classes else None, "crop": args.crop, "size": args.size,
             "scaling": args.scaling}
    if stored is None:
        return {**given, "scaling": given["scaling"] or "enhanced"}
    from ..supervised.data import image_options

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
    from ..encoding import ENCODERS

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

    from ..errors import OutputError

    out = Path(path)
    if out.is_dir():
        raise OutputError(f"--out {out} is a folder: give a file name")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"--out {out}: {parent} is a file, not a folder")
            break


def _spike_inputs(args: argparse.Namespace, split: str, steps: int | None = None) -> "SpikeTrains":
    """Spike trains for a preset that reads them: --spikes FILE, or --dataset encoded with the seed's rf-rate code."""
    from ..data import load_images
    from ..encoding import ENCODERS, SpikeTrains, encode_images

    if args.spikes:
        trains = SpikeTrains.load(args.spikes)
    elif args.dataset:
        data = load_images(args.dataset, args.root, split, **_image_options(args), progress=not args.no_progress)
        T = steps - 1 if steps else ENCODERS["rf-rate"].default_T
        trains = encode_images(data, "rf-rate", T=T, progress=not args.no_progress)
    else:
        raise InputError("give --spikes FILE.npz or --dataset")
    return trains[: args.limit] if getattr(args, "limit", None) else trains


def _add_cuda_flags(p: argparse.ArgumentParser) -> None:
    """``--gpu-id`` and ``--compute-capability`` (read by :func:`_cuda_options`)."""
    p.add_argument("--gpu-id", type=_COUNT, help="cuda_standalone: GPU to use")
    p.add_argument("--compute-capability", type=_POSITIVE,
                   help="cuda_standalone: e.g. 9.0; with --gpu-id, build without looking for a GPU")


def _cuda_options(args: argparse.Namespace) -> Any:
    """``CudaOptions`` from ``--gpu-id`` / ``--compute-capability`` (refused on other backends)."""
    from ..unsupervised.backends import CudaOptions

    given = args.gpu_id is not None or args.compute_capability is not None
    if args.backend != "cuda_standalone":
        if given:
            raise InputError("--gpu-id and --compute-capability apply to --backend cuda_standalone only")
        return None
    return CudaOptions(gpu_id=args.gpu_id, compute_capability=args.compute_capability)


def _network_images(args: argparse.Namespace, stored: dict[str, Any]) -> Any:
    """The images of ``--split`` read as the network's training images were (crop, size, scaling,
    classes from ``stored``, its data ``source``); ``--split val`` finds its validation hold-out again."""
    from ..data import load_images
    from ..data.splits import held_out

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
    from ..supervised.trainer import check_device

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
