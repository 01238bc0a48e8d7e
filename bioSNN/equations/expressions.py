r"""Evaluate an expression read from a file without ``eval``: numbers, known names, arithmetic, calls.

Model JSON and ``.nir`` metadata carry Brian2 expressions (a threshold ``v_th + 2*mV``, an ``on_pre``
factor ``w*mV``). Where bioSNN needs their value (a constant for NIR, a unit for a weight) it walks
their syntax tree and allows only

* numbers (``int``, ``float``; no strings, bytes or containers),
* names present in the given namespace (units, parameters, Brian2's functions) and not starting
  with ``_``,
* ``+ - * / // % **``, unary ``+ - not``, comparisons and ``and``/``or``,
* calls of a namespace function with positional arguments.

Everything else (attribute access, subscripts, lambdas, comprehensions, keywords, starred arguments,
f-strings, walrus) is refused with :class:`~bioSNN.errors.ModelError` naming the construct. The text is
NFKC-normalised first, as Python normalises identifiers, so a fullwidth ``＿＿class＿＿`` is checked as
the ``__class__`` it becomes. Integer powers are computed in floating point, so ``9**9**9`` overflows
with an error instead of running for hours.

Example:
    >>> from brian2 import mV
    >>> evaluate_expression("v_th + 2*mV", {"v_th": 10 * mV, "mV": mV})
    12. * mvolt
    >>> evaluate_expression("().__class__", {})
    Traceback (most recent call last):
    ...
    bioSNN.errors.ModelError: expression '().__class__': Attribute is not allowed (numbers, known names, arithmetic and function calls only)
"""

from __future__ import annotations

import ast
import operator
import unicodedata
from typing import Any, Callable, Mapping

from ..errors import ModelError

__all__ = ["evaluate_expression", "MAX_EXPRESSION_LENGTH"]

#: longer expression strings are refused before they are parsed
MAX_EXPRESSION_LENGTH = 10_000

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Not: operator.not_}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq,
    ast.NotEq: operator.ne}


def evaluate_expression(expr: str, names: Mapping[str, Any]) -> Any:
    """The value of ``expr`` with ``names`` bound (see the module docstring for what is allowed).

    Raises :class:`~bioSNN.errors.ModelError` for anything else, for unknown names and for errors of
    the arithmetic itself (units that do not match, overflow, division by zero).
    """
    if not isinstance(expr, str):
        raise ModelError(f"an expression must be a string, got {type(expr).__name__}")
    if len(expr) > MAX_EXPRESSION_LENGTH:
        raise ModelError(f"expression of {len(expr)} characters (at most {MAX_EXPRESSION_LENGTH})")
    text = unicodedata.normalize("NFKC", expr)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ModelError(f"expression {expr!r} does not parse: {exc}") from None
    try:
        return _value(tree.body, names, expr)
    except ModelError:
        raise
    except RecursionError:
        raise ModelError(f"expression {expr!r} is nested too deeply") from None
    except Exception as exc:  # the arithmetic itself: units, overflow, zero division, a function's own error
        raise ModelError(f"expression {expr!r} cannot be evaluated: {type(exc).__name__}: {exc}") from None


def _refused(node: ast.AST, expr: str) -> ModelError:
    return ModelError(f"expression {expr!r}: {type(node).__name__} is not allowed (numbers, known names, arithmetic "
                      "and function calls only)")


def _name(node: ast.Name, names: Mapping[str, Any], expr: str) -> Any:
    if node.id.startswith("_"):
        raise ModelError(f"expression {expr!r}: the name {node.id!r} is not allowed (names starting with _)")
    if node.id not in names:
        raise ModelError(f"expression {expr!r}: unknown name {node.id!r}")
    return names[node.id]


def _value(node: ast.AST, names: Mapping[str, Any], expr: str) -> Any:
    if isinstance(node, ast.Constant):
        if type(node.value) in (int, float, bool):
            return node.value
        raise ModelError(f"expression {expr!r}: the constant {node.value!r} is not a number")
    if isinstance(node, ast.Name):
        return _name(node, names, expr)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left, names, expr), _value(node.right, names, expr)
        if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
            left = float(left)  # no unbounded integer powers
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand, names, expr))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left, result = _value(node.left, names, expr), True
        for op, comparator in zip(node.ops, node.comparators):
            right = _value(comparator, names, expr)
            result = result and _COMPARE[type(op)](left, right)
            left = right
        return result
    if isinstance(node, ast.BoolOp):
        values = [_value(v, names, expr) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out and v) if isinstance(node.op, ast.And) else (out or v)
        return out
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ModelError(f"expression {expr!r}: only calls of a known function by name with positional "
                             "arguments are allowed")
        func = _name(node.func, names, expr)
        if not callable(func):
            raise ModelError(f"expression {expr!r}: {node.func.id!r} is not a function")
        return func(*(_value(a, names, expr) for a in node.args))
    raise _refused(node, expr)
