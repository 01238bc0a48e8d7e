"""NIR graphs -> Brian2 (:func:`to_brian2`): the same network, neuron for neuron, in Brian2.

Every neuron node becomes a ``NeuronGroup`` built from the very :class:`NeuronModel` the torch side
runs (:func:`~bioSNN.equations.brian.build_layer`); the stateless maps between two neuron nodes
(``Affine``, ``Conv2d``, pooling, ``Flatten``, ``Scale``: linear) are composed into one sparse weight
matrix, found by passing unit spikes through the torch maps, and become ``Synapses`` with the model's
``on_pre`` (their constant part, e.g. a folded batch-norm bias, is added every step at the same
place of Brian2's schedule). ``Threshold`` nodes (bioSNN's max pooling of spikes) are groups of
stateless units that fire within the step their input arrives (their threshold and outgoing
synapses run in the ``after_synapses`` slot). Input spikes come from a ``SpikeGeneratorGroup``.

Runs on Brian2's runtime targets (``numpy``, ``cython``), one sample at a time.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import numpy as np
import torch
from brian2 import Quantity

from ..equations.brian import build_layer, weight_unit
from ..equations.model import NeuronModel, PerStep
from ..equations.simulation import _codeobj_class
from ..errors import InputError
from ..quantities import dimension_of, display_unit
from .network import NIRNetwork, Step, load

__all__ = ["Brian2Network", "Brian2Result", "to_brian2"]

#: neurons of a source probed at once when composing the maps into a sparse matrix
_CHUNK = 512


class Brian2Result(NamedTuple):
    """One presentation in Brian2: ``spikes[name]`` ``[T, n]`` (bool) of every spiking node,
    ``v`` ``[T, n]`` of the node before ``Output`` (display unit of its model, as the torch side)."""

    spikes: dict[str, np.ndarray]
    v: np.ndarray


class _Stage(NamedTuple):
    step: Step
    model: NeuronModel
    n: int
    weight_scale: np.ndarray  # SI weight per unit of drive, per neuron (drive unit x NIR input scale)
    slot: tuple[str, int] | None  # where a Threshold stage's spikes leave (None: Brian2's default)


def _per_neuron(model: NeuronModel, values: dict[str, np.ndarray]) -> NeuronModel:
    """``model`` with the shared parameters in ``values`` (SI, one per neuron) declared per neuron."""
    if not values:
        return model
    params = {k: v for k, v in model.parameters.items() if k not in values}
    lines = [model.equations]
    initial = dict(model.initial)
    for k, v in values.items():
        unit = model.parameters[k]
        dim = dimension_of(unit)
        lines.append(f"{k} : {_unit_name(dim)} (constant)")
        initial[k] = Quantity(np.asarray(v, dtype=np.float64).ravel(), dim=dim)
    return model.replace(equations="\n".join(lines), parameters=params, initial=initial)


def _unit_name(dim: Any) -> str:
    from brian2 import get_unit

    return "1" if dim is dimension_of(1.0) else repr(get_unit(dim))


class Brian2Network:
    """A :class:`~bioSNN.nir.network.NIRNetwork` built in Brian2. :meth:`run` presents one sample.

    ``target``: Brian2's runtime code generation (``"numpy"`` or ``"cython"``). Brian2's global
    preferences and device are not touched.
    """

    def __init__(self, net: NIRNetwork, target: str = "numpy"):
        from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, second

        self.net, self.dt, self.target = net, float(net.dt), target
        codeobj = _codeobj_class(target)
        dt_q = self.dt * second
        steps = {s.name: s for s in net.steps}
        stage_steps = [s for s in net.steps if s.kind in ("LIF", "IF", "LI", "I", "Threshold")]
        self.input = SpikeGeneratorGroup(net.n_in, [], [] * second, dt=dt_q, name="nir_input", codeobj_class=codeobj)
        self.groups: dict[str, Any] = {net.input_name: self.input}
        objects: list[Any] = [self.input]
        stages: dict[str, _Stage] = {}
        n_threshold = 0
        for step in stage_steps:
            stage, group = self._stage(step, dt_q, codeobj, n_threshold)
            n_threshold += stage.slot is not None
            stages[step.name] = stage
            self.groups[step.name] = group
            objects.append(group)
        # connections: the maps between stages, composed
        for step in stage_steps:
            stage = stages[step.name]
            leaves, bias = self._compose(step, steps, stages)
            unit = weight_unit(stage.model)
            code = stage.model.sole_on_pre("a NIR node")
            for source, (rows, cols, vals) in leaves.items():
                syn = Synapses(self.groups[source], self.groups[step.name], f"{stage.model.weight} : {unit}",
                               on_pre=code, namespace=stage.model.namespace(), dt=dt_q,
                               name=f"nir_{_safe(source)}_to_{_safe(step.name)}", codeobj_class=codeobj)
                syn.connect(i=rows, j=cols)
                setattr(syn, stage.model.weight + "_", vals * stage.weight_scale[cols])
                src_stage = stages.get(source)
                if src_stage is not None and src_stage.slot is not None:
                    syn.pre.when, syn.pre.order = src_stage.slot[0], src_stage.slot[1] + 1
                objects.append(syn)
            if np.any(bias != 0):
                self.groups[step.name].b_in_ = bias * stage.weight_scale
        self.stages = stages
        self.spike_monitors = {k: SpikeMonitor(self.groups[k], codeobj_class=codeobj, name=f"nir_spikes_{_safe(k)}")
                               for k, st in stages.items() if st.model.threshold is not None}
        last = net._last
        self.output_name = last
        v_name = "v" if "v" in stages[last].model.state_variables else stages[last].model.state_variables[0]
        self._v_name = v_name
        self._v_scale = display_unit(stages[last].model.brian_equations[v_name].dim)[1]
        self.v_monitor = StateMonitor(self.groups[last], v_name, record=True, when="end", order=10_000, dt=dt_q,
                                      codeobj_class=codeobj, name="nir_v")
        self.network = Network(*objects, *self.spike_monitors.values(), self.v_monitor)
        self.network.store("nir_initial")

    def _stage(self, step: Step, dt_q: Any, codeobj: Any, k: int) -> tuple[_Stage, Any]:
        net = self.net
        n = math.prod(step.shape)
        key = net._key(step.name)
        slot = None
        if step.kind == "Threshold":
            theta = getattr(net, f"threshold_{key}").detach().cpu().double().numpy().ravel()
            slot = ("after_synapses", 2 * k)
            model = NeuronModel(equations="x : 1\ntheta : 1 (constant)\nb_in : 1 (constant)", threshold="x > theta",
                                reset="x = 0", on_pre="x += w", per_step=[PerStep("x = b_in", "start")],
                                schedule={"threshold": slot}, initial={"theta": theta},
                                name="nir_threshold", description="stateless threshold units")
            scale = np.ones(n)
        elif step.name in net.integrators:
            model = NeuronModel(equations="v : 1\nb_in : 1 (constant)", on_pre="v += w",
                                per_step=[PerStep("v += b_in", "before_synapses")], name="nir_integrator")
            scale = np.ones(n)
        else:
            layer = net.layers[key]
            values = {k: v.detach().cpu().double().numpy() for k, v in layer.parameter_values().items()}
            model = _per_neuron(layer.model, values)
            moved = model.schedule.get("threshold")
            if moved is not None:  # spikes decided after the input: they leave in order, within the step
                if moved[0] != "after_synapses":
                    raise InputError(f"node {step.name!r}: a threshold in slot {moved[0]!r} is not run in Brian2 here")
                slot = ("after_synapses", 2 * k)
                model = model.replace(schedule={**model.schedule, "threshold": slot})
            unit = weight_unit(model)
            effect = re.sub(rf"\b{model.weight}\b", "b_in", model.sole_on_pre("a NIR node"))
            model = model.replace(equations=model.equations + f"\nb_in : {unit} (constant)",
                                  per_step=[*model.per_step, PerStep(effect, "before_synapses")])
            s = getattr(net, f"input_scale_{key}", None)
            s = np.ones(n) if s is None else s.detach().cpu().double().numpy().ravel()
            scale = s * layer.drive_scale
        group = build_layer(model, n, dt_q, name=f"nir_{_safe(step.name)}", codeobj_class=codeobj)
        return _Stage(step, model, n, scale, slot), group

    def _compose(self, step: Step, steps: dict[str, Step], stages: dict[str, _Stage]) -> tuple[dict, np.ndarray]:
        """``({source stage: (rows, cols, values)}, bias)``: the drive of ``step`` as a sparse linear map of
        the spikes of the stages (and input) before it, through the stateless maps between."""
        net = self.net
        leaves: list[str] = []

        def find(name: str) -> None:
            for s in steps[name].sources:
                if s == net.input_name or s in stages:
                    if s not in leaves:
                        leaves.append(s)
                else:
                    find(s)

        find(step.name)
        shapes = {net.input_name: net.input_shape, **{k: v.step.shape for k, v in stages.items()}}

        def drive(env: dict[str, torch.Tensor], batch: int) -> torch.Tensor:
            memo: dict[str, torch.Tensor] = {}

            def value(name: str) -> torch.Tensor:
                if name in env:
                    return env[name]
                if name not in memo:
                    srcs = steps[name].sources
                    h = value(srcs[0])
                    for s in srcs[1:]:
                        h = h + value(s)
                    memo[name] = net.apply_map(steps[name], h)
                return memo[name]

            srcs = step.sources
            h = value(srcs[0])
            for s in srcs[1:]:
                h = h + value(s)
            return h.reshape(batch, -1)

        with torch.no_grad():
            zeros = {k: torch.zeros(1, *shapes[k], dtype=torch.float64) for k in leaves}
            bias = drive(zeros, 1)[0].numpy().copy()
            out = {}
            for leaf in leaves:
                n = math.prod(shapes[leaf])
                rows, cols, vals = [], [], []
                for start in range(0, n, _CHUNK):
                    m = min(_CHUNK, n - start)
                    eye = torch.zeros(m, n, dtype=torch.float64)
                    eye[torch.arange(m), torch.arange(start, start + m)] = 1.0
                    env = {k: torch.zeros(m, *shapes[k], dtype=torch.float64) for k in leaves}
                    env[leaf] = eye.reshape(m, *shapes[leaf])
                    d = drive(env, m).numpy() - bias
                    r, c = np.nonzero(d)
                    rows.append(r + start)
                    cols.append(c)
                    vals.append(d[r, c])
                out[leaf] = (np.concatenate(rows), np.concatenate(cols), np.concatenate(vals))
        return out, bias

    def run(self, spikes: Any) -> Brian2Result:
        """Present one sample: ``spikes [T, n_in]`` (0/1; or ``[T, *input_shape]``) from the network's
        initial state."""
        from brian2 import second

        x = np.asarray(spikes.detach().cpu().numpy() if torch.is_tensor(spikes) else spikes)
        T = x.shape[0]
        x = x.reshape(T, -1)
        if x.shape[1] != self.net.n_in:
            raise InputError(f"input has {x.shape[1]} values per step, the network takes {self.net.n_in}")
        if not np.isin(x, (0, 1)).all():
            raise InputError("Brian2 takes input spikes: 0/1 values")
        self.network.restore("nir_initial")
        steps_, idx = np.nonzero(x)
        self.input.set_spikes(idx, steps_ * self.dt * second)
        self.network.run(T * self.dt * second, namespace={})
        out = {}
        for name, mon in self.spike_monitors.items():
            s = np.zeros((T, self.stages[name].n), dtype=bool)
            t = np.rint(np.asarray(mon.t_) / self.dt).astype(np.int64)
            s[t, np.asarray(mon.i)] = True
            out[name] = s
        v = np.asarray(getattr(self.v_monitor, self._v_name + "_"), dtype=np.float64).T / self._v_scale
        return Brian2Result(out, v)


def _safe(name: str) -> str:
    return re.sub(r"\W", "_", name)


def to_brian2(graph: Any, dt: Any = None, *, target: str = "numpy", discretisation: str = "brian2") -> Brian2Network:
    """The network of a NIR graph (a ``nir.NIRGraph``, a ``.nir`` file or a :class:`NIRNetwork`) in
    Brian2, neuron models and all (see the module docstring).

    Example:
        >>> import numpy as np
        >>> from torch import nn
        >>> from brian2 import ms
        >>> from bioSNN.equations import library
        >>> from bioSNN.supervised import NeuronLayer
        >>> from bioSNN.nir import export, load
        >>> seq = nn.Sequential(nn.Linear(6, 3), NeuronLayer(library.lif_delta(), 1 * ms, 3))
        >>> with torch.no_grad():
        ...     _ = seq[0].weight.fill_(6.0)
        >>> net = load(export(seq, input_shape=6)).double()
        >>> x = np.zeros((5, 6)); x[1, :2] = 1
        >>> b2 = to_brian2(net)
        >>> torch_spikes = net(torch.as_tensor(x)[:, None]).spikes[:, 0].detach().numpy().astype(bool)
        >>> bool((b2.run(x).spikes["neurons0"] == torch_spikes).all()), int(torch_spikes.sum())
        (True, 3)
    """
    net = graph if isinstance(graph, NIRNetwork) else load(graph, dt, discretisation=discretisation)
    return Brian2Network(net, target)
