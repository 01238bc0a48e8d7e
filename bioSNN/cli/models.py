"""``biosnn models``: list the library of neuron models."""

from __future__ import annotations

import argparse
from typing import Any



def _cmd_models(args: argparse.Namespace) -> int:
    from ..equations import library

    for factory in library.MODELS:
        model = factory()
        print(f"{factory.__name__:24s} {model.fingerprint()[:12]}  {model.description}")
    return 0


def _models_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("models", help="list the library of neuron models")
    if not full:
        return
    p.set_defaults(func=_cmd_models)
