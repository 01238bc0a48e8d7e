"""Diehl & Cook on Brian2's compiled devices: ``cpp_standalone`` and ``cuda_standalone`` (brian2cuda).

The network of :func:`~bioSNN.unsupervised.diehl_cook.build_network` is generated and compiled once
for a run of one slice (``slice_examples`` presentations). Every slice is then one ``device.run``
of the compiled binary with the learned state (weights, theta, controller) passed as ``run_args``;
the transient state starts from its initial values, as in the runtime backends' slice-boundary
reset. If repeated presentations leave examples of the slice unfinished, the binary runs again from
where it stopped (the controller idles once it reaches the slice's end, see
:data:`~bioSNN.unsupervised.diehl_cook.CONTROLLER_CODE`). Recording spike counts works the same way
with plasticity off.

Random numbers: Brian2 compiles the seed into ``main.cpp`` (``main.cu``). bioSNN rewrites that one
line so the binary reads the seed from the environment variable ``BIOSNN_SEED``, and gives every
run its own seed derived from ``(config.seed, slice, run)``. Compiled streams differ from the runtime
backends' (Brian2 promises equal spikes only between ``numpy`` and ``cython``), so the backends train
statistically equivalent but not identical networks.

Brian2's device is global state: every function here switches to the compiled device and back to
``runtime`` before returning.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np
from brian2 import NeuronGroup, defaultclock, device, mV, ms, prefs, seed as brian_seed, set_device, volt
from brian2.devices.device import reset_device

from ..errors import InputError, RunInterrupted
from ..isolation import isolated, preserved_prefs, temporary_environ
from ..interrupts import resume_hint, stop_requests
from ..progress import progress_bar
from .backends import STANDALONE_BACKENDS, CudaOptions, configure_cuda
from .diehl_cook import (
    CONTROLLER_VARIABLES, BuiltNetwork, DiehlCookConfig, DiehlCookState, build_network, controller_state,
    examples_done, excitatory_model, monitor_row, read_state,
)
from ..equations.model import NeuronModel
from .stdp import STDPRule

if TYPE_CHECKING:
    from .training import Recording

__all__ = ["train_standalone", "record_standalone", "compiled_network", "standalone_device", "SEED_ENV", "TRACE_SLICE"]

#: Examples per compiled run when potentials are recorded: a run's monitor stays in memory until read
#: (64 presentations of 1,000 steps and 400 neurons: 205 MB of float64 at every step).
TRACE_SLICE = 64
#: Environment variable the patched binary reads its random seed from.
SEED_ENV = "BIOSNN_SEED"
_GETENV = f'(std::getenv("{SEED_ENV}") ? std::getenv("{SEED_ENV}") : "0")'
#: per device: the main file, its one seed line, and what replaces it
_SEED_LINES = {
    "cpp_standalone": ("main.cpp", re.compile(r"_random_generators\[_i\]\.seed\(\s*\d+L\s*\+\s*_i\s*\)"),
                       f"_random_generators[_i].seed(std::strtoul({_GETENV}, nullptr, 10) + _i)"),
    "cuda_standalone": ("main.cu", re.compile(r"random_number_buffer\.set_seed\(\s*\d+ULL\s*\)"),
                        f"random_number_buffer.set_seed(std::strtoull({_GETENV}, nullptr, 10))"),
}


def _patch_seed(main_file: Path, backend: str = "cpp_standalone") -> None:
    _, pattern, replacement = _SEED_LINES[backend]
    code = main_file.read_text()
    patched, count = pattern.subn(replacement, code)
    if count != 1:
        raise RuntimeError(f"{main_file}: expected one random-seed line to patch, found {count} (Brian2 changed?)")
    main_file.write_text("#include <cstdlib>\n" + patched)


def _patch_cxx_standard(makefile: Path, standard: str) -> None:
    """brian2cuda 1.0b1 writes ``-std=c++11``; CUDA 13's Thrust/CUB need C++17."""
    makefile.write_text(re.sub(r"-std=c\+\+\d+", f"-std={standard}", makefile.read_text()))


def _run_seed(seed: int, slice_index: int, run: int) -> int:
    return (int(seed) * 1_000_003 + int(slice_index) * 101 + int(run)) % (2**31)


def _check_backend(backend: str) -> None:
    if backend not in STANDALONE_BACKENDS:
        raise InputError(f"{backend!r} is not a compiled backend; choose one of {', '.join(STANDALONE_BACKENDS)}")


