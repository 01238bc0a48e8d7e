r"""The PyTorch side of a :class:`~bioSNN.equations.NeuronModel`: a pure, batched, differentiable step.

>>> import torch
>>> from brian2 import ms
>>> from bioSNN.equations import library, TorchStep
>>> step = TorchStep(library.lif_exp_synapse(), dt=0.1*ms, dtype=torch.float64)
>>> state = step.initial_state(batch=4, n=10)
>>> x = torch.rand(4, 3) < 0.5                       # input spikes of one step  [batch, n_in]
>>> w = torch.full((3, 10), 2e-9, dtype=torch.float64)  # weights [n_in, n_out], SI (amp)
>>> spikes, state = step(state, x, w)
>>> spikes.shape
torch.Size([4, 10])

Within one step the order is Brian2's schedule for the model (by default: state update, threshold,
delivery of this step's input spikes, reset), so ``step`` reproduces Brian2 to float precision.
Values are in SI units, like Brian2's internal values. Time variables (``lastspike``) are kept in
float64 whatever ``dtype`` is, so refractoriness is exact in float32 too.
"""

from __future__ import annotations

import copy
import types
from typing import Any, Mapping, NamedTuple, Sequence

import torch

from .codegen import GeneratedStep, generate_step
from ..errors import InputError
from .model import NeuronModel
from ..quantities import as_time, si_value
from .surrogate import Surrogate

__all__ = ["TorchStep", "RunResult", "LayerState", "BACKENDS", "delay_steps", "delayed_drive"]

#: How a :class:`TorchStep` executes its generated step: ``"eager"`` runs it op by op (the reference);
#: ``"compile"`` runs it through ``torch.compile(fullgraph=True)``, which fuses the step's element-wise
#: operations (forward and backward) into a few kernels. With a float32 or float64 state both give the
#: same values (pinned by the tests); the compiled one costs a compilation (seconds to a minute) the
#: first time each step meets a new input shape (batch size), and a second one when shapes start to
#: vary (then compiled for any batch size).
#: ``"fused"`` compiles :data:`FUSED_STEPS` steps at a time into one function (``torch.compile`` then
#: fuses their element-wise work across steps into a few kernels: one call per chunk instead of a
#: dozen kernels per step); a run's last ``T mod FUSED_STEPS`` steps, and runs that record
#: subexpressions, go step by step as ``"eager"``. Same spikes, traces and gradients (tested); the first
#: run of a chunk length compiles for tens of seconds.
#: ``"bptt"`` is ``"fused"`` with a backward pass of its own (backpropagation through time by
#: checkpointing): the forward pass runs :data:`BPTT_STEPS` steps per compiled call without an autograd
#: graph and keeps only the state at the start of each chunk; the backward pass recomputes each chunk
#: from that state, in reverse, and takes its vector-Jacobian product (``torch.func.vjp``) in the same
#: compiled call, so that each chunk is one fused C++/OpenMP loop over the neurons each way, the state
#: in registers through the chunk's steps. Memory: the drive, the outputs and one state per chunk. Same
#: spikes, traces and gradients as ``"eager"`` (drives, start state, tensor parameters; tested), no
#: second derivative; a drive scale given to :meth:`TorchStep.run_drive` is applied inside the chunks. A
#: run's last ``T mod BPTT_STEPS`` steps are a chunk of their own length (compiled once more), runs
#: that record subexpressions go step by step as ``"eager"``. The first run compiles for tens of
#: seconds (inductor caches the code on disk), and again when the batch size first changes.
BACKENDS = ("eager", "compile", "fused", "bptt")
#: steps per compiled call of the ``"fused"`` backend (a longer chunk compiles for longer)
FUSED_STEPS = 20
#: steps per compiled chunk of the ``"bptt"`` backend (read at each run; a longer chunk compiles for longer)
BPTT_STEPS = 10
#: the floating-point dtypes a state may have
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


class RunResult(NamedTuple):
    """Output of :meth:`TorchStep.run`: spikes ``[T, B, n]``, final state, recorded ``[T, B, n]``."""

    spikes: torch.Tensor
    state: Any
    recorded: dict[str, torch.Tensor]


