"""``biosnn show NAME``: a library model as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any



def _cmd_show(args: argparse.Namespace) -> int:
    from ..equations import library

    print(json.dumps(library.get(args.model).to_dict(), indent=2))
    return 0


def _show_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("show", help="print a library model as JSON")
    if not full:
        return
    p.add_argument("model")
    p.set_defaults(func=_cmd_show)
