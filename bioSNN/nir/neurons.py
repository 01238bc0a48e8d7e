r"""Neuron models <-> NIR neuron nodes (``LIF``, ``IF``, ``LI``, ``I``).

NIR defines each neuron by an ODE in continuous time (seconds) with an input current :math:`I`:

.. math::
    \text{LIF, LI:}\quad \tau \dot v = (v_{leak} - v) + R\,I, \qquad
    \text{IF, I:}\quad \dot v = R\,I

with, for ``LIF``/``IF``, a spike when :math:`v > v_{threshold}` and :math:`v \leftarrow v_{reset}`.

**The convention of this module** (one place for it; :data:`CONVENTION` is written into every
exported graph): a step's input ``W @ s`` is held for one step ``dt``, so that a discrete consumer
that integrates NIR's ODE by forward Euler adds :math:`R\,dt/\tau \cdot W s` (``LIF``/``LI``) or
:math:`R\,dt \cdot W s` (``IF``/``I``) to ``v``. bioSNN's delta synapses (``v += w``) add ``w`` at
once, so a model is exported with :math:`R = \tau/dt` (or :math:`1/dt`), which makes that factor 1:
snnTorch's own exporter does the same. Voltages are numbers in the model's display unit of ``v``
(mV), measured from the resting potential (so :math:`v_{leak} = 0`, which every NIR consumer
supports); the offset is in the node's metadata.

What NIR leaves to each simulator, and bioSNN keeps from Brian2: the leak is integrated exactly
(:math:`e^{-dt/\tau}`, Euler's :math:`1 - dt/\tau` in snnTorch and Norse) and the threshold is tested
*before* the step's input arrives (Brian2's schedule; snnTorch and Norse test after). A model with
refractoriness, lateral synapses, several input pathways, extra per-step code or a non-linear ODE
has no NIR node: it is refused with a message that says which.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Mapping, NamedTuple

import numpy as np
from brian2 import DEFAULT_FUNCTIONS, Quantity, second

from ..equations.model import NeuronModel
from ..errors import InputError, ModelError, NIRShapeError, UnsupportedNIRError
from ..quantities import dimension_of, display_unit, si_value

__all__ = ["CONVENTION", "DISCRETISATIONS", "NeuronNode", "export_neuron", "import_neuron", "METADATA_KEY", "input_scale"]

logger = logging.getLogger(__name__)

#: Written into ``graph.metadata["bioSNN"]["convention"]``: how bioSNN reads and writes NIR's ODEs.
CONVENTION = ("input held for one step dt (R = tau/dt or 1/dt makes a spike of weight w add w to v); "
              "voltages in the display unit of v, measured from v_leak; exact leak; threshold before input")

#: How a NIR neuron node without a bioSNN model (a foreign graph) is stepped: name -> what it means.
DISCRETISATIONS = {
    "brian2": "exact leak; threshold tested before the step's input arrives (Brian2's schedule, as bioSNN's models)",
    "input-first": "forward-Euler leak (1 - dt/tau); the step's input added before the threshold test, then reset "
                   "(the discrete LIF of snnTorch, Norse and SpikingJelly)",
}

#: Key of bioSNN's own record in a node's or graph's metadata (a JSON string).
METADATA_KEY = "bioSNN"

_NODE_KINDS = ("LIF", "IF", "LI", "I")


class NeuronNode(NamedTuple):
    """What a NIR neuron node says, as numbers of one shape: ``kind`` (``"LIF"``, ``"IF"``, ``"LI"``,
    ``"I"``), ``tau`` (s; ``None`` for IF/I), ``r``, ``v_leak``, ``v_threshold``, ``v_reset``
    (``None`` for LI/I)."""

    kind: str
    tau: np.ndarray | None
    r: np.ndarray
    v_leak: np.ndarray
    v_threshold: np.ndarray | None
    v_reset: np.ndarray | None

    def to_nir(self, metadata: Mapping[str, Any] | None = None) -> Any:
        import nir

        meta = dict(metadata or {})
        if self.kind == "LIF":
            return nir.LIF(tau=self.tau, r=self.r, v_leak=self.v_leak, v_threshold=self.v_threshold,
                           v_reset=self.v_reset, metadata=meta)
        if self.kind == "IF":
            return nir.IF(r=self.r, v_threshold=self.v_threshold, v_reset=self.v_reset, metadata=meta)
        if self.kind == "LI":
            return nir.LI(tau=self.tau, r=self.r, v_leak=self.v_leak, metadata=meta)
        return nir.I(r=self.r, metadata=meta)


def _strip(code: str | None) -> str:
    return re.sub(r"\s+", " ", (code or "").strip())


def _refuse(model: NeuronModel, what: str) -> None:
    raise UnsupportedNIRError(f"neuron model '{model.name}' has no NIR node: {what} (NIR has LIF, IF, LI and I "
                              "with threshold and reset; see bioSNN.nir.neurons)")


def _evaluate(model: NeuronModel, expr: str, values: Mapping[str, Any]) -> Any:
    from brian2.core.namespace import DEFAULT_UNITS

    ns: dict[str, Any] = {**DEFAULT_UNITS, **{k: f.pyfunc for k, f in DEFAULT_FUNCTIONS.items()
                                              if getattr(f, "pyfunc", None)}, **model.namespace(), **values}
    from ..equations.expressions import evaluate_expression

    try:
        return evaluate_expression(expr, ns)  # parsed, never eval'ed: the expression comes from a file
    except ModelError as exc:  # a name that is not a constant (a state variable, t, ...), or a refused construct
        _refuse(model, f"cannot evaluate {expr!r} as a constant ({exc})")


def _constant(model: NeuronModel, expr: str, var: str, values: Mapping[str, Any]) -> np.ndarray:
    if re.search(rf"\b{var}\b", expr):
        _refuse(model, f"{expr!r} depends on {var}")
    return np.asarray(si_value(_evaluate(model, expr, values)), dtype=np.float64)


def export_neuron(model: NeuronModel, dt: float, shape: tuple[int, ...],
                  values: Mapping[str, Any] | None = None) -> tuple[NeuronNode, dict[str, Any]]:
    """The NIR node of ``shape`` neurons of ``model`` at step ``dt`` (s), and bioSNN's record for its
    metadata (``{"model", "offset", "unit", "trainable"}``). ``values``: per-neuron parameter values
    (SI arrays of ``shape``) that replace the model's, e.g. a layer's trained thresholds.

    Example:
        >>> from bioSNN.equations import library
        >>> node, record = export_neuron(library.lif_delta(), 1e-3, (2,))
        >>> node.kind, node.tau.tolist(), node.r.tolist(), node.v_threshold.tolist(), record["unit"]
        ('LIF', [0.01, 0.01], [10.0, 10.0], [10.0, 10.0], 'mV')
    """
    values = dict(values or {})
    variables = model.state_variables
    if len(variables) != 1:
        _refuse(model, f"it has {len(variables)} state variables {variables} (NIR's LIF/IF/LI/I have one, v)")
    var = variables[0]
    if model.refractory is not None:
        _refuse(model, f"refractoriness ({model.refractory!r})")
    if model.lateral:
        _refuse(model, "lateral synapses")
    if model.per_step:
        _refuse(model, "per-step code (run_regularly)")
    if model.schedule:
        _refuse(model, f"a moved schedule {dict(model.schedule)}")
    if model.subexpressions:
        _refuse(model, f"subexpressions {model.subexpressions}")
    on_pre = _strip(model.on_pre) if isinstance(model.on_pre, str) else None
    if on_pre != f"{var} += {model.weight}":
        _refuse(model, f"its input is {model.on_pre!r}, not a jump '{var} += {model.weight}' (a delta synapse)")
    eqs = model.brian_equations
    unit, scale = display_unit(eqs[var].dim)
    ones = np.ones(shape)
    probe = {k: Quantity(np.asarray(si_value(v), dtype=np.float64), dim=dimension_of(model.parameters[k]))
             for k, v in values.items() if k in model.parameters}
    # f(v) = a + b v, found from three points and checked to be linear there
    if eqs[var].type == "differential equation":
        rhs = str(eqs[var].expr.code)
        f = [np.asarray(si_value(_evaluate(model, rhs, {**probe, var: Quantity(x * scale * ones, dim=eqs[var].dim)})),
                        dtype=np.float64) * ones for x in (0.0, 1.0, 2.0)]
        a, b = f[0] * 1.0, (f[1] - f[0]) / scale
        if not np.allclose(f[2] - f[1], f[1] - f[0], rtol=1e-9, atol=0):
            _refuse(model, f"its equation dv/dt = {rhs} is not linear in {var}")
    else:
        a = b = np.zeros(shape)
    if (b > 0).any() or ((b == 0) & (a != 0)).any():
        _refuse(model, "dv/dt has a constant drive or an unstable term (NIR's leak is (v_leak - v)/tau)")
    leaky = bool((b < 0).all())
    if not leaky and (b != 0).any():
        _refuse(model, "some neurons leak and others do not")
    # probing rounds at ~1e-13: snap to the constants a user writes (12 digits of tau, 1e-9 display units)
    tau = np.vectorize(lambda x: float(f"{x:.12g}"))(-1.0 / b) if leaky else None
    v_leak = np.round(-a / b / scale, 9) * scale if leaky else np.zeros(shape)
    kind_spiking = model.threshold is not None
    v_th = v_reset = None
    if kind_spiking:
        m = re.fullmatch(rf"{var}\s*>=?\s*(.+)", (model.threshold or "").strip())
        if not m:
            _refuse(model, f"its threshold {model.threshold!r} is not '{var} > constant'")
        r = re.fullmatch(rf"{var}\s*=\s*(.+)", (model.reset or "").strip())
        if not r:
            _refuse(model, f"its reset {model.reset!r} is not '{var} = constant'")
        v_th = np.round((_constant(model, m.group(1), var, probe) * ones - v_leak) / scale, 9)
        v_reset = np.round((_constant(model, r.group(1), var, probe) * ones - v_leak) / scale, 9)
    kind = ("LIF" if kind_spiking else "LI") if leaky else ("IF" if kind_spiking else "I")
    r_value = (tau / dt) if leaky else np.full(shape, 1.0 / dt)
    node = NeuronNode(kind, tau, r_value, np.zeros(shape), v_th, v_reset)
    record = {"model": model.to_dict(), "offset": np.round(v_leak / scale, 9).tolist(), "unit": unit,
              "trainable": {k: (np.asarray(si_value(v), dtype=np.float64)).tolist() for k, v in values.items()}}
    return node, record


def node_array(name: str, kind: str, field: str, value: Any) -> np.ndarray:
    """A NIR node's array as float64, refused by name when it is not numeric or holds NaN or infinity."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NIRShapeError(f"node {name!r} ({kind}): {field} is not numeric "
                            f"(stored as {np.asarray(value).dtype})") from None
    if not np.isfinite(arr).all():
        raise NIRShapeError(f"node {name!r} ({kind}): {field} has NaN or infinite values")
    return arr


