"""NIR graphs -> Brian2 (:func:`to_brian2`): the same network, neuron for neuron, in Brian2.

Every neuron node becomes a ``NeuronGroup`` built from the very :class:`NeuronModel` the torch side
runs (:func:`~bioSNN.equations.brian.build_layer`); the stateless maps between two neuron nodes
(``Affine``, ``Conv2d``, pooling, ``Flatten``, ``Scale``: linear) are composed into one sparse weight
matrix, found by passing unit spikes through the torch maps, and become ``Synapses`` with the model's
``on_pre`` (their constant part, e.g. a folded batch-norm bias, is added every step at the same
place of Brian2's schedule). ``Threshold`` nodes (bioSNN's max pooling of spikes) are groups of
stateless units that fire within the step their input arrives (their threshold and outgoing
synapses run in the ``after_synapses`` slot). Input spikes come from a ``SpikeGeneratorGroup``.

One sample at a time on the runtime targets (``numpy``, ``cython``), or many in one simulation
(:meth:`Brian2Network.run_many`), also on ``cpp_standalone`` (compiled once).
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import numpy as np
import torch
from brian2 import Quantity

from ..equations.brian import build_layer, weight_dimension, weight_unit
from ..equations.model import NeuronModel, PerStep
from ..equations.simulation import _codeobj_class
from ..errors import InputError
from ..quantities import dimension_of, display_unit, si_value
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


class _Connection(NamedTuple):
    source: str
    target: str
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray  # SI


class _Built(NamedTuple):
    network: Any
    input: Any
    spike_monitors: dict[str, Any]
    v_monitor: Any


class Brian2Network:
    """A :class:`~bioSNN.nir.network.NIRNetwork` built in Brian2: :meth:`run` presents one sample,
    :meth:`run_many` many in one simulation (state reset between them), also on ``cpp_standalone``.

    ``target``: Brian2's runtime code generation (``"numpy"`` or ``"cython"``) for :meth:`run`.
    The composed weights are computed once, here; Brian2's global preferences and device are left
    as they were (``run_many`` on ``cpp_standalone`` switches the device and back).
    """

    def __init__(self, net: NIRNetwork, target: str = "numpy"):
        self.net, self.dt, self.target = net, float(net.dt), target
        steps = {s.name: s for s in net.steps}
        stage_steps = [s for s in net.steps if s.kind in ("LIF", "IF", "LI", "I", "Threshold")]
        stages: dict[str, _Stage] = {}
        n_threshold = 0
        for step in stage_steps:
            stage = self._stage(step, n_threshold)
            n_threshold += stage.slot is not None
            stages[step.name] = stage
        self.stages = stages
        self.connections: list[_Connection] = []
        self.biases: dict[str, np.ndarray] = {}
        for step in stage_steps:
            stage = stages[step.name]
            leaves, bias = self._compose(step, steps, stages)
            for source, (rows, cols, vals) in leaves.items():
                self.connections.append(_Connection(source, step.name, rows, cols, vals * stage.weight_scale[cols]))
            self.biases[step.name] = bias * stage.weight_scale
        self.output_name = net._last
        model = stages[self.output_name].model
        self._v_name = "v" if "v" in model.state_variables else model.state_variables[0]
        self._v_scale = display_unit(model.brian_equations[self._v_name].dim)[1]
        self._built: _Built | None = None

    def _objects(self, codeobj: Any, sample_steps: int | None = None) -> _Built:
        """Brian2 objects of the network; with ``sample_steps``, every state variable returns to its
        initial value each ``sample_steps`` steps (one simulation, many samples)."""
        from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses, second

        dt_q = self.dt * second
        source = SpikeGeneratorGroup(self.net.n_in, [], [] * second, dt=dt_q, name="nir_input*", codeobj_class=codeobj)
        groups: dict[str, Any] = {self.net.input_name: source}
        objects: list[Any] = [source]
        for name, stage in self.stages.items():
            model, restart = stage.model, ""
            if sample_steps is not None:
                model, restart = _with_sample_reset(model)
            group = build_layer(model, stage.n, dt_q, name=f"nir_{_safe(name)}*", codeobj_class=codeobj)
            if restart:  # a Brian2-only object: the torch side starts every sample from the initial state anyway
                group.run_regularly(restart, dt=sample_steps * dt_q, when="start", order=-100,
                                    name=f"nir_{_safe(name)}_restart*", codeobj_class=codeobj)
            if np.any(self.biases[name] != 0):
                group.b_in_ = self.biases[name]
            groups[name] = group
            objects.append(group)
        for c in self.connections:
            model = self.stages[c.target].model
            syn = Synapses(groups[c.source], groups[c.target], f"{model.weight} : {weight_unit(model)}",
                           on_pre=model.sole_on_pre("a NIR node"), namespace=model.namespace(), dt=dt_q,
                           name=f"nir_{_safe(c.source)}_to_{_safe(c.target)}*", codeobj_class=codeobj)
            syn.connect(i=c.rows, j=c.cols)
            setattr(syn, model.weight + "_", c.weights)
            src = self.stages.get(c.source)
            if src is not None and src.slot is not None:
                syn.pre.when, syn.pre.order = src.slot[0], src.slot[1] + 1
            objects.append(syn)
        spikes = {k: SpikeMonitor(groups[k], codeobj_class=codeobj, name=f"nir_spikes_{_safe(k)}*")
                  for k, st in self.stages.items() if st.model.threshold is not None}
        v = StateMonitor(groups[self.output_name], self._v_name, record=True, when="end", order=10_000, dt=dt_q,
                         codeobj_class=codeobj, name="nir_v*")
        return _Built(Network(*objects, *spikes.values(), v), source, spikes, v)

    def _stage(self, step: Step, k: int) -> _Stage:
        net = self.net
        n = math.prod(step.shape)
        key = net._key(step.name)
        slot = None
        if step.kind == "Threshold":
            theta = getattr(net, f"threshold_{key}").detach().cpu().double().numpy().ravel()
            slot = ("after_synapses", 2 * k)
            model = NeuronModel(equations="x : 1\ntheta : 1 (constant)\nb_in : 1 (constant)", threshold="x > theta",
                                reset="x = 0", on_pre="x += w", per_step=[PerStep("x = b_in", "start")],
                                schedule={"threshold": slot}, initial={"theta": theta, "b_in": 0.0},
                                name="nir_threshold", description="stateless threshold units")
            scale = np.ones(n)
        elif step.name in net.integrators:
            model = NeuronModel(equations="v : 1\nb_in : 1 (constant)", on_pre="v += w",
                                per_step=[PerStep("v += b_in", "before_synapses")], initial={"b_in": 0.0},
                                name="nir_integrator")
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
                                  per_step=[*model.per_step, PerStep(effect, "before_synapses")],
                                  initial={**model.initial, "b_in": Quantity(0.0, dim=weight_dimension(model))})
            s = getattr(net, f"input_scale_{key}", None)
            s = np.ones(n) if s is None else s.detach().cpu().double().numpy().ravel()
            scale = s * layer.drive_scale
        return _Stage(step, model, n, scale, slot)

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

    def _check(self, spikes: Any) -> np.ndarray:
        x = np.asarray(spikes.detach().cpu().numpy() if torch.is_tensor(spikes) else spikes)
        if x.ndim < 3:
            raise InputError(f"spikes must be [samples, T, n_in] (or [samples, T, *input_shape]), got {x.shape}")
        x = x.reshape(x.shape[0], x.shape[1], -1)
        if x.shape[2] != self.net.n_in:
            raise InputError(f"input has {x.shape[2]} values per step, the network takes {self.net.n_in}")
        if not np.isin(x, (0, 1)).all():
            raise InputError("Brian2 takes input spikes: 0/1 values")
        return x

    def run(self, spikes: Any) -> Brian2Result:
        """Present one sample: ``spikes [T, n_in]`` (0/1; or ``[T, *input_shape]``) from the network's
        initial state (runtime targets; the objects are built at the first call and restored after)."""
        from brian2 import second

        x = self._check(np.asarray(spikes.detach().cpu().numpy() if torch.is_tensor(spikes) else spikes)[None])[0]
        if self._built is None:
            self._built = self._objects(_codeobj_class(self.target))
            self._built.network.store("nir_initial")
        built = self._built
        built.network.restore("nir_initial")
        steps_, idx = np.nonzero(x)
        built.input.set_spikes(idx, steps_ * self.dt * second)
        built.network.run(x.shape[0] * self.dt * second, namespace={})
        return self._results(built, x.shape[0], 1)[0]

    def run_many(self, spikes: Any, *, target: str | None = None, directory: Any = None) -> list[Brian2Result]:
        """Present ``spikes [samples, T, n_in]`` one after the other in **one** simulation, every state
        variable back at its initial value at the start of each sample; ``target``: ``"numpy"``,
        ``"cython"`` or ``"cpp_standalone"`` (compiled once into ``directory``, a temporary folder by
        default; the device is switched back to runtime afterwards)."""
        import tempfile

        from brian2 import second

        target = target or self.target
        x = self._check(spikes)
        N, T = x.shape[:2]
        samples, steps_, idx = np.nonzero(x)
        times = (samples * T + steps_) * self.dt * second
        if target != "cpp_standalone":
            built = self._objects(_codeobj_class(target), T)
            built.input.set_spikes(idx, times)
            built.network.run(N * T * self.dt * second, namespace={})
            return self._results(built, T, N)
        from brian2 import device, set_device
        from brian2.devices.device import reset_device

        from ..isolation import preserved_prefs

        with preserved_prefs(), tempfile.TemporaryDirectory(prefix="bioSNN-nir-") as tmp:
            set_device("cpp_standalone", build_on_run=True, directory=str(directory or tmp))
            try:
                built = self._objects(None, T)
                built.input.set_spikes(idx, times)
                built.network.run(N * T * self.dt * second, namespace={})
                return self._results(built, T, N)
            finally:
                device.reinit()
                reset_device("runtime")

    def _results(self, built: _Built, T: int, N: int) -> list[Brian2Result]:
        out: list[dict[str, np.ndarray]] = [{} for _ in range(N)]
        for name, mon in built.spike_monitors.items():
            s = np.zeros((N * T, self.stages[name].n), dtype=bool)
            t = np.rint(np.asarray(mon.t_) / self.dt).astype(np.int64)
            s[t, np.asarray(mon.i)] = True
            for j in range(N):
                out[j][name] = s[j * T:(j + 1) * T]
        v = np.asarray(getattr(built.v_monitor, self._v_name + "_"), dtype=np.float64).T / self._v_scale
        return [Brian2Result(out[j], v[j * T:(j + 1) * T]) for j in range(N)]


def _with_sample_reset(model: NeuronModel) -> tuple[NeuronModel, str]:
    """``model`` with a constant ``<var>_at_start`` (the initial value) per non-constant state
    variable, and the code that puts every such variable back to it."""
    eqs = model.brian_equations
    lines, initial, code = [model.equations], dict(model.initial), []
    for var in model.state_variables:
        if var in eqs and "constant" in eqs[var].flags or var == "b_in":
            continue
        value = initial.get(var, 0.0)
        unit = _unit_name(eqs[var].dim)
        lines.append(f"{var}_at_start : {unit} (constant)")
        initial[f"{var}_at_start"] = value if np.ndim(value) else Quantity(float(np.asarray(si_value(value))),
                                                                             dim=eqs[var].dim)
        code.append(f"{var} = {var}_at_start")
    return model.replace(equations="\n".join(lines), initial=initial), "\n".join(code)


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
        >>> net = load(export(seq, input_shape=6)).double()   # float64 here for the comparison; to_brian2 takes any
        >>> x = np.zeros((5, 6)); x[1, :2] = 1
        >>> b2 = to_brian2(net)
        >>> torch_spikes = net(torch.as_tensor(x)[:, None]).spikes[:, 0].detach().numpy().astype(bool)
        >>> bool((b2.run(x).spikes["neurons0"] == torch_spikes).all()), int(torch_spikes.sum())
        (True, 3)
    """
    net = graph if isinstance(graph, NIRNetwork) else load(graph, dt, discretisation=discretisation)
    tensors = [*net.parameters(), *net.buffers()]
    if any(t.is_floating_point() and t.dtype != torch.float64 for t in tensors):
        import copy

        net = copy.deepcopy(net).double()  # Brian2 computes in float64; the caller's network stays as it is
    return Brian2Network(net, target)
