"""NIR graphs -> PyTorch (:func:`load`, :class:`NIRNetwork`) and reading/writing ``.nir`` files.

A :class:`NIRNetwork` runs a NIR graph over time-first input ``[T, B, ...]``: every node in
topological order (a node with several incoming edges takes their sum, as NIR defines), neuron nodes
as :class:`~bioSNN.supervised.layers.NeuronLayer` s of the model read from the node
(:func:`~bioSNN.nir.neurons.import_neuron`). It meets the protocol of the
:class:`~bioSNN.supervised.trainer.Trainer` (``forward(x) -> NetworkOutput``, ``spec``,
``output_model``, ``dt``, ``v_name``), so an imported network is evaluated, fine-tuned or guided
like a built-in one, and :func:`bioSNN.nir.to_brian2` simulates the same graph in Brian2.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, NamedTuple

import numpy as np
from brian2 import second
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InputError, NIRFormatError, NIRShapeError, UnsupportedNIRError
from ..quantities import as_time
from ..supervised.layers import NeuronLayer
from ..supervised.models import NetworkOutput, seed_integrate
from .neurons import _record, import_neuron, node_array

__all__ = ["NIRNetwork", "load", "read", "write", "graph_record"]

_NEURON_KINDS = ("LIF", "IF", "LI", "I")
_MAP_KINDS = ("Affine", "Linear", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten", "Scale", "Threshold")


class Step(NamedTuple):
    """One node of the run: ``name``, NIR ``kind``, the nodes it sums (``sources``), per-sample ``shape``."""

    name: str
    kind: str
    sources: tuple[str, ...]
    shape: tuple[int, ...]


def read(path: str | os.PathLike[str]) -> Any:
    """The ``nir.NIRGraph`` in file ``path``; :class:`~bioSNN.errors.NIRFormatError` naming the file if
    it is missing, truncated or not a NIR graph."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise NIRFormatError(f"{path}: no such NIR file")
    try:
        graph = nir.read(str(path))
    except Exception as exc:
        raise NIRFormatError(f"{path} is not a readable NIR graph ({type(exc).__name__}: {exc})") from exc
    if type(graph).__name__ != "NIRGraph":
        raise NIRFormatError(f"{path} holds a {type(graph).__name__}, not a NIRGraph")
    return graph


def write(path: str | os.PathLike[str], graph: Any) -> Path:
    """Write ``graph`` to ``path`` (HDF5, NIR's format) through a temporary file renamed into place."""
    import nir

    from ..fileio import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        nir.write(str(tmp), graph)
    return path


def graph_record(graph: Any) -> dict[str, Any]:
    """bioSNN's record in ``graph.metadata`` (dt, convention, architecture), ``{}`` for a foreign graph."""
    return _record(getattr(graph, "metadata", None)) or {}


def _node_kind(node: Any, name: str) -> str:
    kind = type(node).__name__
    if kind == "NIRGraph":
        raise UnsupportedNIRError(f"node {name!r} is a subgraph (NIRGraph); bioSNN runs flat graphs (recurrent "
                                  "subgraphs of snnTorch's RLeaky/RSynaptic are not supported)")
    if kind not in _NEURON_KINDS + _MAP_KINDS + ("Input", "Output"):
        raise UnsupportedNIRError(f"node {name!r} is a {kind}: bioSNN imports {', '.join(_NEURON_KINDS + _MAP_KINDS)}")
    return kind


def _order(graph: Any) -> tuple[str, str, list[str], dict[str, list[str]]]:
    """``(input, output, topological order, sources of each node)``; a named error for a cycle."""
    nodes = graph.nodes
    sources: dict[str, list[str]] = {k: [] for k in nodes}
    for edge in graph.edges:
        if len(edge) != 2 or edge[0] not in nodes or edge[1] not in nodes:
            raise NIRFormatError(f"edge {edge!r} joins nodes that are not in the graph")
        sources[edge[1]].append(edge[0])
    kinds = {k: _node_kind(v, k) for k, v in nodes.items()}
    inputs = [k for k, kind in kinds.items() if kind == "Input"]
    outputs = [k for k, kind in kinds.items() if kind == "Output"]
    unfed = sorted(k for k, kind in kinds.items() if kind != "Input" and not sources[k])
    if unfed:
        raise NIRFormatError(f"no edge leads into {', '.join(map(repr, unfed))}: every node but the Input needs one "
                             f"(the graph has {len(graph.edges)} edges)")
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedNIRError(f"the graph has {len(inputs)} Input nodes ({', '.join(map(repr, inputs))}) and "
                                  f"{len(outputs)} Output nodes ({', '.join(map(repr, outputs))}); bioSNN runs one "
                                  "of each")
    order, state = [], {}

    def visit(k: str, path: tuple[str, ...]) -> None:
        if state.get(k) == "done":
            return
        if state.get(k) == "open":
            cycle = " -> ".join(path[path.index(k):] + (k,))
            raise UnsupportedNIRError(f"the graph is recurrent ({cycle}); bioSNN imports feed-forward graphs")
        state[k] = "open"
        for s in sources[k]:
            visit(s, path + (k,))
        state[k] = "done"
        order.append(k)

    visit(outputs[0], ())
    return inputs[0], outputs[0], order, sources


