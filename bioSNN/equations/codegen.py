"""Translate Brian2's own abstract code for a layer into one Python/torch step function.

How it works
------------
1. :func:`~bioSNN.equations.brian.build_layer` builds the model's Brian2 objects (numpy target,
   nothing is simulated) and Brian2 runs its ``before_run`` on them. Brian2 then holds, for every
   object of the layer, the *abstract code* it will execute: the state updater's output for the
   chosen method (``StateUpdateMethod.apply_stateupdater`` plus refractoriness gating), the
   threshold condition, the reset statements, ``run_regularly`` blocks, lateral summed variables
   and the ``on_pre`` pathway.
2. The objects are visited in Brian2's own schedule order (``Network.sorted_objects``: slot,
   order, name). Each block's statements come from Brian2's ``make_statements`` (which also inserts
   the subexpressions a block uses) and are rendered to torch by :class:`TorchRenderer`.
   Writes to variables that Brian2 marks ``conditional_write`` (``unless refractory``) become
   ``torch.where(not_refractory, new, old)``, as Brian2 does in every block except resets.
3. The threshold is rendered a second time by :class:`SurrogateRenderer`: comparisons become
   ``Surrogate.spike(a, b)`` (exact Heaviside forward, surrogate backward), ``and``/``or``/``not``
   become products, ``a+b-ab`` and ``1-a`` of exact 0/1 values.

The resulting source is compiled once per model and dtype; :mod:`bioSNN.equations.torch_step`
calls it once per time step.
"""

from __future__ import annotations

import ast
import collections
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from brian2 import Network, SpikeGeneratorGroup, ms
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.codegen.translation import make_statements
from brian2.core.functions import DEFAULT_CONSTANTS, Function
from brian2.core.namespace import DEFAULT_UNITS
from brian2.input.timedarray import TimedArray
from brian2.core.variables import Constant, Subexpression
from brian2.groups.neurongroup import Resetter, StateUpdater, Thresholder
from brian2.groups.group import CodeRunner
from brian2.parsing.expressions import parse_expression_dimensions
from brian2.parsing.rendering import NodeRenderer
from brian2.synapses.synapses import SummedVariableUpdater, SynapticPathway

from .brian import Layer, build_layer, connect_input, drive_terms, input_name
from ..errors import ModelError
from .model import NeuronModel
from ..quantities import si_value
from .runtime import FUNCTIONS, TimedLookup

__all__ = ["GeneratedStep", "generate_step", "TorchRenderer", "SurrogateRenderer"]

_UNSUPPORTED_FUNCTIONS = {"rand", "randn", "poisson"}
_AUG = {"+=": "+", "-=": "-", "*=": "*", "/=": "/"}


@dataclass(frozen=True)
class GeneratedStep:
    """Source and metadata of a generated torch step for one model.

    ``fn(state, drive, params, t, dt, dtype, sg, detach_reset, inv=None) -> (spikes, new_state)``
    where ``drive`` is ``input_spikes @ weights`` for this step; ``observe(state, params, t, dt,
    dtype)`` returns the model's subexpressions. ``invariants(params, dt, dtype)`` computes the loop
    invariants that depend on the parameters and ``dt`` alone (not on the time or the state): a run
    computes them once and passes them to every step as ``inv`` (a step given none computes them).
    """

    model_fingerprint: str
    source: str
    state_fields: tuple[str, ...]
    state_kinds: dict[str, str]  # "float", "time" (always float64), "bool", "int"
    initial: dict[str, Any]
    parameters: tuple[str, ...]
    blocks: tuple[str, ...]  # Brian2 object names, in the order they run
    fn: Callable[..., Any]
    observe: Callable[..., Any]
    state_type: type
    invariants: Callable[..., Any]


def float_literal(value: Any) -> str:
    """``value`` as Python source that evaluates to the same float (``inf``/``nan`` included)."""
    x = float(value)
    if np.isnan(x):
        return "_NAN"
    if np.isinf(x):
        return "_INF" if x > 0 else "(-_INF)"
    return repr(x)


