"""Brian2 quantities <-> plain JSON values, and SI conversion helpers.

This is the one place that decides how a unit-carrying value is written to disk:
``{"si": <float or nested list>, "dim": [m, kg, s, A, K, mol, cd], "text": "<human readable>"}``.
The ``text`` field is informative only; ``si`` and ``dim`` are authoritative.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from brian2.units.fundamentalunits import (
    DIMENSIONLESS,
    Dimension,
    Quantity,
    get_dimensions,
    get_or_create_dimension,
)

__all__ = ["display_unit", "quantity_to_json", "quantity_from_json", "dimension_of", "si_value", "as_positive", "as_time", "as_rate"]


def dimension_of(value: Any) -> Dimension:
    """The Brian2 dimension of ``value`` (dimensionless for plain numbers and booleans)."""
    return get_dimensions(value) if isinstance(value, Quantity) else DIMENSIONLESS


def si_value(value: Any) -> Any:
    """The numerical value of ``value`` in SI base units (a float, bool or numpy array)."""
    if isinstance(value, Quantity):
        arr = np.asarray(value)
        return float(arr) if arr.ndim == 0 else arr
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return value


def quantity_to_json(value: Any) -> dict[str, Any]:
    """Encode a quantity, number or boolean as a JSON-safe dict (see module docstring)."""
    if isinstance(value, (bool, np.bool_)):
        return {"bool": bool(value)}
    dim = dimension_of(value)
    raw = np.asarray(si_value(value), dtype=np.float64)
    si: Any = float(raw) if raw.ndim == 0 else raw.tolist()
    return {"si": si, "dim": [float(d) for d in dim._dims], "text": str(value)}


def quantity_from_json(data: dict[str, Any]) -> Any:
    """Inverse of :func:`quantity_to_json`."""
    if "bool" in data:
        return bool(data["bool"])
    try:
        dim = get_or_create_dimension(tuple(data["dim"]))
        si = data["si"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a serialised quantity: {data!r}") from exc
    value = np.asarray(si, dtype=np.float64)
    if dim is DIMENSIONLESS:
        return float(value) if value.ndim == 0 else value
    return Quantity(value if value.ndim else float(value), dim=dim)


def as_positive(value: Any, unit: Any, what: str) -> float:
    """``value`` in SI units, checked to be positive, finite and of ``unit``'s dimension.

    Accepts a Brian2 quantity or a plain number (taken in SI units: seconds, hertz, ...).
    """
    from .errors import InputError

    if isinstance(value, Quantity):
        if get_dimensions(value) is not get_dimensions(unit):
            raise InputError(f"{what} must have the dimension of {unit!r}, got {value!r}")
        number = float(np.asarray(value))
    else:
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{what} must be a number or a quantity in {unit!r}, got {value!r}") from exc
    if not np.isfinite(number) or number <= 0:
        raise InputError(f"{what} must be positive and finite, got {value!r}")
    return number


#: the longest time step a bare number (taken in seconds) may give (50 ms): longer ones are refused as a likely
#: unit slip (``dt=0.1`` meant as 0.1 ms would be 0.1 s); a Brian2 quantity may be any length
BARE_DT_LIMIT_S = 0.05


def as_time(dt: Any, what: str = "dt", *, bare_limit: float | None = BARE_DT_LIMIT_S) -> float:
    """``dt`` in seconds, checked to be a positive, finite time (a quantity, or a number in seconds:
    a bare number above ``bare_limit``, by default :data:`BARE_DT_LIMIT_S`, is refused as a likely
    unit slip; ``bare_limit=None`` for times that are not steps).

    Example:
        >>> from brian2 import ms
        >>> as_time(0.5 * ms), as_time(5e-4)
        (0.0005, 0.0005)
    """
    from brian2 import second

    from .errors import InputError

    seconds = as_positive(dt, second, what)
    if bare_limit is not None and not isinstance(dt, Quantity) and seconds > bare_limit:
        raise InputError(f"{what} = {dt!r} would be {seconds:g} s (a bare number is taken in seconds): give a "
                         f"quantity, e.g. {dt!r} * ms")
    return seconds


def as_rate(rate: Any, what: str = "rate") -> float:
    """``rate`` in hertz, checked to be a positive, finite rate (a quantity, or a number in hertz)."""
    from brian2 import Hz

    return as_positive(rate, Hz, what)


#: Units in which bioSNN shows (and trains) values of common dimensions: potentials in mV, currents in nA,
#: conductances in nS, times in ms. Everything else is shown in SI.
_DISPLAY_UNITS = (("mV", 1e-3, "volt"), ("nA", 1e-9, "amp"), ("nS", 1e-9, "siemens"), ("ms", 1e-3, "second"))


def display_unit(dim: Dimension) -> tuple[str, float]:
    """``(symbol, SI value of one unit)`` for showing values of dimension ``dim``.

    Example:
        >>> from brian2 import mV
        >>> display_unit(dimension_of(1 * mV))
        ('mV', 0.001)
        >>> display_unit(DIMENSIONLESS)
        ('1', 1.0)
    """
    from brian2 import amp, second, siemens, volt

    base = {"volt": volt, "amp": amp, "siemens": siemens, "second": second}
    for symbol, factor, unit in _DISPLAY_UNITS:
        if dim is get_dimensions(base[unit]):
            return symbol, factor
    if dim is DIMENSIONLESS:
        return "1", 1.0
    return repr(dim), 1.0
