"""argparse types for numeric flags, range-checked when the command line is read (one definition, for
the command modules and the presets that declare their own flags).

Example:
    >>> POSITIVE("2.5"), COUNT("0")
    (2.5, 0)
"""

from __future__ import annotations

import argparse
import math
from typing import Any

__all__ = ["ranged", "POSITIVE_INT", "COUNT", "POSITIVE", "NON_NEGATIVE", "FRACTION", "PROBABILITY"]


def ranged(kind: type, low: float | None = None, high: float | None = None, *, low_open: bool = False,
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


POSITIVE_INT = ranged(int, 1)


COUNT = ranged(int, 0)  # seeds, indices, shifts: 0 or more


POSITIVE = ranged(float, 0, low_open=True)


NON_NEGATIVE = ranged(float, 0)


FRACTION = ranged(float, 0, 1, low_open=True, high_open=True)  # a hold-out fraction, strictly between


PROBABILITY = ranged(float, 0, 1, high_open=True)  # dropout: 0 (off) up to, not including, 1
