"""``simulate``: drive one layer of a model from input spike trains, in Brian2 or in torch.

Time convention (the same for both backends)
--------------------------------------------
Step ``k`` covers ``[k*dt, (k+1)*dt)``. An input spike in row ``k`` of ``input_spikes`` is emitted
by a Brian2 ``SpikeGeneratorGroup`` at ``t = k*dt`` and delivered in step ``k`` by Brian2's default
schedule, i.e. in the ``synapses`` slot, after the threshold test of step ``k``. Row ``k`` of every
recorded variable is the state at the *end* of step ``k`` (``StateMonitor(..., when="end")``), and
``spikes[k]`` marks neurons that passed the threshold in step ``k``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from brian2.units.fundamentalunits import Quantity

from ..errors import InputError
from .model import NeuronModel
from ..quantities import as_time, dimension_of
from .surrogate import Surrogate

__all__ = ["simulate", "BACKENDS"]

BACKENDS = ("brian2", "torch")


def simulate(
    model: NeuronModel,
    input_spikes: Any,
    weights: Any,
    dt: Any,
    backend: str = "brian2",
    record: Sequence[str] = ("v",),
    dtype: torch.dtype = torch.float64,
    *,
    brian2_target: str = "numpy",
    device: Any = "cpu",
    surrogate: Surrogate | None = None,
) -> dict[str, np.ndarray]:
    r"""Simulate one layer: input spikes ``[T, n_in]`` -> weights ``[n_in, n_out]`` -> ``model``.

    Returns ``{var: [T, n_out] float64 array in SI units for each recorded var, "spikes": [T, n_out]
    bool}``. ``weights`` are in the unit of ``w`` in ``model.on_pre`` (a Brian2 quantity, or plain
    SI numbers). ``brian2_target`` is Brian2's runtime target (``"numpy"`` or ``"cython"``);
    ``dtype``/``device`` apply to the torch backend.

    Example
    -------
    >>> import numpy as np
    >>> from brian2 import ms, nA
    >>> from bioSNN.equations import library, simulate
    >>> x = np.random.default_rng(0).random((200, 20)) < 0.05
    >>> w = np.full((20, 5), 1.0) * nA
    >>> a = simulate(library.lif_exp_synapse(), x, w, 0.1*ms, backend="brian2")
    >>> b = simulate(library.lif_exp_synapse(), x, w, 0.1*ms, backend="torch")
    >>> bool(np.abs(a["v"] - b["v"]).max() < 1e-12)
    True
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    dt_s = as_time(dt)
    x, w = _check_inputs(model, input_spikes, weights)
    record = tuple(record)
    known = set(model.state_variables) | set(model.subexpressions)
    unknown = [r for r in record if r not in known]
    if unknown:
        raise InputError(f"cannot record {unknown}: model '{model.name}' has {sorted(known)}")
    if backend == "brian2":
        return _simulate_brian2(model, x, w, dt_s, record, brian2_target)
    return _simulate_torch(model, x, w, dt_s, record, dtype, device, surrogate)


