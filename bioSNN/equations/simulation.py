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

from typing import Any, Mapping, NamedTuple, Sequence

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
    delays: Any = None,
    brian2_target: str = "numpy",
    device: Any = "cpu",
    surrogate: Surrogate | None = None,
) -> dict[str, np.ndarray]:
    r"""Simulate one layer: input spikes ``[T, n_in]`` -> weights ``[n_in, n_out]`` -> ``model``.

    Returns ``{var: [T, n_out] float64 array in SI units for each recorded var, "spikes": [T, n_out]
    bool}``. ``weights`` are in the unit of the weight in ``model.on_pre`` (a Brian2 quantity, or plain
    SI numbers). A model with several input pathways takes ``input_spikes``, ``weights`` (and
    ``delays``) as dicts keyed by pathway name; every pathway has its own input population.
    ``delays``: one time or an ``[n_in, n_out]`` array of times per pathway (Brian2 rounds them to
    steps). ``brian2_target`` is Brian2's runtime target (``"numpy"`` or ``"cython"``);
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
    inputs = _check_inputs(model, input_spikes, weights, delays)
    record = tuple(record)
    known = set(model.state_variables) | set(model.subexpressions)
    unknown = [r for r in record if r not in known]
    if unknown:
        raise InputError(f"cannot record {unknown}: model '{model.name}' has {sorted(known)}")
    if backend == "brian2":
        return _simulate_brian2(model, inputs, dt_s, record, brian2_target)
    return _simulate_torch(model, inputs, dt_s, record, dtype, device, surrogate)


class _Pathway(NamedTuple):
    """One pathway's checked input: spikes ``[T, n_in]`` (bool), weights ``[n_in, n_out]`` (SI), delay."""

    name: str
    x: np.ndarray
    w: np.ndarray
    delay: Any


def _check_inputs(model: NeuronModel, input_spikes: Any, weights: Any, delays: Any = None) -> list[_Pathway]:
    from .brian import delay_seconds, weight_dimension

    xs = model.per_pathway(input_spikes, "input_spikes")
    ws = model.per_pathway(weights, "weights")
    ds = model.per_pathway(delays, "delays") if delays is not None else dict.fromkeys(xs)
    out: list[_Pathway] = []
    steps = set()
    for name in model.pathways:
        x, weights_p = xs[name], ws[name]
        what = "" if isinstance(model.on_pre, str) else f" of pathway {name!r}"
        x = x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)
        if x.ndim != 2:
            raise InputError(f"input_spikes{what} must be [T, n_in], got shape {x.shape}")
        if x.shape[0] < 1:
            raise InputError(f"input_spikes{what} has no time steps (T = 0)")
        if x.dtype != bool:
            if not np.issubdtype(x.dtype, np.number) or not np.isin(x, (0, 1)).all():
                raise InputError(f"input_spikes{what} must be boolean (or 0/1), got dtype {x.dtype} with other values")
            x = x.astype(bool)
        if isinstance(weights_p, Quantity):
            expected = weight_dimension(model, name)
            if dimension_of(weights_p) is not expected:
                raise InputError(
                    f"weights{what} have dimension {dimension_of(weights_p)}, but {model.weight} in on_pre "
                    f"{model.pathways[name]!r} of model '{model.name}' has dimension {expected}"
                )
        w_raw = weights_p.detach().cpu().numpy() if torch.is_tensor(weights_p) else np.asarray(weights_p)
        w = np.asarray(w_raw, dtype=np.float64)
        if w.ndim != 2 or w.shape[0] != x.shape[1]:
            raise InputError(f"weights{what} must be [n_in={x.shape[1]}, n_out], got shape {w.shape}")
        if not np.isfinite(w).all():
            raise InputError(f"weights{what} contain NaN or infinite values")
        d = None if ds[name] is None else delay_seconds(ds[name], w.shape)
        out.append(_Pathway(name, x, w, d))
        steps.add(x.shape[0])
    if len(steps) != 1 or len({p.w.shape[1] for p in out}) != 1:
        raise InputError("all pathways need the same number of steps T and of output neurons n_out")
    return out


def _simulate_brian2(model: NeuronModel, inputs: list[_Pathway], dt: float, record: tuple[str, ...],
                     target: str) -> dict[str, np.ndarray]:
    from brian2 import Network, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, second

    from .brian import build_layer, connect_input

    codeobj_class = _codeobj_class(target)
    T, n_out = inputs[0].x.shape[0], inputs[0].w.shape[1]
    dt_q = dt * second
    layer = build_layer(model, n_out, dt_q, codeobj_class=codeobj_class)
    objects = [layer]
    for p in inputs:
        steps, idx = np.nonzero(p.x)
        source = SpikeGeneratorGroup(p.x.shape[1], idx, steps * dt_q, dt=dt_q, name=f"layer_source_{p.name}",
                                     codeobj_class=codeobj_class)
        syn = connect_input(model, source, layer, p.w, pathway=p.name, delay=p.delay, codeobj_class=codeobj_class)
        objects += [source, syn]
    monitors = {}
    if record:
        monitors["state"] = StateMonitor(layer, list(record), record=True, when="end", order=10_000,
                                         dt=dt_q, codeobj_class=codeobj_class)
    spike_mon = SpikeMonitor(layer, codeobj_class=codeobj_class) if model.threshold else None
    net = Network(*objects, *monitors.values(), *([spike_mon] if spike_mon is not None else []))
    net.run(T * dt_q, namespace={})
    out: dict[str, np.ndarray] = {}
    for r in record:
        values = getattr(monitors["state"], r + "_")  # SI values, shape [n_out, T]
        out[r] = np.asarray(values, dtype=np.float64).T.copy()
    spikes = np.zeros((T, n_out), dtype=bool)
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


def _simulate_torch(model: NeuronModel, inputs: list[_Pathway], dt: float, record: tuple[str, ...],
                    dtype: torch.dtype, device: Any, surrogate: Surrogate | None) -> dict[str, np.ndarray]:
    from .torch_step import TorchStep

    step = TorchStep(model, dt, dtype=dtype, device=device, surrogate=surrogate)
    xs = {p.name: torch.as_tensor(p.x, device=device)[:, None, :] for p in inputs}
    ws = {p.name: torch.as_tensor(p.w, dtype=dtype, device=device) for p in inputs}
    ds = {p.name: p.delay for p in inputs}
    with torch.no_grad():
        result = step.run(xs, ws, record=record, delays=ds if any(d is not None for d in ds.values()) else None)
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
