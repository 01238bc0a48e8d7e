"""STDP rules as Brian2 strings, kept apart from the neuron model so either can be swapped.

A rule is the synapse model it adds (traces), what happens on a presynaptic spike (besides the
neuron model's own ``on_pre`` effect) and on a postsynaptic spike. Every weight change is multiplied
by the synaptic variable ``plastic`` (1 while learning, 0 while recording), so one compiled network
serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brian2 import ms

__all__ = ["STDPRule", "diehl_cook_stdp", "plastic_on_pre"]


@dataclass(frozen=True)
class STDPRule:
    """An STDP rule in Brian2 syntax.

    Attributes:
        model: synaptic equations besides ``w`` and ``plastic`` (e.g. event-driven traces).
        on_pre: statements run at a presynaptic spike, after the neuron model's ``on_pre``.
        on_post: statements run at a postsynaptic spike.
        parameters: constants used by the statements, with units.
        name: a short name.
    """

    model: str
    on_pre: str
    on_post: str
    parameters: dict[str, Any] = field(default_factory=dict)
    name: str = "stdp"

    @property
    def state_variables(self) -> tuple[str, ...]:
        """The synaptic variables the rule adds (its traces), reset to 0 between slices.

        Example:
            >>> diehl_cook_stdp().state_variables
            ('xpost1', 'xpost2', 'xpre')
        """
        from brian2 import Equations

        return tuple(sorted(Equations(self.model).names))

    def to_dict(self) -> dict[str, Any]:
        from ..quantities import quantity_to_json

        return {"name": self.name, "model": self.model, "on_pre": self.on_pre, "on_post": self.on_post,
                "parameters": {k: quantity_to_json(v) for k, v in sorted(self.parameters.items())}}


def plastic_on_pre(model: Any, user: str = "the Diehl & Cook preset") -> str:
    """The ``on_pre`` of ``model`` for plastic input synapses, whose rules name the weight ``w``: a named
    error for a model with several pathways or another weight name.

    Example:
        >>> from bioSNN.equations import library
        >>> plastic_on_pre(library.diehl_cook_excitatory())
        'ge += w'
    """
    from ..errors import ModelError

    code = model.sole_on_pre(user)
    if model.weight != "w":
        raise ModelError(f"{user} learns the weight 'w', but model '{model.name}' names its weight "
                         f"{model.weight!r}; use weight='w' for this network")
    return code


def diehl_cook_stdp(*, nu_pre: float = 0.0001, nu_post: float = 0.01, w_max: float = 1.0,
                    tau_pre: Any = 20 * ms, tau_post1: Any = 20 * ms, tau_post2: Any = 40 * ms) -> STDPRule:
    r"""The trace rule of Diehl & Cook's code: one presynaptic and two postsynaptic traces, each *set*
    to 1 at a spike (nearest-spike), weights clipped to ``[0, w_max]``.

    .. math::
        \text{pre spike: } w \leftarrow \mathrm{clip}(w - \nu_{pre}\, x_{post1}),\; x_{pre} \leftarrow 1
        \qquad
        \text{post spike: } w \leftarrow \mathrm{clip}(w + \nu_{post}\, x_{pre}\, x_{post2}^{-}),\;
        x_{post1}, x_{post2} \leftarrow 1

    where :math:`x_{post2}^{-}` is the second post trace just before this spike and the traces decay
    with :math:`\tau_{pre} = \tau_{post1} = 20` ms, :math:`\tau_{post2} = 40` ms.

    Example:
        >>> rule = diehl_cook_stdp()
        >>> "xpost2_before" in rule.on_post
        True
    """
    return STDPRule(
        name="diehl_cook_triplet",
        model="""
            dxpre/dt = -xpre/tau_pre : 1 (event-driven)
            dxpost1/dt = -xpost1/tau_post1 : 1 (event-driven)
            dxpost2/dt = -xpost2/tau_post2 : 1 (event-driven)
        """,
        on_pre="xpre = 1; w = clip(w - plastic * nu_pre * xpost1, 0, w_max)",
        on_post="xpost2_before = xpost2; w = clip(w + plastic * nu_post * xpre * xpost2_before, 0, w_max); "
                "xpost1 = 1; xpost2 = 1",
        parameters={"nu_pre": nu_pre, "nu_post": nu_post, "w_max": w_max, "tau_pre": tau_pre,
                    "tau_post1": tau_post1, "tau_post2": tau_post2},
    )
