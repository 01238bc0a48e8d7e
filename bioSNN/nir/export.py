"""bioSNN networks -> NIR graphs (:func:`export`).

Walks a network's modules in the order its ``forward`` runs them and writes one NIR node each:
``nn.Linear`` -> ``Affine``/``Linear``, ``nn.Conv2d`` -> ``Conv2d``, average pooling -> ``AvgPool2d``,
max pooling of spikes -> ``SumPool2d`` then ``Threshold(0.5)`` (for 0/1 spikes the maximum of a window
is whether it holds a spike: exact), flattening -> ``Flatten``, the output gain -> ``Scale``,
:class:`~bioSNN.supervised.layers.NeuronLayer` -> the neuron node of its model
(:func:`~bioSNN.nir.neurons.export_neuron`), tdBN in evaluation mode -> folded into the weights and
bias of the map before it, the seed's integrator -> ``I``. Anything else is refused by name.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ..errors import InputError, UnsupportedNIRError
from ..supervised.layers import NeuronLayer, OverTime, ThresholdBatchNorm
from ..supervised import models as M
from .network import _pair
from .neurons import CONVENTION, METADATA_KEY, export_neuron

__all__ = ["export", "FORMAT_VERSION"]

#: version of bioSNN's record in ``graph.metadata["bioSNN"]``
FORMAT_VERSION = 1


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy().copy()


class _Builder:
    """A chain of NIR nodes under construction: ``shape`` is the per-sample shape after the last node."""

    def __init__(self, shape: tuple[int, ...], dt: float):
        import nir

        self.nir, self.dt = nir, dt
        self.nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array(shape)})}
        self.edges: list[tuple[str, str]] = []
        self.last, self.shape, self.spiking = "input", tuple(shape), True
        self._count: dict[str, int] = {}

    def add(self, kind: str, node: Any, shape: tuple[int, ...], *, spiking: bool = False) -> str:
        k = self._count.get(kind, 0)
        self._count[kind] = k + 1
        name = f"{kind}{k}"
        self.nodes[name] = node
        self.edges.append((self.last, name))
        self.last, self.shape, self.spiking = name, tuple(shape), spiking
        return name

    # ---------------------------------------------------------------- maps
    def linear(self, module: nn.Linear) -> None:
        if len(self.shape) != 1:
            self.flatten()
        if module.in_features != self.shape[0]:
            raise InputError(f"nn.Linear takes {module.in_features} inputs, the layer before gives {self.shape[0]}")
        w = _np(module.weight)
        if module.bias is None:
            self.add("linear", self.nir.Linear(weight=w), (module.out_features,))
        else:
            self.add("affine", self.nir.Affine(weight=w, bias=_np(module.bias)), (module.out_features,))

    def conv(self, module: nn.Conv2d) -> None:
        if module.padding_mode != "zeros" or isinstance(module.padding, str):
            raise UnsupportedNIRError(f"{module}: only zero padding given as numbers is exported")
        c, h, w = self.shape
        bias = _np(module.bias) if module.bias is not None else np.zeros(module.out_channels)
        node = self.nir.Conv2d(input_shape=(h, w), weight=_np(module.weight), stride=tuple(module.stride),
                               padding=tuple(module.padding), dilation=tuple(module.dilation), groups=module.groups,
                               bias=bias)
        self.add("conv", node, tuple(int(x) for x in node.output_type["output"]))

    def pool(self, kind: str, kernel: Any, stride: Any = None, padding: Any = 0) -> None:
        k = _pair(kernel)
        s = _pair(stride if stride is not None else kernel)
        p = _pair(padding)
        c, h, w = self.shape
        out = (c, (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1)
        if kind == "avg":
            self.add("avgpool", self.nir.AvgPool2d(kernel_size=np.array(k), stride=np.array(s), padding=np.array(p)), out)
            return
        if not self.spiking:
            raise UnsupportedNIRError("max pooling is exported for spikes only (SumPool2d then Threshold 0.5, exact for 0/1 "
                                      f"values); here it follows node {self.last!r}, which does not spike")
        self.add("sumpool", self.nir.SumPool2d(kernel_size=np.array(k), stride=np.array(s), padding=np.array(p)), out)
        self.add("threshold", self.nir.Threshold(threshold=np.full(out, 0.5)), out, spiking=True)

    def flatten(self) -> None:
        if len(self.shape) == 1:
            return
        node = self.nir.Flatten(input_type={"input": np.array(self.shape)}, start_dim=0, end_dim=-1)
        self.add("flatten", node, (math.prod(self.shape),))

    def scale(self, factor: float) -> None:
        if factor != 1.0:
            self.add("scale", self.nir.Scale(scale=np.full(self.shape, float(factor))), self.shape)

    def fold_norm(self, norm: ThresholdBatchNorm) -> None:
        """tdBN in evaluation mode is ``x * a + b`` per channel: folded into the weights of the map before it."""
        if norm.training:
            raise InputError("export a network in evaluation mode (net.eval()): tdBN then uses its running statistics")
        node = self.nodes[self.last]
        if type(node).__name__ not in ("Conv2d", "Linear", "Affine"):
            raise UnsupportedNIRError(f"tdBN follows node {self.last!r} ({type(node).__name__}), not a Conv2d or Linear")
        weight = _np(norm.weight) * norm.factor
        if norm.norm is not None:
            a = weight / np.sqrt(_np(norm.norm.running_var) + norm.norm.eps)
            b = _np(norm.bias) - _np(norm.norm.running_mean) * a
        else:
            a = weight / np.sqrt(_np(norm.running_ms) + norm.eps)
            b = np.zeros_like(a)
        view = (-1,) + (1,) * (node.weight.ndim - 1)
        w = node.weight * a.reshape(view)
        old = getattr(node, "bias", None)
        bias = (np.zeros_like(a) if old is None else np.asarray(old)) * a + b
        if type(node).__name__ == "Conv2d":
            new = self.nir.Conv2d(input_shape=node.input_shape, weight=w, stride=node.stride, padding=node.padding,
                                  dilation=node.dilation, groups=node.groups, bias=bias)
        else:
            new = self.nir.Affine(weight=w, bias=bias)
        self.nodes[self.last] = new

    # ---------------------------------------------------------------- neurons
    def neurons(self, layer: NeuronLayer) -> None:
        if tuple(layer.shape) != self.shape and layer.n != math.prod(self.shape):
            raise InputError(f"{layer} takes {layer.n} drives, the layer before gives {self.shape}")
        if abs(layer.dt - self.dt) > 1e-12 * self.dt:
            raise InputError(f"a layer runs at dt = {layer.dt} s, the network at {self.dt} s: NIR has one time step")
        if len(layer.drive_scales) != 1:
            raise UnsupportedNIRError(f"{layer}: several input pathways have no NIR node")
        values = {k: v.detach().to("cpu", torch.float64).numpy().reshape(layer.shape)
                  for k, v in layer.parameter_values().items()}
        node, record = export_neuron(layer.model, layer.dt, tuple(layer.shape), values)
        self.add("neurons", node.to_nir({METADATA_KEY: json.dumps(record)}), tuple(layer.shape), spiking=node.kind in ("LIF", "IF"))

    def seed_integrator(self, leak: float) -> None:
        """The seed's integrator ``P(k) = P(k-1) + drive(k) - leak`` as an ``I`` node (``R = 1/dt``).

        The unconditional leak lowers every output alike, so it changes no decision; it is kept in
        bioSNN's record (exact round trip) and left out of the NIR dynamics."""
        n = self.shape
        node = self.nir.I(r=np.full(n, 1.0 / self.dt),
                          metadata={METADATA_KEY: json.dumps({"seed_integrator": {"leak": float(leak)}})})
        self.add("integrator", node, n)

    def module(self, m: nn.Module) -> None:
        """One module of a user's ``nn.Sequential`` body."""
        for kinds, handler in _MODULES:
            if isinstance(m, kinds):
                handler(self, m)
                return
        raise UnsupportedNIRError(f"module {type(m).__name__} has no NIR node (exported: Linear, Conv2d, AvgPool2d, "
                                  "MaxPool2d after spikes, Flatten, tdBN after a map, Dropout, Identity, NeuronLayer, "
                                  "nn.Sequential and OverTime of these)")

    def graph(self, metadata: dict[str, Any]) -> Any:
        self.nodes["output"] = self.nir.Output(output_type={"output": np.array(self.shape)})
        self.edges.append((self.last, "output"))
        meta = {METADATA_KEY: json.dumps({"version": FORMAT_VERSION, "convention": CONVENTION, "dt": self.dt,
                                          **metadata})}
        return self.nir.NIRGraph(nodes=self.nodes, edges=self.edges, metadata=meta, type_check=False)


