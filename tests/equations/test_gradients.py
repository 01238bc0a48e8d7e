"""Gradients of the generated torch step: finite differences in float64, depth, surrogate kinds."""

import math

import pytest
import torch
from brian2 import mV, ms

from bioSNN.equations import NeuronModel, Surrogate, TorchStep, library


def _subthreshold_lif():
    return library.lif_exp_synapse(v_th=1000 * mV)  # never spikes: the forward map is smooth


def test_gradcheck_through_generated_dynamics():
    """Autograd of 120 steps of the generated code equals central finite differences (float64)."""
    step = TorchStep(_subthreshold_lif(), 0.1 * ms, dtype=torch.float64)
    x = torch.rand(120, 2, 4, dtype=torch.float64) < 0.2
    w0 = torch.rand(4, 3, dtype=torch.float64) * 1e-9

    def f(w):
        return step.run(x, w, record=("v",)).recorded["v"][-20:]

    assert torch.autograd.gradcheck(f, (w0.requires_grad_(),), eps=1e-13, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("kind", ["rectangular", "sigmoid", "atan"])
def test_surrogate_gradient_matches_finite_difference_of_its_smooth_step(kind):
    sg = Surrogate(kind, width=2 * mV)
    a = torch.linspace(-3e-3, 3e-3, 13, dtype=torch.float64).add(0.05).requires_grad_()
    s = sg.spike(a, 0.05)
    assert torch.equal(s.detach(), (a > 0.05).double())  # exact Heaviside forward
    (grad,) = torch.autograd.grad(s.sum(), a)
    from bioSNN.equations.surrogate import _smooth

    h = 1e-9
    x = (a.detach() - 0.05) / 2e-3
    fd = (_smooth(kind, x + h / 2e-3) - _smooth(kind, x - h / 2e-3)) / (2 * h)
    mask = (x.abs() - 0.5).abs() > 1e-3 if kind == "rectangular" else torch.ones_like(x, dtype=torch.bool)
    torch.testing.assert_close(grad[mask], fd[mask], rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("kind", ["rectangular", "sigmoid", "atan"])
def test_surrogate_peak_slope_is_one_over_width(kind):
    a = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(Surrogate(kind, width=2 * mV).spike(a, 0.05), a)
    assert math.isclose(g.item(), 1 / 2e-3, rel_tol=1e-9)


@pytest.mark.parametrize("detach_reset", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_reaches_weights_through_150_steps(detach_reset, dtype):
    """Input only in the first 5 steps, loss only on the last step: the gradient must cross 145+ steps."""
    step = TorchStep(library.lif_exp_synapse(), 0.1 * ms, dtype=dtype, detach_reset=detach_reset,
                     surrogate=Surrogate("atan", width=2 * mV))
    T = 150
    x = torch.zeros(T, 8, 20, dtype=torch.bool)
    x[:5] = torch.rand(5, 8, 20) < 0.5
    w = (torch.rand(20, 10, dtype=dtype) * 3e-9).requires_grad_()
    res = step.run(x, w, record=("v",))
    assert res.spikes.sum() > 0, "the run should contain spikes so that the surrogate path is used"
    loss = res.recorded["v"][-1].sum() + res.spikes[-60:].sum()
    loss.backward()
    assert torch.isfinite(w.grad).all()
    assert w.grad.abs().sum() > 0


def test_gradient_flows_into_spikes_via_surrogate():
    """d(spike count)/dw is non-zero only because of the surrogate (the forward is a step function)."""
    step = TorchStep(library.diehl_cook_inhibitory(), 0.5 * ms, dtype=torch.float64)
    x = torch.rand(200, 4, 10) < 0.1
    w = (torch.rand(10, 5, dtype=torch.float64) * 0.5).requires_grad_()
    spikes = step.run(x, w).spikes
    assert spikes.sum() > 0
    (g,) = torch.autograd.grad(spikes.sum(), w)
    assert torch.isfinite(g).all() and g.abs().sum() > 0


def test_trainable_parameter_tensor_gets_gradient():
    model = library.lif_exp_synapse()
    tau = torch.full((6,), 0.02, dtype=torch.float64, requires_grad=True)  # per-neuron tau_m
    step = TorchStep(model, 0.1 * ms, dtype=torch.float64, params={"tau_m": tau})
    x = torch.rand(100, 2, 5) < 0.2
    w = torch.full((5, 6), 1e-9, dtype=torch.float64)
    out = step.run(x, w, record=("v",)).recorded["v"]
    (g,) = torch.autograd.grad(out.sum(), tau)
    assert torch.isfinite(g).all() and g.abs().sum() > 0


def test_reset_gradient_differs_when_not_detached():
    model = NeuronModel(equations="dv/dt = -v/tau : volt", threshold="v > 10*mV", reset="v = 0*mV",
                        on_pre="v += w", parameters={"tau": 20 * ms})
    x = torch.ones(40, 1, 1, dtype=torch.bool)
    grads = []
    for detach in (True, False):
        step = TorchStep(model, 1 * ms, dtype=torch.float64, detach_reset=detach)
        w = torch.full((1, 1), 4e-3, dtype=torch.float64, requires_grad=True)
        v = step.run(x, w, record=("v",)).recorded["v"]
        grads.append(torch.autograd.grad(v.sum(), w)[0].item())
    assert grads[0] != grads[1]
