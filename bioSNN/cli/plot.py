"""``biosnn plot``: figures from the files the stages write."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import InputError
from .common import _COUNT, _index_list, _grid


def _cmd_plot(args: argparse.Namespace) -> int:
    from ..plotting import save
    from ..plotting.artifacts import FIGURES

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


def _plot_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("plot", help="draw a figure from the files the stages write",
                       description="membrane: library model name, unsupervised wta folder (--spikes) or supervised "
                                   "folder, Brian2 and torch overlaid; raster: spike-train .npz or such a folder; "
                                   "guidance: guidance.npz or its folder; weights: trained folder or "
                                   "weights_history.npz; curves: supervised folders (several: band over runs); "
                                   "confusion: supervised folder after biosnn evaluate; rates: supervised folder.")
    if not full:
        return
    from ..plotting.artifacts import FIGURES
    from ..plotting.style import FORMATS
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