@contextmanager
def compiled_network(config: DiehlCookConfig, rates: np.ndarray, state: DiehlCookState,
                     directory: str | os.PathLike[str], *, learning: bool, backend: str = "cpp_standalone",
                     rule: STDPRule | None = None, cuda: CudaOptions | None = None, compile: bool = True,
                     make_jobs: int = 2, neuron: NeuronModel | None = None,
                     record_v: bool = False, v_stride: int = 1, record_input: bool = False) -> Iterator[BuiltNetwork]:
    """Generate (and unless ``compile=False``, compile) the network for one slice-long run into
    ``directory`` and yield its Brian2 objects; ``device.run(run_args=...)`` then runs it. Restores
    Brian2's runtime device and every Brian2 preference on exit. ``record_v`` adds the monitor of the
    excitatory potentials (``built.exc_v``, every ``v_stride`` steps of a run, see
    :func:`~bioSNN.unsupervised.diehl_cook.build_network`).

    ``cuda`` configures ``cuda_standalone`` (``CudaOptions(gpu_id=0, compute_capability=9.0)``
    generates and compiles code on a machine without a GPU).
    """
    yield from _build_in_device(config, rates, state, Path(directory), backend, learning=learning, rule=rule,
                                cuda=cuda, compile=compile, make_jobs=make_jobs, neuron=neuron, record_v=record_v,
                                v_stride=v_stride, record_input=record_input)


@contextmanager
def standalone_device(directory: str | os.PathLike[str], backend: str = "cpp_standalone",
                      cuda: CudaOptions | None = None, make_jobs: int = 2) -> Iterator[None]:
    """Brian2's compiled ``backend`` device, building into ``directory`` (``build_on_run=False``), for
    the duration of the block; then ``device.reinit()``, the ``runtime`` device and every Brian2
    preference as they were. Objects made inside are generated by ``device.build`` and run, as often
    as wanted, by ``device.run(run_args=...)``.

    Example:
        >>> with standalone_device("build"):  # doctest: +SKIP
        ...     net = Network(...); device.apply_run_args(); net.run(1 * second); device.build(run=False)
        ...     device.run(run_args={group.v: values})
    """
    _check_backend(backend)
    with preserved_prefs():  # the compiler preferences set here are the build's, not the caller's
        if backend == "cuda_standalone":
            configure_cuda(cuda or CudaOptions(), directory)
        set_device(backend, build_on_run=False, directory=str(directory))
        try:
            prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{make_jobs}"]
            yield
        finally:
            device.reinit()
            reset_device("runtime")


def _build_in_device(config: DiehlCookConfig, rates: np.ndarray, state: Any, directory: Path, backend: str, *,
                     learning: bool, rule: Any, cuda: Any, compile: bool, make_jobs: int,
                     neuron: Any, record_v: bool = False, v_stride: int = 1,
                     record_input: bool = False) -> Iterator[BuiltNetwork]:
    with standalone_device(directory, backend, cuda, make_jobs):
        default_dt = defaultclock.dt
        try:
            built = build_network(config, rates, state, learning=learning, rule=rule, record_ticks=not learning,
                                  record_v=record_v, v_stride=v_stride, neuron=neuron, record_input=record_input)
            if backend == "cuda_standalone":
                # brian2cuda 1.0b1's kernels for synapses without delays read ``defaultclock.timestep``,
                # which the generated code declares only if some object runs on the default clock
                defaultclock.dt = config.dt_ms * ms
                built.net.add(NeuronGroup(1, "anchor : 1", name="defaultclock_anchor"))
            device.apply_run_args()
            brian_seed(0)  # replaced by the per-run seed
            built.net.run(config.slice_examples * config.example_ms * ms, namespace={})
            device.build(directory=str(directory), compile=False, run=False)
            main_file = _SEED_LINES[backend][0]
            _patch_seed(directory / main_file, backend)
            if backend == "cuda_standalone":
                _patch_cxx_standard(directory / "makefile", (cuda or CudaOptions()).cxx_standard)
            if compile:
                device.compile_source(str(directory), compiler=None, debug=False, clean=False)
            yield built
        finally:
            defaultclock.dt = default_dt


