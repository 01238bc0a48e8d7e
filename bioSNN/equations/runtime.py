"""Functions that generated torch steps call: Brian2's built-in functions on tensors or scalars.

Each mirrors the numpy implementation Brian2 uses in its runtime target, so that a statement
evaluates to the same float64 value in both worlds. Scalars stay Python numbers (like Brian2's
loop-invariant constants); tensors go through torch.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

__all__ = ["FUNCTIONS", "HELPERS", "TimedLookup"]


@functools.lru_cache(maxsize=4096)
def _numpy_scalar(numpy_fn: Any, x: float) -> float:
    """``numpy_fn`` of one number, as a Python float (cached: a step recomputes its loop invariants from
    the same numbers every time, and numpy's scalar path costs microseconds)."""
    with np.errstate(all="ignore"):
        return float(numpy_fn(np.float64(x)))


def _numpy_rounding(x: Any) -> bool:
    """Whether ``x`` is a tensor whose functions :class:`_NumpyValue` computes with numpy (eager,
    floating point, on the CPU): there the float64 reference step rounds every operation as Brian2's
    numpy target does. Elsewhere (CUDA, ``torch.compile``) torch's own kernels run."""
    return (torch.is_tensor(x) and x.device.type == "cpu" and x.is_floating_point()
            and not torch.compiler.is_compiling())


class _NumpyValue(torch.autograd.Function):
    """``fn(x)`` with numpy's value and torch's derivative ``grad(x, value)``.

    torch's ``expm1``, ``pow`` (any exponent but the fast paths 2, 0.5, 1, 0, -1) and, on some CPUs,
    ``exp``, ``sqrt``, ``tanh``... round differently from numpy's in the last bits (measured: ``pow(x,
    3.0)`` in 6 % of arguments, ``expm1`` in 0.03 %; ``exp`` 0 % on one machine, 4.5 % on another);
    on an excitable model such a bit grows over a run (Hodgkin-Huxley: 2000 steps end 1e-9 apart). With
    numpy's values a float64 CPU run of ``hh_if_curve`` equals Brian2's numpy target bit for bit."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, fn: Any, grad: Any) -> torch.Tensor:  # type: ignore[override]
        array = x.detach().numpy()
        with np.errstate(all="ignore"):
            value = torch.from_numpy(np.asarray(fn(array), dtype=array.dtype))
        ctx.grad = grad
        ctx.save_for_backward(x, value)
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[Any, None, None]:  # type: ignore[override]
        x, value = ctx.saved_tensors
        return g * ctx.grad(x, value), None, None


def _unary(torch_fn: Any, numpy_fn: Any, math_fn: Any, grad: Any = None) -> Any:
    """``torch_fn`` on tensors; on scalars (loop invariants) numpy's own function, as Brian2's numpy
    target evaluates them (``math.exp`` and ``numpy.exp`` differ in the last bit for about 4 % of
    arguments, and such a bit grows through excitable dynamics). Under ``torch.compile``, which does
    not trace numpy, Python's ``math_fn``. With ``grad(x, value)`` (the derivative), CPU tensors too
    take numpy's value (:class:`_NumpyValue`): for functions whose torch kernel rounds otherwise."""

    def fn(x: Any) -> Any:
        if grad is not None and _numpy_rounding(x):
            return _NumpyValue.apply(x, numpy_fn, grad)
        if torch.is_tensor(x):
            return torch_fn(x)
        if torch.compiler.is_compiling():
            return math_fn(x)
        return _numpy_scalar(numpy_fn, float(x))

    fn.__name__ = torch_fn.__name__
    return fn


def _sign(x: Any) -> Any:
    return torch.sign(x) if torch.is_tensor(x) else float((x > 0) - (x < 0))


def _clip(x: Any, low: Any, high: Any) -> Any:
    if not torch.is_tensor(x):
        if torch.is_tensor(low) or torch.is_tensor(high):
            x = torch.as_tensor(x)
        else:
            return min(max(x, low), high)
    return torch.minimum(torch.maximum(x, torch.as_tensor(low, dtype=x.dtype, device=x.device)),
                         torch.as_tensor(high, dtype=x.dtype, device=x.device))


_expm1 = _unary(torch.expm1, np.expm1, math.expm1, grad=lambda x, value: value + 1)


def _exprel(x: Any) -> Any:
    if not torch.is_tensor(x):
        if abs(x) < 1e-16:
            return 1.0
        return _expm1(x) / x if x <= 717 else math.inf
    small = torch.abs(x) < 1e-16
    safe = torch.where(small, torch.ones_like(x), x)
    return torch.where(small, torch.ones_like(x), _expm1(safe) / safe)


def _timestep(t: Any, dt: Any) -> Any:
    """Brian2's ``timestep``: ``int64((t + 1e-3*dt) / dt)`` (truncation toward zero)."""
    q = (t + 1e-3 * dt) / dt
    return torch.trunc(q).to(torch.int64) if torch.is_tensor(q) else int(q)


def _not(x: Any) -> Any:
    return torch.logical_not(x) if torch.is_tensor(x) else not x


def _logical(op: Any, python_op: Any) -> Any:
    def fn(*xs: Any) -> Any:
        out = xs[0]
        for x in xs[1:]:
            if torch.is_tensor(out) or torch.is_tensor(x):
                out = op(torch.as_tensor(out), torch.as_tensor(x))
            else:
                out = python_op(out, x)
        return out

    return fn


_and = _logical(torch.logical_and, lambda a, b: bool(a and b))
_or = _logical(torch.logical_or, lambda a, b: bool(a or b))


def _soft_or(*xs: Any) -> Any:
    out = xs[0]
    for x in xs[1:]:
        out = out + x - out * x
    return out


def _num(x: Any, dtype: torch.dtype) -> Any:
    """Brian2's ``int(...)`` as a number of the layer's float dtype (truncates floats)."""
    if torch.is_tensor(x):
        if x.dtype == torch.bool:
            return x.to(dtype)
        return torch.trunc(x) if x.is_floating_point() else x.to(dtype)
    return int(x)


def _as_float(x: Any, dtype: torch.dtype) -> Any:
    return x.to(dtype) if torch.is_tensor(x) else float(x)


def _assign(value: Any, old: torch.Tensor) -> torch.Tensor:
    """``value`` converted to the dtype, device and shape of the variable it overwrites."""
    if not torch.is_tensor(value):
        return torch.full_like(old, value)
    if value.dtype != old.dtype:
        value = value.to(old.dtype)
    if value.shape != old.shape:
        value = value.expand_as(old)
    return value


def _per_neuron(value: Any, ref: torch.Tensor) -> torch.Tensor:
    """``value`` (a number, ``[B, 1]`` or ``[B, n]``) as one value per neuron, the shape of ``ref``."""
    if not torch.is_tensor(value):
        return torch.full_like(ref, value)
    return value if value.shape == ref.shape else value.expand(ref.shape)


def _where(cond: torch.Tensor, new: Any, old: torch.Tensor) -> torch.Tensor:
    return torch.where(cond, _assign(new, old), old)


def _reset(spiked: torch.Tensor, spk: torch.Tensor, new: Any, old: torch.Tensor, detach: bool) -> torch.Tensor:
    """Reset ``old`` to ``new`` where a neuron spiked; the gradient flows through ``spk`` unless detached."""
    out = torch.where(spiked, _assign(new, old), old)
    if detach or not spk.requires_grad or not old.is_floating_point():
        return out
    return out + (spk - spk.detach()) * (new - old)


def _select(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` else ``b`` (Brian2's boolean-specialised expressions)."""
    if not torch.is_tensor(cond):
        return a if cond else b
    if not torch.is_tensor(a) and not torch.is_tensor(b):
        ref = cond.new_empty((), dtype=torch.float64)
        return torch.where(cond, torch.as_tensor(a, dtype=ref.dtype), torch.as_tensor(b, dtype=ref.dtype))
    return torch.where(cond, a, b)


def _pow(x: Any, y: Any) -> Any:
    """``x ** y`` as numpy computes it for float64 arrays: squares, reciprocals and square roots by
    their exact fast paths, any other exponent by a full ``pow`` (torch's scalar-exponent shortcut,
    ``x*x*x`` for ``x**3``, rounds differently from numpy in about a quarter of the cases); on the CPU
    numpy's own power (:class:`_NumpyValue`), which rounds as numpy's vectorised kernels do."""
    if _numpy_rounding(x) and not torch.is_tensor(y):
        y = float(y)
        return _NumpyValue.apply(x, lambda a: np.power(a, y),
                                lambda x, v: torch.zeros_like(x) if y == 0 else y * torch.pow(x, y - 1))
    if torch.is_tensor(x) and not torch.is_tensor(y):
        if y == 2:
            return x * x
        if y == 0.5:
            return torch.sqrt(x)
        if y in (1, -1, 0):
            return x ** y
        return torch.pow(x, torch.as_tensor(float(y), dtype=x.dtype, device=x.device))
    return x ** y


def _div(x: Any, y: Any) -> Any:
    """``x / y`` as numpy computes it: torch evaluates ``number / tensor`` as ``reciprocal(tensor) *
    number``, two roundings that differ from numpy's one in about a quarter of the cases; the number
    is made a tensor first, so the division is a single correctly rounded one."""
    if torch.is_tensor(y) and not torch.is_tensor(x):
        x = torch.as_tensor(x, dtype=y.dtype if y.is_floating_point() else torch.float64, device=y.device)
    return x / y


def _sum_pre(x: Any, shape: tuple[int, ...]) -> torch.Tensor:
    """Sum a lateral-synapse expression ``[..., n_pre, n_post]`` over the presynaptic neurons."""
    x = torch.as_tensor(x) if not torch.is_tensor(x) else x
    return torch.broadcast_to(x, shape).sum(dim=-2)


class TimedLookup:
    """A Brian2 ``TimedArray`` as a function of ``(group_dt, t[, i])`` on numbers or tensors.

    Brian2's numpy target upsamples the array's time grid by ``K = max(2**ceil(log2(8*dt_array/dt)), 1)``
    and reads ``values[clip(int(round(t/epsilon)/K), 0, n-1)]`` with ``epsilon = dt_array/K``
    (``brian2.input.timedarray``); this does the same, so the value at every step is Brian2's.
    A 2-d array is indexed ``values[step, i]`` with the neuron index ``i``.
    """

    def __init__(self, values: Any, dt: float):
        import numpy as np

        self.values = np.asarray(values, dtype=np.float64)
        self.dt = float(dt)
        self._tensors: dict[Any, torch.Tensor] = {}

    @classmethod
    def of(cls, timed_array: Any) -> "TimedLookup":
        import numpy as np

        return cls(np.asarray(timed_array.values), float(timed_array.dt))

    def _k(self, group_dt: float) -> int:
        return max(int(2 ** math.ceil(math.log2(8 / group_dt * self.dt))), 1)

    def __call__(self, group_dt: Any, t: Any, i: Any = None) -> Any:
        k = self._k(float(group_dt))
        eps = self.dt / k
        n = self.values.shape[0]
        if not torch.is_tensor(t) and (i is None or not torch.is_tensor(i)):
            step = min(max(int(round(t / eps) / k), 0), n - 1)
            return float(self.values[step] if i is None else self.values[step, int(i)])
        t = torch.as_tensor(t, dtype=torch.float64)
        step = torch.clamp(torch.trunc(torch.round(t / eps) / k).to(torch.int64), 0, n - 1)
        key = (step.device,)
        if key not in self._tensors:
            self._tensors[key] = torch.as_tensor(self.values, device=step.device)
        table = self._tensors[key]
        if i is None:
            return table[step]
        return table[step, i]

    def __getstate__(self) -> dict[str, Any]:
        return {"values": self.values, "dt": self.dt}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["values"], state["dt"])


FUNCTIONS: dict[str, Any] = {
    # transcendental functions: numpy's value on CPU tensors (torch's kernels round otherwise, and how
    # often depends on the machine: on one AMD EPYC torch.exp differs from numpy.exp in 4.5 % of
    # float64 arguments, sqrt in 1.3 %, tanh in 21 %); torch's derivative
    "exp": _unary(torch.exp, np.exp, math.exp, grad=lambda x, value: value),
    "log": _unary(torch.log, np.log, math.log, grad=lambda x, value: 1 / x),
    "log10": _unary(torch.log10, np.log10, math.log10, grad=lambda x, value: 1 / (x * math.log(10))),
    "expm1": _expm1,
    "log1p": _unary(torch.log1p, np.log1p, math.log1p, grad=lambda x, value: 1 / (1 + x)),
    "sqrt": _unary(torch.sqrt, np.sqrt, math.sqrt, grad=lambda x, value: 0.5 / value),
    "ceil": _unary(torch.ceil, np.ceil, math.ceil),
    "floor": _unary(torch.floor, np.floor, math.floor),
    "sin": _unary(torch.sin, np.sin, math.sin, grad=lambda x, value: torch.cos(x)),
    "cos": _unary(torch.cos, np.cos, math.cos, grad=lambda x, value: -torch.sin(x)),
    "tan": _unary(torch.tan, np.tan, math.tan, grad=lambda x, value: 1 + value * value),
    "sinh": _unary(torch.sinh, np.sinh, math.sinh, grad=lambda x, value: torch.cosh(x)),
    "cosh": _unary(torch.cosh, np.cosh, math.cosh, grad=lambda x, value: torch.sinh(x)),
    "tanh": _unary(torch.tanh, np.tanh, math.tanh, grad=lambda x, value: 1 - value * value),
    "arcsin": _unary(torch.asin, np.arcsin, math.asin, grad=lambda x, value: torch.rsqrt(1 - x * x)),
    "arccos": _unary(torch.acos, np.arccos, math.acos, grad=lambda x, value: -torch.rsqrt(1 - x * x)),
    "arctan": _unary(torch.atan, np.arctan, math.atan, grad=lambda x, value: 1 / (1 + x * x)),
    "abs": _unary(torch.abs, np.abs, abs),
    "sign": _sign,
    "clip": _clip,
    "exprel": _exprel,
    "timestep": _timestep,
}

#: Helpers the generated source refers to by these names.
HELPERS: dict[str, Any] = {
    "_not": _not,
    "_div": _div,
    "_and": _and,
    "_or": _or,
    "_soft_or": _soft_or,
    "_num": _num,
    "_as_float": _as_float,
    "_assign": _assign,
    "_per_neuron": _per_neuron,
    "_where": _where,
    "_reset": _reset,
    "_sum_pre": _sum_pre,
    "_select": _select,
    "_pow": _pow,
    "_INF": math.inf,
    "_NAN": math.nan,
    "torch": torch,
}
