"""Brian2 objects generated from a :class:`~bioSNN.equations.NeuronModel`.

``build_layer`` makes the ``NeuronGroup`` (with its per-step code, schedule overrides and lateral
synapses), ``connect_input`` the plastic-free input ``Synapses`` whose effect is ``model.on_pre``.
No global Brian2 state is touched: every object gets the model's namespace, an explicit ``dt`` and,
if asked, an explicit code-object class.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import sympy
from brian2 import NeuronGroup, Synapses
from brian2.core.functions import DEFAULT_FUNCTIONS
from brian2.core.namespace import DEFAULT_UNITS
from brian2.parsing.statements import parse_statement
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.units.fundamentalunits import DIMENSIONLESS, Dimension, Quantity, get_unit

from ..errors import InputError, ModelError
from .model import NeuronModel
from ..quantities import dimension_of, si_value

__all__ = ["Layer", "LayerGroup", "DriveTerm", "build_layer", "connect_input", "connect_all", "delay_seconds", "drive_terms",
           "weight_dimension", "weight_unit"]


class LayerGroup(NeuronGroup):
    """The ``NeuronGroup`` of a :class:`~bioSNN.equations.model.NeuronModel` layer, a Brian2 object like
    any other: its lateral ``Synapses`` (``lateral``, None when the model has none) and its per-step
    code are among its ``contained_objects``, so ``Network(layer)`` and Brian2's magic ``run()`` collect
    the whole layer."""

    #: the layer's lateral (e.g. winner-take-all) synapses, or None
    lateral: Synapses | None = None


#: what :func:`build_layer` returns (the name of earlier versions)
Layer = LayerGroup


class DriveTerm(NamedTuple):
    """One ``on_pre`` statement ``target (+=|-=) coefficient * w``, parsed and checked."""

    target: str  # neuron variable (no suffix)
    sign: int  # +1 or -1
    coefficient: str  # Brian2 expression, linear factor of w (may use post variables)


def drive_terms(model: NeuronModel, pathway: str | None = None) -> tuple[DriveTerm, ...]:
    """Parse the ``on_pre`` of ``pathway`` (default: the model's only one) into :class:`DriveTerm` s.

    Each statement must add (or subtract) to a neuron variable an expression linear in ``w``
    whose factor does not depend on a variable that ``on_pre`` itself changes. That is exactly the
    class of effects for which several spikes arriving in one step sum, so the torch step can
    deliver them as one matrix product.
    """
    code = _pathway_code(model, pathway)
    terms: list[DriveTerm] = []
    targets: set[str] = set()
    wname = model.weight
    w = sympy.Symbol(wname, real=True)
    for line in code.replace(";", "\n").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        var, op, expr, _ = parse_statement(line)
        target = var[:-5] if var.endswith("_post") else var
        if target not in model.state_variables:
            raise ModelError(f"on_pre statement {line!r} writes {var!r}, which is not a variable of the neurons")
        if op not in ("+=", "-="):
            raise ModelError(
                f"on_pre statement {line!r}: only '+=' and '-=' are supported (the effect of several "
                f"spikes in one step must add up)"
            )
        sym = str_to_sympy(expr)
        sym = sym.subs({s: w for s in sym.free_symbols if s.name == wname})
        coef = sympy.simplify(sympy.diff(sym, w))
        if w in coef.free_symbols or sympy.simplify(sym.subs(w, 0)) != 0:
            raise ModelError(f"on_pre statement {line!r}: the increment must be linear in {wname} (c*{wname})")
        terms.append(DriveTerm(target, 1 if op == "+=" else -1, sympy_to_str(coef)))
        targets.add(target)
    if not terms:
        raise ModelError("on_pre is empty: a layer needs at least one statement such as 'v += w'")
    for term in terms:
        used = {s.name[:-5] if s.name.endswith("_post") else s.name for s in str_to_sympy(term.coefficient).free_symbols}
        if used & targets:
            raise ModelError(
                f"on_pre factor {term.coefficient!r} depends on {sorted(used & targets)}, which on_pre "
                "itself changes; spikes arriving in the same step would not add up"
            )
    return tuple(terms)


def _pathway_code(model: NeuronModel, pathway: str | None) -> str:
    paths = model.pathways
    if pathway is None:
        if len(paths) != 1:
            raise ModelError(f"model '{model.name}' has several input pathways ({', '.join(paths)}); name one")
        return next(iter(paths.values()))
    if pathway not in paths:
        raise ModelError(f"model '{model.name}' has no input pathway {pathway!r} (it has {', '.join(paths)})")
    return paths[pathway]


def weight_dimension(model: NeuronModel, pathway: str | None = None) -> Dimension:
    """Dimension of the synaptic weight of ``pathway`` implied by its first ``on_pre`` statement.

    For ``v += w`` it is the dimension of ``v``; for ``v += w*mV`` it is dimensionless.
    """
    term = drive_terms(model, pathway)[0]
    target_dim = model.brian_equations[term.target].dim
    return target_dim / dimension_of(_evaluate_dimensions(model, term.coefficient))


def weight_unit(model: NeuronModel, pathway: str | None = None) -> str:
    """The unit of the weight as Brian2 writes it in a ``Synapses`` model (``"volt"``, ``"1"``...)."""
    dim = weight_dimension(model, pathway)
    return "1" if dim is DIMENSIONLESS else repr(get_unit(dim))


def _evaluate_dimensions(model: NeuronModel, expr: str) -> Any:
    ns: dict[str, Any] = dict(DEFAULT_UNITS)
    ns.update({name: f.pyfunc for name, f in DEFAULT_FUNCTIONS.items() if getattr(f, "pyfunc", None)})
    ns["int"] = lambda x: 1
    ns.update({k: v for k, v in model.parameters.items() if not callable(v)})
    eqs = model.brian_equations
    for name in eqs.names:
        value = True if eqs[name].var_type == "boolean" else Quantity(1.0, dim=eqs[name].dim)
        ns[name] = ns[name + "_post"] = value
    ns["not_refractory"] = ns["not_refractory_post"] = True
    from .expressions import evaluate_expression

    try:
        return evaluate_expression(expr, ns)  # parsed, never eval'ed: the expression comes from a file
    except ModelError as exc:
        raise ModelError(f"cannot determine the unit of w from on_pre factor {expr!r}: {exc}") from None


def build_layer(
    model: NeuronModel,
    n: int,
    dt: Any,
    *,
    name: str | None = None,
    codeobj_class: Any = None,
) -> LayerGroup:
    """Create the ``NeuronGroup`` of ``n`` neurons of ``model``, holding its lateral synapses.

    ``name`` defaults to a unique ``layer``, ``layer_1``... (Brian2's ``"layer*"``); the lateral
    synapses are ``<name>_lateral``. The result is one Brian2 object (:class:`LayerGroup`): add it to a
    ``Network`` or let the magic ``run()`` find it.

    Example
    -------
    >>> from brian2 import ms, Network
    >>> from bioSNN.equations import library
    >>> layer = build_layer(library.lif_exp_synapse(), 10, 0.1*ms)
    >>> net = Network(layer)
    >>> wta = build_layer(library.seed_wta_if(), 4, 1*ms)
    >>> wta.lateral in wta.contained_objects, wta.name != layer.name
    (True, True)
    """
    if int(n) < 1:
        raise InputError(f"a layer needs at least one neuron, got n={n}")
    kwargs: dict[str, Any] = {"namespace": model.namespace(), "dt": dt, "codeobj_class": codeobj_class}
    try:
        group = LayerGroup(
            int(n),
            model.equations,
            threshold=model.threshold,
            reset=model.reset,
            refractory=False if model.refractory is None else model.refractory,
            method=model.method,
            name=name or "layer*",
            **kwargs,
        )
        name = group.name
        for var, value in model.initial.items():
            if np.ndim(value) == 1 and len(value) != int(n):
                raise InputError(f"initial value of {var!r} of model '{model.name}' has {len(value)} entries (one "
                                 f"per neuron), but the layer has n={int(n)} neurons")
            setattr(group, var, value)
        for k, ps in enumerate(model.per_step):
            group.run_regularly(ps.code, when=ps.when, order=ps.order, name=f"{name}_per_step_{k}",
                                codeobj_class=codeobj_class)
        _move(group.thresholder.get("spike"), model.schedule.get("threshold"))
        _move(group.resetter.get("spike"), model.schedule.get("reset"))
        if model.lateral:
            lateral = Synapses(group, group, model.lateral, name=f"{name}_lateral", **kwargs)
            lateral.connect()
            for updater in lateral.summed_updaters.values():
                _move(updater, model.schedule.get("lateral"))
            group.lateral = lateral
            group.contained_objects.append(lateral)
    except (ModelError, InputError):
        raise
    except Exception as exc:
        raise ModelError(f"Brian2 rejects model '{model.name}': {exc}") from exc
    return group


def connect_all(syn: Synapses, n_in: int, n_out: int) -> None:
    """Connect every source to every target, synapse ``k = i * n_out + j``: the row-major order of an
    ``[n_in, n_out]`` weight array, so ``syn.w = w.ravel()`` and ``w = syn.w[:].reshape(n_in, n_out)``
    (also in standalone mode, where ``syn.i`` cannot be read before the run)."""
    ii, jj = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
    syn.connect(i=ii.ravel(), j=jj.ravel())


def connect_input(
    model: NeuronModel,
    source: Any,
    layer: Layer,
    weights: Any = None,
    *,
    pathway: str | None = None,
    delay: Any = None,
    name: str | None = None,
    codeobj_class: Any = None,
) -> Synapses:
    """All-to-all ``Synapses`` from ``source`` onto ``layer`` with the effect ``on_pre`` of ``pathway``.

    ``weights`` is ``[n_source, n_layer]``, a quantity in the unit of the weight or plain SI numbers.
    ``pathway`` names one of ``model.pathways`` (default: the only one). ``delay`` is ``None``, one time
    (every synapse; a quantity or seconds) or an ``[n_source, n_layer]`` array of times (per synapse);
    Brian2 rounds delays to whole steps (:func:`~bioSNN.equations.torch_step.delay_steps`).

    Example
    -------
    >>> from brian2 import ms, mV, SpikeGeneratorGroup
    >>> from bioSNN.equations import library
    >>> model = library.lif_delta()
    >>> layer = build_layer(model, 3, 0.1*ms)
    >>> source = SpikeGeneratorGroup(2, [0], [1]*ms, dt=0.1*ms)
    >>> syn = connect_input(model, source, layer, [[1, 2, 3], [4, 5, 6]]*mV, delay=2*ms)
    >>> len(syn)
    6
    """
    group = layer
    code = _pathway_code(model, pathway)
    unit = weight_unit(model, pathway)
    try:
        syn = Synapses(
            source, group, f"{model.weight} : {unit}", on_pre=code, namespace=model.namespace(),
            dt=group.clock.dt, name=name or input_name(group.name, model, pathway), codeobj_class=codeobj_class,
        )
    except Exception as exc:
        raise ModelError(f"Brian2 rejects on_pre {code!r} of model '{model.name}': {exc}") from exc
    n_in, n_out = len(source), len(group)
    connect_all(syn, n_in, n_out)
    if weights is not None:
        w = np.asarray(si_value(weights), dtype=np.float64)
        if w.shape != (n_in, n_out):
            raise InputError(f"weights must have shape [n_in, n_out] = {(n_in, n_out)}, got {w.shape}")
        setattr(syn, model.weight + "_", w.ravel())
    if delay is not None:
        d = delay_seconds(delay, (n_in, n_out))
        syn.delay_ = d if np.ndim(d) == 0 else d.ravel()
    return syn


def input_name(layer: str, model: NeuronModel, pathway: str | None) -> str:
    """Default name of the input ``Synapses`` of ``pathway``: ``<layer>_input`` for a single-pathway
    model, ``<layer>_input_<pathway>`` otherwise."""
    return f"{layer}_input" if pathway is None or isinstance(model.on_pre, str) else f"{layer}_input_{pathway}"


def delay_seconds(delay: Any, shape: tuple[int, int]) -> Any:
    """``delay`` (a time, or an ``[n_in, n_out]`` array of times; quantities or seconds) in seconds,
    checked to be finite and >= 0; a float for one delay, else an array of ``shape``."""
    from brian2 import second

    if isinstance(delay, Quantity) and dimension_of(delay) is not dimension_of(second):
        raise InputError(f"delay must be a time, got {delay!r}")
    d = np.asarray(si_value(delay), dtype=np.float64)
    if not np.isfinite(d).all() or (d < 0).any():
        raise InputError("delays must be finite and >= 0")
    if d.ndim == 0:
        return float(d)
    if d.shape != shape:
        raise InputError(f"per-synapse delays must have shape [n_in, n_out] = {shape}, got {d.shape}")
    return d


def _move(obj: Any, slot: tuple[str, int] | None) -> None:
    if obj is not None and slot is not None:
        obj.when, obj.order = slot