def read_neuron(node: Any, name: str) -> NeuronNode:
    """The parameters of NIR neuron node ``node`` (named ``name`` in errors), checked to share one shape."""
    kind = type(node).__name__
    if kind not in _NODE_KINDS:
        raise UnsupportedNIRError(f"node {name!r} is a {kind}, not one of the neuron nodes {_NODE_KINDS}")
    get = (lambda f: None if getattr(node, f, None) is None else node_array(name, kind, f, getattr(node, f)))
    out = NeuronNode(kind, get("tau"), get("r"), get("v_leak") if kind in ("LIF", "LI") else None,
                     get("v_threshold"), get("v_reset"))
    shapes = {f: v.shape for f, v in out._asdict().items() if isinstance(v, np.ndarray)}
    if len(set(shapes.values())) != 1:
        raise NIRShapeError(f"node {name!r} ({kind}): its parameters have different shapes {shapes}")
    shape = next(iter(shapes.values()))
    if out.v_leak is None:
        out = out._replace(v_leak=np.zeros(shape))
    if kind in ("LIF", "IF") and out.v_reset is None:
        out = out._replace(v_reset=np.zeros(shape))
    if out.tau is not None and (out.tau <= 0).any():
        raise NIRShapeError(f"node {name!r} ({kind}): tau must be > 0")
    return out