def _sequence(b: _Builder, m: nn.Sequential) -> None:
    for child in m:
        b.module(child)


def _max_pool(b: _Builder, m: nn.MaxPool2d) -> None:
    if _pair(m.dilation) != (1, 1) or m.ceil_mode:
        raise UnsupportedNIRError(f"{m}: dilation and ceil_mode have no NIR equivalent")
    b.pool("max", m.kernel_size, m.stride, m.padding)


def _flatten(b: _Builder, m: nn.Flatten) -> None:
    if m.end_dim != -1 or m.start_dim not in (1, 2):  # 1: per-sample ([T*B, ...]); 2: [T, B, ...]
        raise UnsupportedNIRError(f"{m}: only flattening a whole sample is exported")
    b.flatten()


def _neuron_layer(b: _Builder, m: NeuronLayer) -> None:
    b.neurons(m)


_MODULES: tuple[tuple[Any, Callable[[_Builder, Any], None]], ...] = (
    (nn.Sequential, _sequence),
    (OverTime, lambda b, m: b.module(m.module)),
    (nn.Linear, _Builder.linear),
    (nn.Conv2d, _Builder.conv),
    (nn.AvgPool2d, lambda b, m: b.pool("avg", m.kernel_size, m.stride, m.padding)),
    (nn.MaxPool2d, _max_pool),
    (nn.Flatten, _flatten),
    (ThresholdBatchNorm, _Builder.fold_norm),
    ((nn.Dropout, nn.Identity), lambda b, m: None),
    (NeuronLayer, _neuron_layer),
)


