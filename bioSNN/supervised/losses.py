r"""Training losses and their combinations.

Terms (names as the CLI spells them):

==================== =========================================================================
``huber-guidance``   Huber (:math:`\delta` = 1 mV by default) between output traces and the class
                     template of the sample's label (labelled samples only); with data that carry
                     their own per-sample targets and no templates (the seed layout), those
``mse-guidance``     mean squared error between output traces and guidance (mV²), as above
``huber-sample``     Huber between output traces and the sample's own recorded guidance (per-sample
                     guidance, :mod:`bioSNN.unsupervised.sample_guidance`): every sample, labelled or not
``mse-sample``       mean squared error to the per-sample guidance
``kd-sample``        cross-entropy of the class-pooled spike counts × ``rate_scale`` against the STDP
                     network's own vote on the sample: the spike counts recorded with the per-sample
                     guidance, pooled by class (mean per neuron) and normalised to shares (knowledge
                     distillation; every sample, labelled or not; samples the STDP layer was silent on
                     add nothing)
``rate-mse``         MSE between class-pooled firing rates (spikes per step) and the one-hot label
``ce-rate``          cross-entropy on class-pooled spike counts × ``rate_scale``
``ce-membrane``      cross-entropy on each class's largest time-mean potential (mV) × ``membrane_scale``
==================== =========================================================================

A combination is written ``"huber-guidance+0.1*ce-membrane"`` (:meth:`LossSpec.parse`).

**Time alignment.** Guidance row ``j`` is the potential at the end of step ``first_step + j`` of the
presentation; output row ``k`` is at step ``times[k]``. Targets are read at the output's times (linear
interpolation between rows when times are fractional; before the first row the potential is the
model's initial one). Output rows outside the guidance's span are left out; no overlap is an error.
The network's dt must be the guidance's (checked by the trainer).

**Labels.** With a ``labelled`` mask (semi-supervised training), the terms that read labels
(``*-guidance`` with class templates, ``rate-mse``, ``ce-*``) see only the labelled samples of a batch
(a batch without any adds nothing); ``*-sample`` terms see every sample.

**Stride.** Targets recorded every ``stride`` steps (row ``j`` at step ``first_step + j * stride``) are
interpolated linearly between rows; output steps outside the recorded rows are left out.

**Rows.** ``rows="true"``: only the neurons assigned to the sample's class (the seed compares the
true-class row only); ``"all"``: every output neuron.

Example:
    >>> spec = LossSpec.parse("huber-guidance+0.5*ce-rate")
    >>> spec.terms
    (('huber-guidance', 1.0), ('ce-rate', 0.5))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import InputError
from .models import NetworkOutput
from .readout import ClassReadout

__all__ = ["LossSpec", "LOSS_TERMS", "guidance_targets_at", "guidance_loss", "compute_loss", "distillation_loss", "GUIDANCE_TERMS", "SAMPLE_TERMS",
           "TEMPLATE_TERMS"]

LOSS_TERMS = ("huber-guidance", "mse-guidance", "huber-sample", "mse-sample", "kd-sample", "rate-mse", "ce-rate",
              "ce-membrane")
TEMPLATE_TERMS = ("huber-guidance", "mse-guidance")
SAMPLE_TERMS = ("huber-sample", "mse-sample", "kd-sample")
GUIDANCE_TERMS = TEMPLATE_TERMS + SAMPLE_TERMS
ROWS = ("true", "all")


@dataclass(frozen=True)
class LossSpec:
    """Weighted loss terms and their settings (see the module docstring)."""

    terms: tuple[tuple[str, float], ...] = (("huber-guidance", 1.0),)
    rows: str = "true"
    delta: float = 1.0
    rate_scale: float = 1.0
    membrane_scale: float = 0.1

    def __post_init__(self) -> None:
        if not self.terms:
            raise InputError("a loss needs at least one term")
        for name, weight in self.terms:
            if name not in LOSS_TERMS:
                raise InputError(f"unknown loss term {name!r}; use {LOSS_TERMS}")
            if not weight > 0:
                raise InputError(f"loss term {name!r} needs a positive weight, got {weight}")
        if self.rows not in ROWS:
            raise InputError(f"rows must be one of {ROWS}, got {self.rows!r}")

    @classmethod
    def parse(cls, text: str, **settings: Any) -> "LossSpec":
        """``"huber-guidance+0.1*ce-membrane"`` -> terms with weights (1 when not written)."""
        terms = []
        for part in text.split("+"):
            m = re.fullmatch(r"\s*(?:([0-9.eE+-]+)\s*\*)?\s*([a-z-]+)\s*", part)
            if not m:
                raise InputError(f"cannot read loss term {part!r} (write e.g. 'huber-guidance+0.1*ce-membrane')")
            terms.append((m.group(2), float(m.group(1)) if m.group(1) else 1.0))
        return cls(tuple(terms), **settings)

    @property
    def needs_guidance(self) -> bool:
        return any(name in GUIDANCE_TERMS for name, _ in self.terms)

    @property
    def needs_samples(self) -> bool:
        """Whether a term reads per-sample guidance (and so learns from unlabelled samples)."""
        return any(name in SAMPLE_TERMS for name, _ in self.terms)

    def to_dict(self) -> dict[str, Any]:
        return {"terms": [list(t) for t in self.terms], "rows": self.rows, "delta": self.delta,
                "rate_scale": self.rate_scale, "membrane_scale": self.membrane_scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LossSpec":
        return cls(tuple((str(n), float(w)) for n, w in data["terms"]), data["rows"], float(data["delta"]),
                   float(data["rate_scale"]), float(data["membrane_scale"]))


def guidance_targets_at(target: torch.Tensor, times: torch.Tensor, first_step: int,
                        initial: float, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Guidance ``[B, n_out, Tg]`` read at output ``times`` (steps): ``([T_out, B, n_out], valid [T_out])``."""
    Tg = target.shape[-1]
    if stride != 1:
        pos = (times.to(target.device, torch.float32) - first_step) / stride
        valid = (pos >= 0) & (pos <= Tg - 1)
        if not bool(valid.any()):
            raise InputError(f"no output step falls inside the guidance (steps {first_step}.."
                             f"{first_step + (Tg - 1) * stride} every {stride}; output steps "
                             f"{float(times.min()):g}..{float(times.max()):g})")
        p = pos.clamp(0, Tg - 1)
        lo = p.floor().long()
        hi = (lo + 1).clamp(max=Tg - 1)
        frac = p - lo.float()
        return (target[..., lo] * (1 - frac) + target[..., hi] * frac).permute(2, 0, 1), valid
    pos = times.to(target.device, torch.float32) - first_step  # guidance row index (fractional)
    valid = (pos >= -1 if first_step >= 1 else pos >= 0) & (pos <= Tg - 1)
    if not bool(valid.any()):
        raise InputError(f"no output step falls inside the guidance (steps {first_step}..{first_step + Tg - 1}; "
                         f"output steps {float(times.min()):g}..{float(times.max()):g})")
    padded = torch.cat([torch.full_like(target[..., :1], float(initial)), target], -1)  # column 0 = step first_step-1
    p = (pos + 1).clamp(0, Tg)
    lo = p.floor().long()
    hi = (lo + 1).clamp(max=Tg)
    frac = (p - lo.float())
    values = padded[..., lo] * (1 - frac) + padded[..., hi] * frac  # [B, n_out, T_out]
    return values.permute(2, 0, 1), valid


