r"""Spiking layers for gradient training: the neurons of a :class:`~bioSNN.equations.NeuronModel`.

A :class:`NeuronLayer` holds no weights. It takes the synaptic drive of every step, ``[T, B, *shape]``,
computed beforehand by any ``nn.Linear`` / ``nn.Conv2d`` applied to all steps at once (:func:`over_time`),
and runs the model's generated torch step (:class:`~bioSNN.equations.TorchStep`) over time. With
``drive[k] = x[k] @ W`` its traces are those of Brian2 for the same model, input and weights (the
core promise, pinned by ``tests/supervised/test_layers.py``).

Units: the drive is in the *display unit* of the model's weight ``w`` (mV when ``on_pre`` is
``v += w`` on a voltage, nA for a current, 1 for a dimensionless conductance), recorded variables
come back in their display units (mV), and trainable parameters are held in theirs (mV, ms), so
that learning rates mean the same thing across models.

The module contract is Norse's: ``forward(drive, state=None) -> (spikes, state)``. Without a state
the layer starts from the model's initial values; passing the returned state continues the run, so
two calls of ``T/2`` steps equal one call of ``T`` (streaming input, truncated BPTT). Input is
time-first, ``[T, B, *shape]`` (``batch_first=True`` takes ``[B, T, *shape]`` and answers the same way).
``return_state=False`` returns the spikes alone, so that layers compose in ``nn.Sequential``
(with :class:`OverTime` around per-sample modules such as ``nn.Conv2d``).

Example:
    >>> import torch
    >>> from brian2 import ms
    >>> from bioSNN.equations import library
    >>> layer = NeuronLayer(library.lif_delta(), 1 * ms, 5, trainable=("v_th",))
    >>> out = layer(torch.full((20, 2, 5), 3.0))          # 3 mV per step into every neuron
    >>> out.spikes.shape, out.recorded["v"].shape, tuple(layer.trainable["v_th"].shape)
    (torch.Size([20, 2, 5]), torch.Size([20, 2, 5]), (5,))
    >>> spikes, state = layer(torch.full((10, 2, 5), 3.0))                 # Norse's (out, state)
    >>> later, state = layer(torch.full((10, 2, 5), 3.0), state)           # continues at step 10
    >>> bool(torch.equal(torch.cat([spikes, later]), out.spikes)), state.timestep
    (True, 20)
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 5), NeuronLayer(library.lif_delta(), 1 * ms, 5,
    ...                           return_state=False), torch.nn.Linear(5, 3))
    >>> net(torch.rand(20, 2, 8)).shape
    torch.Size([20, 2, 3])
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import torch
from brian2 import second
from torch import nn

from ..equations.brian import weight_dimension
from ..equations.model import NeuronModel
from ..equations.surrogate import Surrogate
from ..equations.torch_step import TorchStep
from ..errors import InputError, ModelError
from ..quantities import as_time, dimension_of, display_unit, si_value

__all__ = ["NeuronLayer", "LayerOutput", "OverTime", "ThresholdBatchNorm", "over_time", "threshold_gap",
           "set_backend"]


class _SpikesAndState(NamedTuple):
    spikes: torch.Tensor
    state: Any


class LayerOutput(_SpikesAndState):
    """``(spikes, state)``: spikes ``[T, B, *shape]`` (0./1. with surrogate gradient) and the state
    after the last step (a :class:`~bioSNN.equations.torch_step.LayerState`, to pass to the next
    call); ``.recorded``: the variables named in the layer's ``record``, ``[T, B, *shape]`` in
    display units (mV)."""

    recorded: dict[str, torch.Tensor]

    def __new__(cls, spikes: torch.Tensor, state: Any, recorded: dict[str, torch.Tensor] | None = None) -> "LayerOutput":
        self = super().__new__(cls, spikes, state)
        self.recorded = dict(recorded or {})
        return self

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.spikes, self.state, self.recorded)


def over_time(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a per-sample ``module`` to every step of ``x [T, B, ...]`` in one call (steps folded into the batch)."""
    T, B = x.shape[:2]
    y = module(x.reshape(T * B, *x.shape[2:]))
    return y.reshape(T, B, *y.shape[1:])