def _run_examples(built: BuiltNetwork, config: DiehlCookConfig, n: int, first_slice: int, done: int,
                  w: np.ndarray, theta: np.ndarray, ctrl: dict[str, float], bar: Any,
                  after_run: Any = None, after_slice: Any = None,
                  seed_slice_offset: int = 0) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Run slice after slice until ``n`` examples are done; returns the final ``(w, theta, ctrl)``.
    Slice ``k``'s runs are seeded as slice ``seed_slice_offset + k`` (:func:`_run_seed`)."""
    n_input = built.input_synapses.source.N
    slice_index = first_slice
    while done < n:
        target = min(n, (slice_index + 1) * config.slice_examples)
        run = 0
        while done < target:
            run_args: dict[Any, Any] = {built.input_synapses.w: w.ravel(), built.exc.theta: theta * volt,
                                        built.controller.stop_idx: np.array([float(target)])}
            for name, value in ctrl.items():
                run_args[getattr(built.controller, name)] = np.array([value])
            with temporary_environ(**{SEED_ENV: str(_run_seed(config.seed, seed_slice_offset + slice_index, run))}):
                device.run(run_args=run_args)
            learned = read_state(built, n_input, config.n_neurons)
            w, theta = learned.w, learned.theta
            ctrl = controller_state(built)
            if after_run is not None:
                after_run(target)
            new = min(examples_done(config, ctrl), target)
            bar.update(new - done)
            done, run = new, run + 1
        slice_index += 1
        if after_slice is not None:
            after_slice(slice_index, done, w, theta, ctrl)
    return w, theta, ctrl


def _initial_controller(config: DiehlCookConfig) -> dict[str, float]:
    ctrl = {name: 0.0 for name in CONTROLLER_VARIABLES}
    ctrl["intensity"] = config.intensity
    return ctrl


@isolated
def train_standalone(config: DiehlCookConfig, rates: np.ndarray, directory: str | os.PathLike[str], *,
                     state: DiehlCookState | None = None, rule: STDPRule | None = None, progress: bool = True,
                     checkpoint: str | os.PathLike[str] | None = None, resume: bool = False,
                     stop_after: int | None = None, backend: str = "cpp_standalone",
                     cuda: CudaOptions | None = None, make_jobs: int = 2,
                     neuron: NeuronModel | None = None) -> DiehlCookState:
    """Train like :func:`~bioSNN.unsupervised.training.train`, compiled with ``backend``
    (``cpp_standalone`` or ``cuda_standalone``) into ``directory``, checkpointing after every slice.
    Returns the learned state; a resumed run ends with exactly the weights of an uninterrupted one
    (every run's seed depends only on its slice)."""
    from .training import Checkpoint, rates_digest, resume_from, save_checkpoint

    _check_backend(backend)
    n = len(rates)
    if n < 1:
        raise InputError("no training examples")
    if stop_after is not None and stop_after % config.slice_examples:
        raise InputError(f"stop_after ({stop_after}) must be a multiple of slice_examples ({config.slice_examples})")
    limit = n if stop_after is None else min(n, stop_after)
    digest = rates_digest(rates)
    model = excitatory_model(True, config, neuron)
    start = resume_from(checkpoint, config, digest, backend, model) if resume else None
    if start is not None:
        state = start.state
    state = state or DiehlCookState.initial(config, rates.shape[1])
    ctrl, slice_index, done = _initial_controller(config), 0, 0
    if start is not None:
        ctrl, slice_index, done = dict(start.controller), start.slice_index, start.examples_done

    def after_slice(index: int, done_now: int, w: np.ndarray, theta: np.ndarray, ctrl_now: dict[str, float]) -> None:
        if checkpoint is not None:
            save_checkpoint(checkpoint, Checkpoint(DiehlCookState(w, state.delay_ms, theta), config, index, ctrl_now,
                                                   digest, done_now, 0.0, backend, model.fingerprint()))
        if done_now < limit:
            stop.check(f"after {done_now} of {limit} training examples", hint)

    hint = resume_hint(checkpoint)
    with compiled_network(config, rates, state, directory, learning=True, backend=backend, rule=rule, cuda=cuda,
                          make_jobs=make_jobs, neuron=neuron) as built:
        with progress_bar(limit, f"STDP training ({backend})", "ex", enabled=progress, initial=done) as bar, \
                stop_requests() as stop:
            try:
                w, theta, _ = _run_examples(built, config, limit, slice_index, done, state.w, state.theta, ctrl, bar,
                                            after_slice=after_slice)
                stop.check(f"after the last of {limit} training examples (checkpoint written)", hint)
            except RuntimeError as exc:  # a Ctrl+C in a terminal also stops the compiled binary mid-slice
                if stop and not isinstance(exc, RunInterrupted):
                    raise RunInterrupted(f"{stop.signal} received: the compiled slice was stopped; the last "
                                         f"checkpoint is the previous slice's; {hint}") from exc
                raise
    return DiehlCookState(w, state.delay_ms, theta)