class TorchRenderer(NodeRenderer):
    """Renders a Brian2 expression as torch/Python code; names are mapped by ``name_map``."""

    def __init__(self, name_map: Callable[[str], str]):
        super().__init__()
        self.name_map = name_map

    def render_Name(self, node: ast.Name) -> str:
        return self.name_map(node.id)

    def render_Constant(self, node: ast.Constant) -> str:
        if isinstance(node.value, bool):
            return repr(node.value)
        return float_literal(node.value) if isinstance(node.value, (int, float, np.number)) else repr(node.value)

    def render_Call(self, node: ast.Call) -> str:
        fname = node.func.id
        args = [self.render_node(a) for a in node.args]
        if fname in _UNSUPPORTED_FUNCTIONS:
            raise ModelError(f"'{fname}()' draws random numbers; the torch step cannot reproduce Brian2's RNG")
        if fname == "int":
            return f"_num({args[0]}, _dtype)"
        mapped = self.name_map(fname) if fname not in FUNCTIONS else f"_f_{fname}"
        if mapped.startswith("_ta_"):  # a TimedArray: its lookup depends on the group's dt, like Brian2's
            return f"{mapped}(dt, {', '.join(args)})"
        if not mapped.startswith("_f_"):
            raise ModelError(f"function '{fname}' has no torch translation")
        return f"{mapped}({', '.join(args)})"

    def render_BinOp(self, node: ast.BinOp) -> str:
        if isinstance(node.op, ast.Pow):  # numpy's power, not torch's (see runtime._pow)
            return f"_pow({self.render_node(node.left)}, {self.render_node(node.right)})"
        if isinstance(node.op, ast.Div):  # numpy's division, not torch's number / tensor (see runtime._div)
            return f"_div({self.render_node(node.left)}, {self.render_node(node.right)})"
        return super().render_BinOp(node)

    def render_BoolOp(self, node: ast.BoolOp) -> str:
        fn = "_and" if isinstance(node.op, ast.And) else "_or"
        return f"{fn}({', '.join(self.render_node(v) for v in node.values)})"

    def render_UnaryOp(self, node: ast.UnaryOp) -> str:
        if isinstance(node.op, ast.Not):
            return f"_not({self.render_node(node.operand)})"
        return super().render_UnaryOp(node)


