r"""The trained Diehl & Cook network in PyTorch, generated from the same definitions as its Brian2 run.

A :class:`DiehlCookTwin` is the network of :func:`bioSNN.unsupervised.diehl_cook.build_network` with
plasticity off: ``n_in`` inputs -> ``N`` excitatory neurons (the saved ``NeuronModel``, theta frozen)
through the learned weights ``w`` and per-synapse delays, each excitatory neuron -> its inhibitory
partner (``ge += exc_to_inh``), each inhibitory neuron -> every *other* excitatory neuron
(``gi += inh_to_exc``). Both neuron groups step through :class:`~bioSNN.equations.TorchStep`, the torch
code generated from the Brian2 equations. Per step ``t``, in Brian2's schedule:

.. math::
    \text{update both groups; } s^e_t, s^i_t = \text{thresholds;}\quad
    g^e_{inh} \mathrel{+}= w_{ei}\, s^e_t,\quad
    g^i_{exc} \mathrel{+}= w_{ie} \Big(\sum_k s^i_{t,k} - s^i_t\Big),\quad
    g^e_{exc} \mathrel{+}= \sum_d x_{t-d}\, W_d;\quad \text{resets}

where :math:`W_d` holds the weights whose delay rounds to ``d`` steps (as Brian2's spike queue rounds).
The lateral additions happen after the generated step returns: no variable read after the synaptic
slot of a step (the resets) depends on ``ge`` or ``gi``, so the values are those of Brian2's order.

Two ways to run it:

* :meth:`DiehlCookTwin.forward` (Norse's contract): ``forward(x [T, B, n_in], state=None) ->
  (TwinOutput, state)``, differentiable (surrogate gradient of the excitatory threshold) in the
  weights, theta and the inhibition strength; batched over independent samples.
* :func:`present` (the presentation protocol of :func:`bioSNN.unsupervised.training.record`):
  examples shown one after the other, ``present_ms`` of input then ``rest_ms`` without, the state
  carried between them, an example shown again at ``intensity + 1`` while the layer fires fewer than
  ``min_spikes`` spikes, transients reset where Brian2 resets them (at every slice on the runtime
  targets; at every compiled run of ``slice_examples`` presentations on ``cpp_standalone``). Slices
  are independent, so they run side by side as the batch. The input comes from an
  :class:`InputSource`: :class:`PoissonSource` (the twin's own draws) or :class:`RecordedSource`
  (the input spikes a Brian2 run saw, read from :func:`recorded_presentations`).

Example:
    >>> import numpy as np, torch
    >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
    >>> config = DiehlCookConfig(n_neurons=4, present_ms=20, rest_ms=10, tick_ms=10)
    >>> twin = DiehlCookTwin(config, DiehlCookState.initial(config, n_input=6))
    >>> out, state = twin(torch.zeros(40, 2, 6, dtype=torch.float64))
    >>> out.spikes.shape, out.v.shape
    (torch.Size([40, 2, 4]), torch.Size([40, 2, 4]))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, Sequence

import numpy as np
import torch
from brian2 import ms
from torch import nn

from ..equations import library
from ..equations.model import NeuronModel
from ..equations.surrogate import Surrogate
from ..equations.torch_step import LayerState, TorchStep, delay_steps
from ..errors import InputError, ModelMismatchError

__all__ = ["DiehlCookTwin", "WTATwin", "load_wta_twin", "TwinState", "TwinOutput", "InputSource", "PoissonSource",
           "RecordedSource", "Presentation", "present", "PresentResult", "recorded_presentations", "load_twin",
           "RESET_RULES", "tick_step", "take_state", "put_state", "CLOCK_EPSILON"]

#: where :func:`present` resets the transient state, as the Brian2 backends do: ``"slice"`` (runtime
#: targets, :func:`bioSNN.unsupervised.training.record`: at every slice start) or ``"run"`` (compiled
#: targets, :func:`bioSNN.unsupervised.standalone.record_standalone`: also after every
#: ``slice_examples`` presentations, one compiled run)
RESET_RULES = ("slice", "run")


class TwinState(NamedTuple):
    """The state of both groups (:class:`~bioSNN.equations.torch_step.LayerState` each, ``[B, N]``) and
    the input spikes of the last ``max_delay`` steps, ``[max_delay, B, n_in]``, still on their way."""

    exc: LayerState
    inh: LayerState
    pending: torch.Tensor


class TwinOutput(NamedTuple):
    """Excitatory spikes ``[T, B, N]`` (0./1., surrogate gradient) and potentials ``v`` ``[T, B, N]`` in
    mV at the end of every step (``None`` unless recorded)."""

    spikes: torch.Tensor
    v: torch.Tensor | None


class DiehlCookTwin(nn.Module):
    """A trained Diehl & Cook network (plasticity off) as a torch module; see the module docstring.

    Args:
        config: the network's :class:`~bioSNN.unsupervised.diehl_cook.DiehlCookConfig`.
        state: its learned :class:`~bioSNN.unsupervised.diehl_cook.DiehlCookState` (``w [n_in, N]``,
            ``delay_ms``, ``theta`` in volts).
        neuron: the excitatory model as it records (theta frozen; default the library's with the
            config's ``timer_rate``, frozen as :func:`~bioSNN.unsupervised.diehl_cook.excitatory_model`
            freezes it). A saved network passes its stored model.
        dtype: of the state and parameters (float64 reproduces Brian2 to rounding).
        trainable: which of ``"w"``, ``"theta"``, ``"inh_to_exc"`` are ``nn.Parameter`` (the rest are
            buffers).
        surrogate: surrogate gradient of the excitatory threshold.
        detach_lateral: cut the gradient through the lateral inhibition (see the attribute).
    """

    def __init__(self, config: Any, state: Any, *, neuron: NeuronModel | None = None,
                 dtype: torch.dtype = torch.float64, trainable: Sequence[str] = ("w",),
                 surrogate: Surrogate | None = None, detach_lateral: bool = False):
        super().__init__()
        from ..unsupervised.diehl_cook import excitatory_model

        unknown = set(trainable) - {"w", "theta", "inh_to_exc"}
        if unknown:
            raise InputError(f"trainable: {sorted(unknown)} are not trainable here; choose from w, theta, inh_to_exc")
        w = np.asarray(state.w, dtype=np.float64)
        if w.ndim != 2 or np.shape(state.delay_ms) != w.shape or np.shape(state.theta) != (w.shape[1],):
            raise InputError(f"state: w {w.shape}, delay_ms {np.shape(state.delay_ms)} and theta "
                             f"{np.shape(state.theta)} must be [n_in, N], [n_in, N] and [N]")
        if w.shape[1] != config.n_neurons:
            raise InputError(f"the state has {w.shape[1]} neurons, the config {config.n_neurons}")
        for name, value in (("w", w), ("delay_ms", state.delay_ms), ("theta", state.theta)):
            if not np.all(np.isfinite(value)):
                raise InputError(f"state.{name} holds NaN or infinite values")
        self.config = config
        self.dt = config.dt_ms * 1e-3
        exc_model = neuron if neuron is not None else excitatory_model(False, config)
        if "theta_plus" in exc_model.parameters and float(exc_model.parameters["theta_plus"]) != 0:
            raise ModelMismatchError(f"model {exc_model.name!r} lets theta grow (theta_plus != 0): the twin runs the "
                                     "network with plasticity off; pass excitatory_model(False, ...)")
        self.exc_model = exc_model
        self.surrogate = surrogate or Surrogate()
        self.exc_step = TorchStep(exc_model, config.dt_ms * ms, dtype=dtype, surrogate=self.surrogate)
        self.inh_step = TorchStep(library.diehl_cook_inhibitory(), config.dt_ms * ms, dtype=dtype)
        self.n_in, self.n = w.shape
        delays = delay_steps(np.asarray(state.delay_ms, dtype=np.float64) * 1e-3, self.dt, w.shape)
        self.register_buffer("delays", torch.as_tensor(np.broadcast_to(delays, w.shape).copy(), dtype=torch.int64))
        self.max_delay = int(self.delays.max()) if self.delays.numel() else 0
        #: the delay values (steps) in use; ``_delay_stack [D, n_in, N]`` holds one 0/1 mask per value
        self.delay_values = sorted(int(d) for d in torch.unique(self.delays).tolist())
        values = {"w": torch.as_tensor(w, dtype=dtype),
                  "theta": torch.as_tensor(np.asarray(state.theta, dtype=np.float64), dtype=dtype),
                  "inh_to_exc": torch.tensor(float(config.inh_to_exc), dtype=dtype)}
        for name, value in values.items():
            if name in trainable:
                setattr(self, name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        self.register_buffer("exc_to_inh", torch.tensor(float(config.exc_to_inh), dtype=dtype))
        #: no gradient through the excitatory spikes into the inhibitory population (values unchanged):
        #: the loop exc -> inh -> every other exc makes gradients through whole presentations explode
        self.detach_lateral = bool(detach_lateral)
        #: ``"eager"`` (the reference) or ``"compile"`` (the step of both groups under ``torch.compile``)
        self.backend = "eager"

    @property
    def dtype(self) -> torch.dtype:
        return self.w.dtype

    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> "DiehlCookTwin":
        """``.to(dtype)``, ``.double()``, ``.float()`` also move the generated steps to the new dtype."""
        super()._apply(fn, *args, **kwargs)
        if self.exc_step.dtype != self.w.dtype:
            self.exc_step = self.exc_step.with_dtype(self.w.dtype)
            self.inh_step = self.inh_step.with_dtype(self.w.dtype)
        return self

    # ------------------------------------------------------------------ state
    def initial_state(self, batch: int) -> TwinState:
        """Brian2's initial (slice-reset) state for ``batch`` independent networks: the models' initial
        values, theta the learned one, nothing pending.

        Example:
            >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
            >>> c = DiehlCookConfig(n_neurons=3)
            >>> s = DiehlCookTwin(c, DiehlCookState.initial(c, 5)).initial_state(2)
            >>> tuple(s.exc.inner.v.shape), float(s.inh.inner.v[0, 0])
            ((2, 3), -0.1)
        """
        device = self.w.device
        exc = self.exc_step.initial_state(batch, self.n, device=device)
        exc = LayerState(exc.inner._replace(theta=self.theta.expand(batch, self.n).clone()), 0)
        inh = self.inh_step.initial_state(batch, self.n, device=device)
        pending = torch.zeros(self.max_delay, batch, self.n_in, dtype=self.dtype, device=device)
        return TwinState(exc, inh, pending)

    def reset_where(self, state: TwinState, mask: torch.Tensor) -> TwinState:
        """``state`` with the networks of ``mask`` (``[B]`` bool) back at their initial state (the
        slice-boundary reset; in-flight input spikes are dropped there too, as a new run starts empty)."""
        fresh = self.initial_state(mask.shape[0])

        def pick(a: Any, b: Any) -> Any:
            m = mask.reshape((1,) * (b.dim() - 2) + (-1, 1)) if b.dim() >= 2 else mask
            return torch.where(m, a, b)

        exc = LayerState(type(state.exc.inner)(*(pick(a, b) for a, b in zip(fresh.exc.inner, state.exc.inner))),
                         state.exc.timestep)
        inh = LayerState(type(state.inh.inner)(*(pick(a, b) for a, b in zip(fresh.inh.inner, state.inh.inner))),
                         state.inh.timestep)
        pending = torch.where(mask.reshape(1, -1, 1), fresh.pending, state.pending) if self.max_delay else state.pending
        return TwinState(exc, inh, pending)

    # ------------------------------------------------------------------ running
    def forward(self, x: torch.Tensor, state: TwinState | None = None, *, record_v: bool = True
                ) -> tuple[TwinOutput, TwinState]:
        """Run ``T`` steps of input spikes ``x [T, B, n_in]`` (0/1); from :meth:`initial_state` unless
        ``state`` is given (then spikes still in flight from the previous call arrive on time).

        Returns ``(TwinOutput(spikes [T, B, N], v [T, B, N] in mV or None), state)``.
        """
        if not torch.is_tensor(x) or x.dim() != 3 or x.shape[2] != self.n_in:
            raise InputError(f"input spikes must be [T, B, {self.n_in}], got {getattr(x, 'shape', type(x))}")
        if x.is_floating_point() and not torch.isfinite(x).all():
            raise InputError("input spikes contain NaN or infinite values")
        T, B = x.shape[0], x.shape[1]
        if state is None:
            state = self.initial_state(B)
        if state.exc.inner.v.shape != (B, self.n):
            raise InputError(f"state is for {tuple(state.exc.inner.v.shape)} neurons, the input for batch {B}")
        x = x.to(self.dtype)
        history = torch.cat([state.pending, x]) if self.max_delay else x
        drive = self._drive(history)[self.max_delay:]  # [T, B, N]: spikes of earlier calls arrive too
        exc, inh = state.exc, state.inh
        exc_values, inh_values = self.exc_step.params, self.inh_step.params
        exc_inv = self.exc_step.generated.invariants(exc_values, self.exc_step.dt, self.exc_step.dtype)
        inh_inv = self.inh_step.generated.invariants(inh_values, self.inh_step.dt, self.inh_step.dtype)
        spikes, vs = [], []
        step = self._compiled_pair() if self.backend == "compile" else self._pair
        for drive_t in drive.unbind(0):  # unbind: one backward stack instead of T zero-filled buffers
            s_e, exc_inner, inh_inner = step(exc.inner, inh.inner, drive_t, exc_values, inh_values, exc_inv, inh_inv,
                                             torch.tensor(exc.timestep * self.dt, dtype=torch.float64),
                                             torch.tensor(inh.timestep * self.dt, dtype=torch.float64))
            exc, inh = LayerState(exc_inner, exc.timestep + 1), LayerState(inh_inner, inh.timestep + 1)
            spikes.append(s_e)
            if record_v:
                vs.append(exc.inner.v)
        pending = history[history.shape[0] - self.max_delay:] if self.max_delay else state.pending
        out_spikes = torch.stack(spikes) if spikes else torch.zeros(0, B, self.n, dtype=self.dtype)
        v = (torch.stack(vs) * 1e3 if vs else None) if record_v else None
        return TwinOutput(out_spikes, v), TwinState(exc, inh, pending)

    def _pair(self, exc: Any, inh: Any, drive: torch.Tensor, exc_values: Any, inh_values: Any, exc_inv: Any,
              inh_inv: Any, t_exc: torch.Tensor, t_inh: torch.Tensor) -> tuple[torch.Tensor, Any, Any]:
        """One step of both groups (generated code) and the lateral synapses between them."""
        es, is_ = self.exc_step, self.inh_step
        s_e, exc = es.generated.fn(exc, (drive,), exc_values, t_exc, es.dt, es.dtype, es.surrogate.spike,
                                   es.detach_reset, exc_inv)
        s_lat = s_e.detach() if self.detach_lateral else s_e
        s_i, inh = is_.generated.fn(inh, (self.exc_to_inh * s_lat,), inh_values, t_inh, is_.dt, is_.dtype,
                                    is_.surrogate.spike, is_.detach_reset, inh_inv)
        exc = exc._replace(gi=exc.gi + self.inh_to_exc * (s_i.sum(1, keepdim=True) - s_i))
        return s_e, exc, inh

    def _compiled_pair(self) -> Any:
        if getattr(self, "_compiled", None) is None:
            self._compiled = torch.compile(self._pair, dynamic=True)
        return self._compiled

    def _drive(self, x: torch.Tensor) -> torch.Tensor:
        """``[T, B, N]`` input conductance added at every step: a spike of input ``i`` in step ``k``
        adds ``w[i, j]`` to neuron ``j`` in step ``k + delay[i, j]``.

        One sparse-dense product: the spikes, shifted by each delay value ``d`` (sparse,
        ``[T * B, D * n_in]``), times the weights stacked by delay (``[D * n_in, N]``, block ``d`` holding
        the weights whose delay is ``d``). Input spikes are sparse, so this costs ``D x spikes x N``."""
        import warnings

        T, B = x.shape[0], x.shape[1]
        values_d = self.delay_values
        stack = getattr(self, "_delay_stack", None)
        if stack is None or stack.dtype != self.dtype or stack.device != self.w.device:
            self._delay_stack = torch.stack([(self.delays == d) for d in values_d]).to(self.dtype)
        t, b, i = torch.nonzero(x, as_tuple=True)
        vals = x[t, b, i].to(self.dtype)
        rows, cols, data = [], [], []
        for k, d in enumerate(values_d):
            keep = t + d < T
            rows.append((t[keep] + d) * B + b[keep])
            cols.append(i[keep] + k * self.n_in)
            data.append(vals[keep])
        rows_t, cols_t, data_t = torch.cat(rows), torch.cat(cols), torch.cat(data)
        with warnings.catch_warnings():  # "sparse CSR tensor support is in beta state"
            warnings.simplefilter("ignore", UserWarning)
            shifted = torch.sparse_coo_tensor(torch.stack([rows_t, cols_t]), data_t,
                                              (T * B, len(values_d) * self.n_in)).coalesce().to_sparse_csr()
        stacked = (self.w.unsqueeze(0) * self._delay_stack).reshape(len(values_d) * self.n_in, self.n)
        return torch.sparse.mm(shifted, stacked).reshape(T, B, self.n)


# ---------------------------------------------------------------------- input
#: Brian2's compiled devices take two clocks' times as equal when they differ by at most this (seconds,
#: absolute: ``Clock_epsilon`` of ``cpp_standalone``'s ``network.cpp``); the runtime targets compare
#: relative to ``dt`` and always align
CLOCK_EPSILON = 1e-14


def tick_step(tick: int, config: Any, compiled: bool) -> int:
    """The step (from the start of a run) from which controller tick ``tick`` takes effect.

    The controller runs on its own ``tick_ms`` clock. On the runtime targets a tick coincides with step
    ``tick * tick_ms / dt_ms``. On ``cpp_standalone`` the two clocks' times, each ``timestep * dt`` in
    double precision, are compared with an absolute :data:`CLOCK_EPSILON`: when the tick clock's time
    is later by more than that, the step runs first with the old controller state and the tick takes
    effect one step later (e.g. the input of presentation 128 of a run stays on for 701 steps).

    Example:
        >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig
        >>> c = DiehlCookConfig()
        >>> tick_step(1287, c, compiled=False), tick_step(1287, c, compiled=True)
        (128700, 128701)
    """
    from brian2 import ms as _ms

    per_tick = int(round(config.tick_ms / config.dt_ms))
    step = tick * per_tick
    if compiled and float(tick) * float(config.tick_ms * _ms) - float(step) * float(config.dt_ms * _ms) > CLOCK_EPSILON:
        return step + 1
    return step


class InputSource(Protocol):
    """Where :func:`present` takes each presentation's input spikes from."""

    def spikes(self, chain: int, example: int, intensity: float, presentation: int, steps: int) -> torch.Tensor:
        """``[steps, n_in]`` input spikes of ``chain``'s ``presentation``-th presentation (of ``example``
        at ``intensity``), ``steps`` long (the steps the input is on)."""


