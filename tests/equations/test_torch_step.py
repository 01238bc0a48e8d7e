"""TorchStep API: purity, batching, one step vs. many, recording, devices and dtypes."""

import numpy as np
import pytest
import torch
from brian2 import ms

from bioSNN.equations import TorchStep, library, simulate

from .models_for_tests import EXP_IF_EULER


def _inputs(T=300, B=5, n_in=12, n_out=7, scale=1.2e-9, dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(T, B, n_in, generator=g) < 0.1
    w = torch.rand(n_in, n_out, generator=g, dtype=dtype) * scale
    return x, w


def test_step_is_pure():
    step = TorchStep(library.lif_exp_synapse(), 0.1 * ms, dtype=torch.float64)
    x, w = _inputs()
    state = step.initial_state(5, 7)
    s1, n1 = step(state, x[0], w)
    s2, n2 = step(state, x[0], w)
    assert torch.equal(s1, s2) and all(torch.equal(a, b) for a, b in zip(n1.inner, n2.inner))
    assert state.timestep == 0 and n1.timestep == 1


def test_run_equals_repeated_step():
    step = TorchStep(library.lif_exp_synapse(), 0.1 * ms, dtype=torch.float64)
    x, w = _inputs()
    res = step.run(x, w, record=("v",))
    state = step.initial_state(5, 7)
    for k in range(x.shape[0]):
        s, state = step(state, x[k], w)
        assert torch.equal(s, res.spikes[k])
        assert torch.equal(state.v, res.recorded["v"][k])


def test_batch_rows_are_independent_and_match_brian2():
    model = library.lif_exp_synapse()
    x, w = _inputs()
    res = TorchStep(model, 0.1 * ms, dtype=torch.float64).run(x, w, record=("v",))
    assert res.spikes.sum() > 20
    for b in (0, 3):
        ref = simulate(model, x[:, b].numpy(), w.numpy(), 0.1 * ms, backend="brian2")
        np.testing.assert_allclose(res.recorded["v"][:, b].numpy(), ref["v"], rtol=0, atol=1e-15)
        np.testing.assert_array_equal(res.spikes[:, b].numpy() != 0, ref["spikes"])


def test_records_subexpressions_like_brian2():
    x, w = _inputs(n_out=3)
    ref = simulate(EXP_IF_EULER, x[:, 0].numpy(), w[:, :3].numpy(), 0.1 * ms, backend="brian2", record=("v_dist",))
    out = simulate(EXP_IF_EULER, x[:, 0].numpy(), w[:, :3].numpy(), 0.1 * ms, backend="torch", record=("v_dist",))
    np.testing.assert_allclose(out["v_dist"], ref["v_dist"], atol=1e-15)


def test_float32_state_keeps_time_in_float64():
    step = TorchStep(library.lif_exp_synapse(), 0.1 * ms, dtype=torch.float32)
    state = step.initial_state(2, 3)
    assert state.v.dtype == torch.float32 and state.lastspike.dtype == torch.float64
    assert state.not_refractory.dtype == torch.bool


def test_generated_source_follows_brian2_schedule():
    gen = TorchStep(library.seed_wta_if(), 1 * ms).generated
    order = [b.split("layer_", 1)[1] for b in gen.blocks]
    assert order.index("stateupdater") < order.index("input_pre") < order.index("per_step_1")
    assert order.index("per_step_1") < order.index("spike_thresholder") < order.index("spike_resetter")
    assert "_sum_pre" in gen.source


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    model = library.lif_exp_synapse()
    x, w = _inputs()
    cpu = TorchStep(model, 0.1 * ms, dtype=torch.float64).run(x, w, record=("v",))
    gpu = TorchStep(model, 0.1 * ms, dtype=torch.float64, device="cuda").run(x.cuda(), w.cuda(), record=("v",))
    torch.testing.assert_close(gpu.recorded["v"].cpu(), cpu.recorded["v"], rtol=0, atol=1e-12)


def test_invariants_computed_once_per_run_equal_those_of_every_step():
    """A run computes the parameter-only loop invariants once (GeneratedStep.invariants); a lone step
    computes its own: the same numbers, also with per-neuron tensor parameters carrying gradients."""
    import torch
    from brian2 import ms

    from bioSNN.equations import library
    from bioSNN.equations.torch_step import TorchStep

    step = TorchStep(library.lif_exp_synapse(), 0.1 * ms, dtype=torch.float64)
    assert "def _invariants" in step.generated.source and "_inv if _inv is not None" in step.generated.source
    tau = torch.full((4,), 0.01, dtype=torch.float64, requires_grad=True)
    drive = torch.rand(50, 2, 4, dtype=torch.float64) * 2e-10
    run = step.run_drive(drive, record=("v",), params={"tau_m": tau})
    state, vs = step.initial_state(2, 4), []
    for k in range(50):
        _, state = step.step_drive(state, drive[k], {"tau_m": tau})
        vs.append(state.v)
    assert torch.equal(torch.stack(vs), run.recorded["v"])
    run.recorded["v"].sum().backward()
    assert tau.grad is not None and tau.grad.abs().sum() > 0


def test_bptt_backend_matches_eager_on_the_step(monkeypatch):
    """``TorchStep.run`` by ``"bptt"``: the same spikes, recorded variables (floats, booleans, float64 times),
    final state and gradients (weights, the start state) as ``"eager"``, with and without autograd; a run of
    subexpressions falls back to the step-by-step loop."""
    from bioSNN.equations import torch_step

    monkeypatch.setattr(torch_step, "BPTT_STEPS", 3)  # runs of 7 = 3 + 3 + 1
    x, w0 = _inputs(T=7, B=2, n_in=5, n_out=3, scale=8e-9)
    record = ("v", "I", "not_refractory", "lastspike")
    results = []
    for backend in ("eager", "bptt"):
        step = TorchStep(library.lif_exp_synapse(), 1 * ms, dtype=torch.float64, backend=backend)
        w = w0.clone().requires_grad_(True)
        state = step.initial_state(2, 3)
        v0 = state.v.clone().requires_grad_(True)
        state = type(state)(state.inner._replace(v=v0), 0)
        res = step.run(x, w, state=state, record=record)
        (res.spikes.sum() + res.recorded["v"].pow(2).sum() * 1e3 + res.state.I.sum() * 1e9).backward()
        with torch.no_grad():
            again = step.run(x, w, record=record)
        results.append((res, w.grad, v0.grad, again))
    (ref, gw, gv, ref_again), (got, gw_b, gv_b, got_again) = results
    assert ref.spikes.sum() > 0 and gw.abs().sum() > 0 and gv.abs().sum() > 0
    torch.testing.assert_close(got.spikes, ref.spikes, rtol=0, atol=0)
    for name in record:
        torch.testing.assert_close(got.recorded[name], ref.recorded[name], rtol=1e-12, atol=1e-15)
        assert got.recorded[name].dtype == ref.recorded[name].dtype
    for a, b in zip(got.state.inner, ref.state.inner):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-15)
    assert got.state.timestep == ref.state.timestep == 7
    torch.testing.assert_close(gw_b, gw, rtol=1e-10, atol=1e-10 * float(gw.abs().max()))
    torch.testing.assert_close(gv_b, gv, rtol=1e-10, atol=1e-10 * float(gv.abs().max()))
    torch.testing.assert_close(got_again.spikes, ref_again.spikes, rtol=0, atol=0)
    assert ref.spikes.sum() < ref.spikes.numel() / 2 and 0 < ref.recorded["not_refractory"].sum() < 42
