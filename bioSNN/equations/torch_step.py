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

__all__ = ["TorchStep", "RunResult", "LayerState", "BACKENDS"]

#: How a :class:`TorchStep` executes its generated step: ``"eager"`` runs it op by op (the reference);
#: ``"compile"`` runs it through ``torch.compile(fullgraph=True)``, which fuses the step's element-wise
#: operations (forward and backward) into a few kernels. With a float32 or float64 state both give the
#: same values (pinned by the tests); the compiled one costs a compilation (seconds to a minute) the
#: first time each step meets a new input shape (batch size), and a second one when shapes start to
#: vary (then compiled for any batch size).
BACKENDS = ("eager", "compile")


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
        if dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
            raise InputError(f"dtype must be a floating-point torch dtype, got {dtype}")
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
        if backend == "compile" and self.dtype not in (torch.float32, torch.float64):
            raise InputError(f"backend 'compile' needs a float32 or float64 state, not {self.dtype}: compiled "
                             "kernels compute half-precision steps in float32 and would not match the eager ones")
        self.backend = backend
        self._fn = self.generated.fn if backend == "eager" else _compiled(self.generated.fn)

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
            kind = self.generated.state_kinds[name]
            dtype = {"float": self.dtype, "time": torch.float64, "bool": torch.bool, "int": torch.int64}[kind]
            init = self.generated.initial[name]
            values[name] = torch.full((batch, n), init.item() if hasattr(init, "item") else init,
                                      dtype=dtype, device=device)
        return LayerState(self.State(**values), 0)

    # ------------------------------------------------------------------ stepping
    def __call__(self, state: Any, input_spikes: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Advance one step: deliver ``input_spikes [B, n_in]`` through ``weights [n_in, n_out]``."""
        self._check(input_spikes, weights, state, step_input=True)
        drive = input_spikes.to(weights.dtype) @ weights
        return self.step_drive(state, drive)

    def step_drive(self, state: Any, drive: torch.Tensor,
                   params: Mapping[str, Any] | None = None) -> tuple[torch.Tensor, Any]:
        """Advance one step given this step's summed synaptic drive ``[B, n_out]`` (``spikes @ w``).

        ``params`` overrides model parameters for this call (SI values; e.g. trainable ``[n]`` tensors),
        so a module can keep its trainable parameters itself and the step stays a pure function."""
        t = state.timestep * self.dt
        values = self.params if not params else {**self.params, **params}
        spikes, inner = self._fn(state.inner, drive, values, t, self.dt, self.dtype,
                                 self.surrogate.spike, self.detach_reset)
        return spikes, LayerState(inner, state.timestep + 1)

    def run(
        self,
        input_spikes: torch.Tensor,
        weights: torch.Tensor,
        state: Any = None,
        record: Sequence[str] = (),
    ) -> RunResult:
        """Run ``T`` steps over ``input_spikes [T, B, n_in]``.

        The synaptic drive of all steps is one matrix product; the generated step function (compiled
        once per model) is then called once per step. ``record`` names state variables or
        subexpressions, returned as ``[T, B, n]`` values at the end of each step.
        """
        if input_spikes.dim() != 3:
            raise InputError(f"input_spikes must be [T, batch, n_in], got shape {tuple(input_spikes.shape)}")
        n_out = weights.shape[-1] if weights.dim() == 2 else None
        if state is None:
            state = self.initial_state(input_spikes.shape[1], n_out or 0)
        self._check(input_spikes, weights, state, step_input=False)
        self.check_record(record)
        drive = torch.matmul(input_spikes.to(weights.dtype), weights)
        return self.run_drive(drive, state, record)

    def run_drive(self, drive: torch.Tensor, state: Any = None, record: Sequence[str] = (),
                  params: Mapping[str, Any] | None = None) -> RunResult:
        """Run ``T`` steps given each step's summed synaptic drive ``drive [T, B, n]`` (``params`` as in
        :meth:`step_drive`); from the initial state on ``drive``'s device unless ``state`` is given."""
        if state is None:
            state = self.initial_state(drive.shape[1], drive.shape[2], device=drive.device)
        self.check_record(record)
        spikes, traces = [], {r: [] for r in record}
        subexpr = any(r in self.model.subexpressions for r in record)
        for dk in drive.unbind(0):  # unbind: one backward stack instead of T zero-filled buffers
            s, state = self.step_drive(state, dk, params)
            spikes.append(s)
            obs = self.observe(state, params) if subexpr else {}
            for r in record:
                traces[r].append(obs[r] if r in obs else getattr(state.inner, r))
        stacked = {r: torch.stack(v) for r, v in traces.items()}
        return RunResult(torch.stack(spikes), state, stacked)

    def check_record(self, record: Sequence[str]) -> None:
        """Refuse names in ``record`` that are neither state variables nor subexpressions of the model."""
        unknown = [r for r in record if r not in self.generated.state_fields and r not in self.model.subexpressions]
        if unknown:
            raise InputError(f"cannot record {unknown}: not a variable of model '{self.model.name}' "
                             f"(it has {sorted(set(self.model.state_variables) | set(self.model.subexpressions))})")

    def observe(self, state: Any, params: Mapping[str, Any] | None = None) -> dict[str, torch.Tensor]:
        """The model's subexpressions for ``state`` (``params`` as in :meth:`step_drive`)."""
        t = (state.timestep - 1) * self.dt
        values = self.params if not params else {**self.params, **params}
        return self.generated.observe(state.inner, values, t, self.dt, self.dtype)

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


class LayerState(NamedTuple):
    """A model state plus the index of the next step (``t = timestep * dt``)."""

    inner: Any
    timestep: int

    def __getattr__(self, name: str) -> Any:  # state.v works as well as state.inner.v
        try:
            return getattr(object.__getattribute__(self, "inner"), name)
        except AttributeError:
            raise AttributeError(name) from None


def _compiled(fn: Any) -> Any:
    """A generated step ``fn`` under ``torch.compile``.

    ``fn`` is copied onto a code object of its own first: torch.compile keeps one cache of compiled
    versions per code object (8 at most, then it falls back to eager), and layers of the same model
    share the generated code, so sharing would leave most layers of a deep network uncompiled. The
    time is passed as a 0-d float64 tensor on the drive's device rather than a Python float, which
    would be a new constant, and a recompilation, at every step."""
    own = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    try:
        compiled = torch.compile(own, fullgraph=True)
    except Exception as exc:  # noqa: BLE001 - torch versions / Python versions without torch.compile
        raise InputError(f"backend 'compile' is not available here ({type(exc).__name__}: {exc}); "
                         "use backend 'eager'") from exc

    def step(inner: Any, drive: torch.Tensor, values: Any, t: float, *rest: Any) -> Any:
        return compiled(inner, drive, values, torch.tensor(t, dtype=torch.float64, device=drive.device), *rest)

    return step