class PoissonSource:
    """The twin's own Poisson draws: input ``i`` spikes in a step with probability
    ``rates[example, i] * intensity * dt`` (Brian2's ``rand() < rate * dt``), from ``torch.Generator``
    seeded with ``seed`` (and the chain), never the global one.

    Example:
        >>> src = PoissonSource(np.full((2, 3), 100.0), dt=0.5e-3, seed=0)
        >>> src.spikes(0, 1, 2.0, 0, 10).shape
        torch.Size([10, 3])
    """

    def __init__(self, rates: Any, *, dt: float, seed: int = 0, dtype: torch.dtype = torch.float64):
        self.rates = torch.as_tensor(np.asarray(rates, dtype=np.float64))
        if self.rates.dim() != 2 or not torch.isfinite(self.rates).all() or (self.rates < 0).any():
            raise InputError("rates must be a finite, non-negative [n_examples, n_in] array (Hz)")
        self.dt, self.seed, self.dtype = float(dt), int(seed), dtype
        self._gens: dict[int, torch.Generator] = {}

    def spikes(self, chain: int, example: int, intensity: float, presentation: int, steps: int) -> torch.Tensor:
        gen = self._gens.get(chain)
        if gen is None:
            gen = self._gens[chain] = torch.Generator().manual_seed(self.seed * 1_000_003 + chain)
        p = self.rates[example] * intensity * self.dt
        return (torch.rand(steps, p.shape[0], generator=gen, dtype=torch.float64) < p).to(self.dtype)


