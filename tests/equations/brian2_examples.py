"""Neuron models transcribed from Brian2's own ``examples`` folder (Brian2 2.9 source tree).

Used by ``tests/equations/test_brian2_examples.py``: each :class:`Example` builds one single-population
:class:`~bioSNN.equations.NeuronModel` with a random-input :class:`~bioSNN.equations.verify.Drive`
under which one layer of 6 neurons, fed by 30 Bernoulli input channels for 2,000 steps, spikes at
least 60 times (seed 1, Brian2 numpy target).

The equations, parameters, threshold, reset, refractoriness and integration method are those of the
source file; what was changed is said in a ``# changed:`` comment per model. In all of them the
randomness was removed (random initial values replaced by their mean or a fixed value, noise terms
``xi`` / ``randn()`` dropped) and a synaptic input was added where the source drives the neuron with
a constant or scripted current.

Every model is built by a factory (``Example.build``), so importing this module constructs nothing:
some of them use features of ``NeuronModel`` / ``Drive`` (named ``on_pre`` pathways, ``weight=``,
per-pathway ``Drive`` values, ``delay=``) that may not exist in every version of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from brian2 import cm, mS, msiemens, mV, ms, nA, nS, pA, pF, siemens, uA, ufarad, uF, umetre, uS

from bioSNN.equations import NeuronModel
from bioSNN.equations.verify import Drive

__all__ = ["Example", "EXAMPLES"]


@dataclass(frozen=True)
class Example:
    """One transcribed Brian2 example: pytest id, source file, factory and numerical character."""

    name: str  # pytest id
    source: str  # path inside Brian2's repository, e.g. "examples/COBAHH.py"
    build: Callable[[], tuple[NeuronModel, Drive]]
    excitable: bool  # True: whole-run rounding differences grow (HH type...); False: LIF-like with resets


# --------------------------------------------------------------------------------------------------
# Hodgkin-Huxley type models
# --------------------------------------------------------------------------------------------------

# examples/COBAHH.py (Brette et al. 2007, benchmark 3; Traub-Miles HH with exponential conductances)
_COBAHH_EQS = """
    dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-
             g_na*(m*m*m)*h*(v-ENa)-
             g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
