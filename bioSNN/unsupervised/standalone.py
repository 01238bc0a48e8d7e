"""Diehl & Cook training with Brian2's ``cpp_standalone`` device: compiled once, one ``device.run`` per slice.

The network of :func:`~bioSNN.unsupervised.diehl_cook.build_network` is generated once for a run of
one slice (``slice_examples`` presentations). Every slice is then one ``device.run`` of the compiled
binary with the learned state (weights, theta, controller) passed as ``run_args``; the transient
state starts from its initial values, as in the runtime backends' slice-boundary reset. If repeated
presentations leave examples of the slice unfinished, the binary runs again from where it stopped.

Random numbers: Brian2 compiles the seed into ``main.cpp``. bioSNN rewrites that one line so the
binary reads the seed from the environment variable ``BIOSNN_SEED``, and gives every run its own
seed derived from ``(config.seed, slice, run)``. Standalone streams differ from the runtime backends'
(Brian2 promises equal spikes only between ``numpy`` and ``cython``), so the two backends train
statistically equivalent but not identical networks.

Brian2's device is global state: :func:`train_standalone` switches to ``cpp_standalone`` and back to
``runtime`` before returning.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from brian2 import device, ms, prefs, seed as brian_seed, set_device, volt
from brian2.devices.device import reset_device

from ..errors import InputError
from ..progress import progress_bar
from .diehl_cook import (
    CONTROLLER_VARIABLES, DiehlCookConfig, DiehlCookState, build_network, controller_state, examples_done, read_state,
)
from .stdp import STDPRule

__all__ = ["train_standalone", "SEED_ENV"]

#: Environment variable the patched binary reads its random seed from.
SEED_ENV = "BIOSNN_SEED"
_SEED_LINE = re.compile(r"_random_generators\[_i\]\.seed\(\s*\d+L\s*\+\s*_i\s*\)")


def _patch_seed(main_cpp: Path) -> None:
    code = main_cpp.read_text()
    patched, count = _SEED_LINE.subn(
        f'_random_generators[_i].seed(std::strtoul(std::getenv("{SEED_ENV}") ? std::getenv("{SEED_ENV}") : "0", '
        "nullptr, 10) + _i)", code)
    if count != 1:
        raise RuntimeError(f"{main_cpp}: expected one random-seed line to patch, found {count} (Brian2 changed?)")
    main_cpp.write_text("#include <cstdlib>\n" + patched)


def _run_seed(seed: int, slice_index: int, run: int) -> int:
    return (int(seed) * 1_000_003 + int(slice_index) * 101 + int(run)) % (2**31)


def train_standalone(config: DiehlCookConfig, rates: np.ndarray, directory: str | os.PathLike[str], *,
                     state: DiehlCookState | None = None, rule: STDPRule | None = None, progress: bool = True,
                     checkpoint: str | os.PathLike[str] | None = None, resume: bool = False,
                     stop_after: int | None = None, make_jobs: int = 2) -> DiehlCookState:
    """Train like :func:`~bioSNN.unsupervised.training.train`, compiled with ``cpp_standalone`` into
    ``directory``, checkpointing after every slice. Returns the learned state; a resumed run ends
    with exactly the weights of an uninterrupted one (every run's seed depends only on its slice)."""
    from .training import Checkpoint, rates_digest, resume_from, save_checkpoint

    n = len(rates)
    if n < 1:
        raise InputError("no training examples")
    if stop_after is not None and stop_after % config.slice_examples:
        raise InputError(f"stop_after ({stop_after}) must be a multiple of slice_examples ({config.slice_examples})")
    limit = n if stop_after is None else min(n, stop_after)
    digest = rates_digest(rates)
    start = resume_from(checkpoint, config, digest, "cpp_standalone") if resume else None
    if start is not None:
        state = start.state
    state = state or DiehlCookState.initial(config, rates.shape[1])
    directory = Path(directory)
    set_device("cpp_standalone", build_on_run=False, directory=str(directory))
    try:
        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{make_jobs}"]
        built = build_network(config, rates, state, learning=True, rule=rule)
        device.apply_run_args()
        brian_seed(0)  # replaced by the per-run seed
        built.net.run(config.slice_examples * config.example_ms * ms, namespace={})
        device.build(directory=str(directory), compile=False, run=False)
        _patch_seed(directory / "main.cpp")
        device.compile_source(str(directory), compiler=None, debug=False, clean=False)

        w, theta = state.w, state.theta
        ctrl = {name: 0.0 for name in CONTROLLER_VARIABLES}  # the controller's initial state
        ctrl["intensity"] = config.intensity
        done, slice_index = 0, 0
        if start is not None:
            ctrl, slice_index, done = dict(start.controller), start.slice_index, start.examples_done
        with progress_bar(limit, "STDP training (cpp_standalone)", "ex", enabled=progress, initial=done) as bar:
            while done < limit:
                target = min(n, (slice_index + 1) * config.slice_examples)
                run = 0
                while done < target:
                    os.environ[SEED_ENV] = str(_run_seed(config.seed, slice_index, run))
                    run_args: dict[Any, Any] = {built.input_synapses.w: w.ravel(), built.exc.theta: theta * volt,
                                                built.controller.stop_idx: np.array([float(target)])}
                    for name, value in ctrl.items():
                        run_args[getattr(built.controller, name)] = np.array([value])
                    device.run(run_args=run_args)
                    learned = read_state(built, rates.shape[1], config.n_neurons)
                    w, theta = learned.w, learned.theta
                    ctrl = controller_state(built)
                    new = min(examples_done(config, ctrl), target)
                    bar.update(new - done)
                    done, run = new, run + 1
                slice_index += 1
                if checkpoint is not None:
                    save_checkpoint(checkpoint, Checkpoint(DiehlCookState(w, state.delay_ms, theta), config,
                                                           slice_index, ctrl, digest, done, 0.0, "cpp_standalone"))
        return DiehlCookState(w, state.delay_ms, theta)
    finally:
        device.reinit()
        reset_device("runtime")