@dataclass
class Presentation:
    """One presentation a Brian2 run showed: the example, how many steps its input was on, and its input
    spikes as (step within the presentation, input index) pairs."""

    example: int
    steps: np.ndarray
    inputs: np.ndarray
    length: int = 0


class RecordedSource:
    """Input spikes a Brian2 run saw (:func:`recorded_presentations`), per chain in order of
    presentation; refuses (``ModelMismatchError``) a request for another example, or another number of
    input steps, than Brian2 showed there (the twin's decisions departed from Brian2's).
    """

    def __init__(self, chains: Sequence[Sequence[Presentation]], n_in: int, dtype: torch.dtype = torch.float64):
        self.chains, self.n_in, self.dtype = [list(c) for c in chains], int(n_in), dtype

    def finished(self, shown: Sequence[int]) -> None:
        """Refuse a run that showed fewer presentations per chain than Brian2 did (``shown[chain]``)."""
        for chain, (k, recorded) in enumerate(zip(shown, self.chains)):
            if k != len(recorded):
                raise ModelMismatchError(f"chain {chain}: the twin made {k} presentations, Brian2 {len(recorded)}: "
                                         "the spike counts departed from Brian2's")

    def spikes(self, chain: int, example: int, intensity: float, presentation: int, steps: int) -> torch.Tensor:
        shown = self.chains[chain]
        if presentation >= len(shown) or shown[presentation].example != example \
                or shown[presentation].length != steps:
            what = (f"example {shown[presentation].example} for {shown[presentation].length} steps"
                    if presentation < len(shown) else "nothing")
            raise ModelMismatchError(f"chain {chain}, presentation {presentation}: the twin shows example {example} "
                                     f"for {steps} steps, Brian2 showed {what}: the spike counts departed from Brian2's")
        p = shown[presentation]
        out = torch.zeros(steps, self.n_in, dtype=self.dtype)
        out[torch.as_tensor(p.steps, dtype=torch.int64), torch.as_tensor(p.inputs, dtype=torch.int64)] = 1
        return out


