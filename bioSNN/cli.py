"""The ``biosnn`` command line.

Stages that exist so far:

* ``biosnn models`` lists the library of neuron models with their fingerprints;
* ``biosnn show MODEL`` prints a model as the JSON that artifacts store;
* ``biosnn verify [--model NAME ...]`` simulates each model in Brian2 and in the generated torch step
  on the same random input and reports how closely they agree (exit status 1 if they do not).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

from . import __version__


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
    from .equations.verify import DEFAULT_DRIVES, verify_model
    from .fileio import atomic_write_json

    names = args.model or [f.__name__ for f in library.MODELS]
    report: dict[str, object] = {}
    failed = False
    print(f"{'model':24s} {'float64 max|err|/range':>24s} {'spikes':>7s} {'identical':>9s} {'float32 agree':>13s} {'time':>6s}")
    for name in names:
        start = time.perf_counter()
        model = library.get(name)
        result = verify_model(model, DEFAULT_DRIVES[name], steps=args.steps, n_in=args.n_in, n_out=args.n_out,
                              seed=args.seed)
        elapsed = time.perf_counter() - start
        r64, r32 = result["float64"], result["float32"]
        worst = max(v["relative"] for k, v in r64.items() if k != "spikes")
        ok = worst <= 1e-9 and r64["spikes"]["identical"] and r32["spikes"]["agreement"] >= 0.999
        failed |= not ok
        report[name] = {**result, "fingerprint": model.fingerprint(), "ok": ok}
        print(f"{name:24s} {worst:24.3e} {r64['spikes']['count']:7d} {str(r64['spikes']['identical']):>9s} "
              f"{r32['spikes']['agreement']:13.5f} {elapsed:5.1f}s")
    if args.out:
        atomic_write_json(args.out, report)
        print(f"report written to {args.out}")
    print("all models agree" if not failed else "MISMATCH: see the table above")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biosnn",
        description="bioSNN: one neuron-model definition drives Brian2 (STDP) and PyTorch (gradients).",
    )
    parser.add_argument("--version", action="version", version=f"bioSNN {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("models", help="list the library of neuron models")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("show", help="print a library model as JSON")
    p.add_argument("model")
    p.set_defaults(func=_cmd_show)

    p = sub.add_parser("verify", help="check Brian2 and the generated torch step against each other")
    p.add_argument("--model", action="append", help="library model (repeatable; default: all)")
    p.add_argument("--steps", type=int, default=2000, help="time steps (default 2000)")
    p.add_argument("--n-in", type=int, default=30, help="input channels (default 30)")
    p.add_argument("--n-out", type=int, default=6, help="neurons (default 6)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    p.add_argument("--out", help="also write the report as JSON to this file")
    p.set_defaults(func=_cmd_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if getattr(args, "steps", 1) < 1:
        parser.error("--steps must be at least 1")
    try:
        return int(args.func(args))
    except KeyError as exc:
        parser.error(str(exc.args[0]) if exc.args else str(exc))
    return 2


if __name__ == "__main__":
    sys.exit(main())