def _shape_of(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, Mapping):
        value = next(iter(value.values()), None)
    if value is None:
        return None
    arr = np.asarray(value).ravel()
    return tuple(int(x) for x in arr) if arr.size else None


class NIRNetwork(nn.Module):
    r"""A NIR graph as a PyTorch module: ``forward(x [T, B, ...]) -> NetworkOutput`` of its output node.

    Build it with :func:`load`. Weights are ``nn.Parameter`` s (an imported network trains like any
    other); ``steps`` lists the nodes in the order they run. ``spikes`` of the output are zero when
    the node before ``Output`` does not spike (``LI``, ``I``, a map).
    """

    architecture = "nir"

    def __init__(self, graph: Any, dt: Any = None, discretisation: str = "brian2"):
        super().__init__()
        self.discretisation = discretisation
        record = graph_record(graph)
        if dt is None:
            dt = record.get("dt")
        if dt is None:
            raise InputError("this NIR graph does not record its time step (it was not written by bioSNN): give dt, "
                             "e.g. load(graph, dt=1e-3) (snnTorch's exporter assumes 1e-4 s)")
        self.dt = as_time(dt)
        self.record = record
        input_name, self.output_name, order, sources = _order(graph)
        self.input_name = input_name
        shape = _shape_of(getattr(graph.nodes[input_name], "input_type", None))
        if shape is None:
            raise NIRShapeError(f"input node {input_name!r} has no shape")
        self.input_shape = shape
        self.maps = nn.ModuleDict()
        self.layers = nn.ModuleDict()
        self.scales: dict[str, torch.Tensor] = {}
        self.integrators: dict[str, float] = {}
        shapes = {input_name: shape}
        steps, models = [], {}
        for name in order:
            if name == input_name:
                continue
            node = graph.nodes[name]
            kind = type(node).__name__
            srcs = tuple(sources[name])
            if not srcs:
                raise NIRFormatError(f"node {name!r} has no incoming edge")
            in_shapes = {shapes[s] for s in srcs}
            if len(in_shapes) != 1:
                raise NIRShapeError(f"node {name!r} sums inputs of different shapes {sorted(in_shapes)}")
            in_shape = in_shapes.pop()
            out_shape = self._build(name, kind, node, in_shape, models)
            shapes[name] = out_shape
            steps.append(Step(name, kind, srcs, out_shape))
        self.steps = tuple(steps)
        self.output_shape = shapes[self.output_name]
        last = sources[self.output_name][0]
        self._last = last
        self.output_model = models.get(last) or next(iter(reversed(list(models.values()))), None)
        if self.output_model is None:
            raise UnsupportedNIRError("the graph has no neuron node")
        self.v_name = "v" if "v" in self.output_model.state_variables else self.output_model.state_variables[0]
        self.n_in = math.prod(shape)
        self.spec = {"architecture": self.architecture, "n_in": self.n_in, "n_out": math.prod(self.output_shape),
                     "nodes": [f"{s.name}:{s.kind}" for s in steps]}

    def _key(self, name: str) -> str:
        return name.replace(".", "_") or "_"

    def _build(self, name: str, kind: str, node: Any, shape: tuple[int, ...], models: dict) -> tuple[int, ...]:
        key = self._key(name)
        p = (lambda a: nn.Parameter(torch.as_tensor(np.asarray(a, dtype=np.float32)).clone()))
        num = (lambda field, value: node_array(name, kind, field, value))
        if kind == "Output":
            return shape
        if kind in ("Affine", "Linear"):
            w = num("weight", node.weight)
            if w.ndim != 2:
                raise NIRShapeError(f"node {name!r} ({kind}): weight must be 2-d, got shape {w.shape}")
            if w.shape[1] != math.prod(shape):
                raise NIRShapeError(f"node {name!r} ({kind}): weight {w.shape} takes {w.shape[1]} inputs, the node before "
                                    f"gives {shape}")
            lin = nn.Linear(w.shape[1], w.shape[0], bias=kind == "Affine")
            lin.weight = p(w)
            if kind == "Affine":
                b = num("bias", node.bias)
                if b.shape != (w.shape[0],):
                    raise NIRShapeError(f"node {name!r} (Affine): bias has shape {b.shape}, the weight {w.shape} needs "
                                        f"({w.shape[0]},)")
                lin.bias = p(b)
            self.maps[key] = lin
            return (w.shape[0],)
        if kind == "Conv2d":
            w = num("weight", node.weight)
            if w.ndim != 4 or len(shape) != 3 or w.shape[1] * int(node.groups) != shape[0]:
                raise NIRShapeError(f"node {name!r} (Conv2d): weight {w.shape} (groups {node.groups}) does not take an input "
                                    f"of shape {shape}")
            pad = node.padding
            if isinstance(pad, str):
                raise UnsupportedNIRError(f"node {name!r} (Conv2d): padding {pad!r}; give it as numbers")
            conv = nn.Conv2d(w.shape[1] * int(node.groups), w.shape[0], tuple(w.shape[2:]), stride=tuple(_pair(node.stride)),
                             padding=tuple(_pair(pad)), dilation=tuple(_pair(node.dilation)), groups=int(node.groups))
            conv.weight = p(w)
            b = np.zeros(w.shape[0]) if node.bias is None else num("bias", node.bias)
            if np.ndim(b) == 0:
                b = np.full(w.shape[0], float(b))
            if b.shape != (w.shape[0],):
                raise NIRShapeError(f"node {name!r} (Conv2d): bias has shape {b.shape}, expected ({w.shape[0]},)")
            conv.bias = p(b)
            self.maps[key] = conv
            with torch.no_grad():
                return tuple(conv(torch.zeros(1, *shape)).shape[1:])
        if kind in ("SumPool2d", "AvgPool2d"):
            if len(shape) != 3:
                raise NIRShapeError(f"node {name!r} ({kind}) takes [C, H, W], got {shape}")
            k, s, pd = _pair(node.kernel_size), _pair(node.stride), _pair(node.padding)
            self.maps[key] = _Pool(k, s, pd, kind == "SumPool2d")
            with torch.no_grad():
                return tuple(self.maps[key](torch.zeros(1, *shape)).shape[1:])
        if kind == "Flatten":
            start, end = int(node.start_dim), int(node.end_dim)
            out = tuple(int(x) for x in np.asarray(
                __import__("nir").ir.utils.calc_flatten_output(shape, start, end)).ravel())
            self.maps[key] = _Reshape(out)
            return out
        if kind == "Scale":
            s = num("scale", node.scale)
            try:
                np.broadcast_to(s, shape)
            except ValueError:
                raise NIRShapeError(f"node {name!r} (Scale): scale of shape {s.shape} does not fit {shape}") from None
            self.register_buffer(f"scale_{key}", torch.as_tensor(s, dtype=torch.float32))
            return shape
        if kind == "Threshold":
            th = num("threshold", node.threshold)
            if th.size != math.prod(shape):
                raise NIRShapeError(f"node {name!r} (Threshold): {th.size} thresholds for {math.prod(shape)} inputs")
            self.register_buffer(f"threshold_{key}", torch.as_tensor(th.reshape(shape), dtype=torch.float32))
            return shape
        # a neuron node
        rec = _record(getattr(node, "metadata", None)) or {}
        if kind == "I" and "seed_integrator" in rec:
            self.integrators[name] = float(rec["seed_integrator"]["leak"])
            models[name] = _seed_model()
            return shape
        model, scale, values = import_neuron(node, name, self.dt, shape, self.discretisation)
        n_shape = tuple(np.asarray(node.r).shape) or (1,)
        if math.prod(n_shape) != math.prod(shape):
            raise NIRShapeError(f"node {name!r} ({kind}) has {math.prod(n_shape)} neurons, its input brings {shape}")
        layer = NeuronLayer(model, self.dt * second, shape, trainable=tuple(values), record=("v",) if "v" in model.state_variables else ())
        for k, v in values.items():
            with torch.no_grad():
                layer.trainable[k].copy_(torch.as_tensor(v.ravel() / layer._param_scale[k]))
        self.layers[key] = layer
        if not np.all(scale == 1.0):
            self.register_buffer(f"input_scale_{key}", torch.as_tensor(scale.reshape(shape), dtype=torch.float32))
        models[name] = model
        return shape

    @property
    def output_layer(self) -> NeuronLayer | None:
        return self.layers[self._key(self._last)] if self._key(self._last) in self.layers else None

    def input_weights(self) -> None:
        return None

    def node_outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every node's output ``[T, B, *shape]`` (spikes of neuron nodes, values of maps), by node name;
        the traces of neuron nodes under ``"<name>.v"``."""
        if not torch.is_tensor(x) or x.dim() < 3:
            raise InputError(f"input must be a [T, batch, ...] tensor, got {getattr(x, 'shape', type(x))}")
        T, B = x.shape[:2]
        if math.prod(x.shape[2:]) != self.n_in:
            raise InputError(f"input has {math.prod(x.shape[2:])} values per step, the graph's input {self.input_shape}")
        dtype = next((t.dtype for t in self.parameters()), torch.float32)
        out = {self.input_name: x.reshape(T, B, *self.input_shape).to(dtype)}
        for step in self.steps:
            h = out[step.sources[0]]
            for s in step.sources[1:]:
                h = h + out[s]
            key = self._key(step.name)
            if step.kind in _MAP_KINDS:
                y = self.apply_map(step, h.reshape(T * B, *h.shape[2:]))
                out[step.name] = y.reshape(T, B, *y.shape[1:])
            elif step.name in self.integrators:
                out[step.name] = torch.zeros_like(h)
                out[step.name + ".v"] = seed_integrate(h, self.integrators[step.name])
            elif key in self.layers:
                scale = getattr(self, f"input_scale_{key}", None)
                res = self.layers[key].run(h if scale is None else h * scale)
                out[step.name] = res.spikes
                if "v" in res.recorded:
                    out[step.name + ".v"] = res.recorded["v"]
            else:  # Output
                out[step.name] = h
        return out

    def apply_map(self, step: Step, h: torch.Tensor) -> torch.Tensor:
        """The stateless node ``step`` (a map or ``Threshold``) applied to ``h [N, *shape]``."""
        key = self._key(step.name)
        if key in self.maps:
            return self.maps[key](h)
        if step.kind == "Scale":
            return h * getattr(self, f"scale_{key}")
        hard = (h > getattr(self, f"threshold_{key}")).to(h.dtype)
        # straight through: the value is the step (exactly: h - h.detach() is 0), the gradient passes as
        # through the max pooling it stands for, so an imported network fine-tunes through its pooling
        return hard + (h - h.detach()) if h.requires_grad else hard

    def forward(self, x: torch.Tensor) -> NetworkOutput:
        out = self.node_outputs(x)
        T, B = x.shape[:2]
        flat = (lambda t: t.reshape(T, B, -1))
        last = self._last
        spikes = flat(out[last])
        v = flat(out.get(last + ".v", out[last]))
        if last + ".v" not in out:
            spikes = torch.zeros_like(v)
        rates = tuple(out[s.name].detach().float().mean() for s in self.steps
                      if self._key(s.name) in self.layers)
        times = torch.arange(T, device=x.device, dtype=torch.float32)
        return NetworkOutput(spikes, v, times, (x.detach().float().mean(), *rates))


def _seed_model() -> Any:
    from ..equations.model import NeuronModel

    return NeuronModel(equations="v : 1", on_pre="v += w", name="seed_integrator",
                       description="the seed's non-spiking integrator (exported by bioSNN)")


def _pair(x: Any) -> tuple[int, int]:
    arr = np.asarray(x).ravel()
    return (int(arr[0]), int(arr[0])) if arr.size == 1 else (int(arr[0]), int(arr[1]))


class _Pool(nn.Module):
    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int], total: bool):
        super().__init__()
        self.kernel, self.stride, self.padding, self.total = kernel, stride, padding, total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, self.kernel, self.stride, self.padding, count_include_pad=True,
                            divisor_override=1 if self.total else None)


class _Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


def load(graph: Any, dt: Any = None, *, discretisation: str = "brian2") -> NIRNetwork:
    """A :class:`NIRNetwork` from a ``nir.NIRGraph`` or a ``.nir`` file. ``dt``: the time step (a
    quantity or seconds) for graphs that do not record one (bioSNN's exports do). ``discretisation``:
    how neuron nodes without a bioSNN model (foreign graphs) are stepped, one of
    :data:`~bioSNN.nir.neurons.DISCRETISATIONS` (``"input-first"``: as snnTorch and Norse step them).

    Example:
        >>> import torch
        >>> from brian2 import ms
        >>> from bioSNN.equations import library
        >>> from bioSNN.supervised import SpikingMLP
        >>> from bioSNN.nir import export
        >>> net = SpikingMLP(20, 4, hidden=(16,), output_model=library.lif_delta(), dt=1 * ms).eval()
        >>> again = load(export(net))
        >>> x = (torch.rand(10, 3, 20) < 0.3).float()
        >>> bool(torch.equal(again(x).spikes, net(x).spikes))
        True
    """
    if isinstance(graph, (str, os.PathLike)):
        graph = read(graph)
    if type(graph).__name__ != "NIRGraph":
        raise InputError(f"load takes a nir.NIRGraph or a .nir file, got {type(graph).__name__}")
    return NIRNetwork(graph, dt, discretisation)