def recorded_presentations(config: Any, tick_idx: Any, tick_new_example: Any, input_t_ms: Any,
                           input_i: Any, *, compiled: bool = False) -> list[Presentation]:
    """The presentations of one Brian2 run (its controller ticks and an input ``SpikeMonitor``), in
    order; ``compiled``: the run was on a compiled device (:func:`tick_step`).

    Example:
        >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig
        >>> c = DiehlCookConfig(present_ms=100, rest_ms=50, tick_ms=50)
        >>> p = recorded_presentations(c, [0, 0, 0, 1, 1, 1], [1, 0, 0, 1, 0, 0], [0.5, 151.0], [3, 4])
        >>> [(x.example, x.length, x.steps.tolist(), x.inputs.tolist()) for x in p]
        [(0, 200, [1], [3]), (1, 200, [2], [4])]
    """
    tick_idx = np.asarray(tick_idx, dtype=np.int64)
    starts = np.flatnonzero(np.asarray(tick_new_example) > 0)
    ticks_on = int(round(config.present_ms / config.tick_ms))
    step = np.rint(np.asarray(input_t_ms, dtype=np.float64) / config.dt_ms).astype(np.int64)
    inputs = np.asarray(input_i, dtype=np.int64)
    out = []
    for tick in starts:
        first, end = tick_step(int(tick), config, compiled), tick_step(int(tick) + ticks_on, config, compiled)
        lo, hi = np.searchsorted(step, first), np.searchsorted(step, end)
        out.append(Presentation(int(tick_idx[tick]), step[lo:hi] - first, inputs[lo:hi], end - first))
    return out


