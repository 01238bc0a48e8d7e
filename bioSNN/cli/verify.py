"""``biosnn verify``: Brian2 and the generated torch step against each other."""

from __future__ import annotations

import argparse
import time
from typing import Any

from .common import _check_out_file, _POSITIVE_INT, _COUNT


def _cmd_verify(args: argparse.Namespace) -> int:
    from ..equations import library
    from ..equations.verify import DEFAULT_DRIVES, ONE_STEP_BOUND, WHOLE_RUN_BOUND, verify_model, worst
    from ..fileio import atomic_write_json

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