# -------------------------------------------------------------------- architectures
def _dense_head(b: _Builder, net: Any, norms: Any, hidden: Any) -> None:
    """The hidden Linear -> tdBN -> neurons layers (``net.linears`` with ``norms``, ``hidden``), then the readout."""
    for linear, norm, neurons in zip(net.linears, norms, hidden, strict=True):
        b.linear(linear)
        b.fold_norm(norm)
        b.neurons(neurons)
    _readout(b, net)


def _readout(b: _Builder, net: Any) -> None:
    b.linear(net.readout)
    b.scale(net.gain)
    _output(b, net)


def _output(b: _Builder, net: Any) -> None:
    if net.output is not None:
        b.neurons(net.output)
    else:
        b.seed_integrator(net.leak)


def _mlp(net: M.SpikingMLP) -> _Builder:
    b = _Builder((net.n_in,), net.dt)
    _dense_head(b, net, net.norms, net.hidden)
    return b


def _convnet(net: M.SpikingConvNet) -> _Builder:
    b = _Builder(tuple(net.input_shape), net.dt)
    if net.input_pool > 1:
        b.pool("avg", net.input_pool)
    for conv, norm, neurons in zip(net.convs, net.norms, net.hidden):
        b.conv(conv)
        b.fold_norm(norm)
        b.neurons(neurons)
        b.pool("max", net.pool)
    b.flatten()
    _dense_head(b, net, net.fc_norms, net.fc_hidden)
    return b


