"""Brian2-vs-torch equivalence check of a model on random input (used by ``biosnn verify`` and tests).

Each library model has a default drive (``dt``, input rate, weight range) under which it spikes
regularly; a custom model can pass its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from brian2 import mV, ms, nA

from .model import NeuronModel
from .simulation import compare, simulate

__all__ = ["Drive", "DEFAULT_DRIVES", "random_inputs", "verify_model"]


@dataclass(frozen=True)
class Drive:
    """Random input for a check: Bernoulli input spikes with probability ``p`` per step and weights
    uniform in ``[low, high]`` (quantities in the unit of ``w``)."""

    dt: Any
    p: float
    low: Any
    high: Any
    record: tuple[str, ...] = ("v",)


DEFAULT_DRIVES: dict[str, Drive] = {
    "lif_exp_synapse": Drive(0.1 * ms, 0.05, 0.0 * nA, 1.5 * nA, ("v", "I")),
    "lif_delta": Drive(1 * ms, 0.1, -1.0 * mV, 4.0 * mV),
    "diehl_cook_excitatory": Drive(0.5 * ms, 0.08, 0.0, 0.6, ("v", "ge", "theta", "timer")),
    "diehl_cook_inhibitory": Drive(0.5 * ms, 0.08, 0.0, 0.6, ("v", "ge")),
    "seed_wta_if": Drive(1 * ms, 0.15, -1.2 * mV, 3.6 * mV, ("v", "n_above", "inhibited")),
}


def random_inputs(drive: Drive, steps: int, n_in: int, n_out: int, seed: int) -> tuple[np.ndarray, Any]:
    """Input spikes ``[steps, n_in]`` and weights ``[n_in, n_out]`` drawn reproducibly from ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.random((steps, n_in)) < drive.p
    u = rng.random((n_in, n_out))
    return x, drive.low + (drive.high - drive.low) * u


def verify_model(model: NeuronModel, drive: Drive, steps: int = 2000, n_in: int = 30, n_out: int = 6,
                 seed: int = 0) -> dict[str, Any]:
    """Simulate ``model`` in Brian2 (numpy target), torch float64 and torch float32 on the same input.

    Returns ``{"float64": compare(brian2, torch64), "float32": compare(brian2, torch32)}``.
    """
    x, w = random_inputs(drive, steps, n_in, n_out, seed)
    ref = simulate(model, x, w, drive.dt, backend="brian2", record=drive.record)
    t64 = simulate(model, x, w, drive.dt, backend="torch", record=drive.record, dtype=torch.float64)
    t32 = simulate(model, x, w, drive.dt, backend="torch", record=drive.record, dtype=torch.float32)
    return {"float64": compare(ref, t64), "float32": compare(ref, t32)}