class SurrogateRenderer(TorchRenderer):
    """Renders a threshold condition as an exact 0/1 float with surrogate gradients."""

    def __init__(self, name_map: Callable[[str], str], dims_of: Callable[[str], Any], surrogate_dim: Any,
                 bool_names: set[str]):
        super().__init__(name_map)
        self.dims_of = dims_of
        self.surrogate_dim = surrogate_dim
        self.bool_names = bool_names
        self.plain = NodeRenderer()

    def render_Compare(self, node: ast.Compare) -> str:
        if len(node.ops) != 1:
            raise ModelError("chained comparisons (a < b < c) are not supported in thresholds")
        op, left, right = node.ops[0], node.left, node.comparators[0]
        if isinstance(op, (ast.Lt, ast.LtE)):
            left, right = right, left
        if isinstance(op, (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
            diff = f"({self.plain.render_node(left)}) - ({self.plain.render_node(right)})"
            if self.dims_of(diff) is self.surrogate_dim:
                strict = isinstance(op, (ast.Gt, ast.Lt))
                return f"_sg({self.render_node(left)}, {self.render_node(right)}, {strict})"
        return f"_as_float({TorchRenderer.render_Compare(self, node)}, _dtype)"

    def render_Name(self, node: ast.Name) -> str:
        name = super().render_Name(node)
        return f"_as_float({name}, _dtype)" if node.id in self.bool_names else name

    def render_BoolOp(self, node: ast.BoolOp) -> str:
        parts = [f"({self.render_node(v)})" for v in node.values]
        if isinstance(node.op, ast.And):
            return " * ".join(parts)
        return f"_soft_or({', '.join(parts)})"

    def render_UnaryOp(self, node: ast.UnaryOp) -> str:
        if isinstance(node.op, ast.Not):
            return f"(1.0 - {self.render_node(node.operand)})"
        return super().render_UnaryOp(node)


# ---------------------------------------------------------------------- generation
def generate_step(model: NeuronModel, surrogate_dim: Any) -> GeneratedStep:
    """Generate (and compile) the torch step of ``model``.

    ``surrogate_dim`` is the dimension of the threshold comparisons that get a surrogate gradient.
    Raises :class:`ModelError` naming the problem when Brian2 rejects the model (unknown
    variable, dimension mismatch, equations the method cannot integrate) or when a feature has
    no exact torch counterpart (random numbers, stochastic equations).
    """
    if model.brian_equations.is_stochastic:
        raise ModelError(f"model '{model.name}' has stochastic equations (xi); Brian2's noise cannot be "
                         "reproduced in torch")
    layer, net = _before_run(model)
    group = layer
    gen = _Emitter(model, group, surrogate_dim)
    for obj in net.sorted_objects:
        gen.visit(obj, layer)
    return gen.finish()


def _before_run(model: NeuronModel) -> tuple[Layer, Network]:
    dt = 0.1 * ms
    # per-neuron values enter the step as state, not as code: build with one value of each
    scalar = model.replace(initial={k: (v[0] if np.ndim(v) == 1 else v) for k, v in model.initial.items()})
    layer = build_layer(scalar, 2, dt, name="layer", codeobj_class=NumpyCodeObject)
    source = SpikeGeneratorGroup(1, [], [] * ms, dt=dt, name="layer_source")
    # named as connect_input names them, so that Brian2 orders the pathways as in a user's network
    synapses = [connect_input(model, source, layer, pathway=p, codeobj_class=NumpyCodeObject) for p in model.pathways]
    net = Network(layer, source, *synapses)
    try:
        net.run(0 * ms, namespace={})
    except Exception as exc:
        raise ModelError(_explain(model, exc)) from exc
    return layer, net


def _explain(model: NeuronModel, exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    while cause is not None:
        text += f" ({type(cause).__name__}: {cause})"
        cause = cause.__cause__
    if "UnsupportedEquations" in text or "Cannot integrate" in text or "cannot be integrated" in text.lower():
        return f"model '{model.name}': Brian2 cannot integrate these equations with method '{model.method}': {text}"
    if "DimensionMismatch" in text or "dimension" in text.lower():
        return f"model '{model.name}': dimensionally inconsistent: {text}"
    return f"model '{model.name}' is rejected by Brian2: {text}"


class _Emitter:
    def __init__(self, model: NeuronModel, group: Any, surrogate_dim: Any):
        self.model = model
        self.group = group
        self.surrogate_dim = surrogate_dim
        self.lines: list[str] = []
        self.blocks: list[str] = []
        self.params_used: set[str] = set()
        self.timed_arrays: set[str] = set()
        self.locals: set[str] = set()  # temporaries and subexpressions assigned so far
        eqs = model.brian_equations
        self.kinds: dict[str, str] = {}
        for name in model.state_variables:
            vt = eqs[name].var_type
            self.kinds[name] = {"boolean": "bool", "integer": "int"}.get(vt, "float")
        for name in model.subexpressions:  # '(constant over dt)': stored once per step by Brian2, so state here
            if "constant over dt" in eqs[name].flags:
                self.kinds[name] = "float"
        if model.refractory is not None:
            self.kinds["lastspike"] = "time"
            self.kinds["not_refractory"] = "bool"

    # -- naming -----------------------------------------------------------------
    def name_map(self, variables: dict[str, Any], context: str = "neuron") -> Callable[[str], str]:
        def lookup(name: str) -> str:
            if context == "lateral":
                if name.endswith("_pre") and name[:-4] in self.kinds:
                    return f"{name[:-4]}[..., :, None]"
                if name.endswith("_post") and name[:-5] in self.kinds:
                    return f"{name[:-5]}[..., None, :]"
                if name == "i":
                    return "_idx[:, None]"
                if name == "j":
                    return "_idx[None, :]"
            elif name.endswith("_post") and name[:-5] in self.kinds:
                return name[:-5]
            if name in self.kinds or name in self.locals or name.startswith("_"):
                return name
            if name in ("t", "dt"):
                return name
            if name == "i":
                return "_idx"
            if name == "N":
                return "_n"
            if name == "t_in_timesteps":
                return "_timestep"
            if name in self.model.parameters:
                if isinstance(self.model.parameters[name], TimedArray):
                    self.timed_arrays.add(name)
                    return f"_ta_{name}"
                self.params_used.add(name)
                return f"p_{name}"
            var = variables.get(name)
            if isinstance(var, Function):
                return f"_f_{name}"
            if isinstance(var, Constant):
                return float_literal(np.asarray(var.value))
            if isinstance(var, Subexpression):
                return name
            if var is None and name in DEFAULT_CONSTANTS:
                return float_literal(DEFAULT_CONSTANTS[name].value)
            if var is None and name in DEFAULT_UNITS:  # a unit name: its SI value, as Brian2's targets use it
                return float_literal(np.asarray(DEFAULT_UNITS[name]))
            raise ModelError(f"model '{self.model.name}': variable {name!r} has no torch counterpart")

        return lookup

    def dims_of(self, variables: dict[str, Any]) -> Callable[[str], Any]:
        def dims(code: str) -> Any:
            try:
                return parse_expression_dimensions(code, variables)
            except Exception:
                return None

        return dims

    def emit(self, line: str) -> None:
        self.lines.append("    " + line)

    # -- blocks -----------------------------------------------------------------
    def visit(self, obj: Any, layer: Layer) -> None:
        if isinstance(obj, SynapticPathway):
            names = {input_name("layer", self.model, p): p for p in self.model.pathways}
            if obj.synapses.name in names and obj.prepost == "pre":
                self.block_header(obj)
                self.input_pathway(names[obj.synapses.name])
                return
            raise ModelError(f"model '{self.model.name}': synaptic pathway {obj.name} has no torch translation")
        if isinstance(obj, SummedVariableUpdater):
            self.block_header(obj)
            self.summed(obj)
            return
        if isinstance(obj, Thresholder):
            self.block_header(obj)
            self.threshold(obj)
            return
        if isinstance(obj, Resetter):
            self.block_header(obj)
            self.statements(obj, reset=True)
            return
        if isinstance(obj, (StateUpdater, CodeRunner)):
            if not (obj.abstract_code or "").strip():
                return
            if obj.group.name != self.group.name:
                raise ModelError(f"model '{self.model.name}': {obj.name} (differential equations in the lateral "
                                 "synapses?) has no torch translation")
            self.block_header(obj)
            self.statements(obj, reset=False)

    def block_header(self, obj: Any) -> None:
        self.blocks.append(obj.name)
        self.emit(f"# --- {obj.name} ({obj.when}, order {obj.order})")

    def _statements_of(self, obj: Any, optimise: bool) -> tuple[list[Any], dict[str, Any]]:
        """Brian2's statements for ``obj``; with ``optimise``, exactly what Brian2's numpy target runs:
        loop invariants hoisted into scalar ``_lio_*`` statements and expressions specialised for
        each value of the booleans they use (``int(not_refractory)`` -> two branches)."""
        variables = obj.codeobj.variables
        scalar, vector = make_statements(obj.abstract_code, variables, np.float64, optimise=optimise)
        return list(scalar) + list(vector), variables

    @staticmethod
    def _render(st: Any, render: Callable[[str], str]) -> str:
        branches = getattr(st, "boolean_simplified_expressions", None)
        used = getattr(st, "used_boolean_variables", None)
        if not branches or not used:
            return render(st.expr)

        def select(fixed: tuple[tuple[str, bool], ...], remaining: list[str]) -> str:
            if not remaining:
                return render(branches[fixed])
            name, rest = remaining[0], remaining[1:]
            when_true = select(fixed + ((name, True),), rest)
            when_false = select(fixed + ((name, False),), rest)
            return f"_select({name}, {when_true}, {when_false})"

        return select((), list(used))

    def statements(self, obj: Any, reset: bool) -> None:
        stmts, variables = self._statements_of(obj, optimise=True)
        render = TorchRenderer(self.name_map(variables)).render_expr
        override = set(getattr(obj, "override_conditional_write", None) or ())
        for st in stmts:
            expr = self._render(st, render)
            var = st.var
            if st.op in _AUG:
                expr = f"{var} {_AUG[st.op]} ({expr})"
            elif st.op not in ("=", ":="):
                raise ModelError(f"statement '{var} {st.op} {st.expr}' uses an unsupported operator")
            if var not in self.kinds:  # temporary or subexpression
                self.locals.add(var)
                self.emit(f"{var} = {expr}")
                continue
            if reset:
                self.emit(f"{var} = _reset(_spiked, _spk, {expr}, {var}, _detach)")
                continue
            cond = getattr(self.group.variables[var], "conditional_write", None)
            if cond is not None and cond.name not in override:
                self.emit(f"{var} = _where({cond.name}, {expr}, {var})")
            else:
                self.emit(f"{var} = _assign({expr}, {var})")

    def threshold(self, obj: Any) -> None:
        stmts, variables = self._statements_of(obj, optimise=False)
        plain = TorchRenderer(self.name_map(variables))
        bools = {n for n, k in self.kinds.items() if k == "bool"}
        soft = SurrogateRenderer(self.name_map(variables), self.dims_of(variables), self.surrogate_dim, bools)
        for st in stmts:
            if st.var == "_cond":
                self.emit(f"_spk = {soft.render_expr(st.expr)}")
                self.emit("_spk = _assign(_spk, _zero)")
                self.emit("_spiked = _spk != 0")
            else:
                self.emit(f"{st.var} = {plain.render_expr(st.expr)}")
                self.locals.add(st.var)
        if self.model.refractory is not None:
            self.emit("not_refractory = torch.logical_and(not_refractory, torch.logical_not(_spiked))")
            self.emit("lastspike = torch.where(_spiked, t, lastspike)")

    def input_pathway(self, pathway: str) -> None:
        variables = dict(self.group.variables)
        render = TorchRenderer(self.name_map(variables)).render_expr
        index = list(self.model.pathways).index(pathway)  # the step takes one drive per pathway, in this order
        for term in drive_terms(self.model, pathway):
            coef = render(term.coefficient)
            sign = "+" if term.sign > 0 else "-"
            drive = f"_drive[{index}]"
            inc = drive if coef in ("1.0", "1") else f"({coef}) * {drive}"
            new = f"{term.target} {sign} {inc}"
            cond = getattr(self.group.variables[term.target], "conditional_write", None)
            if cond is not None:
                self.emit(f"{term.target} = _where({cond.name}, {new}, {term.target})")
            else:
                self.emit(f"{term.target} = {new}")

    def summed(self, obj: Any) -> None:
        target = obj.target_varname
        target = target[:-5] if target.endswith("_post") else target
        render = TorchRenderer(self.name_map(obj.codeobj.variables, context="lateral")).render_expr
        expr = render(obj.expression.code)
        self.emit(f"{target} = _assign(_sum_pre({expr}, _pair_shape), {target})")

    # -- assembly ---------------------------------------------------------------
    def finish(self) -> GeneratedStep:
        fields = tuple(sorted(self.kinds))
        observe = self.observe_source(fields)
        ref = self.ref_var()
        lines, hoisted, hoisted_names = _hoist_invariants(self.lines)
        names = [n for n in hoisted_names if re.search(rf"\b{n}\b", "\n".join(lines))]  # what the step reads
        unpack = [f"    ({', '.join(names)},) = _inv if _inv is not None else _invariants(_params, dt, _dtype)"] if names else []
        head = [
            "def _step(_state, _drive, _params, t, dt, _dtype, _sg, _detach, _inv=None):",
            *self.prologue(fields),
            f"    _zero = torch.zeros_like({ref})",
            f"    _pair_shape = ({ref}.shape[:-1]) + (_n, _n)",
            "    _spk = _zero",
            *unpack,
        ]
        tail = [f"    return _spk, _State({', '.join(f'{f}={f}' for f in fields)})"]
        source = "\n".join(_without_unused(head, lines + tail) + lines + tail) + "\n"
        used = sorted(set(re.findall(r"\bp_(\w+)", "\n".join(hoisted))))
        source += "\n".join(["def _invariants(_params, dt, _dtype):",
                             *(f"    p_{p} = _params[{p!r}]" for p in used), *hoisted,
                             f"    return ({''.join(n + ', ' for n in names)})"]) + "\n"  # what the step unpacks
        source += observe
        namespace: dict[str, Any] = {f"_f_{k}": v for k, v in FUNCTIONS.items()}
        from .runtime import HELPERS

        namespace.update(HELPERS)
        for name in self.timed_arrays:
            namespace[f"_ta_{name}"] = TimedLookup.of(self.model.parameters[name])
        state_type = collections.namedtuple(f"State_{_identifier(self.model.name)}", fields)  # type: ignore[misc]
        namespace["_State"] = state_type
        try:
            code = compile(source, f"<bioSNN step for model '{self.model.name}'>", "exec")
        except SyntaxError as exc:  # pragma: no cover - would be a bug of this module
            raise ModelError(f"internal error generating the torch step:\n{source}") from exc
        exec(code, namespace)  # noqa: S102 - source generated above from Brian2 statements
        return GeneratedStep(
            model_fingerprint=self.model.fingerprint(),
            source=source,
            state_fields=fields,
            state_kinds=dict(self.kinds),
            initial=self.initial_values(),
            parameters=tuple(sorted(self.params_used)),
            blocks=tuple(self.blocks),
            fn=namespace["_step"],
            observe=namespace["_observe"],
            state_type=state_type,
            invariants=namespace["_invariants"],
        )

    def ref_var(self) -> str:
        floats = [n for n, k in sorted(self.kinds.items()) if k == "float"]
        if not floats:
            raise ModelError(f"model '{self.model.name}' has no floating-point state variable")
        return floats[0]

    def observe_source(self, fields: tuple[str, ...]) -> str:
        eqs = self.model.brian_equations
        variables = dict(self.group.variables)
        render = TorchRenderer(self.name_map(variables)).render_expr
        lines = ["def _observe(_state, _params, t, dt, _dtype):"]
        body: list[str] = []
        done: set[str] = set()
        computed = [n for n in self.model.subexpressions if n not in self.kinds]
        pending = list(computed)
        while pending:
            progressed = False
            for name in list(pending):
                deps = set(eqs[name].identifiers) & set(computed)
                if deps <= done:
                    body.append(f"    {name} = {render(eqs[name].expr.code)}")
                    done.add(name)
                    pending.remove(name)
                    progressed = True
            if not progressed:
                raise ModelError(f"circular subexpressions in model '{self.model.name}': {pending}")
        # shared or state-independent subexpressions are numbers or [B, 1]: one value per neuron
        out = ", ".join(f"{n!r}: _per_neuron({n}, {self.ref_var()})" for n in computed)
        ret = [f"    return {{{out}}}"]
        return "\n".join(lines + _without_unused(self.prologue(fields), body + ret) + body + ret) + "\n"

    def prologue(self, fields: tuple[str, ...]) -> list[str]:
        """Unpack the state and the used parameters; define ``_n`` and ``_idx`` (neuron indices)."""
        ref = self.ref_var()
        return [
            *(f"    {f} = _state.{f}" for f in fields),
            *(f"    p_{p} = _params[{p!r}]" for p in sorted(self.params_used)),
            f"    _n = {ref}.shape[-1]",
            f"    _idx = torch.arange(_n, device={ref}.device)",
        ]

    def initial_values(self) -> dict[str, Any]:
        """Initial value of each state field: a scalar, or a 1-d array of per-neuron values (SI)."""
        out: dict[str, Any] = {}
        for name in self.kinds:
            if name in self.model.per_neuron:
                out[name] = np.asarray(si_value(self.model.initial[name]), dtype=np.float64).copy()
                continue
            var = self.group.variables[name]
            out[name] = np.asarray(var.get_value()).copy().reshape(-1)[0]
        return out


#: functions a loop invariant may call and still be computed once per run (pure, no time, no state)
_PURE = frozenset({f"_f_{name}" for name in FUNCTIONS}) | {"_div", "_pow"}


def _hoist_invariants(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Split Brian2's loop invariants (``_lio_k = ...``, invariant across neurons) into those that
    depend on the parameters and ``dt`` alone, hence on nothing that changes during a run, and the
    rest: ``(remaining lines, hoisted lines, hoisted names)``. A name Brian2 defines twice (in two
    code blocks) stays where it is."""
    defined = re.findall(r"^    (_lio_\d+) = ", "\n".join(lines), re.M)
    once = {n for n in defined if defined.count(n) == 1}
    kept, hoisted, names = [], [], []
    for line in lines:
        m = re.match(r"^    (_lio_\d+) = (.*)$", line)
        if m and m.group(1) in once:
            idents = set(re.findall(r"(?<![\w.])[A-Za-z_]\w*", m.group(2)))
            if all(i == "dt" or i.startswith("p_") or i in names or i in _PURE for i in idents):
                hoisted.append(line)
                names.append(m.group(1))
                continue
        kept.append(line)
    return kept, hoisted, names


def _without_unused(prologue: list[str], body: list[str]) -> list[str]:
    """``prologue`` without the definitions nothing reads: the helpers ``_pair_shape``, ``_idx``, ``_n``
    and the unpacked parameters ``p_*`` (those only loop invariants read, say). A step runs thousands
    of times, and each is a tensor op or a dictionary lookup."""
    kept = list(prologue)
    changed = True
    while changed:
        changed = False
        for line in list(kept):
            m = re.match(r"^    (_pair_shape|_idx|_n|p_\w+) = ", line)
            if m is None:
                continue
            text = "\n".join(body + [other for other in kept if other is not line])
            if not re.search(rf"\b{m.group(1)}\b", text):
                kept.remove(line)
                changed = True
    return kept


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "model"
