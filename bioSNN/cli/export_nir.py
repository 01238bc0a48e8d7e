"""``biosnn export-nir RUN_DIR --out FILE.nir``: a trained supervised network as a NIR graph."""

from __future__ import annotations

import argparse
from typing import Any


def _cmd_export_nir(args: argparse.Namespace) -> int:
    from ..nir import export, load, read, write
    from ..nir.evaluate import scored_split
    from ..supervised.checkpoint import load_trained

    net, readout, data = load_trained(args.run)
    path = write(args.out, export(net))
    graph = read(path)
    kinds = [type(n).__name__ for n in graph.nodes.values()]
    print(f"wrote {path}: {len(kinds)} nodes ({', '.join(kinds)}), {path.stat().st_size / 1e6:.1f} MB")
    if args.check:
        import torch

        from ..supervised.trainer import evaluate_split

        part, decision = scored_split(data, limit=args.check, dataset=args.dataset, root=args.root)
        with torch.no_grad():
            original, again = (evaluate_split(n, part, readout, decision=decision) for n in (net, load(graph)))
        print(f"first {again['n']} test samples: {100 * original['accuracy']:.2f} % as trained, "
              f"{100 * again['accuracy']:.2f} % read back from {path}")
    return 0


def _export_nir_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("export-nir", help="write a trained supervised network as a NIR graph (.nir)")
    if not full:
        return
    p.add_argument("run", help="a `biosnn supervised` folder (model.pt)")
    p.add_argument("--out", required=True, help="the .nir file to write (written to a temporary file, then renamed)")
    p.add_argument("--check", type=int, default=0, metavar="N",
                   help="read the file back and score the first N test samples through it beside the trained network")
    from ..data import IMAGE_DATASETS

    p.add_argument("--dataset", choices=list(IMAGE_DATASETS),
                   help="with --check: the raw images to score on (for runs trained on spike files, as biosnn evaluate)")
    p.add_argument("--root", help="with --check: the data folder, if not the one the run recorded")
    p.set_defaults(func=_cmd_export_nir)