def _check_inputs(model: NeuronModel, input_spikes: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
    from .brian import weight_dimension

    x = input_spikes.detach().cpu().numpy() if torch.is_tensor(input_spikes) else np.asarray(input_spikes)
    if x.ndim != 2:
        raise InputError(f"input_spikes must be [T, n_in], got shape {x.shape}")
    if x.shape[0] < 1:
        raise InputError("input_spikes has no time steps (T = 0)")
    if x.dtype != bool:
        if not np.issubdtype(x.dtype, np.number) or not np.isin(x, (0, 1)).all():
            raise InputError(f"input_spikes must be boolean (or 0/1), got dtype {x.dtype} with other values")
        x = x.astype(bool)
    if isinstance(weights, Quantity):
        expected = weight_dimension(model)
        if dimension_of(weights) is not expected:
            raise InputError(
                f"weights have dimension {dimension_of(weights)}, but w in on_pre {model.on_pre!r} of model "
                f"'{model.name}' has dimension {expected}"
            )
    w_raw = weights.detach().cpu().numpy() if torch.is_tensor(weights) else np.asarray(weights)
    w = np.asarray(w_raw, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != x.shape[1]:
        raise InputError(f"weights must be [n_in={x.shape[1]}, n_out], got shape {w.shape}")
    if not np.isfinite(w).all():
        raise InputError("weights contain NaN or infinite values")
    return x, w


def _simulate_brian2(model: NeuronModel, x: np.ndarray, w: np.ndarray, dt: float, record: tuple[str, ...],
                     target: str) -> dict[str, np.ndarray]:
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, second

    from .brian import build_layer, connect_input

    codeobj_class = _codeobj_class(target)
    T, n_in = x.shape
    dt_q = dt * second
    layer = build_layer(model, w.shape[1], dt_q, codeobj_class=codeobj_class)
    steps, idx = np.nonzero(x)
    source = SpikeGeneratorGroup(n_in, idx, steps * dt_q, dt=dt_q, name="layer_source", codeobj_class=codeobj_class)
    syn = connect_input(model, source, layer, w, codeobj_class=codeobj_class)
    objects = [o for o in (*layer, source, syn) if o is not None]
    monitors = {}
    if record:
        monitors["state"] = StateMonitor(layer.group, list(record), record=True, when="end", order=10_000,
                                         dt=dt_q, codeobj_class=codeobj_class)
    spike_mon = SpikeMonitor(layer.group, codeobj_class=codeobj_class) if model.threshold else None
    net = Network(*objects, *monitors.values(), *([spike_mon] if spike_mon is not None else []))
    net.run(T * dt_q, namespace={})
    out: dict[str, np.ndarray] = {}
    for r in record:
        values = getattr(monitors["state"], r + "_")  # SI values, shape [n_out, T]
        out[r] = np.asarray(values, dtype=np.float64).T.copy()
    spikes = np.zeros((T, w.shape[1]), dtype=bool)
    if spike_mon is not None:
        steps_out = np.rint(np.asarray(spike_mon.t_) / dt).astype(np.int64)
        spikes[steps_out, np.asarray(spike_mon.i)] = True
    out["spikes"] = spikes
    return out


def _codeobj_class(target: str) -> Any:
    if target == "numpy":
        from brian2.codegen.runtime.numpy_rt import NumpyCodeObject

        return NumpyCodeObject
    if target == "cython":
        from brian2.codegen.runtime.cython_rt import CythonCodeObject

        return CythonCodeObject
    raise InputError(f"brian2_target must be 'numpy' or 'cython', got {target!r}")


def _simulate_torch(model: NeuronModel, x: np.ndarray, w: np.ndarray, dt: float, record: tuple[str, ...],
                    dtype: torch.dtype, device: Any, surrogate: Surrogate | None) -> dict[str, np.ndarray]:
    from .torch_step import TorchStep

    step = TorchStep(model, dt, dtype=dtype, device=device, surrogate=surrogate)
    xt = torch.as_tensor(x, device=device)[:, None, :]
    wt = torch.as_tensor(w, dtype=dtype, device=device)
    with torch.no_grad():
        result = step.run(xt, wt, record=record)
    out = {r: result.recorded[r][:, 0, :].to(torch.float64).cpu().numpy() for r in record}
    out["spikes"] = (result.spikes[:, 0, :] != 0).cpu().numpy()
    return out


def compare(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Equivalence summary of two :func:`simulate` results: per variable the max abs error, the
    variable's range over the run and their ratio; spike agreement and identical-step flag."""
    report: dict[str, Any] = {}
    for key in a:
        if key == "spikes":
            continue
        err = float(np.max(np.abs(a[key] - b[key])))
        rng = float(np.ptp(a[key]))
        report[key] = {"max_abs_error": err, "range": rng, "relative": err / rng if rng > 0 else err}
    same = a["spikes"] == b["spikes"]
    report["spikes"] = {
        "count": int(a["spikes"].sum()),
        "identical": bool(same.all()),
        "agreement": float(same.mean()),
    }
    return report