class TorchStep:
    r"""Compiled torch dynamics of one model at one ``dt``.

    ``step(state, input_spikes, weights) -> (spikes, new_state)`` is a pure function of its
    arguments: ``state`` is an immutable named tuple (one ``[batch, n]`` tensor per state variable,
    plus ``timestep``), nothing is stored on the object between calls.

    Parameters
    ----------
    model: the neuron model.
    dt: time step (Brian2 quantity or seconds).
    surrogate: surrogate gradient of the threshold (:class:`Surrogate`).
    detach_reset: if True (default), no gradient flows through the spike into the reset.
    dtype, device: of the floating-point state.
    params: overrides of model parameters, in SI (floats or tensors, e.g. trainable ``[n]`` tensors).
    backend: ``"eager"`` (default) or ``"compile"`` (:data:`BACKENDS`).
    """

    def __init__(
        self,
        model: NeuronModel,
        dt: Any,
        *,
        surrogate: Surrogate | None = None,
        detach_reset: bool = True,
        dtype: torch.dtype = torch.float32,
        device: Any = "cpu",
        params: Mapping[str, Any] | None = None,
        backend: str = "eager",
    ):
        _check_dtype(dtype)
        self.model = model
        self.dt = as_time(dt)
        self.surrogate = surrogate or Surrogate()
        self.detach_reset = bool(detach_reset)
        self.dtype = dtype
        self.device = torch.device(device)
        self.generated: GeneratedStep = generate_step(model, self.surrogate.dimension)
        self.params: dict[str, Any] = {k: si_value(model.parameters[k]) for k in self.generated.parameters}
        for key, value in (params or {}).items():
            if key not in model.parameters:
                raise InputError(f"params: {key!r} is not a parameter of model '{model.name}'")
            if key in self.params:
                self.params[key] = value
        self._use(backend)

    def _use(self, backend: str) -> None:
        """Run the generated step by ``backend`` from now on (checked)."""
        if backend not in BACKENDS:
            raise InputError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if backend != "eager" and self.dtype not in (torch.float32, torch.float64):
            raise InputError(f"backend {backend!r} needs a float32 or float64 state, not {self.dtype}: compiled "
                             "kernels compute half-precision steps in float32 and would not match the eager ones")
        self.backend = backend
        self._fn = _compiled(self.generated.fn) if backend == "compile" else self.generated.fn
        self._chunks: dict[tuple[int, tuple[str, ...]], Any] = {}  # "fused": (steps, record) -> compiled function
        self._plans: dict[tuple[Any, ...], _BpttPlan] = {}  # "bptt": (steps, record, scales, tensor keys) -> compiled pair

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the generated code (functions made at run time do not pickle): the model
        is kept, and the step is generated again from it when unpickled (:meth:`__setstate__`)."""
        state = dict(self.__dict__)
        state.pop("generated", None)
        state.pop("_fn", None)
        state.pop("_chunks", None)
        state.pop("_plans", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.generated = generate_step(self.model, self.surrogate.dimension)
        self._use(self.backend)

    def with_dtype(self, dtype: torch.dtype) -> "TorchStep":
        """The same step with its floating-point state in ``dtype`` (what ``module.double()`` asks of a layer)."""
        _check_dtype(dtype)
        other = copy.copy(self)
        other.dtype = dtype
        other._use(self.backend)
        return other

    def with_backend(self, backend: str) -> "TorchStep":
        """The same step (model, dt, surrogate, dtype, parameters, generated code) run by ``backend``."""
        other = copy.copy(self)
        other._use(backend)
        return other

    # ------------------------------------------------------------------ state
    @property
    def State(self) -> type:  # noqa: N802 - a type
        """The named-tuple type of this model's state (fields: state variables + ``timestep``)."""
        return self.generated.state_type

    def initial_state(self, batch: int, n: int, device: Any = None) -> Any:
        """State of ``batch`` x ``n`` neurons at t = 0 (model ``initial`` values, else 0), on ``device``
        (default: the step's own)."""
        device = self.device if device is None else torch.device(device)
        values = {}
        for name in self.generated.state_fields:
            dtype = self.state_dtype(name)
            init = self.generated.initial[name]
            if getattr(init, "ndim", 0) == 1:  # one value per neuron
                if len(init) != n:
                    raise InputError(f"model '{self.model.name}' gives {len(init)} per-neuron values of {name!r}, "
                                     f"but the layer has n={n} neurons")
                values[name] = torch.as_tensor(init, device=device).to(dtype).expand(batch, n).clone()
                continue
            values[name] = torch.full((batch, n), init.item() if hasattr(init, "item") else init,
                                      dtype=dtype, device=device)
        return LayerState(self.State(**values), 0)

    def state_dtype(self, name: str) -> torch.dtype:
        """The torch dtype of state field ``name``: the step's dtype for floats, float64 for times."""
        kind = self.generated.state_kinds[name]
        return {"float": self.dtype, "time": torch.float64, "bool": torch.bool, "int": torch.int64}[kind]

    @property
    def pathways(self) -> tuple[str, ...]:
        """The model's input pathways, in the order of the drives the step takes."""
        return tuple(self.model.pathways)

    def drives(self, drive: Any) -> tuple[torch.Tensor, ...]:
        """``drive`` as one tensor per pathway: a tensor (single-pathway models), a dict keyed by pathway
        name, or a sequence in :attr:`pathways` order."""
        if isinstance(drive, (tuple, list)):
            if len(drive) != len(self.pathways):
                raise InputError(f"{len(drive)} drives given for the {len(self.pathways)} pathways {list(self.pathways)}")
            return tuple(drive)
        return tuple(self.model.per_pathway(drive, "the drive").values())

    # ------------------------------------------------------------------ stepping
    def __call__(self, state: Any, input_spikes: Any, weights: Any) -> tuple[torch.Tensor, Any]:
        """Advance one step: deliver ``input_spikes [B, n_in]`` through ``weights [n_in, n_out]`` (dicts
        keyed by pathway name for a model with several pathways)."""
        xs, ws = self._per_pathway(input_spikes, "input_spikes"), self._per_pathway(weights, "weights")
        for x, w in zip(xs, ws):
            self._check(x, w, state, step_input=True)
        return self.step_drive(state, tuple(x.to(w.dtype) @ w for x, w in zip(xs, ws)))

    def step_drive(self, state: Any, drive: torch.Tensor,
                   params: Mapping[str, Any] | None = None) -> tuple[torch.Tensor, Any]:
        """Advance one step given this step's summed synaptic drive ``[B, n_out]`` (``spikes @ w``).

        ``params`` overrides model parameters for this call (SI values; e.g. trainable ``[n]`` tensors),
        so a module can keep its trainable parameters itself and the step stays a pure function."""
        return self._advance(state, self.drives(drive), self._values(params))

    def _values(self, params: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """The parameter values a step uses: the model's, with ``params`` overriding."""
        return self.params if not params else {**self.params, **params}

    def _advance(self, state: Any, drives: tuple[torch.Tensor, ...], values: Mapping[str, Any],
                 invariants: Any = None) -> tuple[torch.Tensor, Any]:
        """One step from merged parameter ``values`` (and, within a run, its precomputed loop invariants)."""
        spikes, inner = self._fn(state.inner, drives, values, state.timestep * self.dt, self.dt, self.dtype,
                                 self.surrogate.spike, self.detach_reset, invariants)
        return spikes, LayerState(inner, state.timestep + 1)

    def run(
        self,
        input_spikes: Any,
        weights: Any,
        state: Any = None,
        record: Sequence[str] = (),
        delays: Any = None,
    ) -> RunResult:
        """Run ``T`` steps over ``input_spikes [T, B, n_in]``.

        The synaptic drive of all steps is one matrix product; the generated step function (compiled
        once per model) is then called once per step. ``record`` names state variables or
        subexpressions, returned as ``[T, B, n]`` values at the end of each step. For several pathways
        ``input_spikes`` and ``weights`` are dicts keyed by pathway name. ``delays`` (per pathway in a
        dict for several pathways) is one time or an ``[n_in, n_out]`` array of times, rounded to
        steps as Brian2 does (:func:`delay_steps`); spikes of step ``k`` then arrive in step
        ``k + round(delay/dt)``.
        """
        xs, ws = self._per_pathway(input_spikes, "input_spikes"), self._per_pathway(weights, "weights")
        for x in xs:
            if not torch.is_tensor(x) or x.dim() != 3:
                raise InputError(f"input_spikes must be [T, batch, n_in], got {getattr(x, 'shape', type(x))}")
        if len({x.shape[0] for x in xs}) != 1:
            raise InputError("the input spikes of all pathways must have the same number of steps T")
        n_out = ws[0].shape[-1] if torch.is_tensor(ws[0]) and ws[0].dim() == 2 else None
        if state is None:
            state = self.initial_state(xs[0].shape[1], n_out or 0)
        for x, w in zip(xs, ws):
            self._check(x, w, state, step_input=False)
        self.check_record(record)
        return self.run_drive(self.pathway_drives(input_spikes, weights, delays), state, record)

    def pathway_drives(self, input_spikes: Any, weights: Any, delays: Any = None) -> tuple[torch.Tensor, ...]:
        """The drive ``[T, B, n_out]`` of every pathway: its spikes ``[T, B, n_in]`` through its weights,
        each spike arriving ``delay_steps(delay)`` steps later (arguments as in :meth:`run`)."""
        xs, ws = self._per_pathway(input_spikes, "input_spikes"), self._per_pathway(weights, "weights")
        ds = self._per_pathway(delays, "delays") if delays is not None else (None,) * len(xs)
        return tuple(delayed_drive(x, w, None if d is None else delay_steps(d, self.dt, tuple(w.shape)))
                     for x, w, d in zip(xs, ws, ds))

    def _per_pathway(self, value: Any, what: str) -> tuple[Any, ...]:
        return tuple(self.model.per_pathway(value, what).values())

    def run_drive(self, drive: torch.Tensor, state: Any = None, record: Sequence[str] = (),
                  params: Mapping[str, Any] | None = None, drive_scale: Any = None) -> RunResult:
        """Run ``T`` steps given each step's summed synaptic drive ``drive [T, B, n]`` (``params`` as in
        :meth:`step_drive`); from the initial state on ``drive``'s device unless ``state`` is given.
        ``drive_scale`` (a number, or one per pathway as :meth:`drives` takes drives) multiplies the
        drives first (e.g. from a display unit to SI); the ``"bptt"`` backend does it inside its
        compiled chunks, saving a pass over the drive each way.

        Example:
            >>> from brian2 import ms
            >>> from bioSNN.equations import library
            >>> step = TorchStep(library.lif_delta(), 1 * ms)
            >>> out = step.run_drive(torch.full((30, 2, 3), 4.0), drive_scale=1e-3)  # 4 mV per step
            >>> out.spikes.shape, int(out.spikes.sum())
            (torch.Size([30, 2, 3]), 36)
        """
        drives = self.drives(drive)
        if drive_scale is None or isinstance(drive_scale, (int, float)):
            scales = (1.0 if drive_scale is None else float(drive_scale),) * len(drives)
        else:
            scales = tuple(float(f) for f in self.drives(drive_scale))
        if len({d.shape for d in drives}) != 1:
            raise InputError(f"the drives of all pathways must have one shape [T, B, n], got {[tuple(d.shape) for d in drives]}")
        if state is None:
            state = self.initial_state(drives[0].shape[1], drives[0].shape[2], device=drives[0].device)
        self.check_record(record)
        spikes, traces = [], {r: [] for r in record}
        subexpr = any(r not in self.generated.state_fields for r in record)
        values = self._values(params)  # once per run, as the loop invariants of the parameters: not per step
        invariants = self.generated.invariants(values, self.dt, self.dtype)
        if self.backend == "bptt" and not subexpr and drives[0].shape[0] > 0:
            return self._run_bptt(tuple(d.contiguous() for d in drives), state, tuple(record), values, invariants,
                                  scales)
        drives = tuple(d if f == 1.0 else d * f for d, f in zip(drives, scales))
        first, chunks = 0, None
        if self.backend == "fused" and not subexpr:
            first, state, chunks = self._run_chunks(drives, state, tuple(record), values, invariants)
        # unbind: one backward stack instead of T zero-filled buffers
        for dk in zip(*(d[first:].unbind(0) for d in drives)):
            s, state = self._advance(state, dk, values, invariants)
            spikes.append(s)
            obs = self._observe(state, values) if subexpr else {}
            for r in record:
                traces[r].append(obs[r] if r in obs else getattr(state.inner, r))
        stacked = {r: torch.stack(v) for r, v in traces.items()}
        out = torch.stack(spikes) if spikes else None
        if chunks:  # "fused": whole chunks [k, B, n], then the steps after them
            out = torch.cat([c[0] for c in chunks] + ([out] if out is not None else []))
            stacked = {r: torch.cat([c[1][i] for c in chunks] + ([stacked[r]] if traces[r] else []))
                       for i, r in enumerate(record)}
        return RunResult(out, state, stacked)

    def _run_chunks(self, drives: tuple[torch.Tensor, ...], state: Any, record: tuple[str, ...], values: Mapping[str, Any],
                    invariants: Any) -> tuple[int, Any, list[tuple[torch.Tensor, tuple[torch.Tensor, ...]]]]:
        """The ``"fused"`` backend: as many whole chunks of ``min(FUSED_STEPS, T)`` steps as fit, one
        compiled call each; returns the steps done, the state and per chunk ``(spikes, traces of record)``."""
        T = drives[0].shape[0]
        k = min(FUSED_STEPS, T)
        key = (k, record)
        if key not in self._chunks:
            self._chunks[key] = _fused(self.generated.fn, k, record)
        run = self._chunks[key]
        chunks = []
        done = 0
        while done + k <= T:
            start = torch.tensor(float(state.timestep), dtype=torch.float64, device=drives[0].device)
            s, inner, rec = run(state.inner, tuple(d[done:done + k] for d in drives), values, start, self.dt,
                                self.dtype, self.surrogate.spike, self.detach_reset, invariants)
            state = LayerState(inner, state.timestep + k)
            chunks.append((s, rec))
            done += k
        return done, state, chunks

    def _run_bptt(self, drives: tuple[torch.Tensor, ...], state: Any, record: tuple[str, ...],
                  values: Mapping[str, Any], invariants: Any, scales: tuple[float, ...]) -> RunResult:
        """The ``"bptt"`` backend: the whole run as one autograd node (:class:`_BpttRun`)."""
        inv = tuple(invariants)
        vkeys = tuple(k for k, v in values.items() if torch.is_tensor(v) and v.is_floating_point())
        ikeys = tuple(i for i, v in enumerate(inv) if torch.is_tensor(v) and v.is_floating_point())
        T = drives[0].shape[0]
        steps = max(1, min(int(BPTT_STEPS), T))
        plans = {}
        for k in {steps, T % steps or steps}:  # the chunk length and that of the last chunk
            key = (k, record, scales, vkeys, ikeys)
            if key not in self._plans:
                self._plans[key] = _BpttPlan(self, k, record, scales, vkeys, ikeys)
            plans[k] = self._plans[key]
        fields = tuple(getattr(state.inner, f) for f in self.generated.state_fields)
        tensors = (*drives, *fields, *(values[k] for k in vkeys), *(inv[i] for i in ikeys))
        spikes, *rest = _BpttRun.apply(plans, state.timestep, dict(values), inv, *tensors)
        traces = dict(zip(record, rest[:len(record)]))
        inner = self.State(*rest[len(record):])
        return RunResult(spikes, LayerState(inner, state.timestep + T), traces)

    def check_record(self, record: Sequence[str]) -> None:
        """Refuse names in ``record`` that are neither state variables nor subexpressions of the model."""
        unknown = [r for r in record if r not in self.generated.state_fields and r not in self.model.subexpressions]
        if unknown:
            raise InputError(f"cannot record {unknown}: not a variable of model '{self.model.name}' "
                             f"(it has {sorted(set(self.model.state_variables) | set(self.model.subexpressions))})")

    def observe(self, state: Any, params: Mapping[str, Any] | None = None) -> dict[str, torch.Tensor]:
        """The model's subexpressions for ``state`` (``params`` as in :meth:`step_drive`)."""
        return self._observe(state, self._values(params))

    def _observe(self, state: Any, values: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        return self.generated.observe(state.inner, values, (state.timestep - 1) * self.dt, self.dt, self.dtype)

    # ------------------------------------------------------------------ checks
    def _check(self, x: torch.Tensor, w: torch.Tensor, state: Any, step_input: bool) -> None:
        if not torch.is_tensor(x) or not torch.is_tensor(w):
            raise InputError("input_spikes and weights must be torch tensors")
        if w.dim() != 2:
            raise InputError(f"weights must be [n_in, n_out], got shape {tuple(w.shape)}")
        if not w.is_floating_point():
            raise InputError(f"weights must be floating point, got {w.dtype}")
        if x.shape[-1] != w.shape[0]:
            raise InputError(f"input has {x.shape[-1]} channels but weights have {w.shape[0]} rows ([n_in, n_out])")
        if x.dtype != torch.bool and not torch.all((x == 0) | (x == 1)):
            raise InputError("input_spikes must be boolean (or 0/1 values)")
        if not torch.isfinite(w).all():
            raise InputError("weights contain NaN or infinite values")
        n = getattr(state.inner, self.generated.state_fields[0]).shape[-1]
        if n != w.shape[1]:
            raise InputError(f"weights have {w.shape[1]} columns but the state has {n} neurons")
        batch = getattr(state.inner, self.generated.state_fields[0]).shape[0]
        if x.shape[-2] != batch:
            raise InputError(f"input batch {x.shape[-2]} differs from the state's batch {batch}")


def delay_steps(delay: Any, dt: float, shape: tuple[int, int]) -> Any:
    """``delay`` (a time or an ``[n_in, n_out]`` array of times) in whole steps of ``dt``, rounded as
    Brian2's spike queue rounds them: its C++ queue (used by every runtime target whenever it is built,
    the normal case) takes ``int(delay/dt + 0.5)`` (halves up); its pure-Python fallback takes
    ``numpy.round`` (halves to even). Returns an ``int`` or an int64 array.

    Example:
        >>> delay_steps(0.25e-3, 1e-4, (1, 1))  # 2.5 steps
        3
    """
    import numpy as np

    from .brian import delay_seconds

    ratio = np.asarray(delay_seconds(delay, shape)) / dt
    d = (np.floor(ratio + 0.5) if _brian2_cpp_queue() else np.round(ratio)).astype(np.int64)
    return int(d) if d.ndim == 0 else d


def _brian2_cpp_queue() -> bool:
    """Whether Brian2's runtime device uses its C++ spike queue (``brian2.synapses.cythonspikequeue``)."""
    try:
        from brian2.synapses.cythonspikequeue import SpikeQueue  # noqa: F401
    except ImportError:
        return False
    return True


def delayed_drive(x: torch.Tensor, w: torch.Tensor, steps: Any = None) -> torch.Tensor:
    """Drive ``[T, B, n_out]`` of spikes ``x [T, B, n_in]`` through ``w [n_in, n_out]`` when the spikes of
    step ``k`` arrive in step ``k + steps`` (``steps``: ``None``/0, an int, or an ``[n_in, n_out]`` int
    array of per-synapse delays); spikes arriving after the last step are dropped.

    Example:
        >>> x = torch.zeros(4, 1, 2); x[0, 0, 0] = 1
        >>> w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> delayed_drive(x, w, 2)[:, 0].tolist()
        [[0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [0.0, 0.0]]
    """
    import numpy as np

    xw = x.to(w.dtype)
    if steps is None or (np.ndim(steps) == 0 and int(steps) == 0):
        return torch.matmul(xw, w)
    T = x.shape[0]
    if np.ndim(steps) == 0:
        return _shift(torch.matmul(xw, w), int(steps), T)
    mask = torch.as_tensor(steps, device=w.device)
    out = None
    for d in torch.unique(mask).tolist():
        part = _shift(torch.matmul(xw, w * (mask == d).to(w.dtype)), int(d), T)
        out = part if out is None else out + part
    return out


def _shift(y: torch.Tensor, d: int, T: int) -> torch.Tensor:
    if d == 0:
        return y
    if d >= T:
        return torch.zeros_like(y)
    return torch.cat([torch.zeros_like(y[:d]), y[: T - d]], dim=0)


def _check_dtype(dtype: Any) -> None:
    if dtype not in FLOAT_DTYPES:
        raise InputError(f"dtype must be a floating-point torch dtype, got {dtype}")


class LayerState(NamedTuple):
    """A model state plus the index of the next step (``t = timestep * dt``)."""

    inner: Any
    timestep: int

    def __getattr__(self, name: str) -> Any:  # state.v works as well as state.inner.v
        try:
            return getattr(object.__getattribute__(self, "inner"), name)
        except AttributeError:
            raise AttributeError(name) from None


def _compile_own(fn: Any, backend: str) -> Any:
    """``fn`` under ``torch.compile(fullgraph=True)``, copied first onto a code object of its own:
    torch.compile keeps one cache of compiled versions per code object (8 at most, then it falls back
    to eager), and functions made from one code object (layers of one model, chunk functions) would
    share it."""
    own = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    try:
        return torch.compile(own, fullgraph=True)
    except Exception as exc:  # noqa: BLE001 - torch versions / Python versions without torch.compile
        raise InputError(f"backend {backend!r} is not available here ({type(exc).__name__}: {exc}); "
                         "use backend 'eager'") from exc


def _fused(fn: Any, steps: int, record: tuple[str, ...]) -> Any:
    """``steps`` steps of the generated step ``fn`` as one function under ``torch.compile`` (the
    ``"fused"`` backend): ``(inner, drives [steps, B, n] each, values, first timestep as a 0-d float64
    tensor, dt, dtype, surrogate, detach, invariants) -> (spikes [steps, B, n], inner, traces of record)``.
    Step ``k``'s time is ``(first + k) * dt`` in float64, the product the eager loop computes."""

    def chunk(inner: Any, drives: Any, values: Any, first: torch.Tensor, dt: float, dtype: Any, sg: Any, detach: bool,
              inv: Any) -> Any:
        spikes, traces, inner = _run_steps(fn, steps, record, inner, drives, None, values, inv, first, dt, dtype, sg,
                                           detach)
        return torch.stack(spikes), inner, tuple(torch.stack(t) for t in traces)

    return _compile_own(chunk, "fused")


def _run_steps(fn: Any, steps: int, record: tuple[str, ...], inner: Any, drives: Any, scales: tuple[float, ...] | None,
               values: Any, inv: Any, first: torch.Tensor, dt: float, dtype: Any, sg: Any,
               detach: bool) -> tuple[list[torch.Tensor], list[list[torch.Tensor]], Any]:
    """``steps`` steps of the generated step ``fn`` from ``inner`` (the loop the compiled backends compile);
    step ``k``'s time is ``(first + k) * dt`` in float64, the product the eager loop computes. ``drives``:
    per pathway, steps indexable by ``k`` (a ``[steps, B, n]`` tensor or one tensor per step), multiplied
    by its pathway's ``scales`` entry (1 or ``scales=None``: as it is). Returns the spikes and the traces
    of ``record``, one tensor per step, and the final state."""
    spikes: list[torch.Tensor] = []
    traces: list[list[torch.Tensor]] = [[] for _ in record]
    scales = scales or (1.0,) * len(drives)
    for k in range(steps):
        drive = tuple(d[k] if f == 1.0 else d[k] * f for d, f in zip(drives, scales))
        s, inner = fn(inner, drive, values, (first + k) * dt, dt, dtype, sg, detach, inv)
        spikes.append(s)
        for out, name in zip(traces, record):
            out.append(getattr(inner, name))
    return spikes, traces, inner


class _BpttPlan:
    """The compiled forward and backward of one chunk of ``steps`` steps (backend ``"bptt"``) for one
    :class:`TorchStep`, ``record`` (state variables), drive ``scales`` (one per pathway), tensor
    parameters ``vkeys`` (names in the parameter values) and tensor loop invariants ``ikeys`` (indices):
    two ``torch.compile``'d functions, each on a code object of its own (:func:`_compile_own`).

    Both write their per-step outputs into tensors they are given, one ``[B, n]`` view per step of the
    run's output (inductor then stores into them from its one loop; a stacked ``[steps, B, n]`` output
    would be copied once more)."""

    def __init__(self, step: "TorchStep", steps: int, record: tuple[str, ...], scales: tuple[float, ...],
                 vkeys: tuple[str, ...], ikeys: tuple[int, ...]):
        gen = step.generated
        self.steps, self.record, self.scales, self.vkeys, self.ikeys = steps, record, scales, vkeys, ikeys
        self.fields = gen.state_fields
        self.dtypes = tuple(step.state_dtype(f) for f in self.fields)
        #: indices of the state fields and of the recorded names that carry gradients (floats and times, as in
        #: ``"eager"``: a time such as ``lastspike`` passes its gradient on where nobody spikes)
        self.diff = tuple(i for i, f in enumerate(self.fields) if gen.state_kinds[f] in ("float", "time"))
        self.diff_record = tuple(j for j, r in enumerate(record) if gen.state_kinds[r] in ("float", "time"))
        self.dt, self.dtype, self.detach = step.dt, step.dtype, step.detach_reset
        self.sg_forward, self.sg_backward = step.surrogate.spike, step.surrogate.spike_linear
        fn, state_type, diff, diff_record = gen.fn, gen.state_type, self.diff, self.diff_record

        def forward(state: Any, drives: Any, values: Any, inv: Any, first: torch.Tensor,
                    dt: float, dtype: Any, sg: Any, detach: bool, out_spikes: Any, out_traces: Any) -> Any:
            spikes, traces, inner = _run_steps(fn, steps, record, state_type(*state), drives, scales, values, inv,
                                               first, dt, dtype, sg, detach)
            for outs, values_k in zip((out_spikes, *out_traces), (spikes, *traces)):
                for out, x in zip(outs, values_k):
                    out.copy_(x)
            return tuple(inner)

        def backward(state: Any, drives: Any, values: Any, inv: Any, first: torch.Tensor,
                     dt: float, dtype: Any, sg: Any, detach: bool, g_spikes: Any, g_traces: Any,
                     g_state: Any, out_drives: Any) -> Any:
            def chunk(x_state: Any, x_drives: Any, x_values: Any, x_inv: Any) -> Any:
                spikes, traces, inner = _run_steps(fn, steps, record, state_type(*_with(state, diff, x_state)), x_drives,
                                                   scales, {**values, **dict(zip(vkeys, x_values))},
                                                   _with(inv, ikeys, x_inv), first, dt, dtype, sg, detach)
                return spikes, [traces[j] for j in diff_record], [inner[i] for i in diff]

            primals = ([state[i] for i in diff], [list(d) for d in drives], [values[k] for k in vkeys],
                       [inv[i] for i in ikeys])
            _, vjp = torch.func.vjp(chunk, *primals)
            g0, gd, gv, gi = vjp((list(g_spikes), [list(g) for g in g_traces], list(g_state)))
            for outs, grads in zip(out_drives, gd):
                for out, g in zip(outs, grads):
                    out.copy_(g)
            return tuple(g0), tuple(gv), tuple(gi)

        self.forward = _compile_own(forward, "bptt")
        self.backward = _compile_own(backward, "bptt")


class _BpttRun(torch.autograd.Function):
    """A whole run of the ``"bptt"`` backend as one autograd node (see :data:`BACKENDS`).

    ``apply(plans, timestep, values, inv, *drives, *state fields, *tensor values, *tensor invariants)``
    runs chunks of ``max(plans)`` steps, the last one ``T mod max(plans)`` steps (``plans``: chunk length
    -> :class:`_BpttPlan`) and returns ``(spikes, *traces of the record, *final state fields)``."""

    @staticmethod
    def forward(ctx: Any, plans: dict[int, _BpttPlan], timestep: int, values: dict, inv: tuple,  # type: ignore[override]
                *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        plan = plans[max(plans)]
        tensors = tuple(t.detach() for t in tensors)  # compiled graphs guard on requires_grad: one graph for all
        F, V, I = len(plan.fields), len(plan.vkeys), len(plan.ikeys)
        P = len(tensors) - F - V - I
        drives, state, vt = tensors[:P], tensors[P:P + F], tensors[P + F:P + F + V]
        values = {**values, **dict(zip(plan.vkeys, vt))}
        inv = _with(inv, plan.ikeys, tensors[P + F + V:])
        shape, device = tuple(drives[0].shape), drives[0].device
        spikes = torch.empty(shape, dtype=plan.dtype, device=device)
        traces = [torch.empty(shape, dtype=plan.dtypes[plan.fields.index(r)], device=device) for r in plan.record]
        starts = []
        for c, k in _chunks(shape[0], plan.steps):
            starts.append(state)
            first = torch.tensor(float(timestep + c), dtype=torch.float64, device=device)
            state = plans[k].forward(state, tuple(_steps_of(d, c, k) for d in drives), values, inv, first, plan.dt,
                                     plan.dtype, plan.sg_forward, plan.detach, _steps_of(spikes, c, k),
                                     tuple(_steps_of(t, c, k) for t in traces))
        ctx.plans, ctx.timestep, ctx.values, ctx.inv, ctx.starts = plans, timestep, values, inv, starts
        ctx.save_for_backward(*drives)
        ctx.mark_non_differentiable(*(t for j, t in enumerate(traces) if j not in plan.diff_record),
                                    *(x for i, x in enumerate(state) if i not in plan.diff))
        return (spikes, *traces, *state)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, g_spikes: torch.Tensor, *grads: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        plans = ctx.plans
        plan = plans[max(plans)]
        drives = tuple(d.detach() for d in ctx.saved_tensors)
        R = len(plan.record)
        g_spikes = g_spikes.contiguous()
        g_traces = [grads[j].contiguous() for j in plan.diff_record]
        g_state = tuple(grads[R + i] if grads[R + i] is not None else torch.zeros_like(ctx.starts[0][i])
                        for i in plan.diff)
        g_drives = [torch.empty_like(d) for d in drives]
        g_values: list[Any] = [None] * len(plan.vkeys)
        g_inv: list[Any] = [None] * len(plan.ikeys)
        for (c, k), start in reversed(list(zip(_chunks(drives[0].shape[0], plan.steps), ctx.starts))):
            first = torch.tensor(float(ctx.timestep + c), dtype=torch.float64, device=drives[0].device)
            g_state, gv, gi = plans[k].backward(start, tuple(_steps_of(d, c, k) for d in drives), ctx.values, ctx.inv,
                                                first, plan.dt, plan.dtype, plan.sg_backward, plan.detach,
                                                _steps_of(g_spikes, c, k), tuple(_steps_of(g, c, k) for g in g_traces),
                                                g_state, tuple(_steps_of(g, c, k) for g in g_drives))
            g_values = [g if acc is None else acc + g for acc, g in zip(g_values, gv)]
            g_inv = [g if acc is None else acc + g for acc, g in zip(g_inv, gi)]
        g_fields: list[Any] = [None] * len(plan.fields)
        for i, g in zip(plan.diff, g_state):
            g_fields[i] = g
        return (None, None, None, None, *g_drives, *g_fields, *g_values, *g_inv)


def _with(seq: Sequence[Any], indices: Sequence[int], xs: Sequence[Any]) -> tuple[Any, ...]:
    """``seq`` with its entries at ``indices`` replaced by ``xs``, in order."""
    out = list(seq)
    for i, x in zip(indices, xs):
        out[i] = x
    return tuple(out)


def _chunks(T: int, steps: int) -> list[tuple[int, int]]:
    """``(first step, steps)`` of the chunks of a run of ``T`` steps: ``steps`` each, the last one fewer."""
    return [(c, min(steps, T - c)) for c in range(0, T, steps)]


def _steps_of(x: torch.Tensor, c: int, k: int) -> tuple[torch.Tensor, ...]:
    """Steps ``c .. c + k`` of ``x [T, ...]``, one view each."""
    return tuple(x[c:c + k].unbind(0))


def _compiled(fn: Any) -> Any:
    """A generated step ``fn`` under ``torch.compile``.

    ``fn`` is copied onto a code object of its own first: torch.compile keeps one cache of compiled
    versions per code object (8 at most, then it falls back to eager), and layers of the same model
    share the generated code, so sharing would leave most layers of a deep network uncompiled. The
    time is passed as a 0-d float64 tensor on the drive's device rather than a Python float, which
    would be a new constant, and a recompilation, at every step."""
    compiled = _compile_own(fn, "compile")

    def step(inner: Any, drive: torch.Tensor, values: Any, t: float, *rest: Any) -> Any:
        device = drive[0].device
        return compiled(inner, drive, values, torch.tensor(t, dtype=torch.float64, device=device), *rest)

    return step
