r"""The hybrid: a trained STDP network continues in PyTorch, from exactly where STDP stopped.

The student is the network's :class:`~bioSNN.supervised.twin.DiehlCookTwin` (its weights, delays,
thetas and inhibition, generated from the same Brian2 definitions) with a linear read-out on its spike
counts. Every sample is presented as the STDP network presents it (:func:`present_batch`):
``present_ms`` of Poisson input at ``intensity``, from the network's initial state, shown again at
``intensity + 1`` (after ``rest_ms``) while the layer fires fewer than ``min_spikes`` spikes.

Per epoch, on the training images (Poisson draws seeded by ``(seed, epoch, batch)``):

.. math::
    \mathcal{L} = \mathrm{CE}\big(W_r\, c / \bar c + b_r,\; y\big)
    + \lambda\, \mathrm{Huber}_\delta\big(v^{student} - v^{teacher}\big)

where :math:`c` are the student's spike counts (surrogate gradient through every step of the
presentation), :math:`\bar c` the teacher's mean count, and :math:`v^{teacher}` the untouched twin's
potentials on the same input spikes (the guidance anchor; :math:`\lambda = 0` for CE alone). The
weights stay in ``[0, w_max]`` as STDP keeps them.

Model selection uses the validation images only (fixed Poisson draws, the same for every epoch):
*epoch 0* is the untouched twin with its read-out fitted by logistic regression on the teacher's
training counts (L2 chosen on validation), so the chosen student cannot score below the teacher's
read-out on validation. The hybrid's decision mixes the chosen student's read-out probabilities with
the teacher's vote, :math:`a\,\mathrm{softmax}(\text{student}) + (1 - a)\,\text{vote}`, the weight
:math:`a \in \{0, 0.25, \dots, 1\}` chosen on validation: with :math:`a = 0` (the vote) and
:math:`a = 1` (the student) among the candidates, on validation the hybrid cannot fall below either.

Example:
    >>> cfg = HybridConfig(epochs=2, guidance=0.1)
    >>> cfg.trainable, cfg.init
    (('w',), 'stdp')
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from .twin import DiehlCookTwin, put_state, take_state

__all__ = ["HybridConfig", "present_batch", "count_features", "fit_readout", "fit_readout_k", "vote_scores",
           "train_hybrid", "HybridResult", "INITS"]

logger = logging.getLogger(__name__)

#: where the student's weights start: ``"stdp"`` (the trained network: the hybrid) or ``"random"``
#: (the same architecture with Diehl & Cook's initial weights and thetas: the CE-only control)
INITS = ("stdp", "random")
#: L2 strengths of the read-out's logistic regression, chosen on validation
READOUT_L2 = (1e-4, 1e-3, 1e-2, 1e-1)
#: the read-out's L2 where no choice can be made from the labels (one label per class): the strength
#: MSTAR-3's validation chips chose for every seed of its hybrid study (fixed in advance, for the k-label rule)
READOUT_L2_DEFAULT = 1e-4
#: weights of the student in the vote + student ensemble, chosen on validation
ENSEMBLE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class HybridConfig:
    """Settings of :func:`train_hybrid` (the defaults are the recipe fixed for every data set)."""

    epochs: int = 4
    batch_size: int = 32
    lr: float = 2e-4
    readout_lr: float = 1e-2
    guidance: float = 0.0
    distill: float = 0.0
    huber_delta_mV: float = 1.0
    trainable: tuple[str, ...] = ("w",)
    init: str = "stdp"
    seed: int = 0
    dtype: str = "float32"
    w_max: float = 1.0

    def __post_init__(self) -> None:
        if self.epochs < 0 or self.batch_size < 1:
            raise InputError("epochs must be >= 0 and batch_size >= 1")
        if not (self.lr >= 0 and self.readout_lr >= 0 and self.guidance >= 0 and self.distill >= 0
                and self.huber_delta_mV > 0):
            raise InputError("lr, readout_lr, guidance and distill must be non-negative, huber_delta_mV positive")
        if self.init not in INITS:
            raise InputError(f"init must be one of {INITS}, got {self.init!r}")
        if self.dtype not in ("float32", "float64"):
            raise InputError(f"dtype must be float32 or float64, got {self.dtype!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["trainable"] = list(self.trainable)
        return d


def _poisson(rates: torch.Tensor, intensity: torch.Tensor, dt: float, steps: int, gen: torch.Generator,
             dtype: torch.dtype) -> torch.Tensor:
    """``[steps, B, n_in]`` spikes: ``rand() < rate * intensity * dt`` (Brian2's Poisson threshold)."""
    p = rates * intensity[:, None] * dt
    return (torch.rand(steps, *p.shape, generator=gen, dtype=torch.float64) < p).to(dtype)


def present_batch(twin: DiehlCookTwin, rates: torch.Tensor, gen: torch.Generator, *, record_v: bool = False
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Present ``rates [B, n_in]`` (Hz at intensity 1) to ``B`` independent copies of the network, each
    from its initial state, with the re-show rule; returns the counts of each sample's last
    presentation ``[B, N]`` (differentiable) and, with ``record_v``, the first presentation's potentials
    ``[T, B, N]`` (mV).

    Example:
        >>> from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
        >>> c = DiehlCookConfig(n_neurons=3, present_ms=20, rest_ms=10, tick_ms=10, max_intensity=4)
        >>> twin = DiehlCookTwin(c, DiehlCookState.initial(c, 5))
        >>> counts, _ = present_batch(twin, torch.zeros(2, 5), torch.Generator().manual_seed(0))
        >>> counts.shape
        torch.Size([2, 3])
    """
    c = twin.config
    dt = c.dt_ms * 1e-3
    present = int(round(c.present_ms / c.dt_ms))
    rest = int(round(c.rest_ms / c.dt_ms))
    B = rates.shape[0]
    rates = rates.to(torch.float64)
    intensity = torch.full((B,), float(c.intensity), dtype=torch.float64)
    out, state = twin(_poisson(rates, intensity, dt, present, gen, twin.dtype).to(twin.w.device), record_v=record_v)
    counts = out.spikes.sum(0)
    v = out.v
    while True:
        need = (counts.detach().sum(1) < c.min_spikes).cpu() & (intensity + 1 <= c.max_intensity)
        if not need.any():
            break
        idx = torch.nonzero(need).reshape(-1)
        sub = take_state(state, idx.to(twin.w.device))
        _, sub = twin(torch.zeros(rest, len(idx), twin.n_in, dtype=twin.dtype, device=twin.w.device), sub,
                      record_v=False)
        intensity[idx] += 1
        x = _poisson(rates[idx], intensity[idx], dt, present, gen, twin.dtype).to(twin.w.device)
        again, sub = twin(x, sub, record_v=False)
        counts = counts.index_put((idx.to(counts.device),), again.spikes.sum(0))
        state = put_state(twin, state, sub, idx.to(twin.w.device))
    return counts, v


def _generator(*key: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.SeedSequence(list(key)).generate_state(1)[0]))


@torch.no_grad()
def count_features(twin: DiehlCookTwin, rates: Any, *, seed: int, batch_size: int = 64,
                   progress: bool = False, desc: str = "counts") -> np.ndarray:
    """Spike counts ``[n, N]`` of every image (:func:`present_batch`), Poisson draws seeded by
    ``(seed, batch)``: the same features every time they are asked for with the same seed."""
    from ..progress import progress_bar

    rates = torch.as_tensor(np.asarray(rates, dtype=np.float64))
    out = []
    with progress_bar(len(rates), desc, "img", enabled=progress) as bar:
        for k, start in enumerate(range(0, len(rates), batch_size)):
            counts, _ = present_batch(twin, rates[start:start + batch_size], _generator(seed, 7919, k))
            out.append(counts.cpu().numpy().astype(np.int64))
            bar.update(len(counts))
    return np.concatenate(out) if out else np.zeros((0, twin.n), dtype=np.int64)


def vote_scores(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Diehl & Cook's vote as class scores ``[n, C]``: the mean count of each class's neurons (a class
    without neurons scores 0), normalised to sum to 1 per sample (uniform for a silent sample).

    Example:
        >>> vote_scores(np.array([[4, 0, 2]]), np.array([0, 1, 0]), 2).tolist()
        [[1.0, 0.0]]
    """
    counts = np.asarray(counts, dtype=np.float64)
    scores = np.zeros((len(counts), n_classes))
    for c in range(n_classes):
        members = np.asarray(assignments) == c
        if members.any():
            scores[:, c] = counts[:, members].mean(axis=1)
    total = scores.sum(axis=1, keepdims=True)
    return np.where(total > 0, scores / np.where(total > 0, total, 1), 1.0 / n_classes)


class CountReadout(nn.Module):
    """``logits = W (c / scale) + b``: a linear read-out on spike counts ``c [B, N]``."""

    def __init__(self, n: int, n_classes: int, scale: float):
        super().__init__()
        self.linear = nn.Linear(n, n_classes)
        self.scale = float(scale)

    def forward(self, counts: torch.Tensor) -> torch.Tensor:
        return self.linear(counts.to(self.linear.weight.dtype) / self.scale)


def fit_readout(counts: np.ndarray, labels: np.ndarray, n_classes: int, l2: float, *, scale: float | None = None,
                iterations: int = 200) -> CountReadout:
    """Logistic regression on spike counts (L-BFGS, L2 penalty ``l2`` on the weights), deterministic.

    Example:
        >>> r = fit_readout(np.array([[5, 0], [0, 5], [6, 1], [1, 4]]), np.array([0, 1, 0, 1]), 2, 1e-3)
        >>> r(torch.tensor([[5.0, 0.0]])).argmax(1).tolist()
        [0]
    """
    counts = np.asarray(counts, dtype=np.float64)
    scale = float(scale if scale is not None else max(counts.sum(1).mean() / counts.shape[1], 1e-9))
    readout = CountReadout(counts.shape[1], n_classes, scale).double()
    with torch.no_grad():
        readout.linear.weight.zero_()
        readout.linear.bias.zero_()
    x = torch.as_tensor(counts)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
    opt = torch.optim.LBFGS(readout.parameters(), lr=1, max_iter=iterations, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(readout(x), y) + l2 * readout.linear.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return readout


def fit_readout_k(counts: np.ndarray, labels: np.ndarray, n_classes: int, *, seed: int = 0,
                  scale: float | None = None) -> tuple[CountReadout, Any]:
    """:func:`fit_readout` with its L2 chosen by the k-label rule (:func:`~bioSNN.supervised.selection.choose`):
    cross-validation inside the labelled ``counts`` when every class has two or more, else
    :data:`READOUT_L2_DEFAULT`. Returns the read-out (fitted on all of them) and the
    :class:`~bioSNN.supervised.selection.Selection`.

    Example:
        >>> counts = np.array([[5, 0], [0, 5], [6, 1], [1, 4]]); y = np.array([0, 1, 0, 1])
        >>> readout, sel = fit_readout_k(counts, y, 2)
        >>> sel.rule, readout(torch.tensor([[0.0, 5.0]])).argmax(1).tolist()
        ('cv', [1])
    """
    from .selection import choose

    counts = np.asarray(counts, dtype=np.float64)
    labels = np.asarray(labels)
    scale = float(scale if scale is not None else max(counts.sum(1).mean() / counts.shape[1], 1e-9))

    def held_out_accuracy(fit: np.ndarray, held: np.ndarray, l2: float) -> float:
        return _accuracy(_logits(fit_readout(counts[fit], labels[fit], n_classes, l2, scale=scale), counts[held]),
                         labels[held])

    candidates = (READOUT_L2_DEFAULT,) + tuple(l2 for l2 in READOUT_L2 if l2 != READOUT_L2_DEFAULT)
    selection = choose(labels, candidates, held_out_accuracy, seed=seed)
    return fit_readout(counts, labels, n_classes, selection.choice, scale=scale), selection


def _accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((np.asarray(scores).argmax(1) == np.asarray(labels)).mean()) if len(labels) else float("nan")


@dataclass
class HybridResult:
    """What :func:`train_hybrid` returns: validation accuracy of every candidate (``"vote"``,
    ``"epoch 0"``, ``"epoch 1"``, ...), the chosen one and its test scores, the ensemble weight."""

    val: dict[str, float]
    chosen: str
    test: dict[str, float] = field(default_factory=dict)
    ensemble_weight: float = 1.0
    readout_l2: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"val": self.val, "chosen": self.chosen, "test": self.test, "ensemble_weight": self.ensemble_weight,
                "readout_l2": self.readout_l2, "history": self.history}


def train_hybrid(teacher: DiehlCookTwin, assignments: np.ndarray, n_classes: int, train: tuple[np.ndarray, np.ndarray],
                 val: tuple[np.ndarray, np.ndarray] | None, test: tuple[np.ndarray, np.ndarray] | None = None, *,
                 config: HybridConfig = HybridConfig(), unlabelled: tuple[np.ndarray, np.ndarray] | None = None,
                 progress: bool = False) -> HybridResult:
    r"""Fine-tune the twin of a trained STDP network with CE (and the guidance anchor, and distillation),
    choose on validation (epoch 0 and the teacher's vote included), score the choice once on ``test``.

    ``train``, ``val``, ``test``: ``(rates [n, n_in] in Hz at intensity 1, labels [n])``; ``assignments``:
    the STDP network's neuron -> class map (its vote). ``config.init="random"`` trains the same
    architecture from Diehl & Cook's initial weights instead (the CE-only control; no vote, the
    read-out fitted on its initial counts).

    ``val=None`` is the k-label protocol (:mod:`~bioSNN.supervised.selection`): no validation images, so
    the recipe is fixed in advance (``config.epochs`` epochs, the last one kept, the student's decision
    alone) and the read-out's L2 is chosen by cross-validation inside the labelled training counts.

    ``unlabelled = (rates [m, n_in], targets [m, C])`` with ``config.distill > 0``: distillation. Every
    labelled batch is joined by a batch of unlabelled images (cycled) whose read-out probabilities are
    pulled to ``targets`` (e.g. the teacher's vote on them, :func:`vote_scores`):
    :math:`\mathcal{L} \mathrel{+}= \lambda_d\, \mathrm{KL}(\text{targets} \,\|\, \mathrm{softmax}(W_r c_u / \bar c + b_r))`.
    The number of optimizer steps is the labelled batches', as for CE alone.
    """
    from ..unsupervised.diehl_cook import DiehlCookState

    dtype = torch.float32 if config.dtype == "float32" else torch.float64
    rates_tr, y_tr = train
    fixed = val is None
    rates_va, y_va = val if val is not None else (None, None)
    if config.distill > 0 and unlabelled is None:
        raise InputError("config.distill > 0 needs unlabelled images and their targets")
    if unlabelled is not None:
        rates_u = torch.as_tensor(np.asarray(unlabelled[0], dtype=np.float64))
        targets_u = torch.as_tensor(np.asarray(unlabelled[1], dtype=np.float64))
        if targets_u.shape != (len(rates_u), n_classes) or not torch.isfinite(targets_u).all():
            raise InputError(f"distillation targets must be finite [{len(rates_u)}, {n_classes}], "
                             f"got {tuple(targets_u.shape)}")
    torch_rates = torch.as_tensor(np.asarray(rates_tr, dtype=np.float64))
    teacher = copy.deepcopy(teacher).to(dtype)
    for p in teacher.parameters():
        p.requires_grad_(False)
    if config.init == "random":
        # Diehl & Cook's initial draw, (U + 0.01) * w_init_scale from (seed, 17), each neuron's weights
        # normalised to w_total as the network sees them at its first example, theta at its initial
        # 20 mV; the delays are the trained network's (STDP never changes them)
        c = teacher.config
        w = (np.random.default_rng([config.seed, 17]).random((teacher.n_in, teacher.n)) + 0.01) * c.w_init_scale
        w *= c.w_total / w.sum(axis=0, keepdims=True)
        delay_ms = teacher.delays.cpu().numpy() * c.dt_ms
        init = DiehlCookState.initial(c, teacher.n_in)
        student = DiehlCookTwin(c, DiehlCookState(w, delay_ms, init.theta), neuron=teacher.exc_model, dtype=dtype,
                                trainable=config.trainable)
        teacher = copy.deepcopy(student)  # the anchor of a control is its own start
        for p in teacher.parameters():
            p.requires_grad_(False)
    else:
        student = copy.deepcopy(teacher)
        for name in config.trainable:
            value = getattr(student, name).detach().clone()
            delattr(student, name)
            setattr(student, name, nn.Parameter(value))
    student.detach_lateral = True  # gradients through whole presentations (values unchanged)
    seed = config.seed
    # epoch 0: the untouched network, its read-out fitted on its training counts (L2 chosen on validation)
    tr_counts = count_features(teacher, rates_tr, seed=seed * 104729 + 1, progress=progress, desc="train counts")
    scale = max(tr_counts.sum(1).mean() / tr_counts.shape[1], 1e-9)
    scores_val: dict[str, float] = {}
    if fixed:
        fitted, selection = fit_readout_k(tr_counts, y_tr, n_classes, seed=seed, scale=scale)
        fits, l2 = {selection.choice: fitted}, selection.choice
        history = [{"epoch": 0, "readout_selection": selection.to_dict()}]
    else:
        va_counts = count_features(teacher, rates_va, seed=seed * 104729 + 2, progress=progress, desc="val counts")
        fits = {l2: fit_readout(tr_counts, y_tr, n_classes, l2, scale=scale) for l2 in READOUT_L2}
        val_of = {l2: _accuracy(_logits(r, va_counts), y_va) for l2, r in fits.items()}
        l2 = max(READOUT_L2, key=lambda k: (val_of[k], -READOUT_L2.index(k)))
        if config.init == "stdp":
            scores_val["vote"] = _accuracy(vote_scores(va_counts, assignments, n_classes), y_va)
        scores_val["epoch 0"] = val_of[l2]
        history = [{"epoch": 0, "val": val_of[l2]}]
    readout = fits[l2].to(dtype)
    snapshots = {} if fixed else {"epoch 0": (copy.deepcopy(student.state_dict()), copy.deepcopy(readout.state_dict()))}
    params = [p for p in student.parameters() if p.requires_grad]
    opt = torch.optim.Adam([{"params": params, "lr": config.lr},
                            {"params": readout.parameters(), "lr": config.readout_lr}])
    n = len(torch_rates)
    unlabelled_order = np.zeros(0, np.int64)
    for epoch in range(1, config.epochs + 1):
        order = np.random.default_rng([seed, epoch]).permutation(n)
        total, batches = 0.0, 0
        from ..progress import progress_bar

        with progress_bar(n, f"hybrid epoch {epoch}", "img", enabled=progress) as bar:
            for k, start in enumerate(range(0, n, config.batch_size)):
                idx = order[start:start + config.batch_size]
                gen = _generator(seed, epoch, k)
                teacher_gen = _generator(seed, epoch, k)
                counts, v = present_batch(student, torch_rates[idx], gen, record_v=config.guidance > 0)
                loss = nn.functional.cross_entropy(readout(counts), torch.as_tensor(y_tr[idx], dtype=torch.int64))
                if config.guidance > 0:
                    with torch.no_grad():
                        _, v_teacher = present_batch(teacher, torch_rates[idx], teacher_gen, record_v=True)
                    loss = loss + config.guidance * nn.functional.huber_loss(v, v_teacher, delta=config.huber_delta_mV)
                if config.distill > 0:
                    if len(unlabelled_order) < config.batch_size:  # the pool, cycled in seeded orders
                        unlabelled_order = np.concatenate([unlabelled_order, np.random.default_rng(
                            [seed, epoch, k, 31]).permutation(len(rates_u))])
                    u, unlabelled_order = unlabelled_order[:config.batch_size], unlabelled_order[config.batch_size:]
                    counts_u, _ = present_batch(student, rates_u[u], _generator(seed, epoch, k, 31))
                    log_p = nn.functional.log_softmax(readout(counts_u), dim=1)
                    loss = loss + config.distill * nn.functional.kl_div(log_p, targets_u[u].to(log_p.dtype),
                                                                        reduction="batchmean")
                opt.zero_grad()
                loss.backward()
                opt.step()
                with torch.no_grad():
                    if "w" in config.trainable:
                        student.w.clamp_(0.0, config.w_max)
                total, batches = total + float(loss.detach()), batches + 1
                bar.update(len(idx))
        if fixed:
            history.append({"epoch": epoch, "loss": total / max(batches, 1)})
            logger.info("hybrid epoch %d: loss %.4f", epoch, total / max(batches, 1))
            continue
        va = count_features(student, rates_va, seed=seed * 104729 + 2, progress=progress, desc="val counts")
        acc = _accuracy(_logits(readout, va), y_va)
        scores_val[f"epoch {epoch}"] = acc
        history.append({"epoch": epoch, "loss": total / max(batches, 1), "val": acc})
        snapshots[f"epoch {epoch}"] = (copy.deepcopy(student.state_dict()), copy.deepcopy(readout.state_dict()))
        logger.info("hybrid epoch %d: loss %.4f, validation %.4f", epoch, total / max(batches, 1), acc)
    weight = 1.0
    if fixed:  # the recipe: the last epoch, the student's decision alone
        chosen = f"epoch {config.epochs}"
    else:
        candidates = [k for k in scores_val if k.startswith("epoch")]
        chosen = max(candidates, key=lambda k: (scores_val[k], -candidates.index(k)))  # ties: the earlier epoch
        student.load_state_dict(snapshots[chosen][0])
        readout.load_state_dict(snapshots[chosen][1])
        va = count_features(student, rates_va, seed=seed * 104729 + 2)
    if config.init == "stdp" and not fixed:
        teacher_va = va_counts
        ens = {a: _accuracy(_ensemble(a, readout, va, teacher_va, assignments, n_classes), y_va) for a in ENSEMBLE_WEIGHTS}
        weight = max(ENSEMBLE_WEIGHTS, key=lambda a: (ens[a], a))
        scores_val["ensemble"] = ens[weight]
    result = HybridResult(scores_val, chosen, ensemble_weight=weight, readout_l2=l2, history=history,
                          state={"student": student, "readout": readout})
    if test is not None:
        rates_te, y_te = test
        te = count_features(student, rates_te, seed=seed * 104729 + 3, progress=progress, desc="test counts")
        result.test["student"] = _accuracy(_logits(readout, te), y_te)
        if config.init == "stdp":
            teacher_te = count_features(teacher, rates_te, seed=seed * 104729 + 3, progress=progress,
                                        desc="teacher test counts")
            result.test["vote"] = _accuracy(vote_scores(teacher_te, assignments, n_classes), y_te)
            result.test["readout"] = _accuracy(_logits(fits[l2], teacher_te), y_te)
            result.test["ensemble"] = _accuracy(_ensemble(weight, readout, te, teacher_te, assignments, n_classes), y_te)
    return result


def _logits(readout: CountReadout, counts: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return readout(torch.as_tensor(counts, dtype=readout.linear.weight.dtype)).double().numpy()


def _ensemble(weight: float, readout: CountReadout, counts: np.ndarray, teacher_counts: np.ndarray,
              assignments: np.ndarray, n_classes: int) -> np.ndarray:
    logits = _logits(readout, counts)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return weight * p + (1 - weight) * vote_scores(teacher_counts, assignments, n_classes)


# ---------------------------------------------------------------------- the run folder
#: ``readout.npz`` header: the count read-out of a hybrid run
READOUT_FORMAT = "bioSNN.CountReadout"
#: the evaluation seed of a hybrid run's count features (one fixed Poisson draw per image)
EVALUATION_SEED = 20261207
#: what ``biosnn hybrid`` writes into its folder
HYBRID_OUTPUTS = ("network.npz", "readout.npz", "config.json", "metrics.json")


def save_hybrid(out: Any, result: HybridResult, saved: Any, config: HybridConfig, *, stdp: Any,
                data: dict[str, Any], n_train: int) -> None:
    """Write a hybrid run: ``network.npz`` (the chosen student as a ``diehl_cook`` network, the same
    format as ``biosnn unsupervised`` writes, so Brian2 can run it too), ``readout.npz`` (``weight
    [C, N]``, ``bias [C]``, ``meta``: scale, L2, the ensemble weight; with an ensemble weight below 1 also
    the teacher's ``teacher_w`` and ``teacher_theta``, whose vote takes part in the decision),
    ``config.json`` (the STDP folder ``stdp``, ``config``, the training images' ``data`` source with its
    hold-out, ``n_train``) and ``metrics.json`` (validation scores and choices). Every file is written to a
    temporary file, then renamed."""
    from .. import __version__

    run_config = {"preset": "hybrid", "stdp": str(stdp), "hybrid": config.to_dict(), "n_train": int(n_train),
                  "data": dict(data)}
    metrics = {"bioSNN": __version__, "preset": "hybrid", "val": result.val, "chosen": result.chosen,
               "history": result.history, "readout_l2": result.readout_l2, "ensemble_weight": result.ensemble_weight,
               "val_accuracy": result.val.get("ensemble", result.val.get(result.chosen))}
    import json
    from pathlib import Path

    from ..fileio import atomic_savez
    from ..unsupervised.artifacts import SavedNetwork, save_network

    student, readout = result.state["student"], result.state["readout"]
    arrays = {"w": student.w.detach().double().cpu().numpy(), "delay_ms": saved.arrays["delay_ms"],
              "theta": student.theta.detach().double().cpu().numpy()}
    meta = {**saved.meta, "hybrid": {"config": config.to_dict(), "chosen": result.chosen}}
    meta.pop("format", None), meta.pop("version", None), meta.pop("preset", None), meta.pop("model", None)
    meta.pop("fingerprint", None)
    out = Path(out)
    save_network(out, SavedNetwork("diehl_cook", arrays, saved.assignments, saved.class_names, saved.model, meta),
                 metrics=metrics, run_config=run_config)
    header = {"format": READOUT_FORMAT, "version": 1, "scale": readout.scale, "l2": result.readout_l2,
              "ensemble_weight": result.ensemble_weight, "n_classes": len(saved.class_names)}
    teacher = {"teacher_w": saved.arrays["w"], "teacher_theta": saved.arrays["theta"]} \
        if result.ensemble_weight < 1 else {}
    atomic_savez(out / "readout.npz", weight=readout.linear.weight.detach().double().cpu().numpy(),
                 bias=readout.linear.bias.detach().double().cpu().numpy(), meta=np.asarray(json.dumps(header)),
                 **teacher)


def load_hybrid(directory: Any, *, dtype: torch.dtype = torch.float32
                ) -> tuple[DiehlCookTwin, CountReadout, Any, DiehlCookTwin | None, float]:
    """The student twin, its read-out, the saved network, the teacher twin (``None`` when the decision
    is the student's alone) and the ensemble weight of the student in the decision.

    Example:
        >>> twin, readout, saved = load_hybrid("models/mstar10-hybrid")  # doctest: +SKIP
    """
    import json
    from pathlib import Path

    from ..errors import DataError
    from ..fileio import READ_ERRORS
    from .twin import load_twin

    path = Path(directory) / "readout.npz"
    twin, saved = load_twin(directory, dtype=dtype, trainable=())
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["meta"]))
            weight, bias = z["weight"], z["bias"]
            teacher_arrays = (z["teacher_w"], z["teacher_theta"]) if "teacher_w" in z.files else None
    except READ_ERRORS as exc:
        raise DataError(f"{path}: unreadable read-out, corrupt or truncated ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != READOUT_FORMAT:
        raise DataError(f"{path}: not a count read-out")
    n_classes = len(saved.class_names)
    if weight.shape != (n_classes, twin.n) or bias.shape != (n_classes,) or not (
            np.all(np.isfinite(weight)) and np.all(np.isfinite(bias))):
        raise DataError(f"{path}: read-out of shape {weight.shape} (finite values, [{n_classes}, {twin.n}] expected)")
    readout = CountReadout(twin.n, n_classes, float(header["scale"])).to(dtype)
    with torch.no_grad():
        readout.linear.weight.copy_(torch.as_tensor(weight))
        readout.linear.bias.copy_(torch.as_tensor(bias))
    ensemble = float(header.get("ensemble_weight", 1.0))
    teacher = None
    if ensemble < 1:
        from ..unsupervised.diehl_cook import DiehlCookState

        if teacher_arrays is None or teacher_arrays[0].shape != (twin.n_in, twin.n):
            raise DataError(f"{path}: the decision mixes in the teacher's vote, but its weights are missing or misshapen")
        teacher = DiehlCookTwin(twin.config, DiehlCookState(teacher_arrays[0], saved.arrays["delay_ms"],
                                                            teacher_arrays[1]), neuron=saved.model, dtype=dtype,
                                trainable=())
    return twin, readout, saved, teacher, ensemble


def evaluate_hybrid(directory: Any, images: Any, *, progress: bool = False) -> dict[str, Any]:
    """Accuracy of a hybrid run on ``images`` (an :class:`~bioSNN.data.ImageSet` read as the network
    reads them): the student's counts (one presentation per image, the network's protocol, Poisson
    draws from :data:`EVALUATION_SEED`) through its read-out, mixed with the teacher's vote on the same
    draws by the ensemble weight chosen on validation.

    Example:
        >>> evaluate_hybrid("models/mstar10-hybrid", test_images)["accuracy"]  # doctest: +SKIP
        0.95
    """
    import time

    from ..unsupervised.pipeline import rates_of

    twin, readout, saved, teacher, weight = load_hybrid(directory)
    if tuple(images.class_names) != tuple(saved.class_names):
        raise InputError(f"classes {images.class_names} differ from the network's {saved.class_names}")
    start = time.perf_counter()
    rates = rates_of(images.images, twin.config.input_total)
    counts = count_features(twin, rates, seed=EVALUATION_SEED, progress=progress, desc="hybrid counts")
    n_classes = len(saved.class_names)
    if teacher is None:
        predicted = _logits(readout, counts).argmax(1)
    else:
        teacher_counts = count_features(teacher, rates, seed=EVALUATION_SEED, progress=progress, desc="teacher counts")
        predicted = _ensemble(weight, readout, counts, teacher_counts, saved.assignments, n_classes).argmax(1)
    labels = np.asarray(images.labels)
    confusion = np.zeros((len(saved.class_names),) * 2, dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return {"accuracy": float((predicted == labels).mean()), "n_test": len(labels), "draws": 1,
            "ensemble_weight": weight,
            "seconds": time.perf_counter() - start, "confusion": confusion.tolist(), "data": dict(images.source)}
