"""Library calls leave the caller's process as they found it: global random generators, environment
variables and Brian2 preferences are saved before and restored after (one place for that rule).

Brian2's runtime targets draw from numpy's global generator, and ``brian2.seed`` reseeds it; the
standalone binaries read their seed from an environment variable; backends need compiler
preferences. Each of those is set only inside these guards.

Example:
    >>> import numpy as np
    >>> before = np.random.get_state()[1][:3].copy()
    >>> with preserved_global_state():
    ...     np.random.seed(123)
    >>> bool((np.random.get_state()[1][:3] == before).all())
    True
"""

from __future__ import annotations

import functools
import os
import random
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

import numpy as np

__all__ = ["preserved_global_state", "isolated", "temporary_environ", "preserved_prefs"]

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def preserved_global_state() -> Iterator[None]:
    """Restore numpy's and Python's global random generators (and torch's CPU one, when torch is
    loaded) on exit, whatever happened inside."""
    import sys

    np_state, py_state = np.random.get_state(), random.getstate()
    torch = sys.modules.get("torch")
    torch_state = torch.random.get_rng_state() if torch is not None else None
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
        if torch_state is not None:
            torch.random.set_rng_state(torch_state)


def isolated(fn: F) -> F:
    """Decorate a library entry point so that it runs inside :func:`preserved_global_state`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with preserved_global_state():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def temporary_environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block (for a child process), then restore them."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def preserved_prefs() -> Iterator[None]:
    """Restore every Brian2 preference registered on entry to its value on entry."""
    from brian2 import prefs

    saved = {k: prefs[k] for k in prefs.keys()}
    try:
        yield
    finally:
        for k, v in saved.items():
            try:
                changed = prefs[k] is not v and not _same(prefs[k], v)
            except Exception:  # noqa: BLE001 - a preference that cannot be compared: restore it
                changed = True
            if changed:
                prefs[k] = v


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and other values without a truth value
        return False