@isolated
def record_standalone(config: DiehlCookConfig, rates: np.ndarray, state: DiehlCookState,
                      directory: str | os.PathLike[str], *, traces: bool = False, stride: int = 1,
                      trace_dtype: Any = np.float32, seed_slice_offset: int = 0, backend: str = "cpp_standalone",
                      cuda: CudaOptions | None = None, progress: bool = True, make_jobs: int = 2,
                      neuron: NeuronModel | None = None, input_spikes: bool = False) -> Recording:
    """Spike counts ``[n_examples, N]`` and, with ``traces``, membrane potentials with plasticity off
    and theta fixed, like :func:`~bioSNN.unsupervised.training.record`, compiled with ``backend``.

    Traces (mV, ``trace_dtype``) are kept at steps ``stride - 1, 2 * stride - 1, ...`` of each
    presentation: ``[n_examples, N, (present_ms / dt_ms) // stride]`` (all steps at ``stride=1``, as
    ``record`` returns them). The potential is monitored every ``stride`` steps of a run (every step
    when ``stride`` does not divide a tick) and sliced after each run, so a run holds
    ``slice_examples * example_ms / (dt_ms * stride) * N`` doubles: record traces in slices of tens of
    examples. The compiled program is built once; every slice is one run of it,
    seeded by ``(config.seed, seed_slice_offset + slice)``. ``input_spikes`` also returns every
    presentation's input spikes, per slice (``Recording.presentations``, what the torch twin of
    :mod:`bioSNN.supervised.twin` is fed to reproduce this recording).

    Example:
        >>> rec = record_standalone(config, rates, state, "build", traces=True, stride=10)  # doctest: +SKIP
        >>> rec.traces.shape  # doctest: +SKIP
        (64, 400, 70)
    """
    from .training import Recording, add_presentations, presentation_counts

    n = len(rates)
    if n < 1:
        raise InputError("no examples to record")
    if stride < 1:
        raise InputError(f"stride must be at least 1, got {stride}")
    counts = np.zeros((n, config.n_neurons), dtype=np.int64)
    length = int(round(config.present_ms / config.dt_ms))
    keep = np.arange(stride - 1, length, stride)
    trace_array = np.zeros((n, config.n_neurons, len(keep)), dtype=trace_dtype) if traces else None
    steps_per_tick = int(round(config.tick_ms / config.dt_ms))
    v_stride = stride if steps_per_tick % stride == 0 else 1  # presentations start at ticks
    chains: list[list[Any]] | None = [[] for _ in range(-(-n // config.slice_examples))] if input_spikes else None
    with compiled_network(config, rates, state, directory, learning=False, backend=backend, cuda=cuda,
                          make_jobs=make_jobs, neuron=neuron, record_v=traces, v_stride=v_stride,
                          record_input=input_spikes) as built:

        def after_run(target: int) -> None:  # every run's monitors start empty: fold them in
            run_counts, last_start = presentation_counts(config, target, built.ticks.idx[0],
                                                         built.ticks.new_example[0], built.exc_spikes.t / ms,
                                                         built.exc_spikes.i)
            shown = np.flatnonzero(last_start >= 0)
            counts[shown] = run_counts[shown]
            if chains is not None:
                add_presentations(chains, config, target, built.ticks.idx[0], built.ticks.new_example[0],
                                  built.input_spikes.t / ms, built.input_spikes.i, compiled=True)
            if trace_array is not None and len(shown):
                v = np.asarray(built.exc_v.v_, dtype=np.float64)  # [N, rows of the run], volt
                rows = monitor_row(last_start[shown, None] * steps_per_tick + keep[None, :], v_stride)
                trace_array[shown] = np.moveaxis(v[:, rows], 1, 0) / float(mV)

        with progress_bar(n, f"recording ({backend})", "ex", enabled=progress) as bar:
            _run_examples(built, config, n, 0, 0, state.w, state.theta, _initial_controller(config), bar,
                          after_run=after_run, seed_slice_offset=seed_slice_offset)
    return Recording(counts, trace_array, chains)
