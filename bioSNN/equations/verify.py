r"""Brian2-vs-torch equivalence check of a model on random input (used by ``biosnn verify`` and tests).

The promise, measured in two parts:

* **One step.** From Brian2's own state at the end of step :math:`k-1` (every state variable,
  ``lastspike`` and ``not_refractory`` included) the generated torch step computes step :math:`k`; its
  result is compared with Brian2's state at the end of step :math:`k`, for every step of the run at
  once (the steps form the batch). The error of a variable is
  :math:`\max_{k,i} |x^{torch}_{k,i} - x^{Brian2}_{k,i}| / \max_{k,i} |x^{Brian2}_{k,i}|`; in float64 it
  is a few units of rounding (bound: :data:`ONE_STEP_BOUND`), and the spikes of every step are identical.
* **Whole run.** Both simulators run the same input from the initial state; per variable the largest
  difference over the run divided by the variable's range. For models without growing rounding
  differences it stays below :data:`WHOLE_RUN_BOUND`. In excitable models (Hodgkin-Huxley type) the
  rounding differences of single steps (torch's and numpy's ``exp`` differ in the last bit) grow
  through the dynamics; Brian2's own numpy and cython targets drift apart the same way. For those the
  promise is that torch is no further from Brian2's numpy target than Brian2's cython target is
  (``verify_model(..., against_cython=True)`` measures both).

Each library model has a default drive (``dt``, input rate, weight range) under which it spikes
regularly; a custom model passes its own :class:`Drive`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
from brian2 import mV, ms, nA

from ..quantities import as_time
from .model import NeuronModel
from .simulation import _check_inputs, _simulate_brian2, compare, simulate
from .torch_step import TorchStep

__all__ = ["Drive", "DEFAULT_DRIVES", "ONE_STEP_BOUND", "WHOLE_RUN_BOUND", "random_inputs", "random_delays",
           "verify_model", "one_step_error", "worst"]

#: Largest one-step error (relative to the variable's largest magnitude) accepted in float64.
ONE_STEP_BOUND = 1e-12
#: Largest whole-run error (relative to the variable's range) accepted for non-excitable models.
WHOLE_RUN_BOUND = 1e-9


@dataclass(frozen=True)
class Drive:
    """Random input for a check: Bernoulli input spikes with probability ``p`` per step and weights
    uniform in ``[low, high]`` (quantities in the unit of the weight). For a model with several
    pathways ``p``, ``low`` and ``high`` may be dicts keyed by pathway name. ``delay`` maps a
    pathway to a time (the same delay for every synapse) or to a ``(low, high)`` pair (per-synapse
    delays drawn uniformly)."""

    dt: Any
    p: Any
    low: Any
    high: Any
    record: tuple[str, ...] = ("v",)
    delay: Mapping[str, Any] | None = None


DEFAULT_DRIVES: dict[str, Drive] = {
    "lif_exp_synapse": Drive(0.1 * ms, 0.05, 0.0 * nA, 1.5 * nA, ("v", "I")),
    "lif_delta": Drive(1 * ms, 0.1, -1.0 * mV, 4.0 * mV),
    "diehl_cook_excitatory": Drive(0.5 * ms, 0.08, 0.0, 0.6, ("v", "ge", "theta", "timer")),
    "diehl_cook_inhibitory": Drive(0.5 * ms, 0.08, 0.0, 0.6, ("v", "ge")),
    "seed_wta_if": Drive(1 * ms, 0.15, -1.2 * mV, 3.6 * mV, ("v", "n_above", "inhibited")),
}


def _pick(value: Any, pathway: str) -> Any:
    return value[pathway] if isinstance(value, Mapping) else value


def random_inputs(drive: Drive, steps: int, n_in: int, n_out: int, seed: int,
                  pathways: tuple[str, ...] | None = None) -> tuple[Any, Any]:
    """Input spikes ``[steps, n_in]`` and weights ``[n_in, n_out]`` drawn reproducibly from ``seed``;
    with ``pathways`` (more than one), dicts of both keyed by pathway, each drawn in turn.

    Example:
        >>> x, w = random_inputs(DEFAULT_DRIVES["lif_delta"], 100, 5, 2, seed=0)
        >>> x.shape, w.shape
        ((100, 5), (5, 2))
    """
    rng = np.random.default_rng(seed)
    names = pathways if pathways and len(pathways) > 1 else (None,)
    xs, ws = {}, {}
    for name in names:
        p, low, high = (_pick(v, name) for v in (drive.p, drive.low, drive.high))
        xs[name] = rng.random((steps, n_in)) < p
        ws[name] = low + (high - low) * rng.random((n_in, n_out))
    if names == (None,):
        return xs[None], ws[None]
    return xs, ws


def random_delays(drive: Drive, model: NeuronModel, n_in: int, n_out: int, seed: int) -> dict[str, Any] | None:
    """The delays of ``drive`` per pathway: times as given, ``(low, high)`` pairs drawn per synapse."""
    if not drive.delay:
        return None
    rng = np.random.default_rng([seed, 1])
    out: dict[str, Any] = {name: None for name in model.pathways}
    for name, value in drive.delay.items():
        if isinstance(value, tuple):
            low, high = value
            out[name] = low + (high - low) * rng.random((n_in, n_out))
        else:
            out[name] = value
    return out


def verify_model(model: NeuronModel, drive: Drive, steps: int = 2000, n_in: int = 30, n_out: int = 6,
                 seed: int = 0, *, one_step: bool = True, against_cython: bool = False,
                 float32: bool = True) -> dict[str, Any]:
    """Simulate ``model`` in Brian2 (numpy target) and in torch on the same random input.

    Returns ``{"float64": compare(brian2, torch64), "float32": ..., "one_step": one_step_error(...),
    "cython": compare(brian2 numpy, brian2 cython)}`` (the last only with ``against_cython``, which
    compiles the model with Cython: seconds to a minute the first time).
    """
    x, w = random_inputs(drive, steps, n_in, n_out, seed, tuple(model.pathways))
    delays = random_delays(drive, model, n_in, n_out, seed)
    record = tuple(drive.record)
    # one Brian2 run serves both checks: it records the recorded variables and the whole state
    step = TorchStep(model, drive.dt, dtype=torch.float64) if one_step else None
    fields = step.generated.state_fields if step is not None else ()
    inputs = _check_inputs(model, x, w, delays)
    full = _simulate_brian2(model, inputs, as_time(drive.dt), tuple(dict.fromkeys(record + fields)), "numpy")
    ref = {k: full[k] for k in (*record, "spikes")}
    t64 = simulate(model, x, w, drive.dt, backend="torch", record=record, dtype=torch.float64, delays=delays)
    report: dict[str, Any] = {"float64": compare(ref, t64)}
    if float32:
        t32 = simulate(model, x, w, drive.dt, backend="torch", record=record, dtype=torch.float32, delays=delays)
        report["float32"] = compare(ref, t32)
    if one_step:
        report["one_step"] = one_step_error(model, x, w, drive.dt, delays=delays, reference=full, step=step)
    if against_cython:
        cy = simulate(model, x, w, drive.dt, backend="brian2", record=record, delays=delays, brian2_target="cython")
        report["cython"] = compare(ref, cy)
    return report


def one_step_error(model: NeuronModel, input_spikes: Any, weights: Any, dt: Any, delays: Any = None,
                   reference: Mapping[str, np.ndarray] | None = None, step: Any = None) -> dict[str, Any]:
    """Error of single generated torch steps (float64) started from Brian2's own states (see module doc).

    ``reference``: a Brian2 (numpy target) run of the same input recording every state field, if one is
    at hand (else it is simulated here); ``step``: the model's float64 :class:`TorchStep` at ``dt``, if
    one is at hand.

    Returns ``{var: {"max_abs_error", "scale", "relative"}, "spikes": {"count", "identical"}}`` for every
    floating-point state variable; boolean/integer/time variables are included when not identical
    (``relative`` then 1.0).

    Example:
        >>> from bioSNN.equations import library
        >>> x, w = random_inputs(DEFAULT_DRIVES["lif_delta"], 300, 10, 3, seed=0)
        >>> r = one_step_error(library.lif_delta(), x, w, 1 * ms)
        >>> r["v"]["relative"] < ONE_STEP_BOUND and r["spikes"]["identical"]
        True
    """
    from .torch_step import LayerState

    dt_s = as_time(dt)
    inputs = _check_inputs(model, input_spikes, weights, delays)
    step = step if step is not None else TorchStep(model, dt_s, dtype=torch.float64)
    fields = step.generated.state_fields
    ref = reference if reference is not None else _simulate_brian2(model, inputs, dt_s, tuple(fields), "numpy")
    T, n = ref["spikes"].shape
    drives = step.pathway_drives({p.name: torch.as_tensor(p.x)[:, None, :] for p in inputs},
                                 {p.name: torch.as_tensor(p.w, dtype=torch.float64) for p in inputs},
                                 {p.name: p.delay for p in inputs})
    drives = tuple(d[1:, 0, :] for d in drives)  # the drive of steps 1..T-1
    kinds = step.generated.state_kinds
    before = {}
    for f in fields:
        values = np.broadcast_to(ref[f], (T, n))  # shared variables come as one column
        before[f] = torch.as_tensor(np.array(values[:-1])).to(step.state_dtype(f))
    state = LayerState(step.State(**before), torch.arange(1, T, dtype=torch.float64)[:, None])
    with torch.no_grad():
        spikes, after = step.step_drive(state, tuple(drives))
    report: dict[str, Any] = {}
    for f in fields:
        got = getattr(after.inner, f).to(torch.float64).numpy()
        want = np.broadcast_to(ref[f], (T, n))[1:].astype(np.float64)
        if kinds[f] == "float":
            err = float(np.max(np.abs(got - want))) if got.size else 0.0
            scale = float(np.max(np.abs(want))) if want.size else 0.0
            report[f] = {"max_abs_error": err, "scale": scale, "relative": err / scale if scale > 0 else err}
        elif not np.array_equal(got, want):
            report[f] = {"max_abs_error": float(np.max(np.abs(got - want))), "scale": 1.0, "relative": 1.0}
    same = (spikes.numpy() != 0) == ref["spikes"][1:]
    report["spikes"] = {"count": int(ref["spikes"][1:].sum()), "identical": bool(same.all())}
    return report


def worst(comparison: Mapping[str, Any]) -> float:
    """The largest ``relative`` error of a :func:`compare` or :func:`one_step_error` result (0 if none)."""
    return max((v["relative"] for k, v in comparison.items() if k != "spikes"), default=0.0)