def take_state(state: TwinState, idx: torch.Tensor) -> TwinState:
    """The networks ``idx`` of a batched state."""
    def pick(layer: Any) -> Any:
        return layer._replace(inner=type(layer.inner)(*(t[idx] for t in layer.inner)))

    return TwinState(pick(state.exc), pick(state.inh), state.pending[:, idx])


def put_state(twin: "DiehlCookTwin", state: TwinState, part: TwinState, idx: torch.Tensor) -> TwinState:
    """``state`` with networks ``idx`` replaced by ``part`` (out of place: autograd sees both). The batch
    shares one step counter: the result takes ``part``'s, and the other networks' spike times move by
    the difference, so that each network's time since its last spike is kept."""
    shift = (part.exc.timestep - state.exc.timestep) * twin.dt
    keep = torch.ones(state.exc.inner.v.shape[0], dtype=torch.bool, device=idx.device)
    keep[idx] = False

    def put(layer: Any, new: Any, step: Any) -> Any:
        fields = []
        for name, t, p in zip(layer.inner._fields, layer.inner, new.inner):
            if shift and step.generated.state_kinds[name] == "time":
                t = torch.where(keep[:, None], t + shift, t)
            fields.append(t.index_put((idx,), p))
        return LayerState(type(layer.inner)(*fields), new.timestep)

    pending = state.pending.index_put((torch.arange(state.pending.shape[0], device=idx.device)[:, None],
                                       idx[None, :]), part.pending) if state.pending.shape[0] else state.pending
    return TwinState(put(state.exc, part.exc, twin.exc_step), put(state.inh, part.inh, twin.inh_step), pending)


