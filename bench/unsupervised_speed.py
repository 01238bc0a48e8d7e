"""Training speed of the Diehl & Cook network: bioSNN's sliced single-run loop against the usual
Brian2 port style (one ``run()`` for each presentation and one for each rest, rates and weight
normalisation set from Python between runs), run side by side in one process on the same digits.

    python bench/unsupervised_speed.py --neurons 100 400 --examples 40 --target cython --standalone 1000

Both use the same neuron models (bioSNN.equations.library), STDP rule, constants and Brian2 target;
compilation is excluded (each variant is warmed up on 4 examples first). With ``--standalone N`` the
cpp_standalone backend is also timed on the first N digits (slices of 500), and with ``--cuda``
brian2cuda's cuda_standalone beside it on the same digits (GPU 0; ratio against cpp_standalone).
``--no-baseline`` skips the runtime loops (at N = 6,400 they take minutes). Prints examples/s and the
ratios against the per-example loop.

    python bench/unsupervised_speed.py --neurons 400 6400 --no-baseline --standalone 1000 --cuda
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from brian2 import Hz, Network, PoissonGroup, Synapses, ms, seed

from bioSNN.data import load_mnist_subset
from bioSNN.equations import library
from bioSNN.equations.brian import build_layer
from bioSNN.unsupervised.diehl_cook import DiehlCookConfig, DiehlCookState
from bioSNN.unsupervised.backends import codeobj_class
from bioSNN.unsupervised.pipeline import rates_of
from bioSNN.unsupervised.stdp import diehl_cook_stdp
from bioSNN.unsupervised.training import train


def per_example_loop(config: DiehlCookConfig, rates: np.ndarray, cls) -> float:
    """The usual port: PoissonGroup rates set per example, normalisation in numpy, two runs per example."""
    rule = diehl_cook_stdp()
    n, dt = config.n_neurons, config.dt_ms * ms
    state = DiehlCookState.initial(config, rates.shape[1])
    exc = build_layer(library.diehl_cook_excitatory(), n, dt, name="exc_b", codeobj_class=cls)
    inh = build_layer(library.diehl_cook_inhibitory(), n, dt, name="inh_b", codeobj_class=cls)
    inp = PoissonGroup(rates.shape[1], 0 * Hz, dt=dt, codeobj_class=cls)
    s = Synapses(inp, exc, "w : 1\nplastic : 1 (shared)\n" + rule.model, on_pre="ge_post += w; " + rule.on_pre,
                 on_post=rule.on_post, namespace=dict(rule.parameters), dt=dt, codeobj_class=cls)
    s.connect()
    s.w = state.w[s.i[:], s.j[:]]
    s.delay = state.delay_ms[s.i[:], s.j[:]] * ms
    s.plastic = 1
    ei = Synapses(exc, inh, on_pre="ge_post += 10.4", dt=dt, codeobj_class=cls)
    ei.connect(j="i")
    ie = Synapses(inh, exc, on_pre="gi_post += 17.0", dt=dt, codeobj_class=cls)
    ie.connect(condition="i != j")
    from brian2 import SpikeMonitor

    mon = SpikeMonitor(exc, codeobj_class=cls)
    net = Network(exc, inh, inp, s, ei, ie, mon)
    j_idx = s.j[:]

    def example(r: np.ndarray) -> None:
        intensity = config.intensity
        while True:
            w = np.asarray(s.w[:]).copy()
            sums = np.bincount(j_idx, weights=w, minlength=n)
            s.w = w * config.w_total / sums[j_idx]
            before = mon.num_spikes
            inp.rates = r * intensity * Hz
            net.run(config.present_ms * ms, namespace={})
            inp.rates = 0 * Hz
            net.run(config.rest_ms * ms, namespace={})
            if mon.num_spikes - before >= config.min_spikes or intensity + 1 > config.max_intensity:
                return
            intensity += 1

    for r in rates[:4]:  # warm-up (compilation)
        example(r)
    start = time.perf_counter()
    for r in rates[4:]:
        example(r)
    return (len(rates) - 4) / (time.perf_counter() - start)


def sliced(config: DiehlCookConfig, rates: np.ndarray, cls) -> float:
    train(config, rates[:4], progress=False, codeobj_class=cls)  # warm-up (compilation)
    start = time.perf_counter()
    train(config, rates[4:], progress=False, codeobj_class=cls)
    return (len(rates) - 4) / (time.perf_counter() - start)


def sliced_standalone(config: DiehlCookConfig, rates: np.ndarray, directory: str, backend: str = "cpp_standalone",
                      cuda: Any = None) -> float:
    """``backend`` (cpp_standalone, or cuda_standalone with ``cuda`` options) on all of ``rates``: the first
    call compiles; the timed second call pays code generation and a no-op ``make`` (a few seconds) but no
    compilation, as a resumed run would."""
    from bioSNN.unsupervised.standalone import train_standalone

    train_standalone(config, rates, directory, progress=False, backend=backend, cuda=cuda)
    start = time.perf_counter()
    train_standalone(config, rates, directory, progress=False, backend=backend, cuda=cuda)
    return len(rates) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neurons", type=int, nargs="+", default=[100, 400])
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--target", default="cython", choices=["cython", "numpy"])
    parser.add_argument("--standalone", type=int, default=0, metavar="N_EXAMPLES",
                        help="also time the cpp_standalone backend on this many examples (e.g. 1000)")
    parser.add_argument("--cuda", action="store_true",
                        help="with --standalone: also time cuda_standalone (brian2cuda, GPU 0) on the same examples")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the runtime loops (at N = 6,400 they take minutes per example)")
    args = parser.parse_args()
    all_rates = rates_of(load_mnist_subset("train").images)
    rates = all_rates[: args.examples + 4]
    cls = codeobj_class(args.target)
    if args.cuda and not args.standalone:
        parser.error("--cuda needs --standalone N_EXAMPLES")
    print(f"{'N':>5s} {'per-example run() ex/s':>24s} {'bioSNN sliced ex/s':>20s} {'ratio':>7s}"
          + (f" {'cpp_standalone ex/s':>20s} {'ratio':>7s}" if args.standalone else "")
          + (f" {'cuda_standalone ex/s':>21s} {'vs cpp_standalone':>18s}" if args.cuda else ""))
    for n in args.neurons:
        config = DiehlCookConfig(n_neurons=n, slice_examples=args.examples + 4)
        seed(0)
        base = ours = float("nan")
        if not args.no_baseline:
            base = per_example_loop(config, rates, cls)
            ours = sliced(config, rates, cls)
        line = f"{n:5d} {base:24.2f} {ours:20.2f} {ours / base:6.2f}x"
        if args.standalone:
            sa_config = DiehlCookConfig(n_neurons=n, slice_examples=500)
            sa_rates = all_rates[: args.standalone]
            fast = sliced_standalone(sa_config, sa_rates, f"/tmp/biosnn_bench_standalone_{n}")
            line += f" {fast:20.2f} {fast / base:6.2f}x"
            if args.cuda:
                from bioSNN.unsupervised.backends import CudaOptions

                gpu = sliced_standalone(sa_config, sa_rates, f"/tmp/biosnn_bench_cuda_{n}", "cuda_standalone",
                                        CudaOptions(gpu_id=0))
                line += f" {gpu:21.2f} {gpu / fast:17.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
