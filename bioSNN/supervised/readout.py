r"""From output neurons to classes: which neuron votes for which class, and the decision rules.

Output neurons map to classes through ``assignments`` (``[n_out]``, class index or -1), as the
guidance file stores them (Diehl & Cook's label assignment, or the seed's winner neuron per class).
A class's score is

* ``"potential"``: the largest time-summed membrane potential :math:`\max_{j \in c} \sum_t v_j(t)` of
  its neurons (the seed's decision, seeds_spec 1.10: the neuron with the largest sum decides, through
  its class; in a winner-take-all layer the losers' potentials say nothing about their class);
* ``"rate"``: the mean spike count :math:`\frac{1}{|c|}\sum_{j \in c} \sum_t s_j(t)` (Diehl & Cook's vote).

Example:
    >>> import torch
    >>> r = ClassReadout(torch.tensor([1, 0, 1]), 2)
    >>> r.pool(torch.tensor([[1.0, 5.0, 3.0]])).tolist()
    [[5.0, 2.0]]
    >>> r.pool_max(torch.tensor([[1.0, 5.0, 3.0]])).tolist()
    [[5.0, 3.0]]
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import InputError

__all__ = ["ClassReadout", "DECISIONS"]

DECISIONS = ("potential", "rate")


class ClassReadout:
    """Pools ``[B, n_out]`` per-neuron values into ``[B, n_classes]`` class scores (mean over each class's
    neurons; a class without neurons scores ``-inf``)."""

    def __init__(self, assignments: Any, n_classes: int):
        a = torch.as_tensor(assignments, dtype=torch.int64).reshape(-1)
        if n_classes < 1 or (a >= n_classes).any() or (a < -1).any():
            raise InputError(f"assignments must be class indices in [0, {n_classes}) or -1, got {a.tolist()}")
        self.assignments = a
        self.n_classes = int(n_classes)
        member = torch.zeros(a.numel(), n_classes)
        valid = a >= 0
        member[torch.nonzero(valid).reshape(-1), a[valid]] = 1.0
        self.member = member  # [n_out, C]
        self.count = member.sum(0)

    @classmethod
    def identity(cls, n_classes: int) -> "ClassReadout":
        """Neuron ``j`` votes for class ``j``."""
        return cls(torch.arange(n_classes), n_classes)

    @classmethod
    def population(cls, n_classes: int, per_class: int) -> "ClassReadout":
        """``per_class`` consecutive neurons per class (population decoding, STL-SNN)."""
        return cls(torch.arange(n_classes * per_class) // per_class, n_classes)

    @property
    def n_out(self) -> int:
        return int(self.assignments.numel())

    def _check(self, values: torch.Tensor) -> None:
        if values.shape[-1] != self.n_out:
            raise InputError(f"readout expects {self.n_out} output neurons, got {values.shape[-1]}")

    def pool(self, values: torch.Tensor) -> torch.Tensor:
        """``[B, n_out]`` -> ``[B, n_classes]`` mean over each class's neurons."""
        self._check(values)
        member = self.member.to(values.device, values.dtype)
        count = self.count.to(values.device, values.dtype)
        pooled = values @ member / count.clamp_min(1)
        return torch.where(count > 0, pooled, torch.full_like(pooled, float("-inf")))

    def pool_max(self, values: torch.Tensor) -> torch.Tensor:
        """``[B, n_out]`` -> ``[B, n_classes]`` largest value among each class's neurons."""
        self._check(values)
        member = self.member.to(values.device) > 0
        masked = torch.where(member[None], values[..., :, None], torch.full_like(values[..., :, None], float("-inf")))
        return masked.amax(-2)

    def scores(self, spikes: torch.Tensor, v: torch.Tensor, rule: str) -> torch.Tensor:
        """Class scores ``[B, C]`` from output ``spikes``/``v`` ``[T, B, n_out]`` by ``rule`` (see module)."""
        if rule == "potential":
            return self.pool_max(v.sum(0))
        if rule == "rate":
            return self.pool(spikes.sum(0))
        raise InputError(f"decision rule must be one of {DECISIONS}, got {rule!r}")

    def true_rows(self, labels: torch.Tensor) -> torch.Tensor:
        """``[B, n_out]`` mask of the neurons assigned to each sample's class (all neurons where the class has none)."""
        a = self.assignments.to(labels.device)
        mask = a[None, :] == labels[:, None]
        return torch.where(mask.any(1, keepdim=True), mask, torch.ones_like(mask))
