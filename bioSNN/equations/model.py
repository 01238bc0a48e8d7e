"""The :class:`NeuronModel`: one neuron model, written once in Brian2 syntax.

Both stages are generated from it: :mod:`bioSNN.equations.brian` builds the Brian2 objects,
:mod:`bioSNN.equations.codegen` turns Brian2's own abstract code for those objects into a PyTorch
step. A model is immutable; :meth:`NeuronModel.replace` makes a modified copy.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np
from brian2 import Equations
from brian2.core.functions import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, Function
from brian2.input.timedarray import TimedArray
from brian2.units.fundamentalunits import Quantity
from brian2.core.namespace import DEFAULT_UNITS
from brian2.utils.stringtools import get_identifiers

from ..errors import InputError, ModelError
from ..quantities import dimension_of, quantity_from_json, quantity_to_json

__all__ = ["NeuronModel", "PerStep", "SCHEDULE_SLOTS", "FORMAT_VERSION"]

#: Version of the dict layout written by :meth:`NeuronModel.to_dict`.
FORMAT_VERSION = 1

#: Brian2's scheduling slots, in execution order within one time step.
SCHEDULE_SLOTS = (
    "start",
    "before_groups",
    "groups",
    "after_groups",
    "before_thresholds",
    "thresholds",
    "after_thresholds",
    "before_synapses",
    "synapses",
    "after_synapses",
    "before_resets",
    "resets",
    "after_resets",
    "before_end",
    "end",
)

#: Objects of a layer whose slot a model may move with ``schedule=``.
SCHEDULABLE = ("threshold", "reset", "lateral")

# Names Brian2 provides inside a NeuronGroup / Synapses without them being declared.
_GROUP_SPECIALS = {"t", "dt", "i", "N", "t_in_timesteps", "lastspike", "not_refractory"}
_SYNAPSE_SPECIALS = {"j"}

#: Name of the input pathway of a model whose ``on_pre`` is a single string.
DEFAULT_PATHWAY = "input"
_BUILTINS = set(DEFAULT_UNITS) | set(DEFAULT_FUNCTIONS) | set(DEFAULT_CONSTANTS) | {"True", "False"}


@dataclass(frozen=True)
class PerStep:
    """A block of statements that Brian2 runs every time step (``run_regularly``).

    ``when`` is one of :data:`SCHEDULE_SLOTS`; blocks that share a slot run in ``order``.
    The torch step runs the same block at the same place of the step.
    """

    code: str
    when: str = "start"
    order: int = 0


@dataclass(frozen=True)
class NeuronModel:
    r"""A neuron model in Brian2 syntax, the single source of both Brian2 and PyTorch dynamics.

    Parameters
    ----------
    equations:
        Brian2 model equations, e.g. ``"dv/dt = (v_rest - v)/tau : volt (unless refractory)"``.
    threshold:
        Spike condition, e.g. ``"v > v_th"``; ``None`` for a neuron that never spikes.
    reset:
        Statements run for neurons that spiked (several allowed, separated by newlines or ``;``).
    refractory:
        A time quantity, a Brian2 string (time expression or boolean condition), or ``None``.
    on_pre:
        Effect of one incoming spike through a synapse of weight ``w``, e.g. ``"v += w"``.
        Statements must be ``X += expr`` / ``X -= expr`` with ``expr`` linear in ``w``.
        Several input pathways are a dict ``{"exc": "ge += w", "inh": "gi += w"}``: each pathway
        has its own synapses, weights and drive (a single string is the pathway ``"input"``).
    weight:
        Name of the synaptic weight variable in ``on_pre`` (default ``w``); rename it when the
        neurons have a variable ``w`` of their own (AdEx).
    method:
        Brian2 integration method (``"exact"``, ``"euler"``, ``"exponential_euler"``, ``"rk2"``...).
    parameters:
        Shared constants used by the statements, with Brian2 units (``{"tau": 10*ms}``), or Brian2
        ``TimedArray`` s called as functions of time. An entry naming a variable declared in the
        equations (``tau : second (constant)``) is that variable's value, as if given in ``initial``.
    initial:
        Initial values of state variables; variables not given start at 0, as in Brian2. A 1-d array
        (or list of quantities) gives one value per neuron (per-neuron constants such as ``tau``).
    per_step:
        Extra statements run every step (Brian2 ``run_regularly``), as :class:`PerStep` or
        ``(code, when[, order])`` tuples.
    lateral:
        Model of all-to-all synapses among the layer's own neurons (self included), holding
        ``(summed)`` variables, e.g. ``"n_max_post = int(v_pre > v_post) : 1 (summed)"``.
    schedule:
        Slot overrides for ``"threshold"``, ``"reset"`` or ``"lateral"``: ``{"threshold":
        ("after_synapses", 2)}``.
    name, description:
        Labels only; they do not enter the :meth:`fingerprint`.

    Examples
    --------
    >>> from brian2 import mV, ms
    >>> lif = NeuronModel(
    ...     equations="dv/dt = (v_rest - v)/tau : volt (unless refractory)",
    ...     threshold="v > v_th", reset="v = v_rest", refractory=2*ms, on_pre="v += w",
    ...     method="exact", parameters={"v_rest": -65*mV, "v_th": -50*mV, "tau": 10*ms},
    ...     initial={"v": -65*mV})
    >>> lif.state_variables
    ('v',)
    >>> len(lif.fingerprint())
    64
    """

    equations: str
    threshold: str | None = None
    reset: str | None = None
    refractory: Any = None
    on_pre: Any = "v += w"
    method: str = "exact"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    initial: Mapping[str, Any] = field(default_factory=dict)
    per_step: Sequence[Any] = ()
    lateral: str | None = None
    schedule: Mapping[str, Any] = field(default_factory=dict)
    name: str = "custom"
    description: str = ""
    weight: str = "w"

    # ------------------------------------------------------------------ construction
    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "parameters", dict(self.parameters))
        set_(self, "initial", dict(self.initial))
        set_(self, "per_step", tuple(_as_per_step(p, i) for i, p in enumerate(self.per_step)))
        set_(self, "schedule", {k: _as_slot(k, v) for k, v in dict(self.schedule).items()})
        if isinstance(self.equations, Equations):  # a Brian2 Equations object: kept as its equation string
            set_(self, "equations", equations_string(self.equations))
        if not isinstance(self.equations, str) or not self.equations.strip():
            raise ModelError("NeuronModel needs `equations`, a non-empty Brian2 equations string or Equations object")
        try:
            eqs = Equations(self.equations)
        except Exception as exc:  # Brian2 raises several types for syntax problems
            raise ModelError(f"cannot parse the equations of model '{self.name}': {exc}") from exc
        set_(self, "_eqs", eqs)
        linked = sorted(n for n in eqs.names if "linked" in eqs[n].flags)
        if linked:
            raise ModelError(f"model '{self.name}' declares {linked} '(linked)': a linked variable refers to another "
                             "group, and a layer is one population; declare it as a parameter instead")
        set_(self, "on_pre", _as_on_pre(self.on_pre))
        if not isinstance(self.weight, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.weight):
            raise ModelError(f"weight must be a variable name, got {self.weight!r}")
        if self.weight in eqs.names or self.weight in self.parameters:
            raise ModelError(
                f"the synaptic weight {self.weight!r} is also a variable or parameter of model '{self.name}'; "
                f"choose another name with NeuronModel(..., weight='w_syn') and write it in on_pre")
        self._move_declared_parameters()
        self._check_parameters()
        self._check_syntax()
        self._check_identifiers()
        self._check_initial()
        for key in self.schedule:
            if key not in SCHEDULABLE:
                raise ModelError(f"schedule key {key!r} unknown; choose from {SCHEDULABLE}")

    def _move_declared_parameters(self) -> None:
        """``parameters`` entries that name a parameter declared in the equations become initial values."""
        declared = {n for n in self._eqs.names if self._eqs[n].type == "parameter"}
        moved = {k: v for k, v in self.parameters.items() if k in declared}
        if not moved:
            return
        twice = sorted(set(moved) & set(self.initial))
        if twice:
            raise ModelError(f"{twice} given both in `parameters` and in `initial` of model '{self.name}'")
        object.__setattr__(self, "parameters", {k: v for k, v in self.parameters.items() if k not in moved})
        object.__setattr__(self, "initial", {**self.initial, **moved})

    def _check_parameters(self) -> None:
        clash = set(self.parameters) & set(self._eqs.names)
        if clash:
            raise ModelError(f"{sorted(clash)} are both parameters and variables of the equations")
        for name, value in self.parameters.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ModelError(f"parameter name {name!r} is not a valid identifier")
            if isinstance(value, TimedArray):
                if not np.isfinite(np.asarray(value.values, dtype=float)).all():
                    raise ModelError(f"TimedArray parameter {name!r} holds NaN or infinite values")
                continue
            if isinstance(value, Function):
                raise ModelError(f"parameter {name!r} is a Brian2 function other than a TimedArray; only "
                                 "TimedArray parameters have a torch counterpart")
            try:
                finite = np.isfinite(np.asarray(value, dtype=float)).all()
            except (TypeError, ValueError):
                finite = False
            if isinstance(value, (str, bytes)) or not finite:
                raise ModelError(f"parameter {name!r} must be a finite number or quantity, got {value!r}")
            if np.ndim(value) != 0:
                raise ModelError(
                    f"parameter {name!r} has shape {np.shape(value)}: parameters are shared by all neurons. For "
                    f"one value per neuron declare it in the equations ('{name} : <unit> (constant)') and give "
                    "the array in `initial` (or in `parameters`)")

    def _check_syntax(self) -> None:
        """Threshold, refractory condition (an expression), reset, on_pre and per-step code (statements)
        must parse, so a typo is named here and not in a SyntaxError from Brian2's code generation."""
        import ast

        pieces = [("threshold", self.threshold, "eval"), ("reset", self.reset, "exec")]
        if isinstance(self.refractory, str):
            pieces.append(("refractory", self.refractory, "eval"))
        for pathway, code in self.pathways.items():
            pieces.append(("on_pre" if isinstance(self.on_pre, str) else f"on_pre[{pathway!r}]", code, "exec"))
        pieces += [(f"per_step[{ps.when}]", ps.code, "exec") for ps in self.per_step]
        for what, code, mode in pieces:
            if not code:
                continue
            if not isinstance(code, str):
                raise ModelError(f"{what} of model '{self.name}' must be a string, got {type(code).__name__}")
            text = "\n".join(line.strip() for line in code.splitlines())
            try:
                ast.parse(text.strip(), mode=mode)
            except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
                raise ModelError(f"{what} of model '{self.name}' does not parse: {code!r} "
                                 f"({getattr(exc, 'msg', exc)})") from None

    def _check_identifiers(self) -> None:
        known = set(self._eqs.names) | set(self.parameters) | _BUILTINS | _GROUP_SPECIALS
        summed = self.lateral_targets
        pieces: list[tuple[str, str, set[str]]] = [("equations", self.equations, set())]
        for what, code in (("threshold", self.threshold), ("reset", self.reset)):
            if code:
                pieces.append((what, code, set()))
        if isinstance(self.refractory, str):
            pieces.append(("refractory", self.refractory, set()))
        for pathway, code in self.pathways.items():
            what = "on_pre" if isinstance(self.on_pre, str) else f"on_pre[{pathway!r}]"
            pieces.append((what, code, _SYNAPSE_SPECIALS | {self.weight} | _suffixed(self._eqs.names, "_post")))
        for ps in self.per_step:
            pieces.append((f"per_step[{ps.when}]", ps.code, set()))
        if self.lateral:
            lat_known = _suffixed(self._eqs.names, "_pre") | _suffixed(self._eqs.names, "_post")
            pieces.append(("lateral", self.lateral, lat_known | {"j"}))
        for what, code, extra in pieces:
            ids = get_identifiers(_strip_equation_units(code) if what in ("equations", "lateral") else code)
            if what in ("reset",) or what.startswith("per_step"):
                ids -= _temporaries(code)
            if what == "lateral":
                ids -= {name for name in ids if name in summed or name.endswith("_post") and name[:-5] in summed}
            unknown = sorted(n for n in ids if n not in known and n not in extra and not n.startswith("xi"))
            if unknown:
                hint = "missing parameter" if len(unknown) == 1 else "missing parameters"
                raise ModelError(
                    f"{what} of model '{self.name}' uses {', '.join(map(repr, unknown))}: unknown variable "
                    f"({hint}? declare it in `parameters` or as a variable of the equations)"
                )

    def _check_initial(self) -> None:
        object.__setattr__(self, "initial", {k: _as_value(k, v) for k, v in self.initial.items()})
        unset = sorted(n for n in self._eqs.names if self._eqs[n].type == "parameter"
                       and "constant" in self._eqs[n].flags and n not in self.initial)
        if unset:  # Brian2 would start them at 0 (a 0 s time constant, a 0 mV threshold): never silently
            raise ModelError(f"model '{self.name}' declares {', '.join(map(repr, unset))} as constant but gives no "
                             "value: put one value, or one per neuron, in `initial` (or `parameters`)")
        for name, value in self.initial.items():
            if name not in self.state_variables:
                raise ModelError(
                    f"initial value given for {name!r}, which is not a state variable of model "
                    f"'{self.name}' (state variables: {', '.join(self.state_variables)})"
                )
            if isinstance(value, str):
                raise ModelError(f"initial value of {name!r} must be a number or quantity, not a string")
            if np.ndim(value) > 1 or (np.ndim(value) == 1 and len(value) == 0):
                raise ModelError(f"initial value of {name!r} must be a number or a 1-d array (one value per "
                                 f"neuron), got shape {np.shape(value)}")
            if not isinstance(value, (bool, np.bool_)) and not np.isfinite(np.asarray(value, dtype=float)).all():
                raise ModelError(f"initial value of {name!r} holds NaN or infinite values")
            expected = self._eqs[name].dim
            got = dimension_of(value)
            if got is not expected:
                raise ModelError(
                    f"initial value of {name!r} has dimension {got!s} ({value!r}), "
                    f"but {name!r} is declared with dimension {expected!s}"
                )

    # ------------------------------------------------------------------ views
    @property
    def brian_equations(self) -> Equations:
        """The parsed Brian2 :class:`~brian2.Equations`."""
        return self._eqs  # type: ignore[attr-defined]

    @property
    def state_variables(self) -> tuple[str, ...]:
        """Variables that each neuron stores (differential equations and declared parameters)."""
        return tuple(sorted(n for n in self._eqs.names if n not in self._eqs.subexpr_names))

    @property
    def pathways(self) -> dict[str, str]:
        """Input pathways ``{name: on_pre}`` (``{"input": on_pre}`` for a single-string ``on_pre``)."""
        return {DEFAULT_PATHWAY: self.on_pre} if isinstance(self.on_pre, str) else dict(self.on_pre)

    def per_pathway(self, value: Any, what: str) -> dict[str, Any]:
        """``value`` given per input pathway, as ``{pathway: value}``: a dict keyed by every pathway name,
        or (single-pathway models only) the value itself. ``what`` names it in the error."""
        names = list(self.pathways)
        if isinstance(value, Mapping):
            if set(value) != set(names):
                raise InputError(f"{what} given for pathways {sorted(value)}, but model '{self.name}' has {names}")
            return {k: value[k] for k in names}
        if len(names) != 1:
            raise InputError(f"model '{self.name}' has input pathways {names}: give {what} as a dict {{pathway: ...}}")
        return {names[0]: value}

    def sole_on_pre(self, user: str = "this network") -> str:
        """The ``on_pre`` of a single-pathway model; a named error for a model with several pathways."""
        if not isinstance(self.on_pre, str):
            raise ModelError(f"model '{self.name}' has {len(self.on_pre)} input pathways "
                             f"({', '.join(self.on_pre)}); {user} needs a model with one `on_pre` string")
        return self.on_pre

    @property
    def per_neuron(self) -> tuple[str, ...]:
        """Variables whose initial value is given per neuron (a 1-d array)."""
        return tuple(sorted(k for k, v in self.initial.items() if np.ndim(v) == 1))

    @property
    def subexpressions(self) -> tuple[str, ...]:
        return tuple(sorted(self._eqs.subexpr_names))

    @property
    def lateral_targets(self) -> set[str]:
        """Neuron variables that the ``lateral`` synapses write as ``(summed)`` variables."""
        if not self.lateral:
            return set()
        return {m.group(1) for m in re.finditer(r"^\s*([A-Za-z_]\w*)_post\s*=", self.lateral, re.M)}

    def namespace(self) -> dict[str, Any]:
        """Parameters as a Brian2 namespace (``{"tau": 10*ms, ...}``)."""
        return dict(self.parameters)

    def replace(self, **changes: Any) -> "NeuronModel":
        """A copy with some constructor fields replaced (``model.replace(method="euler")``)."""
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs.update(changes)
        return NeuronModel(**kwargs)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict from which :meth:`from_dict` rebuilds an identical model."""
        ref = self.refractory
        if ref is None or ref is False:
            ref_json: Any = None
        elif isinstance(ref, str):
            ref_json = {"expr": ref}
        else:
            ref_json = quantity_to_json(ref)
        return {
            "format": "bioSNN.NeuronModel",
            "version": FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "equations": self.equations,
            "threshold": self.threshold,
            "reset": self.reset,
            "refractory": ref_json,
            "on_pre": self.on_pre if isinstance(self.on_pre, str) else dict(sorted(self.on_pre.items())),
            "method": self.method,
            "parameters": {k: _parameter_to_json(v) for k, v in sorted(self.parameters.items())},
            "initial": {k: quantity_to_json(v) for k, v in sorted(self.initial.items())},
            "per_step": [[p.code, p.when, p.order] for p in self.per_step],
            "lateral": self.lateral,
            "schedule": {k: list(v) for k, v in sorted(self.schedule.items())},
            # written only when not the default, so that older models keep their fingerprints
            **({"weight": self.weight} if self.weight != "w" else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "NeuronModel":
        """Rebuild a model written by :meth:`to_dict` (also accepts the JSON text). Anything malformed
        (not JSON, nested too deeply, a value that is not a serialised quantity, a field of the wrong
        type) is a :class:`~bioSNN.errors.ModelError`."""
        try:
            return cls._from_dict(data)
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            what = "nested too deeply" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
            raise ModelError(f"malformed NeuronModel data ({what})") from None

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> "NeuronModel":
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        if not isinstance(data, Mapping):
            raise ModelError(f"a serialised NeuronModel is a JSON object, got {type(data).__name__}")
        if data.get("format") != "bioSNN.NeuronModel":
            raise ModelError("not a serialised bioSNN NeuronModel (missing format tag)")
        if int(data.get("version", -1)) > FORMAT_VERSION:
            raise ModelError(f"NeuronModel format version {data['version']} is newer than this bioSNN")
        ref = data.get("refractory")
        if isinstance(ref, dict) and "expr" in ref:
            ref = ref["expr"]
        elif isinstance(ref, dict):
            ref = quantity_from_json(ref)
        return cls(
            equations=data["equations"],
            threshold=data.get("threshold"),
            reset=data.get("reset"),
            refractory=ref,
            on_pre=data.get("on_pre", "v += w"),
            method=data.get("method", "exact"),
            parameters={k: _parameter_from_json(v) for k, v in data.get("parameters", {}).items()},
            initial={k: quantity_from_json(v) for k, v in data.get("initial", {}).items()},
            per_step=[tuple(p) for p in data.get("per_step", [])],
            lateral=data.get("lateral"),
            schedule={k: tuple(v) for k, v in data.get("schedule", {}).items()},
            name=data.get("name", "custom"),
            description=data.get("description", ""),
            weight=data.get("weight", "w"),
        )

    def fingerprint(self) -> str:
        """SHA-256 of everything that determines the dynamics (not ``name``/``description``).

        Code strings are compared after removing comments and surrounding whitespace, so reformatting
        does not change it; any change of an equation, statement, method or parameter value does.
        """
        d = self.to_dict()
        for key in ("name", "description"):
            d.pop(key)
        for key in ("equations", "threshold", "reset", "lateral"):
            d[key] = _normalise_code(d[key])
        d["on_pre"] = (_normalise_code(d["on_pre"]) if isinstance(d["on_pre"], str)
                       else {k: _normalise_code(v) for k, v in d["on_pre"].items()})
        d["per_step"] = [[_normalise_code(c), w, o] for c, w, o in d["per_step"]]
        for group in ("parameters", "initial"):
            for q in d[group].values():
                q.pop("text", None)
                q.get("timed_array", {}).get("values", {}).pop("text", None)
        if isinstance(d["refractory"], dict):
            d["refractory"].pop("text", None)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NeuronModel) and self.fingerprint() == other.fingerprint()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __repr__(self) -> str:
        return f"NeuronModel(name={self.name!r}, method={self.method!r}, fingerprint={self.fingerprint()[:12]})"


# ---------------------------------------------------------------------- helpers
def _as_on_pre(on_pre: Any) -> Any:
    """A single ``on_pre`` string, or a dict of named pathways (at least one), checked."""
    if isinstance(on_pre, str):
        return on_pre
    if not isinstance(on_pre, Mapping) or not on_pre:
        raise ModelError(f"on_pre must be a string or a non-empty dict {{pathway: statements}}, got {on_pre!r}")
    out = {}
    for name, code in on_pre.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ModelError(f"pathway name {name!r} must be an identifier (letters, digits, _)")
        if not isinstance(code, str) or not code.strip():
            raise ModelError(f"on_pre[{name!r}] must be a non-empty string of statements")
        out[name] = code
    return out


def _as_value(name: str, value: Any) -> Any:
    """An initial value as a number, bool, quantity or 1-d array (lists of quantities joined)."""
    if isinstance(value, (list, tuple)):
        try:
            return Quantity(value) if any(isinstance(v, Quantity) for v in value) else np.asarray(value, dtype=float)
        except Exception as exc:  # mixed units, ragged lists
            raise ModelError(f"initial value of {name!r}: cannot make one array of {value!r} ({exc})") from exc
    return value


def _parameter_to_json(value: Any) -> dict[str, Any]:
    if isinstance(value, TimedArray):
        values = Quantity(np.asarray(value.values), dim=value.dim)
        return {"timed_array": {"values": quantity_to_json(values), "dt": float(value.dt)}}
    return quantity_to_json(value)


def _parameter_from_json(data: Mapping[str, Any]) -> Any:
    if "timed_array" in data:
        from brian2 import second

        ta = data["timed_array"]
        return TimedArray(quantity_from_json(ta["values"]), dt=float(ta["dt"]) * second)
    return quantity_from_json(data)


def _as_per_step(item: Any, index: int) -> PerStep:
    if isinstance(item, PerStep):
        ps = item
    elif isinstance(item, str):
        ps = PerStep(item, "start", index)
    else:
        item = tuple(item)
        if not 1 <= len(item) <= 3:
            raise ModelError(f"per_step entries are (code, when[, order]), got {item!r}")
        ps = PerStep(item[0], item[1] if len(item) > 1 else "start", int(item[2]) if len(item) > 2 else index)
    if ps.when not in SCHEDULE_SLOTS:
        raise ModelError(f"per_step slot {ps.when!r} is not a Brian2 slot; choose from {SCHEDULE_SLOTS}")
    if ps.when in ("groups", "thresholds", "synapses", "resets"):
        raise ModelError(
            f"per_step slot {ps.when!r} is shared with the layer's own objects, so the order inside it "
            f"would depend on object names; use 'before_{ps.when}' or 'after_{ps.when}'"
        )
    return ps


def _as_slot(key: str, value: Any) -> tuple[str, int]:
    when, order = (value, 0) if isinstance(value, str) else tuple(value)
    if when not in SCHEDULE_SLOTS:
        raise ModelError(f"schedule[{key!r}] slot {when!r} is not a Brian2 slot; choose from {SCHEDULE_SLOTS}")
    return str(when), int(order)


def _temporaries(code: str) -> set[str]:
    """Names a block of statements assigns with plain ``=`` (Brian2 makes them local temporaries)."""
    found = set()
    for line in code.replace(";", "\n").splitlines():
        m = re.match(r"\s*([A-Za-z_]\w*)\s*=(?!=)", line.split("#", 1)[0])
        if m:
            found.add(m.group(1))
    return found


def _suffixed(names: Any, suffix: str) -> set[str]:
    return {n + suffix for n in names}


def _strip_equation_units(code: str) -> str:
    """Equation text without its ``: unit (flags)`` parts and comments, for identifier scanning."""
    out = []
    for line in code.splitlines():
        line = line.split("#", 1)[0]
        if ":" in line:
            line = line.rsplit(":", 1)[0]
        line = re.sub(r"^\s*d([A-Za-z_]\w*)\s*/\s*dt\s*=", r"\1 =", line)
        out.append(line)
    return "\n".join(out)


def _normalise_code(code: str | None) -> str | None:
    if code is None:
        return None
    lines = []
    for raw in code.replace(";", "\n").splitlines():
        line = " ".join(raw.split("#", 1)[0].split())
        if line:
            lines.append(line)
    return "\n".join(lines)


def equations_string(eqs: Equations) -> str:
    """A Brian2 ``Equations`` object as an equation string Brian2 parses back to the same equations
    (``str(eqs)`` writes units as ``V``, which Brian2 does not read).

    Example:
        >>> eqs = Equations("dv/dt = -v/(10*ms) : volt (unless refractory)\\nI : amp")
        >>> print(equations_string(eqs))
        dv/dt = -v/(10*ms) : volt (unless refractory)
        I : amp
    """
    from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

    lines = []
    for eq in eqs.ordered:
        if eq.var_type in ("boolean", "integer"):
            unit = eq.var_type
        else:
            unit = "1" if eq.dim is DIMENSIONLESS else repr(get_unit(eq.dim))
        flags = f" ({', '.join(eq.flags)})" if eq.flags else ""
        if eq.type == "differential equation":
            lines.append(f"d{eq.varname}/dt = {eq.expr} : {unit}{flags}")
        elif eq.type == "subexpression":
            lines.append(f"{eq.varname} = {eq.expr} : {unit}{flags}")
        else:
            lines.append(f"{eq.varname} : {unit}{flags}")
    return "\n".join(lines)


def check_same_model(made_with: "NeuronModel | str", used: NeuronModel, what: str, *,
                     made_dt: float | None = None, used_dt: float | None = None, hint: str = "") -> None:
    """The one model-mismatch check: refuse to combine ``what`` (a file, a checkpoint, guidance) made
    with the neuron model ``made_with`` (a model or its fingerprint) and step ``made_dt`` (s) with a
    network that runs ``used`` at ``used_dt``; raises :class:`~bioSNN.errors.ModelMismatchError`
    naming both models (name and fingerprint) or both steps, plus ``hint``.

    Example:
        >>> from bioSNN.equations import library
        >>> check_same_model(library.lif_delta(), library.lif_delta(), "guidance")   # agrees: no error
    """
    from ..errors import ModelMismatchError

    made_fp = made_with if isinstance(made_with, str) else made_with.fingerprint()
    if made_fp != used.fingerprint():
        made = made_fp[:12] if isinstance(made_with, str) else f"'{made_with.name}' ({made_fp[:12]})"
        raise ModelMismatchError(f"{what} was made with neuron model {made}, not '{used.name}' "
                                 f"({used.fingerprint()[:12]})" + (f"; {hint}" if hint else ""))
    if made_dt is not None and used_dt is not None and not np.isclose(made_dt, used_dt, rtol=1e-12, atol=0):
        raise ModelMismatchError(f"{what} was made at dt = {made_dt * 1e3:g} ms, not {used_dt * 1e3:g} ms"
                                 + (f"; {hint}" if hint else ""))
