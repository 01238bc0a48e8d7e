"""The Brian2 backends of the unsupervised stage, by name (light: the CLI reads it to build its help)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError

__all__ = ["BACKENDS", "codeobj_class"]

#: Backends: Brian2's runtime targets, and cpp_standalone for Diehl & Cook training (its recordings,
#: assignment and guidance, run on cython).
BACKENDS = ("cython", "numpy", "cpp_standalone")


def codeobj_class(backend: str) -> Any:
    """The Brian2 code-object class of a runtime ``backend`` (``cpp_standalone`` records with cython)."""
    if backend == "numpy":
        from brian2 import NumpyCodeObject

        return NumpyCodeObject
    if backend in ("cython", "cpp_standalone"):
        from brian2.codegen.runtime.cython_rt import CythonCodeObject

        return CythonCodeObject
    raise InputError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)} (cuda_standalone is not "
                     "implemented yet)")
