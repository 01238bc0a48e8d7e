"""Models written in the tests (not in the library), each exercising another part of the translation."""

from brian2 import mV, ms, nA, nS, pF

from bioSNN.equations import NeuronModel
from bioSNN.equations.verify import Drive

# nonlinear, forward Euler; the threshold uses a subexpression
EXP_IF_EULER = NeuronModel(
    name="exp_if_euler",
    equations="""
        dv/dt = (E_L - v + DeltaT*exp((v - V_T)/DeltaT))/tau + I/C : volt
        dI/dt = -I/tau_s : amp
        v_dist = v - v_cut : volt
    """,
    threshold="v_dist > 0*mV",
    reset="v = v_r",
    on_pre="I += w",
    method="euler",
    parameters=dict(E_L=-65 * mV, DeltaT=2 * mV, V_T=-52 * mV, tau=10 * ms, C=200 * pF, tau_s=3 * ms,
                    v_cut=-40 * mV, v_r=-68 * mV),
    initial={"v": -65 * mV},
)
EXP_IF_DRIVE = Drive(0.1 * ms, 0.05, 0 * nA, 1.2 * nA, ("v", "I", "v_dist"))

# several state variables, a multi-statement reset, rk2, a non-strict threshold
IZHIKEVICH_RK2 = NeuronModel(
    name="izhikevich_rk2",
    equations="""
        dv/dt = (0.04*v**2/mV + 5*v + 140*mV - u + I)/ms : volt
        du/dt = a*(b*v - u)/ms : volt
        dI/dt = -I/tau_s : volt
    """,
    threshold="v >= v_peak",
    reset="v = c\nu += d",
    on_pre="I += w",
    method="rk2",
    parameters=dict(a=0.02, b=0.2, c=-65 * mV, d=8 * mV, v_peak=30 * mV, tau_s=5 * ms),
    initial={"v": -65 * mV, "u": -13 * mV},
)
IZHIKEVICH_DRIVE = Drive(0.1 * ms, 0.05, 0 * mV, 30 * mV, ("v", "u", "I"))

# refractoriness (timed), conductance synapse, exponential Euler, two on_pre statements
COBA_REFRACTORY = NeuronModel(
    name="coba_refractory",
    equations="""
        dv/dt = (E_L - v + ge*(E_e - v))/tau : volt (unless refractory)
        dge/dt = -ge/tau_e : 1
        dcount/dt = -count/tau_c : 1
    """,
    threshold="v > v_th",
    reset="v = v_r",
    refractory=3 * ms,
    on_pre="ge += w\ncount += 0.5*w",
    method="exponential_euler",
    parameters=dict(E_L=-70 * mV, E_e=0 * mV, tau=15 * ms, tau_e=2 * ms, tau_c=50 * ms, v_th=-54 * mV,
                    v_r=-70 * mV),
    initial={"v": -70 * mV},
)
COBA_DRIVE = Drive(0.1 * ms, 0.05, 0.0, 0.8, ("v", "ge", "count"))

# refractoriness given as a boolean condition (Brian2: refractory while the condition holds)
BOOLEAN_REFRACTORY = NeuronModel(
    name="boolean_refractory",
    equations="""
        dv/dt = (E_L - v)/tau : volt (unless refractory)
        dh/dt = -h/tau_h : 1
    """,
    threshold="v > v_th and h < 0.5",
    reset="v = v_r\nh = 1",
    refractory="h > 0.3",
    on_pre="v += w",
    method="exact",
    parameters=dict(E_L=-70 * mV, tau=10 * ms, tau_h=3 * ms, v_th=-55 * mV, v_r=-75 * mV),
    initial={"v": -70 * mV},
)
BOOLEAN_REFRACTORY_DRIVE = Drive(0.1 * ms, 0.05, 0 * mV, 6 * mV, ("v", "h"))

TEST_MODELS = [
    (EXP_IF_EULER, EXP_IF_DRIVE),
    (IZHIKEVICH_RK2, IZHIKEVICH_DRIVE),
    (COBA_REFRACTORY, COBA_DRIVE),
    (BOOLEAN_REFRACTORY, BOOLEAN_REFRACTORY_DRIVE),
]


def coba_two_pathways(refractory=5 * ms) -> NeuronModel:
    """Conductance-based LIF with an excitatory and an inhibitory pathway (``on_pre`` per pathway),
    exponential Euler, timed refractoriness ``refractory``."""
    return NeuronModel(
        name="coba_two_pathways", method="exponential_euler", refractory=refractory,
        equations="""dv/dt = (gl*(El - v) + ge*(Ee - v) + gi*(Ei - v))/C : volt (unless refractory)
                     dge/dt = -ge/taue : siemens
                     dgi/dt = -gi/taui : siemens""",
        threshold="v > -50*mV", reset="v = -60*mV", on_pre={"exc": "ge += w", "inh": "gi += w"},
        parameters=dict(gl=10 * nS, El=-60 * mV, Ee=0 * mV, Ei=-80 * mV, C=200 * pF, taue=5 * ms, taui=10 * ms),
        initial={"v": -60 * mV})