def guidance_loss(v: torch.Tensor, times: torch.Tensor, target: torch.Tensor, first_step: int, initial: float,
                  rows: torch.Tensor | None, kind: str = "huber", delta: float = 1.0, stride: int = 1) -> torch.Tensor:
    """Mean Huber/MSE between output potentials ``v [T, B, n_out]`` and the aligned guidance, over the
    valid steps and the selected ``rows`` (``[B, n_out]`` mask, or all)."""
    if target.shape[:2] != v.shape[1:]:
        raise InputError(f"guidance targets are [B, n_out] = {tuple(target.shape[:2])}, the output is "
                         f"{tuple(v.shape[1:])}: the network needs as many output neurons as the guidance")
    aligned, valid = guidance_targets_at(target.to(v.dtype), times, first_step, initial, stride)
    v, aligned = v[valid], aligned[valid]
    if kind == "huber":
        err = F.huber_loss(v, aligned, reduction="none", delta=delta)
    else:
        err = (v - aligned) ** 2
    if rows is None:
        return err.mean()
    mask = rows[None].to(err.dtype).expand_as(err)
    return (err * mask).sum() / mask.sum().clamp_min(1)


def _labelled_part(output: NetworkOutput, labels: torch.Tensor, target: torch.Tensor | None,
                   labelled: torch.Tensor | None) -> tuple[NetworkOutput, torch.Tensor, torch.Tensor | None]:
    if labelled is None:
        return output, labels, target
    keep = labelled.to(torch.bool)
    out = output._replace(v=output.v[:, keep], spikes=output.spikes[:, keep])
    return out, labels[keep], None if target is None else target[keep]


