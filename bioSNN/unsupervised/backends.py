"""The Brian2 backends of the unsupervised stage, by name, and the brian2cuda configuration.

Light on purpose: the CLI reads it to build its help, and nothing here imports brian2cuda until a
CUDA build is configured.
"""

from __future__ import annotations

import importlib.util
from importlib import import_module
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError

__all__ = ["BACKENDS", "STANDALONE_BACKENDS", "codeobj_class", "CudaOptions", "configure_cuda", "find_curand"]

#: Brian2's runtime targets (each Brian2 object gets the code-object class) and its compiled devices
#: (the whole unsupervised stage: training, spike counts and membrane traces, both presets).
RUNTIME_BACKENDS = ("cython", "numpy")
STANDALONE_BACKENDS = ("cpp_standalone", "cuda_standalone")
BACKENDS = RUNTIME_BACKENDS + STANDALONE_BACKENDS


def codeobj_class(backend: str) -> Any:
    """The Brian2 code-object class of a runtime ``backend``; for a compiled one, cython's (what a
    runtime network made beside a compiled build uses).

    Example:
        >>> codeobj_class("numpy").__name__
        'NumpyCodeObject'
    """
    if backend == "numpy":
        from brian2 import NumpyCodeObject

        return NumpyCodeObject
    if backend == "cython" or backend in STANDALONE_BACKENDS:
        from brian2.codegen.runtime.cython_rt import CythonCodeObject

        return CythonCodeObject
    raise InputError(f"unknown backend {backend!r}; available: {', '.join(BACKENDS)}")


@dataclass(frozen=True)
class CudaOptions:
    """How to build for ``cuda_standalone``.

    Attributes:
        gpu_id: GPU to run on. With ``compute_capability`` also set, no GPU is looked for
            (``detect_gpus=False``): code is generated and compiled for that architecture on any
            machine, e.g. ``CudaOptions(gpu_id=0, compute_capability=9.0)`` for an H100.
        compute_capability: e.g. ``9.0`` (``-arch=sm_90``); ``None`` detects it from the GPU.
        cxx_standard: C++ standard for nvcc and the host compiler. brian2cuda 1.0b1 writes
            ``c++11``, which CUDA 13's Thrust/CUB refuse; bioSNN rewrites the makefile with this.
        curand_include: folder holding ``curand.h`` when the CUDA toolkit has none (CUDA 13 images
            often lack cuRAND); ``None`` looks in the toolkit, then in the ``nvidia-curand`` wheel.
    """

    gpu_id: int | None = None
    compute_capability: float | None = None
    cxx_standard: str = "c++17"
    curand_include: str | None = None


def _cuda_home() -> Path | None:
    for candidate in (os.environ.get("CUDA_PATH"), os.environ.get("CUDA_HOME")):
        if candidate:
            return Path(candidate)
    from shutil import which

    nvcc = which("nvcc")
    if nvcc:
        return Path(nvcc).resolve().parent.parent
    return Path("/usr/local/cuda") if Path("/usr/local/cuda").is_dir() else None


def find_curand() -> tuple[Path, Path] | None:
    """``(include_dir, library_file)`` of cuRAND from the ``nvidia-curand`` wheel, if installed
    (``nvidia/cu13`` or the older ``nvidia/curand`` layout)."""
    spec = importlib.util.find_spec("nvidia")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in map(Path, spec.submodule_search_locations):
        for sub in ("cu13", "curand", "cu12"):
            include, lib = root / sub / "include", root / sub / "lib"
            libs = sorted(lib.glob("libcurand.so*")) if lib.is_dir() else []
            if (include / "curand.h").is_file() and libs:
                return include, libs[0]
    return None


def configure_cuda(options: CudaOptions, build_dir: str | os.PathLike[str]) -> None:
    """Set brian2cuda's preferences for a build into ``build_dir`` (imports brian2cuda)."""
    try:
        import_module("brian2cuda")  # registers the cuda_standalone device
    except ImportError as exc:
        raise InputError("the cuda_standalone backend needs brian2cuda: pip install 'bioSNN[cuda]' "
                         "(Python >= 3.12, brian2 2.10.1)") from exc
    from brian2 import prefs

    backend = prefs.devices.cuda_standalone.cuda_backend
    if options.compute_capability is not None:
        backend.detect_gpus = False
        backend.compute_capability = float(options.compute_capability)
        backend.gpu_id = 0 if options.gpu_id is None else int(options.gpu_id)
    elif options.gpu_id is not None:
        backend.gpu_id = int(options.gpu_id)
    nvcc_args = [a for a in backend.extra_compile_args_nvcc if not a.startswith("-std=")]
    nvcc_args.append(f"-std={options.cxx_standard}")
    home = _cuda_home()
    has_curand = home is not None and (home / "include" / "curand.h").is_file()
    include = Path(options.curand_include) if options.curand_include else None
    library = None
    if include is None and not has_curand:
        found = find_curand()
        if found is not None:
            include, library = found
    if include is not None:
        nvcc_args.append(f"-I{include}")
    backend.extra_compile_args_nvcc = nvcc_args
    if library is not None:  # the wheel ships libcurand.so.N only: link through a libcurand.so next to the build
        link_dir = Path(build_dir).resolve() / "curand_lib"
        link_dir.mkdir(parents=True, exist_ok=True)
        link = link_dir / "libcurand.so"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(library)
        for pref in ("library_dirs", "runtime_library_dirs"):
            dirs = list(prefs[f"codegen.cpp.{pref}"])
            if str(link_dir) not in dirs:
                prefs[f"codegen.cpp.{pref}"] = dirs + [str(link_dir)]
    gcc_args = [a for a in prefs.codegen.cpp.extra_compile_args_gcc if not a.startswith("-std=")]
    prefs.codegen.cpp.extra_compile_args_gcc = gcc_args + [f"-std={options.cxx_standard}"]