def input_scale(node: NeuronNode, dt: float) -> np.ndarray:
    """``R dt / tau`` (LIF, LI) or ``R dt`` (IF, I): what one unit of held input adds to ``v`` in a step;
    exactly 1 where it differs from 1 by rounding only (bioSNN's own exports)."""
    s = node.r * dt / node.tau if node.tau is not None else node.r * dt
    return np.where(np.abs(s - 1.0) < 1e-9, 1.0, s)


def _uniform(x: np.ndarray) -> bool:
    return x.size > 0 and bool((x == x.flat[0]).all())


def generic_model(node: NeuronNode, name: str, discretisation: str = "brian2") -> NeuronModel:
    """A dimensionless :class:`NeuronModel` of NIR node ``node`` (its input scale is applied to the
    drive, see :func:`input_scale`): per-neuron constants where the values differ across neurons;
    stepped as :data:`DISCRETISATIONS` ``[discretisation]`` says."""
    if discretisation not in DISCRETISATIONS:
        raise InputError(f"discretisation must be one of {sorted(DISCRETISATIONS)}, got {discretisation!r}")
    params: dict[str, Any] = {}
    initial: dict[str, Any] = {}
    declared: list[str] = []

    def put(key: str, value: np.ndarray, unit: Any, unit_name: str) -> None:
        if _uniform(value):
            params[key] = float(value.flat[0]) * unit
        else:
            declared.append(f"{key} : {unit_name} (constant)")
            initial[key] = value.ravel() * unit

    leaky = node.tau is not None
    if leaky:
        put("tau", node.tau, second, "second")
        put("v_leak", node.v_leak, 1.0, "1")
    eq = "dv/dt = (v_leak - v)/tau : 1" if leaky else "v : 1"
    threshold = reset = None
    if node.v_threshold is not None:
        put("v_th", node.v_threshold, 1.0, "1")
        put("v_reset", node.v_reset, 1.0, "1")
        threshold, reset = "v > v_th", "v = v_reset"
    start = node.v_leak.ravel()
    initial["v"] = float(start[0]) if _uniform(start) else start
    input_first = discretisation == "input-first"
    schedule = {"threshold": ("after_synapses", 0)} if input_first and threshold else {}
    return NeuronModel(equations="\n".join([eq, *declared]), threshold=threshold, reset=reset, on_pre="v += w",
                       method="euler" if input_first and leaky else "exact", schedule=schedule, parameters=params, initial=initial, name=f"nir_{node.kind}_{name}",
                       description=f"NIR {node.kind} node {name!r}")


