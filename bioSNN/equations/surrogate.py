r"""Surrogate gradients for the threshold comparison ``a > b``.

The forward value is exactly Brian2's boolean ``a > b`` (as 0./1.). The backward pass uses the
derivative of a smooth step :math:`\sigma(x)` with :math:`x = (a - b) / \text{width}`, scaled so that
every kind has the same peak slope :math:`1/\text{width}` at the threshold:

============== ============================================== ==============================
kind           :math:`\sigma(x)`                               :math:`\sigma'(x)`
============== ============================================== ==============================
rectangular    :math:`\mathrm{clip}(x + 1/2, 0, 1)`            :math:`1[|x| < 1/2]`
sigmoid        :math:`1 / (1 + e^{-4x})`                       :math:`4\sigma(1-\sigma)`
atan           :math:`\arctan(\pi x)/\pi + 1/2`                :math:`1 / (1 + \pi^2 x^2)`
============== ============================================== ==============================

It is implemented as ``hard + (σ(x) - σ(x).detach())``: the forward value is ``hard`` bit for bit,
the gradient is that of σ, and it works under ``torch.compile`` and double backward.

Example
-------
>>> import torch
>>> from brian2 import mV
>>> sg = Surrogate("atan", width=1*mV)
>>> a = torch.tensor([0.0101, 0.0099], dtype=torch.float64, requires_grad=True)
>>> s = sg.spike(a, 0.01)
>>> s.tolist()
[1.0, 0.0]
>>> s.sum().backward(); bool((a.grad > 0).all())
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from brian2 import mV

from ..errors import ModelError
from ..quantities import dimension_of, si_value

__all__ = ["Surrogate", "SURROGATE_KINDS"]

SURROGATE_KINDS = ("rectangular", "sigmoid", "atan")


def _smooth(kind: str, x: torch.Tensor) -> torch.Tensor:
    if kind == "rectangular":
        return torch.clamp(x + 0.5, 0.0, 1.0)
    if kind == "sigmoid":
        return torch.sigmoid(4.0 * x)
    return torch.atan(math.pi * x) / math.pi + 0.5


def _slope(kind: str, d: torch.Tensor, w: float) -> torch.Tensor:
    """The derivative of ``_smooth(kind, d / w)`` with respect to ``d``, written out (what autograd
    computes for it)."""
    if kind == "rectangular":  # torch.clamp passes the gradient where min <= x + 1/2 <= max
        y = d / w + 0.5
        return torch.logical_and(y >= 0.0, y <= 1.0).to(d.dtype) / w
    if kind == "sigmoid":
        s = torch.sigmoid(4.0 * (d / w))
        return 4.0 * s * (1.0 - s) / w
    return (1.0 / w) / (1.0 + (math.pi / w) ** 2 * (d * d))  # atan, one division: 1 / (w (1 + (pi d / w)^2))


def _hard(a: Any, b: Any, strict: bool) -> torch.Tensor:
    """``(a > b)`` (``a >= b`` when not ``strict``) as a float tensor: ``a``'s dtype, or the default one."""
    a_t = a if torch.is_tensor(a) else torch.as_tensor(a)
    hard = torch.gt(a_t, b) if strict else torch.ge(a_t, b)
    return hard.to(a_t.dtype if a_t.is_floating_point() else torch.get_default_dtype())


@dataclass(frozen=True)
class Surrogate:
    """Which surrogate derivative replaces the Heaviside step of the threshold, and its width.

    ``width`` carries the unit of the compared quantity (``1*mV`` for a voltage threshold).
    Comparisons in the threshold whose dimension differs from ``width``'s get no gradient.
    """

    kind: str = "atan"
    width: Any = field(default_factory=lambda: 1 * mV)

    def __post_init__(self) -> None:
        if self.kind not in SURROGATE_KINDS:
            raise ModelError(f"surrogate kind {self.kind!r} unknown; choose from {SURROGATE_KINDS}")
        object.__setattr__(self, "_width_si", float(si_value(self.width)))  # a plain float for the step
        if not self._width_si > 0:
            raise ModelError(f"surrogate width must be positive, got {self.width!r}")

    @property
    def dimension(self) -> Any:
        """Dimension of the comparisons that get this surrogate (that of ``width``)."""
        return dimension_of(self.width)

    def spike(self, a: Any, b: Any, strict: bool = True) -> torch.Tensor:
        """``(a > b)`` (or ``a >= b`` when not ``strict``) as a float tensor with the surrogate gradient."""
        hard = _hard(a, b, strict)
        needs_grad = torch.is_grad_enabled() and (
            (torch.is_tensor(a) and a.requires_grad) or (torch.is_tensor(b) and b.requires_grad)
        )
        if not needs_grad:
            return hard
        soft = _smooth(self.kind, (a - b) / self._width_si)
        return hard + (soft - soft.detach())

    def spike_linear(self, a: Any, b: Any, strict: bool = True) -> torch.Tensor:
        """:meth:`spike` with the same value and the same first derivative, the derivative written out:
        ``hard + (d - d.detach()) * slope(d).detach()`` with ``d = a - b``. Compiled, it computes no
        smooth step in the forward pass (the ``atan`` that :meth:`spike` subtracts from itself), only
        the slope the backward pass needs; it has no second derivative. The ``"bptt"`` backend of
        :class:`~bioSNN.equations.TorchStep` differentiates its compiled chunks through it.

        Example:
            >>> a = torch.tensor([0.0101, 0.0099], dtype=torch.float64, requires_grad=True)
            >>> sg = Surrogate("atan")
            >>> s = sg.spike_linear(a, 0.01); s.sum().backward()
            >>> s.tolist(), torch.allclose(a.grad, torch.autograd.grad(sg.spike(a, 0.01).sum(), a)[0])
            ([1.0, 0.0], True)
        """
        hard = _hard(a, b, strict)
        if not torch.is_grad_enabled() or not (torch.is_tensor(a) or torch.is_tensor(b)):
            return hard  # (inside torch.func.vjp the inputs are wrapped: their requires_grad is not asked)
        d = a - b
        return hard + (d - d.detach()) * _slope(self.kind, d, self._width_si).detach()