# ---------------------------------------------------------------------- the protocol
@dataclass
class PresentResult:
    """What :func:`present` returns: spike counts ``[n, N]`` (while the input was on, the last
    presentation of each example), how often each example was shown, and with ``traces`` the
    potentials ``[n, N, present_steps]`` in mV of each example's last presentation."""

    counts: np.ndarray
    shows: np.ndarray
    traces: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@torch.no_grad()
def present(twin: DiehlCookTwin, n_examples: int, source: InputSource, *, reset: str = "slice",
            traces: bool = False, trace_dtype: Any = np.float32, progress: bool = False) -> PresentResult:
    """Show examples ``0 .. n_examples - 1`` as a Brian2 recording run shows them (see the module
    docstring), every slice of ``config.slice_examples`` examples as one chain of the batch.

    ``reset``: :data:`RESET_RULES` (``"run"`` for a network recorded on ``cpp_standalone``: also its
    clock alignment, :func:`tick_step`). The counts (and traces) are those Brian2's recording reads:
    the ``present_ms`` from each presentation's start tick; the re-show decision uses the spikes while
    the input was on, as Brian2's controller counts them.

    Example:
        >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
        >>> c = DiehlCookConfig(n_neurons=4, present_ms=20, rest_ms=10, tick_ms=10, max_intensity=3)
        >>> twin = DiehlCookTwin(c, DiehlCookState.initial(c, n_input=6))
        >>> res = present(twin, 3, PoissonSource(np.full((3, 6), 50.0), dt=c.dt_ms * 1e-3))
        >>> res.counts.shape, res.shows.tolist()   # silent layer: each shown at intensity 2, then 3
        ((3, 4), [2, 2, 2])
    """
    from ..progress import progress_bar

    if reset not in RESET_RULES:
        raise InputError(f"reset must be one of {RESET_RULES}, got {reset!r}")
    compiled = reset == "run"
    c = twin.config
    per_tick = int(round(c.tick_ms / c.dt_ms))
    ticks_on, ticks_all = c.ticks_on, c.ticks_per_example
    present_steps = ticks_on * per_tick
    S = c.slice_examples
    chains = [list(range(k, min(n_examples, k + S))) for k in range(0, n_examples, S)]
    B = len(chains)
    counts = np.zeros((n_examples, twin.n), dtype=np.int64)
    shows = np.zeros(n_examples, dtype=np.int64)
    trace_array = np.zeros((n_examples, twin.n, present_steps), dtype=trace_dtype) if traces else None
    position = [0] * B  # index into the chain's examples
    intensity = [float(c.intensity)] * B
    shown = [0] * B  # presentations so far in the chain
    state = twin.initial_state(B)
    device = twin.w.device
    # the last step of each chain's previous segment (a presentation whose start tick is late reads it)
    last_spikes = torch.zeros(B, twin.n, dtype=twin.dtype, device=device)
    last_v = state.exc.inner.v * 1e3

    def timing(q: int) -> tuple[int, int, int]:
        """(input-on start, input-on end, next start) of run presentation ``q``, from its grid start."""
        base = q * ticks_all * per_tick
        return (tick_step(q * ticks_all, c, compiled) - base, tick_step(q * ticks_all + ticks_on, c, compiled) - base,
                tick_step((q + 1) * ticks_all, c, compiled) - base)

    bar = progress_bar(n_examples, "twin presentations", "ex", enabled=progress)
    try:
        while True:
            active = [b for b in range(B) if position[b] < len(chains[b])]
            if not active:
                break
            run_index = {b: (shown[b] % S if compiled else shown[b]) for b in active}
            if compiled:  # a compiled run of S presentations ends; the next starts from initial values
                mask = torch.tensor([b in active and shown[b] > 0 and shown[b] % S == 0 for b in range(B)])
                if mask.any():
                    state = twin.reset_where(state, mask.to(device))
            groups: dict[tuple[int, int, int], list[int]] = {}
            for b in active:
                groups.setdefault(timing(run_index[b]), []).append(b)
            for (start, end, nxt), members in groups.items():
                idx = torch.tensor(members, device=device)
                sub = state if len(members) == B else take_state(state, idx)
                x = torch.zeros(nxt - start, len(members), twin.n_in, dtype=twin.dtype)
                for m, b in enumerate(members):
                    x[:end - start, m] = source.spikes(b, chains[b][position[b]], intensity[b], shown[b], end - start)
                out, sub = twin(x.to(device), sub, record_v=traces)
                state = sub if len(members) == B else put_state(twin, state, sub, idx)
                # Brian2's recording counts the present_ms from the start tick's grid step; a late start
                # tick (start = 1) moves the window one step back, into the previous segment's last step
                spikes = torch.cat([last_spikes[idx][None], out.spikes]) if start else out.spikes
                window = spikes[:present_steps]
                decision = out.spikes[:end - start].sum(0).sum(1).cpu().numpy()  # the controller's count
                window_counts = window.sum(0).to(torch.int64).cpu().numpy()
                if trace_array is not None:
                    vs = torch.cat([last_v[idx][None], out.v]) if start else out.v
                    v_window = vs[:present_steps].permute(1, 2, 0).cpu().numpy()
                last_spikes = last_spikes.index_put((idx,), out.spikes[-1])
                if traces:
                    last_v = last_v.index_put((idx,), out.v[-1])
                for m, b in enumerate(members):
                    k = chains[b][position[b]]
                    counts[k] = window_counts[m]
                    shows[k] += 1
                    if trace_array is not None:
                        trace_array[k] = v_window[m]
                    shown[b] += 1
                    if decision[m] < c.min_spikes and intensity[b] + 1 <= c.max_intensity:
                        intensity[b] += 1
                    else:
                        position[b] += 1
                        intensity[b] = float(c.intensity)
                        bar.update(1)
    finally:
        bar.close()
    if hasattr(source, "finished"):
        source.finished(shown)
    return PresentResult(counts, shows, trace_array)