def _bilayer(net: M.GuidedBilayer) -> _Builder:
    if net.interpolate:
        raise UnsupportedNIRError("guided-bilayer with --interpolate: the interpolated input has no NIR node")
    b = _Builder((net.n_in,), net.dt)
    b.add("linear", b.nir.Linear(weight=_np(net.weight)), (net.n_out,))
    if net.neurons is not None:
        b.neurons(net.neurons)
    else:
        b.seed_integrator(net.leak)
    return b


def _user(net: M.UserNetwork, input_shape: Any = None) -> _Builder:
    if net.n_in is None and input_shape is None:
        raise InputError("a UserNetwork is exported with its input size: UserNetwork(..., n_in=N) or "
                         "export(net, input_shape=(C, H, W))")
    b = _Builder(_shape(input_shape if input_shape is not None else net.n_in), net.dt)
    b.module(net.body)
    b.neurons(net.output)
    return b


#: network class -> function that walks it (architectures without an entry are refused by name)
EXPORTERS: dict[type, Callable[..., _Builder]] = {
    M.SpikingMLP: _mlp, M.SpikingConvNet: _convnet, M.GuidedBilayer: _bilayer, M.UserNetwork: _user,
}


def export(network: Any, *, input_shape: Any = None) -> Any:
    """The ``nir.NIRGraph`` of a bioSNN network (in evaluation mode): a built-in architecture
    (``spiking-mlp``, ``spiking-convnet``, ``guided-bilayer`` with the seed's integrator), a
    :class:`~bioSNN.supervised.models.UserNetwork` (an ``nn.Sequential`` body), or a bare
    ``nn.Sequential`` ending in a :class:`NeuronLayer` (give ``input_shape``).

    The graph's metadata records dt and the convention (:data:`~bioSNN.nir.neurons.CONVENTION`);
    each neuron node's, its bioSNN model, so that :func:`bioSNN.nir.load` rebuilds bioSNN's own
    networks exactly. See :mod:`bioSNN.nir.neurons` for how NIR's ODEs are read.

    Example:
        >>> import torch
        >>> from brian2 import ms
        >>> from bioSNN.equations import library
        >>> from bioSNN.supervised import SpikingMLP
        >>> net = SpikingMLP(20, 4, hidden=(16,), output_model=library.lif_delta(), dt=1 * ms).eval()
        >>> graph = export(net)
        >>> [type(graph.nodes[k]).__name__ for k in ("linear0", "neurons0", "linear1", "scale0", "neurons1")]
        ['Affine', 'LIF', 'Linear', 'Scale', 'LIF']
    """
    if isinstance(network, nn.Sequential):
        if input_shape is None:
            raise InputError("export(nn.Sequential) needs input_shape (the per-sample shape of its input)")
        body, last = network[:-1], network[-1]
        if not isinstance(last, NeuronLayer):
            raise InputError("the last module of an exported nn.Sequential must be a NeuronLayer")
        b = _Builder(_shape(input_shape), last.dt)
        b.module(body)
        b.neurons(last)
        return b.graph({"architecture": "sequential"})
    walker = EXPORTERS.get(type(network))
    if walker is None:
        known = ", ".join(sorted(getattr(c, "architecture", c.__name__) for c in EXPORTERS))
        raise UnsupportedNIRError(f"{type(network).__name__} ({getattr(network, 'architecture', '?')}) is not exported "
                                  f"to NIR; exported: {known}, nn.Sequential")
    if network.training:
        raise InputError("export a network in evaluation mode (net.eval()): tdBN then uses its running statistics")
    b = walker(network, input_shape) if walker is _user else walker(network)
    return b.graph({"architecture": getattr(network, "architecture", "user"),
                    "v_name": getattr(network, "v_name", "v")})


def _shape(shape: Any) -> tuple[int, ...]:
    out = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if not out or min(out) < 1:
        raise InputError(f"input_shape must be positive, got {shape!r}")
    return out