def distillation_loss(spikes: torch.Tensor, counts: torch.Tensor, readout: ClassReadout,
                      rate_scale: float = 1.0) -> torch.Tensor:
    r"""Cross-entropy of the network's class-pooled spike counts against the teacher's vote shares.

    .. math:: L = -\frac{1}{|B'|}\sum_{b \in B'} \sum_c q_{bc} \log \mathrm{softmax}_c(
              \mathrm{rate\_scale} \cdot \bar s_{bc}), \qquad q_{bc} = \bar n_{bc} / \sum_{c'} \bar n_{bc'}

    with :math:`\bar s_{bc}` the mean spike count of class ``c``'s output neurons over the presentation
    (``spikes [T, B, n_out]``), :math:`\bar n_{bc}` the same of the recorded ``counts [B, n_out]`` and
    :math:`B'` the samples with at least one recorded spike (0 when there is none).

    Example:
        >>> r = ClassReadout.identity(2)
        >>> s = torch.zeros(4, 1, 2); s[:, 0, 0] = 1                       # the network votes class 0
        >>> agree = distillation_loss(s, torch.tensor([[9, 1]]), r, 2.0)
        >>> disagree = distillation_loss(s, torch.tensor([[1, 9]]), r, 2.0)
        >>> bool(agree < disagree), float(distillation_loss(s, torch.zeros(1, 2), r))
        (True, 0.0)
    """
    pooled = readout.pool(counts.to(spikes.dtype))
    pooled = torch.where(torch.isfinite(pooled), pooled, torch.zeros_like(pooled))
    total = pooled.sum(1, keepdim=True)
    valid = total[:, 0] > 0
    if not bool(valid.any()):
        return spikes.new_zeros(())
    share = pooled[valid] / total[valid]
    logp = F.log_softmax(readout.pool(spikes.sum(0))[valid] * rate_scale, dim=1)
    return -torch.where(share > 0, share * logp, torch.zeros_like(logp)).sum(1).mean()


def compute_loss(spec: LossSpec, output: NetworkOutput, labels: torch.Tensor, readout: ClassReadout,
                 target: torch.Tensor | None = None, first_step: int = 0,
                 initial: float = 0.0, *, stride: int = 1, samples: torch.Tensor | None = None,
                 sample_first_step: int = 0, sample_stride: int = 1,
                 labelled: torch.Tensor | None = None,
                 sample_counts: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss and each term's value (unweighted, as floats) for one batch.

    ``target``: class templates of the labels (or the data's own per-sample targets) for the
    ``*-guidance`` terms, rows every ``stride`` steps from ``first_step``; ``samples``: per-sample
    guidance for the ``*-sample`` terms; ``labelled``: ``[B]`` mask of the samples whose labels the
    label terms may read (None: all); ``sample_counts``: ``[B, n_out]`` spike counts recorded with the
    per-sample guidance (``kd-sample``)."""
    total = output.v.new_zeros(())
    parts: dict[str, float] = {}
    lab_out, lab_y, lab_target = _labelled_part(output, labels, target, labelled)
    for name, weight in spec.terms:
        kind = "huber" if name.startswith("huber") else "mse"
        if name in SAMPLE_TERMS:
            if name == "kd-sample":
                if sample_counts is None:
                    raise InputError("loss term 'kd-sample' needs the spike counts of per-sample guidance "
                                     "(--sample-guidance)")
                value = distillation_loss(output.spikes, sample_counts, readout, spec.rate_scale)
            elif samples is None:
                raise InputError(f"loss term {name!r} needs per-sample guidance (--sample-guidance)")
            else:
                value = guidance_loss(output.v, output.times, samples, sample_first_step, initial, None, kind,
                                      spec.delta, sample_stride)
            total = total + weight * value
            parts[name] = float(value.detach())
            continue
        if lab_y.numel() == 0:  # no labelled sample in this batch
            parts[name] = 0.0
            continue
        T = lab_out.v.shape[0]
        if name in TEMPLATE_TERMS:
            if lab_target is None:
                raise InputError(f"loss term {name!r} needs guidance targets")
            rows = readout.true_rows(lab_y) if spec.rows == "true" else None
            value = guidance_loss(lab_out.v, lab_out.times, lab_target, first_step, initial, rows, kind, spec.delta,
                                  stride)
        elif name == "rate-mse":
            rate = readout.pool(lab_out.spikes.mean(0))
            value = F.mse_loss(rate, F.one_hot(lab_y, readout.n_classes).to(rate.dtype))
        elif name == "ce-rate":
            value = F.cross_entropy(readout.pool(lab_out.spikes.sum(0)) * spec.rate_scale, lab_y)
        else:
            value = F.cross_entropy(readout.pool_max(lab_out.v.sum(0) / T) * spec.membrane_scale, lab_y)
        total = total + weight * value
        parts[name] = float(value.detach())
    return total, parts
