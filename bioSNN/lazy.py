"""Lazy package exports (PEP 562): a package names what it exports and from which submodule, and
imports that submodule on first use, so light parts (the CLI, the Brian2 side without torch) stay light."""

from __future__ import annotations

from importlib import import_module
from typing import Any, Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package`` for ``exports`` (public name -> submodule).

    Example:
        >>> getattr_ = lazy_exports("bioSNN", {"digest": "arrays"})
        >>> getattr_("digest").__name__
        'digest'
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(f".{exports[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
