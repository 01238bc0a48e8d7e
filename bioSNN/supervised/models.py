r"""Networks for gradient training. Every one takes input spikes ``[T, B, n_in]`` (row ``k`` = step ``k``
of the presentation, the bioSNN time convention) and returns a :class:`NetworkOutput`.

* :class:`GuidedBilayer`: the seed project's network (one weight matrix, n output neurons), with its
  as-coded dynamics (``dynamics="seed"``: linear integrator, unconditional leak, optional input
  interpolation; seeds_spec 1.6-1.7) or the guidance-consistent ones (``dynamics="model"``: the output
  model itself, e.g. ``seed_wta_if`` with conditional leak, WTA and reset, spikes with a surrogate).
* :class:`SpikingMLP`, :class:`SpikingConvNet` (any depth) and :class:`SpikingResNet19` (tdBN,
  seeds_spec 4): hidden layers of ``hidden_model`` (default :func:`~bioSNN.equations.library.lif_delta`),
  output layer of ``output_model`` (default: the guidance model, so the output traces are comparable to
  the guidance by construction), or, with ``output_dynamics="seed"``, the seed's non-spiking
  integrator (:func:`seed_integrate`) on top of spiking hidden layers.

Weights are in the display unit of the drive (mV for ``v += w``). Any layer can learn per-neuron
parameters (``trainable=("v_th",)`` for STL-SNN's thresholds, ``("tau_m",)`` for time constants).
:func:`build_model` rebuilds a network from the JSON ``spec`` stored in checkpoints.

Example:
    >>> import torch
    >>> from brian2 import ms
    >>> from bioSNN.equations import library
    >>> net = SpikingMLP(20, 4, hidden=(16,), output_model=library.lif_delta(), dt=1 * ms)
    >>> out = net((torch.rand(10, 3, 20) < 0.3).float())
    >>> out.v.shape, out.spikes.shape, len(out.rates)
    (torch.Size([10, 3, 4]), torch.Size([10, 3, 4]), 3)
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Mapping, NamedTuple, Sequence

import torch
from brian2 import second
import torch.nn.functional as F
from torch import nn

from ..equations import library
from ..equations.model import NeuronModel
from ..equations.surrogate import Surrogate
from ..errors import InputError
from ..quantities import as_time, quantity_from_json, quantity_to_json
from .layers import NeuronLayer, ThresholdBatchNorm, over_time, threshold_gap
from .packed import PackedSpikes, spike_linear

__all__ = ["NetworkOutput", "GuidedBilayer", "SpikingMLP", "SpikingConvNet", "SpikingResNet19", "UserNetwork",
           "build_model", "ARCHITECTURES", "DYNAMICS"]

DYNAMICS = ("model", "seed")


class NetworkOutput(NamedTuple):
    """``spikes``, ``v``: output layer ``[T_out, B, n_out]`` (v in the display unit, mV); ``times``:
    step of each output row (float; fractional under interpolation); ``rates``: mean spikes per neuron
    per step of each spiking layer, input to output (detached 0-d tensors on the network's device, so
    that a forward pass waits for no host copy; ``float(r)`` reads one)."""

    spikes: torch.Tensor
    v: torch.Tensor
    times: torch.Tensor
    rates: tuple[torch.Tensor, ...]


def packed_architectures() -> str:
    """The architectures whose ``forward`` takes bit-packed input, for messages."""
    return ", ".join(name for name, cls in ARCHITECTURES.items() if cls.accepts_packed)


def _check_input(x: torch.Tensor, n_in: int, packed: bool = False) -> torch.Tensor:
    if isinstance(x, PackedSpikes):
        if not packed:
            raise InputError(f"this network takes dense spikes; bit-packed input (PackedSpikes) is taken by "
                             f"{packed_architectures()}")
        if x.n != n_in:
            raise InputError(f"input has {x.n} channels, the network expects n_in = {n_in}")
        return x  # type: ignore[return-value]
    if not torch.is_tensor(x) or x.dim() != 3:
        raise InputError(f"input spikes must be a [T, batch, n_in] tensor, got {getattr(x, 'shape', type(x))}")
    if x.shape[2] != n_in:
        raise InputError(f"input has {x.shape[2]} channels, the network expects n_in = {n_in}")
    if x.is_floating_point() and not torch.isfinite(x.sum()):  # one reduction, not a full mask
        raise InputError("input spikes contain NaN or infinite values")
    return x.float() if not x.is_floating_point() else x


class _Network(nn.Module):
    """Shared parts: the JSON ``spec`` (for checkpoints), dt, the output model and its record variable."""

    architecture = ""
    #: what the first argument of the constructor is: ``"flat"`` (``n_in``) or ``"image"`` (``input_shape``)
    input_kind = "flat"
    #: whether ``--fc`` gives one width (one FC layer) rather than a list
    single_fc = False
    #: whether it has hidden layers (of ``hidden_model``; their ``--dynamics`` is ``output_dynamics``)
    has_hidden_layers = True
    #: whether ``forward`` takes bit-packed input (:class:`~bioSNN.supervised.packed.PackedSpikes`)
    accepts_packed = False

    def __init__(self, spec: dict[str, Any], output_model: NeuronModel, dt: Any, hidden_model: NeuronModel | None,
                 surrogate: Surrogate | None):
        super().__init__()
        self.dt = as_time(dt)
        self.output_model = output_model
        self.hidden_model = hidden_model
        self.surrogate = surrogate or Surrogate()
        self.v_name = "v" if "v" in output_model.state_variables else output_model.state_variables[0]
        self.spec = {"architecture": self.architecture, "dt_seconds": self.dt, "output_model": output_model.to_dict(),
                     "hidden_model": hidden_model.to_dict() if hidden_model is not None else None,
                     "surrogate": {"kind": self.surrogate.kind, "width": quantity_to_json(self.surrogate.width)},
                     **spec}

    @property
    def output_layer(self) -> NeuronLayer | None:
        """The output neurons (``None`` for the seed's non-spiking integrator)."""
        return None

    def input_weights(self) -> torch.Tensor | None:
        """``[N, n_in]``: the weights from the input spikes to the first layer's ``N`` neurons, when that
        map is one matrix (bilayer, MLP); ``None`` otherwise (convolutions)."""
        return None

    #: unit of :meth:`input_weights` ("1": arbitrary, ahead of a normalisation)
    input_weight_unit = "1"

    def _neurons(self, model: NeuronModel, shape: Any, trainable: Sequence[str], record: Sequence[str] = ()) -> NeuronLayer:
        return NeuronLayer(model, self.dt * second, shape, surrogate=self.surrogate, trainable=trainable, record=record)

    def _finish(self, x: torch.Tensor, out: Any, rates: list[torch.Tensor]) -> NetworkOutput:
        rates.append(out.spikes.detach().mean())
        return NetworkOutput(out.spikes, out.recorded[self.v_name], _steps(x),
                             tuple(rates))


class GuidedBilayer(_Network):
    r"""Input spikes -> ``n_out`` output neurons through one weight matrix ``W`` (mV), stored
    ``[n_out, n_in]`` like ``nn.Linear`` (row ``j``: the input weights of output neuron ``j``).

    ``dynamics="model"``: the output neurons are ``output_model`` (default ``seed_wta_if``), run by its
    generated torch step (conditional leak, WTA, reset, refractoriness; surrogate spikes).

    ``dynamics="seed"``: the seed's released code (v2), a non-spiking integrator

    .. math:: P_j(\tau_0) = 0, \qquad P_j(\tau_k) = P_j(\tau_{k-1}) + \sum_i W_{ij} \tilde x_i(\tau_k) - D_s

    with the leak :math:`D_s` (``leak``, mV per sample, default 0.005) subtracted unconditionally and
    :math:`\tilde x` the input, linearly interpolated from steps ``0..T`` onto ``interpolate + 1``
    points when ``interpolate`` is given (the seed's "interpolate 10 times" trick; 100 in its code).

    Weights start uniform in ``[0, w_init)`` mV (seed: ``[0, 1)``).
    """

    architecture = "guided-bilayer"
    has_hidden_layers = False
    accepts_packed = True

    def __init__(self, n_in: int, n_out: int, *, output_model: NeuronModel | None = None, dt: Any = 1e-3,
                 dynamics: str = "model", leak: float = 0.005, interpolate: int | None = None, w_init: float = 1.0,
                 surrogate: Surrogate | None = None, trainable: Sequence[str] = ()):
        if dynamics not in DYNAMICS:
            raise InputError(f"dynamics must be one of {DYNAMICS}, got {dynamics!r}")
        if interpolate is not None and dynamics != "seed":
            raise InputError("interpolate applies to dynamics='seed' only")
        output_model = output_model or library.seed_wta_if()
        super().__init__(dict(n_in=n_in, n_out=n_out, dynamics=dynamics, leak=leak, interpolate=interpolate,
                              w_init=w_init, trainable=list(trainable)), output_model, dt, None, surrogate)
        self.n_in, self.n_out, self.dynamics = int(n_in), int(n_out), dynamics
        self.leak, self.interpolate = float(leak), interpolate
        self.weight = nn.Parameter(torch.rand(n_out, n_in) * w_init)
        self.neurons = self._neurons(output_model, n_out, trainable, (self.v_name,)) if dynamics == "model" else None

    @property
    def output_layer(self) -> NeuronLayer | None:
        return self.neurons

    def input_weights(self) -> torch.Tensor:
        return self.weight

    @property
    def input_weight_unit(self) -> str:  # type: ignore[override]
        return self.neurons.drive_unit if self.neurons is not None else "mV"

    def forward(self, x: torch.Tensor) -> NetworkOutput:
        """``x``: spikes ``[T, B, n_in]``, dense or bit-packed (:class:`~bioSNN.supervised.packed.PackedSpikes`,
        long presentations in bounded memory; not with ``interpolate``)."""
        x = _check_input(x, self.n_in, packed=not self.interpolate)
        if self.neurons is not None:
            return self._finish(x, self.neurons(spike_linear(x, self.weight)), [_rate(x)])
        times = _steps(x)
        if self.interpolate:
            times = torch.linspace(0, x.shape[0] - 1, self.interpolate + 1, device=x.device)
            x = interpolate_steps(x, times)
        v = seed_integrate(spike_linear(x, self.weight), self.leak)
        return NetworkOutput(torch.zeros_like(v), v, times, (_rate(x),))


def _linear(module: nn.Linear, h: Any) -> torch.Tensor:
    """``module`` over every step of ``h``: dense ``[T, B, n]`` or bit-packed spikes."""
    return spike_linear(h, module.weight) if isinstance(h, PackedSpikes) else over_time(module, h)


def _rate(x: Any) -> torch.Tensor:
    """Mean input spikes per channel per step (detached), of dense or packed spikes."""
    return x.mean() if isinstance(x, PackedSpikes) else x.detach().mean()


def _steps(x: torch.Tensor) -> torch.Tensor:
    """The step of each row of ``x [T, ...]`` (0..T-1, float): the output times of a network."""
    return torch.arange(x.shape[0], device=x.device, dtype=torch.float32)


def seed_integrate(drive: torch.Tensor, leak: float) -> torch.Tensor:
    """The seed's integrator over ``drive [T+1, B, n]`` (mV per step): ``P(0) = 0``,
    ``P(k) = P(k-1) + drive(k) - leak`` (row 0 of ``drive`` is never integrated, seeds_spec 1.6)."""
    steps = drive[1:] - leak
    return torch.cat([torch.zeros_like(drive[:1]), torch.cumsum(steps, 0)])


def interpolate_steps(x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """``x [T+1, ...]`` sampled at integer steps, linearly interpolated at ``times`` (steps, float)."""
    lo = times.floor().long().clamp(0, x.shape[0] - 1)
    hi = (lo + 1).clamp(max=x.shape[0] - 1)
    frac = (times - lo.float()).view(-1, *([1] * (x.dim() - 1)))
    return x[lo] * (1 - frac) + x[hi] * frac


class _Deep(_Network):
    """Hidden layers of ``hidden_model`` behind drives from linear maps; the last map feeds the output model."""

    def _hidden(self, shape: Any, trainable: Sequence[str]) -> NeuronLayer:
        return self._neurons(self.hidden_model, shape, trainable)

    @property
    def output_layer(self) -> NeuronLayer | None:
        return self.output

    def _dense_head(self, n_features: int, sizes: Sequence[int], n_out: int, *, trainable: Sequence[str], center: bool,
                    dropout: float, output_dynamics: str, leak: float) -> tuple[nn.ModuleList, nn.ModuleList, nn.ModuleList]:
        """Linear -> tdBN -> ``hidden_model`` layers of ``sizes`` after ``n_features`` inputs, then the
        readout (``self.readout``, scaled by ``self.gain``) into the output layer (``self.output``);
        returns the hidden ``(linears, norms, neuron layers)`` and sets ``self.dropout``."""
        _check_sizes("hidden sizes", sizes, allow_empty=True)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise InputError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        gap = threshold_gap(self.hidden_model)
        widths = [n_features, *sizes]
        linears = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(widths[:-1], widths[1:]))
        norms = nn.ModuleList(ThresholdBatchNorm(b, gap, center=center) for b in sizes)
        hidden = nn.ModuleList(self._hidden(b, trainable) for b in sizes)
        self.dropout = nn.Dropout(dropout)
        self.readout = nn.Linear(widths[-1], n_out, bias=False)
        self.gain = threshold_gap(self.output_model)
        self.output = self._output_layer(n_out, trainable, output_dynamics, leak)
        return linears, norms, hidden

    def _output_layer(self, n_out: int, trainable: Sequence[str], dynamics: str, leak: float) -> NeuronLayer | None:
        """The output neurons (``dynamics="model"``), or None for the seed's integrator (``"seed"``)."""
        if dynamics not in DYNAMICS:
            raise InputError(f"output_dynamics must be one of {DYNAMICS}, got {dynamics!r}")
        self.output_dynamics, self.leak = dynamics, float(leak)
        return self._neurons(self.output_model, n_out, trainable, (self.v_name,)) if dynamics == "model" else None

    def _respond(self, x: torch.Tensor, drive: torch.Tensor, rates: list[torch.Tensor]) -> NetworkOutput:
        """The output layer's response to ``drive [T, B, n_out]`` (mV)."""
        if self.output is not None:
            return self._finish(x, self.output(drive), rates)
        v = seed_integrate(drive, self.leak)
        return NetworkOutput(torch.zeros_like(v), v, _steps(x), (*rates, torch.zeros((), device=v.device)))


def _models(output_model: NeuronModel | None, hidden_model: NeuronModel | None) -> tuple[NeuronModel, NeuronModel]:
    hidden = hidden_model or library.lif_delta()
    return output_model or hidden, hidden


class SpikingMLP(_Deep):
    """``n_in -> hidden... -> n_out``: Linear (no bias) -> tdBN -> ``hidden_model`` per hidden layer, then
    Linear -> ``output_model``. The output drive is scaled by the output model's threshold gap."""

    architecture = "spiking-mlp"
    accepts_packed = True

    def __init__(self, n_in: int, n_out: int, *, hidden: Sequence[int] = (800,), dt: Any = 1e-3,
                 output_model: NeuronModel | None = None, hidden_model: NeuronModel | None = None,
                 surrogate: Surrogate | None = None, trainable: Sequence[str] = (), dropout: float = 0.0,
                 center: bool = True, output_dynamics: str = "model", leak: float = 0.005):
        output_model, hidden_model = _models(output_model, hidden_model)
        super().__init__(dict(n_in=n_in, n_out=n_out, hidden=list(hidden), trainable=list(trainable), dropout=dropout,
                              center=center, output_dynamics=output_dynamics, leak=leak),
                         output_model, dt, hidden_model, surrogate)
        self.n_in = int(n_in)
        self.linears, self.norms, self.hidden = self._dense_head(n_in, hidden, n_out, trainable=trainable, center=center,
                                                                 dropout=dropout, output_dynamics=output_dynamics,
                                                                 leak=leak)

    def input_weights(self) -> torch.Tensor:
        return self.linears[0].weight if len(self.linears) else self.readout.weight

    def forward(self, x: torch.Tensor) -> NetworkOutput:
        """``x``: spikes ``[T, B, n_in]``, dense or bit-packed (:class:`~bioSNN.supervised.packed.PackedSpikes`)."""
        h = _check_input(x, self.n_in, packed=True)
        rates = [_rate(h)]
        for linear, norm, neurons in zip(self.linears, self.norms, self.hidden):
            h = neurons(norm(_linear(linear, h))).spikes
            rates.append(h.detach().mean())
            h = self.dropout(h)
        return self._respond(x, _linear(self.readout, h) * self.gain, rates)


class SpikingConvNet(_Deep):
    """Conv3x3 (no bias) -> tdBN -> ``hidden_model`` -> pool, per entry of ``channels``; then Linear
    layers of ``fc`` sizes and the output layer. ``input_pool`` average-pools the input spikes first;
    ``center=False`` normalises without shifting (:class:`ThresholdBatchNorm`), so that silent input
    steps drive nothing."""

    architecture = "spiking-convnet"
    input_kind = "image"

    def __init__(self, input_shape: Sequence[int], n_out: int, *, channels: Sequence[int] = (32, 64),
                 fc: Sequence[int] = (), kernel: int = 3, pool: int = 2, input_pool: int = 1, dt: Any = 1e-3,
                 output_model: NeuronModel | None = None, hidden_model: NeuronModel | None = None,
                 surrogate: Surrogate | None = None, trainable: Sequence[str] = (), dropout: float = 0.0,
                 center: bool = True, output_dynamics: str = "model", leak: float = 0.005):
        output_model, hidden_model = _models(output_model, hidden_model)
        shape = _image_shape(input_shape)
        super().__init__(dict(input_shape=list(shape), n_out=n_out, channels=list(channels), fc=list(fc), kernel=kernel,
                              pool=pool, input_pool=input_pool, trainable=list(trainable), dropout=dropout,
                              center=center, output_dynamics=output_dynamics, leak=leak),
                         output_model, dt, hidden_model, surrogate)
        self.input_shape, self.n_in = shape, math.prod(shape)
        _check_sizes("channels", channels)
        _check_sizes("input_pool", [input_pool])
        gap = threshold_gap(hidden_model)
        c, h, w = shape[0], shape[1] // input_pool, shape[2] // input_pool
        self.input_pool = input_pool
        self.convs, self.norms, self.hidden = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for out_c in channels:
            self.convs.append(nn.Conv2d(c, out_c, kernel, padding=kernel // 2, bias=False))
            self.norms.append(ThresholdBatchNorm(out_c, gap, center=center))
            self.hidden.append(self._hidden((out_c, h, w), trainable))
            c, h, w = out_c, h // pool, w // pool
        self.pool = pool
        self.linears, self.fc_norms, self.fc_hidden = self._dense_head(c * h * w, fc, n_out, trainable=trainable,
                                                                       center=center, dropout=dropout,
                                                                       output_dynamics=output_dynamics, leak=leak)

    def forward(self, x: torch.Tensor) -> NetworkOutput:
        s = _check_input(x, self.n_in)
        rates = [s.detach().mean()]
        h = s.reshape(s.shape[0], s.shape[1], *self.input_shape)
        if self.input_pool > 1:
            h = over_time(lambda z: F.avg_pool2d(z, self.input_pool), h)
        for conv, norm, neurons in zip(self.convs, self.norms, self.hidden):
            h = neurons(norm(over_time(conv, h))).spikes
            rates.append(h.detach().mean())
            h = over_time(lambda z: F.max_pool2d(z, self.pool), h)
        h = h.flatten(2)
        for linear, norm, neurons in zip(self.linears, self.fc_norms, self.fc_hidden):
            h = neurons(norm(over_time(linear, self.dropout(h)))).spikes
            rates.append(h.detach().mean())
        return self._respond(x, over_time(self.readout, self.dropout(h)) * self.gain, rates)


def _image_shape(shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise InputError(f"input_shape must be (H, W) or (C, H, W), got {shape}")
    return shape  # type: ignore[return-value]


class _BasicBlock(nn.Module):
    """conv3x3 -> tdBN(1) -> LIF -> conv3x3 -> tdBN(1/sqrt 2) (+ shortcut, tdBN(1/sqrt 2) when projected) -> LIF."""

    def __init__(self, net: "SpikingResNet19", c_in: int, c_out: int, stride: int, size: int, trainable: Sequence[str]):
        super().__init__()
        gap, half = threshold_gap(net.hidden_model), 1 / math.sqrt(2)
        out = size // stride
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = ThresholdBatchNorm(c_out, gap)
        self.lif1 = net._hidden((c_out, out, out), trainable)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = ThresholdBatchNorm(c_out, gap, half)
        self.project = None
        if stride != 1 or c_in != c_out:
            self.project = nn.Conv2d(c_in, c_out, 1, stride, bias=False)
            self.bn_project = ThresholdBatchNorm(c_out, gap, half)
        self.lif2 = net._hidden((c_out, out, out), trainable)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.lif1(self.bn1(over_time(self.conv1, x))).spikes
        h = self.bn2(over_time(self.conv2, h))
        shortcut = x if self.project is None else self.bn_project(over_time(self.project, x))
        return self.lif2(h + shortcut).spikes


class SpikingResNet19(_Deep):
    """Spiking ResNet-19 with tdBN (seeds_spec 4.3): stem conv -> 3 stages of basic blocks
    (``blocks`` per stage, ``widths`` channels, stride 2 from the second stage) -> global average pool
    -> FC ``fc`` -> LIF -> output layer."""

    architecture = "spiking-resnet19"
    input_kind = "image"
    single_fc = True

    def __init__(self, input_shape: Sequence[int], n_out: int, *, stem: int = 64, widths: Sequence[int] = (128, 256, 512),
                 blocks: Sequence[int] = (3, 3, 2), fc: int = 256, dt: Any = 1e-3, output_model: NeuronModel | None = None,
                 hidden_model: NeuronModel | None = None, surrogate: Surrogate | None = None,
                 trainable: Sequence[str] = (), output_dynamics: str = "model", leak: float = 0.005):
        output_model, hidden_model = _models(output_model, hidden_model)
        shape = _image_shape(input_shape)
        super().__init__(dict(input_shape=list(shape), n_out=n_out, stem=stem, widths=list(widths), blocks=list(blocks),
                              fc=fc, trainable=list(trainable), output_dynamics=output_dynamics, leak=leak),
                         output_model, dt, hidden_model, surrogate)
        self.input_shape, self.n_in = shape, math.prod(shape)
        for name, values in (("stem", [stem]), ("widths", widths), ("blocks", blocks), ("fc", [fc])):
            _check_sizes(name, values)
        gap = threshold_gap(hidden_model)
        size = shape[1]
        self.stem = nn.Conv2d(shape[0], stem, 3, 1, 1, bias=False)
        self.stem_bn = ThresholdBatchNorm(stem, gap)
        self.stem_lif = self._hidden((stem, size, size), trainable)
        layers, c = [], stem
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            for b in range(count):
                stride = 2 if stage > 0 and b == 0 else 1
                layers.append(_BasicBlock(self, c, width, stride, size, trainable))
                size //= stride
                c = width
        self.blocks = nn.ModuleList(layers)
        self.fc = nn.Linear(c, fc)
        self.fc_lif = self._hidden(fc, trainable)
        self.readout = nn.Linear(fc, n_out)
        self.gain = threshold_gap(output_model)
        self.output = self._output_layer(n_out, trainable, output_dynamics, leak)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> NetworkOutput:
        s = _check_input(x, self.n_in)
        rates = [s.detach().mean()]
        h = s.reshape(s.shape[0], s.shape[1], *self.input_shape)
        h = self.stem_lif(self.stem_bn(over_time(self.stem, h))).spikes
        rates.append(h.detach().mean())
        for block in self.blocks:
            h = block(h)
            rates.append(h.detach().mean())
        h = self.fc_lif(over_time(self.fc, h.mean((-1, -2)))).spikes
        rates.append(h.detach().mean())
        return self._respond(x, over_time(self.readout, h) * self.gain, rates)


#: architecture name (CLI ``--model``) -> class.
def _check_sizes(name: str, values: Sequence[Any], *, allow_empty: bool = False) -> None:
    """Layer sizes (and counts) must be positive integers."""
    values = list(values)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1]
    if bad or (not values and not allow_empty):
        raise InputError(f"{name} must be positive integers, got {values}")


class UserNetwork(_Network):
    """A network the user wrote, in the form the :class:`~bioSNN.supervised.trainer.Trainer` trains:
    ``body`` (any ``nn.Module``) maps input spikes ``[T, B, n_in]`` to the drive of ``output``, the
    :class:`NeuronLayer` whose neurons are read out and compared with the guidance (its model and dt
    are checked against the guidance's like any built-in network's).

    This is the whole protocol a network meets to get checkpoints, exact resume, DDP, guidance losses
    and evaluation: ``forward(x) -> NetworkOutput`` and the attributes ``spec`` (a JSON dict with
    ``n_out``, stored in checkpoints and compared on resume), ``output_model``, ``dt`` (s) and
    ``v_name``; ``input_weights()`` (optional) feeds the weight-history plots. A user network is
    rebuilt by its own code, not from ``spec``: load trained weights with
    ``load_trained(folder, network=UserNetwork(...))``.

    Example:
        >>> import torch
        >>> from brian2 import ms
        >>> from bioSNN.equations import library
        >>> lif = library.lif_delta()
        >>> net = UserNetwork.from_sequential(nn.Sequential(
        ...     nn.Linear(20, 16), NeuronLayer(lif, 1 * ms, 16, return_state=False),
        ...     nn.Linear(16, 4), NeuronLayer(lif, 1 * ms, 4)))
        >>> out = net((torch.rand(10, 3, 20) < 0.3).float())
        >>> out.v.shape, net.spec["n_out"], net.spec["architecture"]
        (torch.Size([10, 3, 4]), 4, 'user')
    """

    architecture = "user"

    def __init__(self, body: nn.Module, output: NeuronLayer, *, n_in: int | None = None):
        if not isinstance(output, NeuronLayer):
            raise InputError(f"the output of a UserNetwork must be a NeuronLayer, got {type(output).__name__}")
        super().__init__(dict(n_in=n_in, n_out=output.n, body=repr(body), output=repr(output)), output.model, output.dt,
                         None, output.step.surrogate)
        self.n_in = n_in
        self.body = body
        self.output = output.also_record(self.v_name)

    @classmethod
    def from_sequential(cls, module: nn.Sequential, *, n_in: int | None = None) -> "UserNetwork":
        """The ``nn.Sequential`` ``module`` whose last module is the output :class:`NeuronLayer`."""
        if not isinstance(module, nn.Sequential) or not len(module) or not isinstance(module[-1], NeuronLayer):
            raise InputError("from_sequential needs an nn.Sequential whose last module is a NeuronLayer (the output)")
        return cls(nn.Sequential(*list(module)[:-1]), module[-1], n_in=n_in)

    @property
    def output_layer(self) -> NeuronLayer:
        return self.output

    def input_weights(self) -> torch.Tensor | None:
        """The first weighted module's weights when it is an ``nn.Linear`` on the input (else None)."""
        first = next((m for m in self.body.modules() if isinstance(getattr(m, "weight", None), nn.Parameter)), None)
        return first.weight if isinstance(first, nn.Linear) and first.in_features == self.n_in else None

    def forward(self, x: torch.Tensor) -> NetworkOutput:
        if not torch.is_tensor(x) or x.dim() < 3:
            raise InputError(f"input spikes must be a [T, batch, ...] tensor, got {getattr(x, 'shape', type(x))}")
        if self.n_in is not None:
            x = _check_input(x, self.n_in)
        rates = [x.detach().float().mean()]
        return self._finish(x, self.output.run(self.body(x)), rates)


ARCHITECTURES: Mapping[str, type[_Network]] = {
    cls.architecture: cls for cls in (GuidedBilayer, SpikingMLP, SpikingConvNet, SpikingResNet19)
}


def build_model(spec: Mapping[str, Any]) -> _Network:
    """Rebuild a network from its ``spec`` (``net.spec``, as stored in checkpoints); weights are not included.

    Example:
        >>> net = SpikingMLP(8, 2, hidden=(4,))
        >>> type(build_model(net.spec)).__name__
        'SpikingMLP'
    """
    spec = dict(spec)
    arch = spec.pop("architecture")
    if arch == UserNetwork.architecture:
        raise InputError("a user network is rebuilt by its own code, not from its spec: build it again and pass it, "
                         "e.g. load_trained(folder, network=net)")
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown architecture {arch!r}; use one of {sorted(ARCHITECTURES)}")
    kwargs = {k: v for k, v in spec.items() if k not in ("dt_seconds", "output_model", "hidden_model", "surrogate")}
    surrogate = spec.get("surrogate")
    kwargs["dt"] = spec["dt_seconds"]
    kwargs["output_model"] = NeuronModel.from_dict(spec["output_model"])
    if spec.get("hidden_model") is not None:
        kwargs["hidden_model"] = NeuronModel.from_dict(spec["hidden_model"])
    if surrogate:
        kwargs["surrogate"] = Surrogate(surrogate["kind"], quantity_from_json(surrogate["width"]))
    n_first = kwargs.pop("n_in") if "n_in" in kwargs else kwargs.pop("input_shape")
    n_out = kwargs.pop("n_out")
    return ARCHITECTURES[arch](n_first, n_out, **kwargs)