class OverTime(nn.Module):
    """``module`` applied to every step of ``[T, B, ...]`` input (:func:`over_time`), so that per-sample
    modules such as ``nn.Conv2d`` or ``nn.BatchNorm2d`` sit between neuron layers in ``nn.Sequential``.

    Example:
        >>> conv = OverTime(nn.Conv2d(1, 4, 3, padding=1))
        >>> conv(torch.rand(5, 2, 1, 8, 8)).shape
        torch.Size([5, 2, 4, 8, 8])
    """

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return over_time(self.module, x)


def threshold_gap(model: NeuronModel) -> float:
    """Distance from rest to threshold in the display unit of the drive (``v_th - v_rest``, or
    ``P_th - P_rest``), the natural scale of a layer's drive; 1 when the model names neither pair."""
    for th, rest in (("v_th", "v_rest"), ("P_th", "P_rest")):
        if th in model.parameters and rest in model.parameters:
            gap = model.parameters[th] - model.parameters[rest]
            if dimension_of(gap) is weight_dimension(model, next(iter(model.pathways))):
                return float(si_value(gap)) / display_unit(dimension_of(gap))[1]
    return 1.0


class NeuronLayer(nn.Module):
    r"""``shape`` neurons of ``model`` at step ``dt``, run over ``[T, B, *shape]`` drives.

    Parameters
    ----------
    model: the neuron model (its torch step is generated from its Brian2 definition).
    dt: time step (Brian2 quantity or seconds).
    shape: neurons per sample (``int`` or tuple, e.g. ``(C, H, W)`` after a convolution).
    surrogate: surrogate gradient of the threshold (default: atan, 1 mV wide).
    trainable: model parameters to learn, one value per neuron (e.g. ``("v_th", "tau_m")``: the
        learned thresholds of STL-SNN and learned time constants). Time constants are kept above ``dt/10``.
    detach_reset: stop the gradient through the reset (default True).
    record: variables (state or subexpressions) returned per step, in display units.
    dtype: floating-point type of the neuron state (the drive may come in bf16 under autocast).
    backend: how the step runs, ``"eager"`` (the reference), ``"compile"`` (fused by ``torch.compile``),
        ``"fused"`` (chunks of steps compiled) or ``"bptt"`` (compiled chunks with a backward pass of
        their own: the fastest for training on a CPU); same values and gradients
        (:data:`~bioSNN.equations.torch_step.BACKENDS`); see also :func:`set_backend`.
    return_state: ``forward`` returns ``(spikes, state)`` (default, Norse's contract) or, when False,
        the spikes alone (a plain module of ``nn.Sequential``).
    batch_first: take and return ``[B, T, *shape]`` instead of the time-first ``[T, B, *shape]``.

    The layer pickles (``torch.save(module)``, ``copy.deepcopy``: the step is generated again from the
    model on load) and follows ``.to(dtype)`` / ``.double()`` / ``.to(device)`` like any module.
    """

    def __init__(self, model: NeuronModel, dt: Any, shape: int | Sequence[int], *, surrogate: Surrogate | None = None,
                 trainable: Sequence[str] = (), detach_reset: bool = True, record: Sequence[str] = ("v",),
                 dtype: torch.dtype = torch.float32, backend: str = "eager", return_state: bool = True,
                 batch_first: bool = False):
        super().__init__()
        self.return_state, self.batch_first = bool(return_state), bool(batch_first)
        self.model = model
        self.dt = as_time(dt)
        self.shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
        if not self.shape or min(self.shape) < 1:
            raise InputError(f"layer shape must be positive, got {shape!r}")
        self.n = math.prod(self.shape)
        self.step = TorchStep(model, self.dt * second, surrogate=surrogate, detach_reset=detach_reset, dtype=dtype,
                              backend=backend)
        units = {p: display_unit(weight_dimension(model, p)) for p in model.pathways}
        #: display unit and its SI value of each pathway's drive (``drive_unit``/``drive_scale``: the first's)
        self.drive_units = {p: u for p, (u, _) in units.items()}
        self.drive_scales = {p: f for p, (_, f) in units.items()}
        self.drive_unit, self.drive_scale = next(iter(units.values()))
        self.record: tuple[str, ...] = ()
        self.record_scale: dict[str, float] = {}
        self.also_record(*record)
        self.trainable = nn.ParameterDict()
        self._param_scale: dict[str, float] = {}
        self._positive: set[str] = set()
        for name in trainable:
            if name not in model.parameters:
                raise ModelError(f"trainable: {name!r} is not a parameter of model '{model.name}' "
                                 f"(it has {sorted(model.parameters)})")
            if name not in self.step.generated.parameters:
                raise ModelError(f"trainable: parameter {name!r} of model '{model.name}' is not used by its dynamics")
            value = model.parameters[name]
            _, scale = display_unit(dimension_of(value))
            self._param_scale[name] = scale
            if dimension_of(value) is second.dim:
                self._positive.add(name)
            self.trainable[name] = nn.Parameter(torch.full((self.n,), float(si_value(value)) / scale, dtype=dtype))

    def also_record(self, *names: str) -> "NeuronLayer":
        """Record ``names`` as well (state variables or subexpressions, display units); returns the layer."""
        extra = tuple(dict.fromkeys(n for n in names if n not in self.record))
        self.step.check_record(extra)
        self.record = self.record + extra
        self.record_scale.update({r: display_unit(self.model.brian_equations[r].dim)[1] for r in extra})
        return self

    def parameter_values(self) -> dict[str, torch.Tensor]:
        """The trainable parameters in SI, as the step takes them (time constants kept above ``dt/10``)."""
        values = {}
        for name, p in self.trainable.items():
            si = p * self._param_scale[name]
            values[name] = si.clamp_min(self.dt / 10) if name in self._positive else si
        return values

    def forward(self, drive: Any, state: Any = None) -> Any:
        """Run all steps of ``drive [T, B, *shape]`` (display unit of the weight) from ``state`` (default:
        the model's initial state); returns :class:`LayerOutput` ``(spikes, state)`` with ``.recorded``,
        or the spikes alone when the layer was made with ``return_state=False``. A model with several
        input pathways takes a dict ``{pathway: drive}``, one drive each (e.g.
        ``{"exc": over_time(fc_e, x_e), "inh": over_time(fc_i, x_i)}``), each in its weight's display unit."""
        out = self.run(drive, state)
        return out if self.return_state else out.spikes

    def run(self, drive: Any, state: Any = None) -> LayerOutput:
        """:meth:`forward` that always returns the whole :class:`LayerOutput` (spikes, state, recorded)."""
        drives = self.step.drives(drive)
        if self.batch_first:
            drives = tuple(d.transpose(0, 1) if torch.is_tensor(d) and d.dim() >= 2 else d for d in drives)
        flat = []
        for name, d in zip(self.step.pathways, drives):
            if not torch.is_tensor(d) or d.dim() < 3 or tuple(d.shape[2:]) != self.shape:
                order = "batch, T" if self.batch_first else "T, batch"
                raise InputError(f"drive must be [{order}, {', '.join(map(str, self.shape))}] (time first unless the "
                                 f"layer is made with batch_first=True), got {tuple(getattr(d, 'shape', ()))}")
            T, B = d.shape[:2]
            flat.append(d.reshape(T, B, self.n).to(self.step.dtype))
        if len({x.shape for x in flat}) != 1:
            raise InputError(f"the drives of all pathways must have one shape, got {[tuple(x.shape) for x in drives]}")
        if state is not None:
            self._check_state(state, B)
        result = self.step.run_drive(tuple(flat), state, record=self.record, params=self.parameter_values(),
                                     drive_scale=tuple(self.drive_scales[p] for p in self.step.pathways))
        shape = (T, B, *self.shape)
        out = {r: (v.to(self.step.dtype) / self.record_scale[r]).reshape(shape) for r, v in result.recorded.items()}
        spikes = result.spikes.reshape(shape)
        if self.batch_first:
            spikes, out = spikes.transpose(0, 1), {r: v.transpose(0, 1) for r, v in out.items()}
        return LayerOutput(spikes, result.state, out)

    def _check_state(self, state: Any, batch: int) -> None:
        fields = getattr(getattr(state, "inner", None), "_fields", None)
        if fields is None or not hasattr(state, "timestep"):
            raise InputError(f"state must be the state a {type(self).__name__} returned, got {type(state).__name__}")
        first = getattr(state.inner, fields[0])
        if tuple(first.shape) != (batch, self.n):
            raise InputError(f"the state holds [{', '.join(map(str, first.shape))}] neurons, the drive [batch {batch}, "
                             f"{self.n}]: is the input batch-first? Time comes first, [T, batch, ...]")

    def _apply(self, fn: Any, recurse: bool = True) -> "NeuronLayer":
        super()._apply(fn, recurse)
        probe = fn(torch.zeros((), dtype=self.step.dtype))
        if probe.is_floating_point() and probe.dtype != self.step.dtype:  # .double(), .to(torch.float64), ...
            self.step = self.step.with_dtype(probe.dtype)
        return self

    def extra_repr(self) -> str:
        extra = f", trainable={tuple(self.trainable)}" if len(self.trainable) else ""
        extra += f", backend={self.step.backend}" if self.step.backend != "eager" else ""
        return f"model={self.model.name}, shape={self.shape}, dt={self.dt * 1e3:g} ms{extra}"