def load_twin(directory: str | os.PathLike[str], *, dtype: torch.dtype = torch.float64,
              trainable: Sequence[str] = ("w",)) -> tuple[DiehlCookTwin, Any]:
    """The twin of a trained ``diehl_cook`` folder (``network.npz``: weights, delays, theta and the
    neuron model it records with), and the :class:`~bioSNN.unsupervised.artifacts.SavedNetwork`.

    Example:
        >>> twin, saved = load_twin("models/mstar3-stdp")  # doctest: +SKIP
        >>> twin.n, saved.class_names  # doctest: +SKIP
        (400, ('BMP2', 'BTR70', 'T72'))
    """
    from ..unsupervised.artifacts import load_network
    from ..unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState

    saved = load_network(directory)
    if saved.preset != "diehl_cook":
        raise InputError(f"{directory} holds a {saved.preset!r} network; the twin is built for diehl_cook networks")
    config = DiehlCookConfig(**saved.meta["config"])
    state = DiehlCookState(saved.arrays["w"], saved.arrays["delay_ms"], saved.arrays["theta"])
    return DiehlCookTwin(config, state, neuron=saved.model, dtype=dtype, trainable=trainable), saved


# ---------------------------------------------------------------------- the wta preset
class WTATwin(nn.Module):
    r"""A trained ``wta`` network (the seed's winner-take-all layer, plasticity off) as a torch module.

    Its output neuron (:func:`~bioSNN.unsupervised.wta.wta_model`: the seed's discrete IF neuron with the
    one-shot winner-take-all as lateral summed variables and per-step operations) steps through the
    :class:`~bioSNN.equations.TorchStep` generated from it; the input spikes of every step arrive
    through ``w`` (mV). Every image starts afresh (the model resets itself at each image's first step),
    so images are the batch. Per image, the threshold is ``P_th`` or, with
    ``WTAConfig(threshold="per_image")``, the image's own (:func:`~bioSNN.unsupervised.wta.thresholds_mV`).

    Example:
        >>> from bioSNN.unsupervised.wta import WTAConfig
        >>> twin = WTATwin(WTAConfig(n_neurons=2), np.full((9, 2), 1.0), steps=71, dt_s=1e-3)
        >>> out = twin.present(np.zeros((3, 71, 9), dtype=bool))
        >>> out["winner"].tolist(), out["v"].shape
        ([-1, -1, -1], (3, 2, 70))
    """

    def __init__(self, config: Any, w_mV: Any, *, steps: int, dt_s: float, neuron: NeuronModel | None = None,
                 dtype: torch.dtype = torch.float64, trainable: Sequence[str] = ()):
        super().__init__()
        from ..unsupervised.wta import wta_model

        w = np.asarray(w_mV, dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != config.n_neurons or not np.all(np.isfinite(w)):
            raise InputError(f"w_mV must be a finite [n_in, {config.n_neurons}] array, got shape {w.shape}")
        self.config, self.steps, self.dt_s = config, int(steps), float(dt_s)
        self.model = neuron if neuron is not None else wta_model(config, steps, dt_s)
        self.step = TorchStep(self.model, dt_s * ms * 1e3, dtype=dtype)
        self.n_in, self.n = w.shape
        value = torch.as_tensor(w * 1e-3, dtype=dtype)  # volts, as Brian2 holds them
        if "w" in trainable:
            self.w = nn.Parameter(value)
        else:
            self.register_buffer("w", value)

    def forward(self, x: torch.Tensor, thresholds_mV: Any = None, *, record_v: bool = True
                ) -> tuple[TwinOutput, Any]:
        """Images ``x [steps, B, n_in]`` (0/1), each from a fresh start; ``thresholds_mV`` ``[B]`` (default
        ``P_th``). Returns ``(TwinOutput(spikes [steps, B, N], v [steps, B, N] mV), state)``."""
        if not torch.is_tensor(x) or x.dim() != 3 or x.shape[2] != self.n_in or x.shape[0] != self.steps:
            raise InputError(f"images must be [{self.steps}, B, {self.n_in}], got {getattr(x, 'shape', type(x))}")
        B = x.shape[1]
        state = self.step.initial_state(B, self.n, device=self.w.device)
        if thresholds_mV is not None:
            th = torch.as_tensor(np.asarray(thresholds_mV, dtype=np.float64) * 1e-3, dtype=self.w.dtype)
            state = LayerState(state.inner._replace(th=th.reshape(B, 1).expand(B, self.n).clone()), 0)
        drive = torch.matmul(x.to(self.w.dtype), self.w)
        out = self.step.run_drive(drive, state, record=("v",) if record_v else ())
        v = out.recorded["v"] * 1e3 if record_v else None
        return TwinOutput(out.spikes, v), out.state

    @torch.no_grad()
    def present(self, images: Any, *, batch_size: int = 256) -> dict[str, np.ndarray]:
        """Show ``images`` (``[n, steps, n_in]`` booleans, or :class:`~bioSNN.encoding.SpikeTrains`) as
        :meth:`~bioSNN.unsupervised.wta.WTANetwork.present` shows them with plasticity off: per image the
        ``winner`` (-1: none), its ``event_step`` and ``v`` ``[n, N, steps - 1]`` (mV, steps 1..)."""
        from ..unsupervised.wta import thresholds_mV

        dense = images.dense() if hasattr(images, "dense") else np.asarray(images, dtype=bool)
        if dense.ndim != 3 or dense.shape[1:] != (self.steps, self.n_in):
            raise InputError(f"images must be [n, {self.steps}, {self.n_in}], got {dense.shape}")
        thresholds = thresholds_mV(self.config, dense.sum(axis=2).max(axis=1) if len(dense) else np.zeros(0))
        winners, events, vs = [], [], []
        for start in range(0, len(dense), batch_size):
            x = torch.as_tensor(dense[start:start + batch_size]).permute(1, 0, 2)
            out, _ = self(x, thresholds[start:start + batch_size])
            s = out.spikes.cpu().numpy() > 0  # [steps, B, N]
            fired = s.any(axis=(0, 2))
            first = np.where(fired, s.any(axis=2).argmax(axis=0), -1)
            winners.append(np.where(fired, s[np.maximum(first, 0), np.arange(s.shape[1])].argmax(axis=1), -1))
            events.append(first)
            vs.append(out.v.permute(1, 2, 0).cpu().numpy()[:, :, 1:])
        empty = np.zeros(0, dtype=np.int64)
        return {"winner": np.concatenate(winners) if winners else empty,
                "event_step": np.concatenate(events) if events else empty,
                "v": np.concatenate(vs) if vs else np.zeros((0, self.n, self.steps - 1))}


def load_wta_twin(directory: str | os.PathLike[str], *, dtype: torch.dtype = torch.float64) -> tuple[WTATwin, Any]:
    """The twin of a trained ``wta`` folder and its :class:`~bioSNN.unsupervised.artifacts.SavedNetwork`.

    Example:
        >>> twin, saved = load_wta_twin("models/mstar3-wta")
        >>> twin.n_in, twin.n, twin.steps
        (16384, 6, 71)
    """
    from ..unsupervised.artifacts import load_network
    from ..unsupervised.wta import WTAConfig

    saved = load_network(directory)
    if saved.preset != "wta":
        raise InputError(f"{directory} holds a {saved.preset!r} network, not a wta one")
    return WTATwin(WTAConfig(**saved.meta["config"]), saved.arrays["w_mV"], steps=int(saved.meta["steps"]),
                   dt_s=float(saved.meta["dt_seconds"]), neuron=saved.model, dtype=dtype), saved