def import_neuron(nir_node: Any, name: str, dt: float, shape: tuple[int, ...],
                  discretisation: str = "brian2") -> tuple[NeuronModel, np.ndarray, dict]:
    """``(model, input scale, trainable values)`` for NIR node ``nir_node``: bioSNN's own model when the
    node's metadata holds one that exports to exactly these parameters (a bioSNN export, unedited),
    else :func:`generic_model` (logged when bioSNN's record no longer matches the node)."""
    node = read_neuron(nir_node, name)
    if node.r.shape != tuple(shape) and node.r.size != int(np.prod(shape)):
        raise NIRShapeError(f"node {name!r} has {node.r.size} neurons, its input brings {int(np.prod(shape))}")
    record = _record(getattr(nir_node, "metadata", None))
    if record is not None and "model" in record:
        model = NeuronModel.from_dict(record["model"])
        values = {}
        for k, v in dict(record.get("trainable") or {}).items():
            try:
                values[k] = np.asarray(v, dtype=np.float64).reshape(node.r.shape)
            except (TypeError, ValueError):
                raise NIRShapeError(f"node {name!r}: bioSNN's record holds {np.size(v)} trainable {k!r} values "
                                    f"for {node.r.size} neurons (or values that are not numbers)") from None
            if not np.isfinite(values[k]).all():
                raise NIRShapeError(f"node {name!r}: bioSNN's record holds NaN or infinite {k!r} values")
        try:
            again, _ = export_neuron(model, dt, node.r.shape, values)
        except UnsupportedNIRError:
            again = None
        if again is not None and _same(again, node):
            return model, np.ones(node.r.shape), values
        logger.warning("node %r: its parameters differ from the bioSNN model recorded with it (edited after export?); "
                       "using NIR's parameters", name)
    return generic_model(node, name, discretisation), input_scale(node, dt), {}


def _same(a: NeuronNode, b: NeuronNode) -> bool:
    for x, y in zip(a, b):
        if isinstance(x, str) or x is None or y is None:
            if (x is None) != (y is None) or (isinstance(x, str) and x != y):
                return False
            continue
        if x.shape != y.shape or not np.allclose(x, y, rtol=1e-12, atol=1e-12):
            return False
    return True


def _record(metadata: Any) -> dict | None:
    raw = (metadata or {}).get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if raw is None:
        return None
    try:
        out = json.loads(raw) if isinstance(raw, (str, bytes)) else dict(raw)
    except (ValueError, TypeError):
        return None
    return out if isinstance(out, dict) else None