def set_backend(module: nn.Module, backend: str) -> int:
    """Run every :class:`NeuronLayer` inside ``module`` by ``backend`` (one of
    :data:`~bioSNN.equations.torch_step.BACKENDS`: ``"eager"``, ``"compile"``, ``"fused"``, ``"bptt"``);
    returns how many neuron layers ``module`` holds (all now run by ``backend``). Weights, parameters
    and results are unchanged: only the execution of the neuron steps differs (all but ``"eager"``:
    fused kernels, compiled at first use; float32/float64 states only).

    Example:
        >>> from brian2 import ms
        >>> from bioSNN.equations import library
        >>> net = nn.Sequential(NeuronLayer(library.lif_delta(), 1 * ms, 4))
        >>> set_backend(net, "compile"), net[0].step.backend
        (1, 'compile')
    """
    layers = [m for m in module.modules() if isinstance(m, NeuronLayer)]
    for layer in layers:
        if layer.step.backend != backend:
            layer.step = layer.step.with_backend(backend)
    return len(layers)


class ThresholdBatchNorm(nn.Module):
    r"""Threshold-dependent batch normalisation (tdBN, Zheng et al. 2021) of ``[T, B, C, ...]`` drives.

    Per channel :math:`k`, statistics over batch, time and space:

    .. math:: y = \lambda_k \, \frac{\alpha V_{th} (x - \mu_k)}{\sqrt{\sigma_k^2 + \epsilon}} + \beta_k

    with :math:`V_{th}` the layer's threshold gap (``scale``, display unit of the drive), :math:`\alpha`
    1 (or :math:`1/\sqrt{2}` where two branches are summed before a spike), :math:`\lambda = 1`,
    :math:`\beta = 0` at start. Running statistics as ``nn.BatchNorm`` (momentum 0.1).

    ``center=False`` scales without shifting, :math:`y = \lambda_k \alpha V_{th} x / \sqrt{E[x^2] + \epsilon}`,
    so a silent input gives no drive: for inputs that are silent most of the time (the seed's spike
    trains have no spike before step 30) centring would make neurons fire before any input arrives.

    Example:
        >>> bn = ThresholdBatchNorm(4, scale=10.0)
        >>> y = bn(torch.randn(3, 8, 4, 5, 5))
        >>> round(float(y.detach().std()), 0)
        10.0
    """

    def __init__(self, channels: int, scale: float = 1.0, alpha: float = 1.0, eps: float = 1e-5, momentum: float = 0.1,
                 center: bool = True):
        super().__init__()
        self.center = bool(center)
        self.norm = nn.BatchNorm1d(channels, eps=eps, momentum=momentum, affine=False) if center else None
        if not center:
            self.register_buffer("running_ms", torch.ones(channels))
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None
        self.factor = float(alpha) * float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T, B, C = x.shape[:3]
        flat = x.reshape(T * B, C, -1)  # statistics over [N, L] per channel, as BatchNorm1d
        if self.norm is not None:
            y = self.norm(flat)
        else:
            if self.training:
                ms = flat.pow(2).mean((0, 2))
                with torch.no_grad():
                    self.running_ms.mul_(1 - self.momentum).add_(self.momentum * ms)
            else:
                ms = self.running_ms
            y = flat / torch.sqrt(ms + self.eps)[None, :, None]
        view = (1, 1, C) + (1,) * (x.dim() - 3)
        y = y.reshape(x.shape) * self.factor * self.weight.view(view)
        return y if self.bias is None else y + self.bias.view(view)