"""


def _cobahh_parameters() -> dict:
    area = 20000 * umetre**2
    return dict(
        Cm=(1 * ufarad * cm**-2) * area, gl=(5e-5 * siemens * cm**-2) * area, El=-60 * mV, EK=-90 * mV,
        ENa=50 * mV, g_na=(100 * msiemens * cm**-2) * area, g_kd=(30 * msiemens * cm**-2) * area,
        VT=-63 * mV, taue=5 * ms, taui=10 * ms, Ee=0 * mV, Ei=-80 * mV,
    )


def hh_cobahh() -> tuple[NeuronModel, Drive]:
    # changed: random initial v, ge, gi replaced by the means of the source's distributions
    # (El - 5 mV, 40 nS, 200 nS); the 3200 excitatory recurrent inputs replaced by the 30 random
    # input channels ("ge += w", w in [0, 40] nS; the source's we = 6 nS, but 64 inputs per neuron);
    # gi only decays from its start value.
    model = NeuronModel(
        name="hh_cobahh",
        equations=_COBAHH_EQS,
        threshold="v>-20*mV",
        refractory=3 * ms,
        on_pre="ge += w",
        method="exponential_euler",
        parameters=_cobahh_parameters(),
        initial={"v": -65 * mV, "ge": 40 * nS, "gi": 200 * nS},
    )
    return model, Drive(0.1 * ms, 0.002, 0 * nS, 40 * nS, ("v", "m", "n", "h", "ge", "gi", "alpha_m"))


def hh_cobahh_ei() -> tuple[NeuronModel, Drive]:
    # changed: as hh_cobahh, with two input pathways like the source's Ce ("ge+=we") and
    # Ci ("gi+=wi") synapses; weights in nS around the source's we = 6 nS and wi = 67 nS.
    model = hh_cobahh()[0].replace(name="hh_cobahh_ei", on_pre={"exc": "ge += w", "inh": "gi += w"})
    drive = Drive(0.1 * ms, {"exc": 0.03, "inh": 0.01}, {"exc": 0 * nS, "inh": 0 * nS},
                  {"exc": 14 * nS, "inh": 40 * nS}, ("v", "m", "n", "h", "ge", "gi"))
    return model, drive


def hh_if_curve() -> tuple[NeuronModel, Drive]:
    # examples/IF_curve_Hodgkin_Huxley.py
    # changed: the per-neuron current I (source: 0.7 nA*i/100) fixed to 0.07 nA (i = 10) for all neurons;
    # an exponential synaptic current I_syn (tau_syn = 5 ms, new) added to dv/dt for the input.
    area = 20000 * umetre**2
    model = NeuronModel(
        name="hh_if_curve",
        equations="""
            dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I + I_syn)/Cm : volt
            dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m : 1
            dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
            dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
            dI_syn/dt = -I_syn/tau_syn : amp
            I : amp
        """,
        threshold="v > -40*mV",
        refractory="v > -40*mV",
        on_pre="I_syn += w",
        method="exponential_euler",
        parameters=dict(
            Cm=1 * ufarad * cm**-2 * area, gl=5e-5 * siemens * cm**-2 * area, El=-65 * mV, EK=-90 * mV,
            ENa=50 * mV, g_na=100 * msiemens * cm**-2 * area, g_kd=30 * msiemens * cm**-2 * area,
            VT=-63 * mV, tau_syn=5 * ms,
        ),
        initial={"v": -65 * mV, "I": 0.07 * nA},
    )
    return model, Drive(0.1 * ms, 0.002, 0 * nA, 0.6 * nA, ("v", "m", "n", "h", "I_syn"))


def wang_buzsaki() -> tuple[NeuronModel, Drive]:
    # frompapers/Wang_Buszaki_1996.py
    # changed: the source has no threshold: spike detection "v > -20*mV" with a 2 ms refractory
    # period (threshold only) added; Iapp lowered from 2 uA to 0.1 uA (below rheobase) and an
    # exponential synaptic current I_syn (tau_syn = 2 ms, new) added to dv/dt; dt 0.05 ms instead of
    # the source's 0.01 ms.
    model = NeuronModel(
        name="wang_buzsaki",
        equations="""
            dv/dt = (-gNa*m**3*h*(v-ENa)-gK*n**4*(v-EK)-gL*(v-EL)+Iapp+I_syn)/Cm : volt
            m = alpha_m/(alpha_m+beta_m) : 1
            alpha_m = 0.1/mV*10*mV/exprel(-(v+35*mV)/(10*mV))/ms : Hz
            beta_m = 4*exp(-(v+60*mV)/(18*mV))/ms : Hz
            dh/dt = 5*(alpha_h*(1-h)-beta_h*h) : 1
            alpha_h = 0.07*exp(-(v+58*mV)/(20*mV))/ms : Hz
            beta_h = 1./(exp(-0.1/mV*(v+28*mV))+1)/ms : Hz
            dn/dt = 5*(alpha_n*(1-n)-beta_n*n) : 1
            alpha_n = 0.01/mV*10*mV/exprel(-(v+34*mV)/(10*mV))/ms : Hz
            beta_n = 0.125*exp(-(v+44*mV)/(80*mV))/ms : Hz
            dI_syn/dt = -I_syn/tau_syn : amp
        """,
        threshold="v > -20*mV",
        refractory=2 * ms,
        on_pre="I_syn += w",
        method="exponential_euler",
        parameters=dict(Cm=1 * uF, Iapp=0.1 * uA, gL=0.1 * msiemens, EL=-65 * mV, ENa=55 * mV, EK=-90 * mV,
                        gNa=35 * msiemens, gK=9 * msiemens, tau_syn=2 * ms),
        initial={"v": -70 * mV, "h": 1.0},
    )
    return model, Drive(0.05 * ms, 0.002, 0 * uA, 8 * uA, ("v", "h", "n", "m", "I_syn"))


def rothman_manis() -> tuple[NeuronModel, Drive]:
    # frompapers/Rothman_Manis_2003.py, neuron_type 'type1c' (all currents kept, some with zero
    # conductance, as in the source)
    # changed: the source's 50 ms settling run replaced by gates starting at their steady state at
    # El; the 250 pA current step replaced by a bias I = 20 pA plus an exponential synaptic current
    # I_syn (tau_syn = 2 ms, new); spike detection "v > -20*mV" (boolean refractoriness) added; the
    # synaptic weight is called w_syn because the model has a gate called w.
    temp = 22.0
    eqs_na = """
        ina = gnabar*m**3*h*(ENa-v) : amp
        dm/dt=q10*(minf-m)/mtau : 1
        dh/dt=q10*(hinf-h)/htau : 1
        minf = 1./(1+exp(-(vu + 38.) / 7.)) : 1
        hinf = 1./(1+exp((vu + 65.) / 6.)) : 1
        mtau =  ((10. / (5*exp((vu+60.) / 18.) + 36.*exp(-(vu+60.) / 25.))) + 0.04)*ms : second
        htau =  ((100. / (7*exp((vu+60.) / 11.) + 10.*exp(-(vu+60.) / 25.))) + 0.6)*ms : second
    """
    eqs_kht = """
        ikht = gkhtbar*(nf*n**2 + (1-nf)*p)*(EK-v) : amp
        dn/dt=q10*(ninf-n)/ntau : 1
        dp/dt=q10*(pinf-p)/ptau : 1
        ninf =   (1 + exp(-(vu + 15) / 5.))**-0.5 : 1
        pinf =  1. / (1 + exp(-(vu + 23) / 6.)) : 1
        ntau =  ((100. / (11*exp((vu+60) / 24.) + 21*exp(-(vu+60) / 23.))) + 0.7)*ms : second
        ptau = ((100. / (4*exp((vu+60) / 32.) + 5*exp(-(vu+60) / 22.))) + 5)*ms : second
    """
    eqs_ih = """
        ih = ghbar*r*(Eh-v) : amp
        dr/dt=q10*(rinf-r)/rtau : 1
        rinf = 1. / (1+exp((vu + 76.) / 7.)) : 1
        rtau = ((100000. / (237.*exp((vu+60.) / 12.) + 17.*exp(-(vu+60.) / 14.))) + 25.)*ms : second
    """
    eqs_klt = """
        iklt = gkltbar*w**4*z*(EK-v) : amp
        dw/dt=q10*(winf-w)/wtau : 1
        dz/dt=q10*(zinf-z)/ztau : 1
        winf = (1. / (1 + exp(-(vu + 48.) / 6.)))**0.25 : 1
        zinf = zss + ((1.-zss) / (1 + exp((vu + 71.) / 10.))) : 1
        wtau = ((100. / (6.*exp((vu+60.) / 6.) + 16.*exp(-(vu+60.) / 45.))) + 1.5)*ms : second
        ztau = ((1000. / (exp((vu+60.) / 20.) + exp(-(vu+60.) / 8.))) + 50)*ms : second
    """
    eqs_ka = """
        ika = gkabar*a**4*b*c*(EK-v): amp
        da/dt=q10*(ainf-a)/atau : 1
        db/dt=q10*(binf-b)/btau : 1
        dc/dt=q10*(cinf-c)/ctau : 1
        ainf = (1. / (1 + exp(-(vu + 31) / 6.)))**0.25 : 1
        binf = 1. / (1 + exp((vu + 66) / 7.))**0.5 : 1
        cinf = 1. / (1 + exp((vu + 66) / 7.))**0.5 : 1
        atau =  ((100. / (7*exp((vu+60) / 14.) + 29*exp(-(vu+60) / 24.))) + 0.1)*ms : second
        btau =  ((1000. / (14*exp((vu+60) / 27.) + 29*exp(-(vu+60) / 24.))) + 1)*ms : second
        ctau = ((90. / (1 + exp((-66-vu) / 17.))) + 10)*ms : second
    """
    eqs_leak = """
        ileak = gl*(El-v) : amp
    """
    eqs_hcno = """
        ihcno = gbarno*(h1*frac + h2*(1-frac))*(Eh-v) : amp
        dh1/dt=(hinfno-h1)/tau1 : 1
        dh2/dt=(hinfno-h2)/tau2 : 1
        hinfno = 1./(1+exp((vu+66.)/7.)) : 1
        tau1 = bet1/(qt*0.008*(1+alp1))*ms : second
        tau2 = bet2/(qt*0.0029*(1+alp2))*ms : second
        alp1 = exp(1e-3*3*(vu+50)*9.648e4/(8.315*(273.16+temp))) : 1
        bet1 = exp(1e-3*3*0.3*(vu+50)*9.648e4/(8.315*(273.16+temp))) : 1
        alp2 = exp(1e-3*3*(vu+84)*9.648e4/(8.315*(273.16+temp))) : 1
        bet2 = exp(1e-3*3*0.6*(vu+84)*9.648e4/(8.315*(273.16+temp))) : 1
    """
    eqs = """
        dv/dt = (ileak + ina + ikht + iklt + ika + ih + ihcno + I + I_syn)/C : volt
        vu = v/mV : 1  # unitless v
        I : amp
        dI_syn/dt = -I_syn/tau_syn : amp
    """
    eqs += eqs_leak + eqs_ka + eqs_na + eqs_ih + eqs_klt + eqs_kht + eqs_hcno
    gnabar, gkhtbar, gkltbar, gkabar, ghbar, gbarno, gl = [x * nS for x in (1000, 150, 0, 0, 0.5, 0, 2)]
    model = NeuronModel(
        name="rothman_manis",
        equations=eqs,
        threshold="v > -20*mV",
        refractory="v > -20*mV",
        on_pre="I_syn += w_syn",
        weight="w_syn",
        method="exponential_euler",
        parameters=dict(
            C=12 * pF, Eh=-43 * mV, EK=-70 * mV, El=-65 * mV, ENa=50 * mV, nf=0.85, zss=0.5, temp=temp,
            q10=3.0 ** ((temp - 22) / 10.0), frac=0.0, qt=4.5 ** ((temp - 33.0) / 10.0),
            gnabar=gnabar, gkhtbar=gkhtbar, gkltbar=gkltbar, gkabar=gkabar, ghbar=ghbar, gbarno=gbarno,
            gl=gl, tau_syn=2 * ms,
        ),
        initial={"v": -65 * mV, "I": 20 * pA, "m": 0.0207, "h": 0.5, "n": 0.00674, "p": 0.000911,
                 "r": 0.172, "w": 0.485, "z": 0.677, "a": 0.242, "b": 0.681, "c": 0.681, "h1": 0.464,
                 "h2": 0.464},
    )
    return model, Drive(0.1 * ms, 0.005, 0 * pA, 200 * pA, ("v", "m", "h", "n", "p", "r", "I_syn"))


def hh_sbi() -> tuple[NeuronModel, Drive]:
    # advanced/modelfitting_sbi.py (HH model of the simulation-based-inference example)
    # changed: gNa, gK (constant) fixed to the example's true parameters (32 uS, 1 uS) for all neurons;
    # stimulus window t_on/t_off shortened to 10/90 ms and I lowered from 1 nA to 0.1 nA to fit the
    # 100 ms run; an exponential synaptic current I_syn (tau_syn = 3 ms, new) added; gates start at
    # their steady state at Eleak (the source sets them with the same formula).
    model = NeuronModel(
        name="hh_sbi",
        equations="""
            dVm/dt = -(gNa*m**3*h*(Vm - ENa) + gK*n**4*(Vm - EK) + gleak*(Vm - Eleak) - I_inj - I_syn) / C : volt
            I_inj = int(t >= t_on and t < t_off)*I : amp (shared)
            dm/dt = alpham*(1-m) - betam*m : 1
            dn/dt = alphan*(1-n) - betan*n : 1
            dh/dt = alphah*(1-h) - betah*h : 1

            alpham = (-0.32/mV) * (Vm - VT - 13.*mV) / (exp((-(Vm - VT - 13.*mV))/(4.*mV)) - 1)/ms : Hz
            betam = (0.28/mV) * (Vm - VT - 40.*mV) / (exp((Vm - VT - 40.*mV)/(5.*mV)) - 1)/ms : Hz

            alphah = 0.128 * exp(-(Vm - VT - 17.*mV) / (18.*mV))/ms : Hz
            betah = 4/(1 + exp((-(Vm - VT - 40.*mV)) / (5.*mV)))/ms : Hz

            alphan = (-0.032/mV) * (Vm - VT - 15.*mV) / (exp((-(Vm - VT - 15.*mV)) / (5.*mV)) - 1)/ms : Hz
            betan = 0.5*exp(-(Vm - VT - 10.*mV) / (40.*mV))/ms : Hz
            # The parameters to fit
            gNa : siemens (constant)
            gK : siemens (constant)
            dI_syn/dt = -I_syn/tau_syn : amp
        """,
        threshold="m>0.5",
        refractory="m>0.5",
        on_pre="I_syn += w",
        method="exponential_euler",
        parameters=dict(gleak=10 * nS, Eleak=-70 * mV, VT=-60.0 * mV, C=200 * pF, ENa=53 * mV, EK=-107 * mV,
                        I=0.1 * nA, t_on=10 * ms, t_off=90 * ms, tau_syn=3 * ms),
        initial={"Vm": -70 * mV, "gNa": 32 * uS, "gK": 1 * uS, "m": 0.001676, "h": 0.9997, "n": 0.00654},
    )
    return model, Drive(0.05 * ms, 0.002, 0 * nA, 4 * nA, ("Vm", "m", "n", "h", "I_syn", "I_inj"))


# --------------------------------------------------------------------------------------------------
# Other excitable (non-resetting) models
# --------------------------------------------------------------------------------------------------

def morris_lecar() -> tuple[NeuronModel, Drive]:
    # frompapers/Morris_Lecar_1981.py
    # changed: the source has no threshold: spike detection "V > 0*mV" (boolean refractoriness)
    # added; the per-neuron current I (source: 100-500 uA) fixed to 60 uA (no oscillation) plus an
    # exponential synaptic current I_syn (tau_syn = 5 ms, new); n starts at n_inf(V_L) (the source
    # sets n = 'n_inf'); dt 0.5 ms instead of 0.01 ms (oscillation periods are ~30 ms).
    model = NeuronModel(
        name="morris_lecar",
        equations="""
            dV/dt = (-g_L*(V - V_L) - g_Ca*m_inf*(V - V_Ca) - g_K*n*(V - V_K) + I + I_syn)/C : volt
            dn/dt = lambda_n*(n_inf - n) : 1
            m_inf = 0.5*(1 + tanh((V - V_1)/V_2)) : 1
            n_inf = 0.5*(1 + tanh((V - V_3)/V_4)) : 1
            lambda_n = lambda_n__max*cosh((V - V_3)/(2*V_4)) : Hz
            I : amp
            dI_syn/dt = -I_syn/tau_syn : amp
        """,
        threshold="V > 0*mV",
        refractory="V > 0*mV",
        on_pre="I_syn += w",
        method="exponential_euler",
        parameters=dict(g_L=2 * mS, g_Ca=4 * mS, g_K=8 * mS, V_L=-50 * mV, V_Ca=100 * mV, V_K=-70 * mV,
                        lambda_n__max=1.0 / (15 * ms), V_1=10 * mV, V_2=15 * mV, V_3=-1 * mV, V_4=14.5 * mV,
                        C=20 * uF, tau_syn=5 * ms),
        initial={"V": -50 * mV, "n": 0.0148, "I": 60 * uA},
    )
    return model, Drive(0.5 * ms, 0.005, 0 * uA, 80 * uA, ("V", "n", "m_inf", "I_syn"))


def hindmarsh_rose() -> tuple[NeuronModel, Drive]:
    # frompapers/Hindmarsh_Rose_1984.py
    # changed: the source has no threshold: spike detection "x > 1" (refractory while x > 0) added;
    # the per-neuron current I (constant; source: 0.4, 2, 4) set to 0.4 for all neurons, and a
    # dimensionless exponential synaptic input I_syn (tau_syn = 5 ms, new) added to dx/dt.
    model = NeuronModel(
        name="hindmarsh_rose",
        equations="""
            dx/dt = (y - a*x**3 + b*x**2 + I + I_syn - z)/time_unit : 1
            dy/dt = (c - d*x**2 - y)/time_unit : 1
            dz/dt = r*(s*(x - x_1) - z)/time_unit : 1
            I : 1 (constant)
            dI_syn/dt = -I_syn/tau_syn : 1
        """,
        threshold="x > 1",
        refractory="x > 0",
        on_pre="I_syn += w",
        method="rk4",
        parameters=dict(time_unit=1 * ms, x_1=-1.6, a=1, b=3, c=1, d=5, r=0.001, s=4, tau_syn=5 * ms),
        initial={"x": -1.6, "y": -11.8, "z": 0.0, "I": 0.4},
    )
    return model, Drive(0.1 * ms, 0.005, 0.0, 0.2, ("x", "y", "z", "I_syn"))


# --------------------------------------------------------------------------------------------------
# Integrate-and-fire type models (with resets)
# --------------------------------------------------------------------------------------------------

def adex_brette_gerstner() -> tuple[NeuronModel, Drive]:
    # frompapers/Brette_Gerstner_2005.py (regular spiking parameters)
    # changed: the 1 nA current step replaced by a bias I = 0.3 nA plus an exponential synaptic
    # current I_syn (tau_syn = 5 ms, new); the synaptic weight is called w_syn (w is the adaptation).
    C = 281 * pF
    VT, DeltaT = -50.4 * mV, 2 * mV
    model = NeuronModel(
        name="adex_brette_gerstner",
        equations="""
            dvm/dt = (gL*(EL - vm) + gL*DeltaT*exp((vm - VT)/DeltaT) + I + I_syn - w)/C : volt
            dw/dt = (a*(vm - EL) - w)/tauw : amp
            I : amp
            dI_syn/dt = -I_syn/tau_syn : amp
        """,
        threshold="vm>Vcut",
        reset="vm=Vr; w+=b",
        on_pre="I_syn += w_syn",
        weight="w_syn",
        method="euler",
        parameters=dict(C=C, gL=30 * nS, EL=-70.6 * mV, VT=VT, DeltaT=DeltaT, Vcut=VT + 5 * DeltaT,
                        tauw=144 * ms, a=4 * nS, b=0.0805 * nA, Vr=-70.6 * mV, tau_syn=5 * ms),
        initial={"vm": -70.6 * mV, "I": 0.3 * nA},
    )
    return model, Drive(0.1 * ms, 0.005, 0 * nA, 0.6 * nA, ("vm", "w", "I_syn"))


def adex_touboul_brette() -> tuple[NeuronModel, Drive]:
    # frompapers/Touboul_Brette_2008.py
    # changed: the per-neuron reset Vr (source: -48.3..-47.7 mV) set to -48 mV for all neurons;
    # the input added as voltage jumps "vm += w_syn" (w is the adaptation current); dt 0.05 ms
    # instead of 0.01 ms.
    VT, DeltaT = -50.4 * mV, 2 * mV
    model = NeuronModel(
        name="adex_touboul_brette",
        equations="""
            dvm/dt=(gL*(EL-vm)+gL*DeltaT*exp((vm-VT)/DeltaT)+I-w)/C : volt
            dw/dt=(a*(vm-EL)-w)/tauw : amp
            Vr:volt
        """,
        threshold="vm > Vcut",
        reset="vm = Vr; w += b",
        on_pre="vm += w_syn",
        weight="w_syn",
        method="euler",
        parameters=dict(C=281 * pF, gL=30 * nS, EL=-70.6 * mV, VT=VT, DeltaT=DeltaT, tauw=40 * ms, a=4 * nS,
                        b=0.08 * nA, I=0.8 * nA, Vcut=VT + 5 * DeltaT),
        initial={"vm": -70.6 * mV, "w": 0 * nA, "Vr": -48 * mV},
    )
    return model, Drive(0.05 * ms, 0.005, 0 * mV, 2 * mV, ("vm", "w"))


def izhikevich_2003() -> tuple[NeuronModel, Drive]:
    # frompapers/Izhikevich_2003.py (one excitatory neuron type, re = 0.5)
    # changed: I_noise (randn) dropped; the per-neuron a, b, c, d fixed to an excitatory cell with
    # re = 0.5 (c = -65 + 15*re**2, d = 8 - 6*re**2); the source's pair of pathways "I += w" (no delay)
    # and "I -= w" (1 ms delay), a 1-step pulse at dt = 1 ms, written as "I += w" plus a per-step
    # "I = 0" just before the synapses (same dynamics).
    model = NeuronModel(
        name="izhikevich_2003",
        equations="""
            dv/dt = (0.04*v**2 + 5*v + 140 - u + I )/ms : 1
            du/dt = (a*(b*v - u))/ms  : 1
            I : 1
            a : 1
            b : 1
            c : 1
            d : 1
        """,
        threshold="v>=30",
        reset="v=c; u+=d",
        on_pre="I += w",
        method="euler",
        per_step=[("I = 0", "before_synapses")],
        initial={"v": -65.0, "u": -13.0, "a": 0.02, "b": 0.2, "c": -61.25, "d": 6.5},
    )
    return model, Drive(1 * ms, 0.03, 0.0, 8.0, ("v", "u", "I"))


def adaptive_threshold() -> tuple[NeuronModel, Drive]:
    # examples/adaptive_threshold.py
    # changed: the single 500 Hz Poisson input with fixed "v += 3*mV" replaced by the 30 random
    # input channels "v += w" (w around 3 mV).
    model = NeuronModel(
        name="adaptive_threshold",
        equations="""
            dv/dt = -v/(10*ms) : volt
            dvt/dt = (10*mV-vt)/(15*ms) : volt
        """,
        threshold="v>vt",
        reset="""
            v = 0*mV
            vt += 3*mV
        """,
        on_pre="v += w",
        method="exact",
        initial={"vt": 10 * mV},
    )
    return model, Drive(0.1 * ms, 0.005, 0 * mV, 6 * mV, ("v", "vt"))


def platkiewicz_brette() -> tuple[NeuronModel, Drive]:
    # frompapers/Platkiewicz_Brette_2011.py
    # changed: the Ornstein-Uhlenbeck noise term of dI/dt dropped, so I is a decaying input driven by
    # the random input channels ("I += w"); the source gives no method (Brian2 then picks "euler" for
    # it); unused ENa omitted.
    tau, tauI = 5 * ms, 5 * ms
    model = NeuronModel(
        name="platkiewicz_brette",
        equations="""
            dv/dt=(EL-v+mu+sigma*I)/tau : volt
            dtheta/dt=(vT+a*clip(v-Vi, 0*mV, inf*mV)-theta)/tauh : volt
            dI/dt=-I/tauI : 1
        """,
        threshold="v>theta",
        reset="v=EL",
        refractory=5 * ms,
        on_pre="I += w",
        method="euler",
        parameters=dict(EL=-70 * mV, vT=-55 * mV, Vi=-63 * mV, tauh=5 * ms, tau=tau, a=(5 * mV) / (6 * mV),
                        tauI=tauI, mu=15 * mV, sigma=6 * mV / (tauI / (tauI + tau)) ** 0.5),
        initial={"v": -70 * mV, "theta": -55 * mV, "I": 0.0},
    )
    return model, Drive(0.1 * ms, 0.006, -1.5, 2.0, ("v", "theta", "I"))


def brette_2004() -> tuple[NeuronModel, Drive]:
    # frompapers/Brette_2004.py (phase locking to a sinusoidal current, depends on t)
    # changed: the per-neuron a (source: 2..4) set to 1.5 for all neurons; input as "v += w".
    model = NeuronModel(
        name="brette_2004",
        equations="""
            dv/dt = (-v + a + 2*sin(2*pi*t/tau))/tau : 1
            a : 1
        """,
        threshold="v>1",
        reset="v=0",
        on_pre="v += w",
        method="euler",
        parameters=dict(tau=100 * ms),
        initial={"a": 1.5},
    )
    return model, Drive(0.1 * ms, 0.005, 0.0, 0.2, ("v",))


def coba_stimberg() -> tuple[NeuronModel, Drive]:
    # frompapers/Stimberg_et_al_2018/example_1_COBA.py
    # changed: random initial v, g_e, g_i replaced by their means; the short-term plasticity of the
    # source's synapses (u_S, x_S, r_S) dropped: two pathways "g_e += w" / "g_i += w" (w in nS).
    E_l, V_th, w_e, w_i = -60 * mV, -50 * mV, 0.05 * nS, 1.0 * nS
    model = NeuronModel(
        name="coba_stimberg",
        equations="""
            dv/dt = (g_l*(E_l-v) + g_e*(E_e-v) + g_i*(E_i-v) +
                     I_ex)/C_m    : volt (unless refractory)
            dg_e/dt = -g_e/tau_e  : siemens  # post-synaptic exc. conductance
            dg_i/dt = -g_i/tau_i  : siemens  # post-synaptic inh. conductance
        """,
        threshold="v>V_th",
        reset="v=V_r",
        refractory="tau_r",
        on_pre={"exc": "g_e += w", "inh": "g_i += w"},
        method="euler",
        parameters=dict(E_l=E_l, g_l=9.99 * nS, E_e=0 * mV, E_i=-80 * mV, C_m=198 * pF, tau_e=5 * ms,
                        tau_i=10 * ms, tau_r=5 * ms, I_ex=150 * pA, V_th=V_th, V_r=E_l),
        initial={"v": E_l + 0.5 * (V_th - E_l), "g_e": 0.5 * w_e, "g_i": 0.5 * w_i},
    )
    drive = Drive(0.1 * ms, {"exc": 0.01, "inh": 0.01}, {"exc": 0 * nS, "inh": 0 * nS},
                  {"exc": 12 * nS, "inh": 9 * nS}, ("v", "g_e", "g_i"))
    return model, drive


def cuba_delayed() -> tuple[NeuronModel, Drive]:
    # examples/CUBA.py
    # changed: random initial v replaced by its mean (Vr + (Vt - Vr)/2); the recurrent synapses replaced
    # by two input pathways "ge += w" / "gi += w" (w in mV, inhibitory ones negative as the source's
    # wi), with delays that the source does not have: 1.5 ms on "exc", uniform 0.5-3 ms per synapse
    # on "inh".
    Vt, Vr = -50 * mV, -60 * mV
    model = NeuronModel(
        name="cuba_delayed",
        equations="""
            dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
            dge/dt = -ge/taue : volt
            dgi/dt = -gi/taui : volt
        """,
        threshold="v>Vt",
        reset="v = Vr",
        refractory=5 * ms,
        on_pre={"exc": "ge += w", "inh": "gi += w"},
        method="exact",
        parameters=dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, Vt=Vt, Vr=Vr, El=-49 * mV),
        initial={"v": Vr + 0.5 * (Vt - Vr)},
    )
    drive = Drive(0.1 * ms, {"exc": 0.01, "inh": 0.01}, {"exc": 0 * mV, "inh": -2 * mV},
                  {"exc": 8 * mV, "inh": 0 * mV}, ("v", "ge", "gi"),
                  delay={"exc": 1.5 * ms, "inh": (0.5 * ms, 3 * ms)})
    return model, drive


def sturzl_delayed() -> tuple[NeuronModel, Drive]:
    # frompapers/Sturzl_et_al_2000.py (the 8 output neurons with alpha currents)
    # changed: the legs (noisy IF neurons) replaced by the random input channels; the source's
    # excitatory "y+=wex" and inhibitory "y+=winh" (0.7 ms delay) synapses kept as two pathways
    # (w in [0, 2.3] and [-2, 0]; the source's wex = 7, winh = -2).
    model = NeuronModel(
        name="sturzl_delayed",
        equations="""
            dv/dt = (x - v)/tau : 1
            dx/dt = (y - x)/taus : 1 # alpha currents
            dy/dt = -y/taus : 1
        """,
        threshold="v>1",
        reset="v=0",
        on_pre={"exc": "y += w", "inh": "y += w"},
        method="exact",
        parameters=dict(tau=1 * ms, taus=1.001 * ms),
    )
    drive = Drive(0.1 * ms, {"exc": 0.005, "inh": 0.005}, {"exc": 0.0, "inh": -2.0}, {"exc": 2.3, "inh": 0.0},
                  ("v", "x", "y"), delay={"inh": 0.7 * ms})
    return model, drive


EXAMPLES: tuple[Example, ...] = (
    Example("hh_cobahh", "examples/COBAHH.py", hh_cobahh, True),
    Example("hh_cobahh_ei", "examples/COBAHH.py", hh_cobahh_ei, True),
    Example("hh_if_curve", "examples/IF_curve_Hodgkin_Huxley.py", hh_if_curve, True),
    Example("wang_buzsaki", "examples/frompapers/Wang_Buszaki_1996.py", wang_buzsaki, True),
    Example("rothman_manis", "examples/frompapers/Rothman_Manis_2003.py", rothman_manis, True),
    Example("hh_sbi", "examples/advanced/modelfitting_sbi.py", hh_sbi, True),
    Example("morris_lecar", "examples/frompapers/Morris_Lecar_1981.py", morris_lecar, True),
    Example("hindmarsh_rose", "examples/frompapers/Hindmarsh_Rose_1984.py", hindmarsh_rose, True),
    Example("adex_brette_gerstner", "examples/frompapers/Brette_Gerstner_2005.py", adex_brette_gerstner, False),
    Example("adex_touboul_brette", "examples/frompapers/Touboul_Brette_2008.py", adex_touboul_brette, False),
    Example("izhikevich_2003", "examples/frompapers/Izhikevich_2003.py", izhikevich_2003, False),
    Example("adaptive_threshold", "examples/adaptive_threshold.py", adaptive_threshold, False),
    Example("platkiewicz_brette", "examples/frompapers/Platkiewicz_Brette_2011.py", platkiewicz_brette, False),
    Example("brette_2004", "examples/frompapers/Brette_2004.py", brette_2004, False),
    Example("coba_stimberg", "examples/frompapers/Stimberg_et_al_2018/example_1_COBA.py", coba_stimberg, False),
    Example("cuba_delayed", "examples/CUBA.py", cuba_delayed, False),
    Example("sturzl_delayed", "examples/frompapers/Sturzl_et_al_2000.py", sturzl_delayed, False),
)
