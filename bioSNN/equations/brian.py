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

__all__ = ["Layer", "DriveTerm", "build_layer", "connect_input", "connect_all", "drive_terms", "weight_dimension", "weight_unit"]


class Layer(NamedTuple):
    """The Brian2 objects of one layer; add both to your ``Network`` (``lateral`` may be None)."""

    group: NeuronGroup
    lateral: Synapses | None


class DriveTerm(NamedTuple):
    """One ``on_pre`` statement ``target (+=|-=) coefficient * w``, parsed and checked."""

    target: str  # neuron variable (no suffix)
    sign: int  # +1 or -1
    coefficient: str  # Brian2 expression, linear factor of w (may use post variables)


def drive_terms(model: NeuronModel) -> tuple[DriveTerm, ...]:
    """Parse ``model.on_pre`` into :class:`DriveTerm` s.

    Each statement must add (or subtract) to a neuron variable an expression linear in ``w``
    whose factor does not depend on a variable that ``on_pre`` itself changes. That is exactly the
    class of effects for which several spikes arriving in one step sum, so the torch step can
    deliver them as one matrix product.
    """
    terms: list[DriveTerm] = []
    targets: set[str] = set()
    w = sympy.Symbol("w", real=True)
    for line in model.on_pre.replace(";", "\n").splitlines():
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
        sym = sym.subs({s: w for s in sym.free_symbols if s.name == "w"})
        coef = sympy.simplify(sympy.diff(sym, w))
        if w in coef.free_symbols or sympy.simplify(sym.subs(w, 0)) != 0:
            raise ModelError(f"on_pre statement {line!r}: the increment must be linear in w (c*w)")
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


def weight_dimension(model: NeuronModel) -> Dimension:
    """Dimension of the synaptic weight ``w`` implied by the first ``on_pre`` statement.

    For ``v += w`` it is the dimension of ``v``; for ``v += w*mV`` it is dimensionless.
    """
    term = drive_terms(model)[0]
    target_dim = model.brian_equations[term.target].dim
    return target_dim / dimension_of(_evaluate_dimensions(model, term.coefficient))


def weight_unit(model: NeuronModel) -> str:
    """The unit of ``w`` as Brian2 writes it in a ``Synapses`` model (``"volt"``, ``"1"``...)."""
    dim = weight_dimension(model)
    return "1" if dim is DIMENSIONLESS else repr(get_unit(dim))


def _evaluate_dimensions(model: NeuronModel, expr: str) -> Any:
    ns: dict[str, Any] = dict(DEFAULT_UNITS)
    ns.update({name: f.pyfunc for name, f in DEFAULT_FUNCTIONS.items() if getattr(f, "pyfunc", None)})
    ns["int"] = lambda x: 1
    ns.update(model.parameters)
    eqs = model.brian_equations
    for name in eqs.names:
        value = True if eqs[name].var_type == "boolean" else Quantity(1.0, dim=eqs[name].dim)
        ns[name] = ns[name + "_post"] = value
    ns["not_refractory"] = ns["not_refractory_post"] = True
    try:
        return eval(expr, {"__builtins__": {}}, ns)  # noqa: S307 - Brian2 expression, names restricted
    except Exception as exc:
        raise ModelError(f"cannot determine the unit of w from on_pre factor {expr!r}: {exc}") from exc


def build_layer(
    model: NeuronModel,
    n: int,
    dt: Any,
    *,
    name: str = "layer",
    codeobj_class: Any = None,
) -> Layer:
    """Create the ``NeuronGroup`` of ``n`` neurons of ``model`` (plus its lateral synapses).

    Example
    -------
    >>> from brian2 import ms, Network
    >>> from bioSNN.equations import library
    >>> layer = build_layer(library.lif_exp_synapse(), 10, 0.1*ms)
    >>> net = Network(*[o for o in layer if o is not None])
    """
    if int(n) < 1:
        raise InputError(f"a layer needs at least one neuron, got n={n}")
    kwargs: dict[str, Any] = {"namespace": model.namespace(), "dt": dt, "codeobj_class": codeobj_class}
    try:
        group = NeuronGroup(
            int(n),
            model.equations,
            threshold=model.threshold,
            reset=model.reset,
            refractory=False if model.refractory is None else model.refractory,
            method=model.method,
            name=name,
            **kwargs,
        )
        for var, value in model.initial.items():
            setattr(group, var, value)
        for k, ps in enumerate(model.per_step):
            group.run_regularly(ps.code, when=ps.when, order=ps.order, name=f"{name}_per_step_{k}",
                                codeobj_class=codeobj_class)
        _move(group.thresholder.get("spike"), model.schedule.get("threshold"))
        _move(group.resetter.get("spike"), model.schedule.get("reset"))
        lateral = None
        if model.lateral:
            lateral = Synapses(group, group, model.lateral, name=f"{name}_lateral", **kwargs)
            lateral.connect()
            for updater in lateral.summed_updaters.values():
                _move(updater, model.schedule.get("lateral"))
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"Brian2 rejects model '{model.name}': {exc}") from exc
    return Layer(group, lateral)


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
    name: str | None = None,
    codeobj_class: Any = None,
) -> Synapses:
    """All-to-all ``Synapses`` from ``source`` onto ``layer`` with effect ``model.on_pre``.

    ``weights`` is ``[n_source, n_layer]``, a quantity in the unit of ``w`` or plain SI numbers.
    """
    group = layer.group
    unit = weight_unit(model)
    try:
        syn = Synapses(
            source, group, f"w : {unit}", on_pre=model.on_pre, namespace=model.namespace(),
            dt=group.clock.dt, name=name or f"{group.name}_input", codeobj_class=codeobj_class,
        )
    except Exception as exc:
        raise ModelError(f"Brian2 rejects on_pre {model.on_pre!r} of model '{model.name}': {exc}") from exc
    n_in, n_out = len(source), len(group)
    connect_all(syn, n_in, n_out)
    if weights is not None:
        w = np.asarray(si_value(weights), dtype=np.float64)
        if w.shape != (n_in, n_out):
            raise InputError(f"weights must have shape [n_in, n_out] = {(n_in, n_out)}, got {w.shape}")
        syn.w_ = w.ravel()
    return syn


def _move(obj: Any, slot: tuple[str, int] | None) -> None:
    if obj is not None and slot is not None:
        obj.when, obj.order = slot
