"""Training speed of bioSNN.supervised: the seed network against the seed's own loop, and one LIF layer
against snnTorch, SpikingJelly and Norse. Every comparison runs side by side in the same process.

Part ``seed`` (samples/s of training, seeds_spec 1): input spikes ``[71, B, 16384]`` (128x128 pixels,
step 0 empty, then random Bernoulli spikes at 0.6 % density, about what the real data has: 30-40 % of
the pixels fire 1-2 times in 70 steps), 3 output neurons, random guidance ``[B, 3, 70]`` and labels,
Huber loss on the true-class row (``compute_loss`` with ``LossSpec.parse("huber-guidance")``,
``ClassReadout.identity(3)``, first_step 1, initial 0 mV), Adam lr 1e-2, one optimizer step per batch.
bioSNN's ``GuidedBilayer(16384, 3, dynamics="seed")`` (vectorised cumsum) and ``dynamics="model"``
(``seed_wta_if``: conditional leak, WTA, reset, refractoriness, 71 generated torch steps) run at
batch 1 and 64. Baseline: "seed loop", a PyTorch transcription of the seed's per-step algorithm at
batch 1 (seeds_spec 1.6, :func:`seed_loop_forward`). The seed itself reports about 7 samples/s in
TensorFlow on a Quadro RTX 8000 (seeds_spec 1.11; not measured here).

Part ``layer`` (ms per forward+backward): ``Linear(784 -> 1000, no bias)`` + LIF over T = 100 steps,
batch 64, float32, decay exp(-dt/tau_m) = exp(-0.1), threshold 10 mV above rest, hard reset to rest,
loss = mean spike count. Baseline: the same LIF as ``library.lif_delta`` written by hand with torch
ops (:func:`hand_written_lif`). bioSNN's ``NeuronLayer`` runs by each backend of
``bioSNN.equations.torch_step.BACKENDS`` (``eager``, ``compile``, ``fused``, ``bptt``: compiled chunks with a
backward pass of their own; the compiled ones compile during the untimed first pass). "Linear alone" is
the floor: the same Linear and loss with no neurons. Peers (optional; a missing one is reported as skipped):
snnTorch ``Leaky`` (beta, reset to zero), SpikingJelly ``LIFNode`` (multi-step 'm', decay_input=False,
tau so that 1 - 1/tau = beta; backend 'torch' and, on CUDA, 'cupy' for <= 0.0.0.0.14; SpikingJelly
2.x picks its implementation itself: on CUDA the bench also forces its 'torch' one), Norse
``LIFBoxCell`` loop (Euler step with tau_mem_inv chosen so that the decay is beta, input scaled to
add the same mV). bioSNN and the baseline follow Brian2's order (decay, threshold, input, reset: a
step's input cannot make that step's spike); the peers add the input before the threshold, and each
keeps its own surrogate, so their spike counts differ (column "agree").

    python bench/supervised_speed.py [--part {seed,layer,all}] [--device {cpu,cuda}] [--threads N]
                                     [--repeats 3] [--json FILE]

Times are the best of ``--repeats``; each repeat averages a few iterations after warm-up ones, and the
candidates of a part take turns within every repeat. On a CPU shared with other jobs, torch's worker
threads wait for each other and times grow erratically: the header prints the load average; prefer
``--threads 1`` there.

Peers, without letting pip replace the installed torch (spikingjelly and norse declare torchvision /
torchaudio, which pull a CUDA torch build): ``pip install --no-deps snntorch==1.0.0 spikingjelly==2.0.0
norse==1.1.0 nir==1.0.8 nirtorch==2.6 loguru h5py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import json
import math
import os
import platform
import time
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Iterator

import torch
import torch.nn.functional as F
from brian2 import ms
from torch import nn

from bioSNN.equations import library
from bioSNN.supervised.layers import NeuronLayer, over_time
from bioSNN.supervised.losses import LossSpec, compute_loss
from bioSNN.supervised.models import GuidedBilayer
from bioSNN.supervised.readout import ClassReadout

# --------------------------------------------------------------------------- constants (seeds_spec 1)
SEED_N_IN = 128 * 128
SEED_N_OUT = 3
SEED_STEPS = 70                 # input has SEED_STEPS + 1 rows: step 0 (empty) .. 70
SEED_DENSITY = 0.006            # ~7,000 spikes in 16384 x 70
SEED_LR = 1e-2
SEED_VAR_D = 0.005              # v2 leak per step (mV), subtracted unconditionally
SEED_P_TH = 80.0                # mV, winner detection
SEED_PUBLISHED = 7.0            # samples/s, TensorFlow, Quadro RTX 8000, no interpolation

LAYER_TAU_STEPS = 10.0          # tau_m / dt of lif_delta (10 ms at 1 ms)
LAYER_GAP = 10.0                # v_th - v_rest (mV)


# --------------------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_interleaved(fns: dict[str, Callable[[], Any]], device: torch.device, *, iters: dict[str, int],
                      repeats: int, warmup: int) -> dict[str, list[float]]:
    """Seconds per call of each ``fns[name]``: per repeat one mean over ``iters[name]`` calls, after
    ``warmup`` calls each. The candidates take turns within every repeat (round robin), so that load
    from other processes falls on all of them alike; report the best repeat."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync(device)
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            for _ in range(iters[name]):
                fn()
            sync(device)
            out[name].append((time.perf_counter() - start) / iters[name])
    return out


def version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- part 1: the seed network
def seed_loop_forward(synapse: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """BASELINE: the seed's forward pass (released v2 code, seeds_spec 1.6) transcribed to PyTorch, batch 1.

    ``synapse [3, 16384]`` (the seed's layout), ``x [71, 16384]`` one sample. A Python loop over the
    steps, nothing vectorised over time; per step the seed's per-neuron ``if T_ref[j] < t:
    P_j <- P_j + W_j . x(t) - var_D`` is a masked update of the 3 neurons, then the winner check
    ``img_win <- argmax P if max P > P_th`` (no gradient through it). The lateral inhibition that
    would use ``img_win`` is dead code in v2, so ``T_ref`` stays 0 (but is still tested every step).
    Returns the trace ``P [71, 3]`` (P(0) = 0) and ``img_win`` (100 = no winner).
    """
    n_out = synapse.shape[0]
    P = synapse.new_zeros(n_out)
    T_ref = torch.zeros(n_out, device=synapse.device)
    img_win = torch.tensor(100, device=synapse.device)
    trace = []
    for t in range(x.shape[0]):
        active = T_ref < t
        P = torch.where(active, P + synapse @ x[t] - SEED_VAR_D, P)
        high = P.detach().max()
        img_win = torch.where(high > SEED_P_TH, P.detach().argmax(), img_win)
        trace.append(P)
    return torch.stack(trace), img_win


def seed_inputs(batch: int, count: int, device: torch.device, gen: torch.Generator) -> list[tuple[torch.Tensor, ...]]:
    """``count`` batches of (spikes [71, B, 16384] float32, labels [B], guidance [B, 3, 70] mV)."""
    out = []
    for _ in range(count):
        x = torch.zeros(SEED_STEPS + 1, batch, SEED_N_IN)
        x[1:] = (torch.rand(SEED_STEPS, batch, SEED_N_IN, generator=gen) < SEED_DENSITY).float()
        labels = torch.randint(0, SEED_N_OUT, (batch,), generator=gen)
        target = torch.rand(batch, SEED_N_OUT, SEED_STEPS, generator=gen) * 180.0 - 100.0  # -100..80 mV
        out.append((x.to(device), labels.to(device), target.to(device)))
    return out


def bench_seed(args: argparse.Namespace, device: torch.device) -> list[dict[str, Any]]:
    gen = torch.Generator().manual_seed(0)
    spec = LossSpec.parse("huber-guidance")
    readout = ClassReadout.identity(SEED_N_OUT)
    pool1 = seed_inputs(1, 4, device, gen)
    pool_big = seed_inputs(args.seed_batch, 1, device, gen) if args.seed_batch > 1 else []
    fns: dict[str, Callable[[], Any]] = {}
    iters: dict[str, int] = {}
    batch_of: dict[str, int] = {}

    # ---- baseline: the seed loop, batch 1
    torch.manual_seed(0)
    synapse = nn.Parameter((torch.rand(SEED_N_OUT, SEED_N_IN) * 1.0).to(device))  # uniform [0, 1) mV
    opt = torch.optim.Adam([synapse], lr=SEED_LR)
    counter = {"k": 0}
    classes1 = [int(y[0]) for _, y, _ in pool1]  # the seed derives the class from the guidance, on the host

    def seed_loop_step() -> None:
        i = counter["k"] % len(pool1)
        counter["k"] += 1
        x, _, g = pool1[i]
        c = classes1[i]
        trace, _ = seed_loop_forward(synapse, x[:, 0])
        target = torch.cat([g.new_zeros(1), g[0, c]])  # the seed prepends a t = 0 column to the guidance
        loss = F.huber_loss(trace[:, c], target, delta=1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    base = "seed loop (baseline)"
    fns[base], iters[base], batch_of[base] = seed_loop_step, args.samples, 1

    # ---- sanity: bioSNN's seed dynamics reproduce the seed loop's trace
    net = GuidedBilayer(SEED_N_IN, SEED_N_OUT, dynamics="seed").to(device)
    with torch.no_grad():
        net.weight.copy_(synapse)  # both [n_out, n_in]
        x0 = pool1[0][0]
        ref, _ = seed_loop_forward(synapse, x0[:, 0])
        diff = float((net(x0).v[:, 0] - ref).abs().max())
    print(f"check: GuidedBilayer(dynamics='seed') vs seed loop, same weights, max |dv| = {diff:.2e} mV")

    # ---- bioSNN GuidedBilayer, both dynamics, batch 1 and the large batch
    for batch, pool in ((1, pool1), (args.seed_batch, pool_big)):
        if not pool:
            continue
        for dynamics in ("seed", "model"):
            torch.manual_seed(0)
            net = GuidedBilayer(SEED_N_IN, SEED_N_OUT, dynamics=dynamics).to(device)
            opt_b = torch.optim.Adam(net.parameters(), lr=SEED_LR)
            k = {"k": 0}

            def step(net: nn.Module = net, opt_b: torch.optim.Optimizer = opt_b, pool: list = pool,
                     k: dict = k) -> None:
                x, y, g = pool[k["k"] % len(pool)]
                k["k"] += 1
                out = net(x)
                # initial 0 mV: seed_wta_if starts at P_rest = 0, the seed dynamics at 0 as well
                loss, _ = compute_loss(spec, out, y, readout, g, first_step=1, initial=0.0)
                opt_b.zero_grad(set_to_none=True)
                loss.backward()
                opt_b.step()

            name = f"bioSNN GuidedBilayer dynamics={dynamics}, batch {batch}"
            fns[name], batch_of[name] = step, batch
            iters[name] = args.samples if batch == 1 else args.batch_steps

    times = timed_interleaved(fns, device, iters=iters, repeats=args.repeats, warmup=2)
    base_rate = 1.0 / min(times[base])
    rows = []
    for name, t in times.items():
        rate = batch_of[name] / min(t)
        rows.append(dict(config=name.rsplit(", batch", 1)[0], batch=batch_of[name], s_per_step=t,
                         samples_per_s=rate, speedup=rate / base_rate))
    return rows


def print_seed(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'seed network (16384 -> 3, 71 steps), training':50s} {'batch':>5s} {'ms/step':>9s} "
          f"{'samples/s':>10s} {'vs seed loop':>12s}")
    for r in rows:
        print(f"{r['config']:50s} {r['batch']:5d} {1e3 * min(r['s_per_step']):9.2f} {r['samples_per_s']:10.1f} "
              f"{r['speedup']:11.2f}x")
    print(f"{'seed, TensorFlow (published, Quadro RTX 8000)':50s} {1:5d} {'':9s} {SEED_PUBLISHED:10.1f} "
          f"{'(not run)':>12s}")


# --------------------------------------------------------------------------- part 2: one LIF layer
class ATanSpike(torch.autograd.Function):
    """Heaviside forward, atan surrogate backward: ``1 / (1 + (pi x)^2)`` (bioSNN's atan, width 1 mV)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:  # noqa: D102
        (x,) = ctx.saved_tensors
        return grad / (1 + (math.pi * x) ** 2)


def hand_written_lif(drive: torch.Tensor, beta: float, v_rest: float = -65.0, v_th: float = -55.0,
                     v_reset: float = -65.0, width: float = 1.0) -> torch.Tensor:
    """BASELINE: ``library.lif_delta`` by hand (mV), in Brian2's order: decay, threshold, input, reset
    (reset detached, as NeuronLayer's default). ``drive [T, B, n]`` in mV; returns spikes ``[T, B, n]``."""
    v = torch.full_like(drive[0], v_rest)
    out = []
    for k in range(drive.shape[0]):
        v = v_rest + (v - v_rest) * beta
        s = ATanSpike.apply((v - v_th) / width)
        v = torch.where(s.detach() > 0, v_reset, v + drive[k])
        out.append(s)
    return torch.stack(out)


def _sj2_forced(implementation: str, device: torch.device) -> Callable[[], Any]:
    """SpikingJelly 2.x picks its LIF implementation once per CUDA device (environment variable
    ``SJ_LIF_CUDA_IMPLEMENTATION``, read at import). This returns a context factory that swaps in
    ``implementation`` for the duration of one forward+backward (private API, 2.0.0)."""
    from spikingjelly._ops import lif as sj_lif_ops

    selection = sj_lif_ops._selection
    index = device.index if device.index is not None else torch.cuda.current_device()
    auto = selection._get_cuda_selection(device)
    saved = selection._requested
    try:
        selection._requested = implementation
        selection._selections.pop(index, None)
        forced = selection._get_cuda_selection(device)
    finally:
        selection._requested = saved
        selection._selections[index] = auto
    if forced.name != implementation:
        raise RuntimeError(f"SpikingJelly selected {forced.name!r}, not {implementation!r}")

    @contextmanager
    def scope() -> Iterator[None]:
        selection._selections[index] = forced
        try:
            yield
        finally:
            selection._selections[index] = auto

    return scope


def _layer_candidates(device: torch.device, beta: float, n: int, compile_peers: bool = False) -> list[tuple]:
    """``(name, version, neurons[, scope])``: ``neurons(drive [T, B, n] mV) -> spikes [T, B, n]``, or a
    string saying why the library is skipped; ``scope()``, where given, is entered around every
    forward+backward."""
    out: list[tuple] = []

    out.append(("hand-written PyTorch loop (baseline)", f"torch {torch.__version__}",
                lambda d: hand_written_lif(d, beta)))

    out.append(("Linear alone (the floor: no neurons; rate = mean drive)", f"torch {torch.__version__}", lambda d: d))
    bioversion = version_of("bioSNN") or "?"
    layer = NeuronLayer(library.lif_delta(), 1 * ms, n, record=()).to(device)
    out.append(("bioSNN NeuronLayer(lif_delta), record=()", bioversion, lambda d: layer(d).spikes))
    compiled = NeuronLayer(library.lif_delta(), 1 * ms, n, record=(), backend="compile").to(device)
    out.append(("bioSNN NeuronLayer(lif_delta), record=(), backend='compile'", bioversion,
                lambda d: compiled(d).spikes))
    fused = NeuronLayer(library.lif_delta(), 1 * ms, n, record=(), backend="fused").to(device)
    out.append(("bioSNN NeuronLayer(lif_delta), record=(), backend='fused'", bioversion,
                lambda d: fused(d).spikes))
    bptt = NeuronLayer(library.lif_delta(), 1 * ms, n, record=(), backend="bptt").to(device)
    out.append(("bioSNN NeuronLayer(lif_delta), record=(), backend='bptt'", bioversion,
                lambda d: bptt(d).spikes))
    layer_v = NeuronLayer(library.lif_delta(), 1 * ms, n).to(device)
    out.append(("bioSNN NeuronLayer(lif_delta), record=('v',) default", bioversion,
                lambda d: layer_v(d).spikes))

    # ---- snnTorch
    try:
        import snntorch

        leaky = snntorch.Leaky(beta=beta, threshold=LAYER_GAP, reset_mechanism="zero").to(device)

        out.append(("snnTorch Leaky, python loop", version_of("snntorch") or "?",
                    lambda d: _step_loop(leaky, d, torch.zeros_like(d[0]))))
    except Exception as exc:  # noqa: BLE001 - optional peer
        out.append(("snnTorch", "-", f"skipped: {type(exc).__name__}: {exc}"))

    # ---- SpikingJelly
    try:
        from spikingjelly.activation_based import functional as sj_functional
        from spikingjelly.activation_based import neuron as sj_neuron
        from spikingjelly.activation_based import surrogate as sj_surrogate

        sj_version = version_of("spikingjelly") or "?"
        tau = 1.0 / (1.0 - beta)  # H = V - (V - V_reset)/tau + X  ->  decay 1 - 1/tau = beta
        legacy = "backend" in inspect.signature(sj_neuron.LIFNode.__init__).parameters

        def sj_node(**extra: Any) -> Any:
            return sj_neuron.LIFNode(tau=tau, decay_input=False, v_threshold=LAYER_GAP, v_reset=0.0,
                                     surrogate_function=sj_surrogate.ATan(), detach_reset=True, step_mode="m",
                                     **extra).to(device)

        def sj_runner(node: Any) -> Callable[[torch.Tensor], torch.Tensor]:
            def run(d: torch.Tensor) -> torch.Tensor:
                sj_functional.reset_net(node)  # stateful module: start every pass from v_reset
                return node(d)
            return run

        if legacy:  # <= 0.0.0.0.14: backend chosen per module
            out.append(("SpikingJelly LIFNode 'm', backend torch", sj_version,
                        sj_runner(sj_node(backend="torch"))))
            if device.type == "cuda":
                try:
                    import cupy  # noqa: F401

                    out.append(("SpikingJelly LIFNode 'm', backend cupy", sj_version,
                                sj_runner(sj_node(backend="cupy"))))
                except Exception as exc:  # noqa: BLE001
                    out.append(("SpikingJelly LIFNode 'm', backend cupy", sj_version,
                                f"skipped: {type(exc).__name__}: {exc}"))
        elif device.type != "cuda":  # 2.x on CPU: one implementation (torch loop + hand-written backward)
            out.append(("SpikingJelly LIFNode 'm' (cpu op)", sj_version, sj_runner(sj_node())))
        else:  # 2.x on CUDA: its automatic choice, and its 'torch' implementation forced
            try:
                impl = sj_functional.neuron_implementation("lif", device)["implementation"]
            except Exception as exc:  # noqa: BLE001
                impl = f"? ({type(exc).__name__})"
            out.append((f"SpikingJelly LIFNode 'm', auto = {impl}", sj_version, sj_runner(sj_node())))
            if impl != "torch":
                try:
                    out.append(("SpikingJelly LIFNode 'm', forced torch", sj_version, sj_runner(sj_node()),
                                _sj2_forced("torch", device)))
                except Exception as exc:  # noqa: BLE001
                    out.append(("SpikingJelly LIFNode 'm', forced torch", sj_version,
                                f"skipped: {type(exc).__name__}: {exc}"))
    except Exception as exc:  # noqa: BLE001 - optional peer
        out.append(("SpikingJelly", "-", f"skipped: {type(exc).__name__}: {exc}"))

    # ---- Norse
    try:
        from norse.torch import LIFBoxCell, LIFBoxParameters

        dt = 1e-3
        a = 1.0 - beta  # Euler: v <- v + dt*tau_mem_inv*(v_leak - v + i)
        params = LIFBoxParameters(tau_mem_inv=torch.as_tensor(a / dt, device=device),
                                  v_leak=torch.as_tensor(0.0, device=device),
                                  v_th=torch.as_tensor(LAYER_GAP, device=device),
                                  v_reset=torch.as_tensor(0.0, device=device),
                                  alpha=torch.as_tensor(1.0, device=device))
        cell = LIFBoxCell(params, dt=dt).to(device)

        # input scaled by 1/a so that one step adds d mV
        out.append(("Norse LIFBoxCell, python loop", version_of("norse") or "?", lambda d: _step_loop(cell, d / a, None)))
        if compile_peers:  # the Open Neuromorphic benchmark's "Norse + torch.compile": the cell compiled, looped
            compiled_cell = torch.compile(cell)
            out.append(("Norse LIFBoxCell + torch.compile, python loop", version_of("norse") or "?",
                        lambda d: _step_loop(compiled_cell, d / a, None)))
    except Exception as exc:  # noqa: BLE001 - optional peer
        out.append(("Norse", "-", f"skipped: {type(exc).__name__}: {exc}"))
    return out


def _step_loop(cell: Callable[..., Any], drive: torch.Tensor, state: Any) -> torch.Tensor:
    """A peer library's single-step cell, ``cell(input, state) -> (spikes, state)``, run over ``drive [T, ...]``."""
    spikes = []
    for k in range(drive.shape[0]):  # indexed as these libraries' tutorials do
        s, state = cell(drive[k], state)
        spikes.append(s)
    return torch.stack(spikes)


def bench_layer(args: argparse.Namespace, device: torch.device) -> list[dict[str, Any]]:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    T, B, n_in, n = args.steps, args.batch, args.inputs, args.neurons
    beta = math.exp(-1.0 / LAYER_TAU_STEPS)
    x = (torch.rand(T, B, n_in, generator=gen) < args.input_rate).float().to(device)
    linear = nn.Linear(n_in, n, bias=False).to(device)
    with torch.no_grad():  # mV per input spike: mean drive ~ +4 mV/step, sd ~ 3.8 mV
        linear.weight.copy_((torch.randn(n, n_in, generator=gen) * 0.6 + 0.1).to(device))
    rows: dict[str, dict[str, Any]] = {}
    fns: dict[str, Callable[[], Any]] = {}
    compile_peers = args.compile_peers if args.compile_peers is not None else device.type == "cuda"
    for name, version, run, *extra in _layer_candidates(device, beta, n, compile_peers):
        if isinstance(run, str):
            rows[name] = dict(library=name, version=version, skipped=run)
            continue
        scope = extra[0] if extra else nullcontext

        def fwd_bwd(run: Callable[[torch.Tensor], torch.Tensor] = run, scope: Callable[[], Any] = scope) -> None:
            linear.weight.grad = None
            with scope():
                run(over_time(linear, x)).float().mean().backward()

        try:  # one untimed pass: spikes for the table, and a check that a gradient arrives
            with torch.no_grad(), scope():
                spikes = run(over_time(linear, x)).float()
            fwd_bwd()
            if linear.weight.grad is None or not torch.isfinite(linear.weight.grad).all():
                raise RuntimeError("no finite gradient reached the weights")
        except Exception as exc:  # noqa: BLE001 - a peer failing at run time is reported, not fatal
            rows[name] = dict(library=name, version=version, skipped=f"skipped: {type(exc).__name__}: {exc}")
            continue
        rows[name] = dict(library=name, version=version, spike_rate=float(spikes.mean()), spikes=spikes)
        fns[name] = fwd_bwd
    times = timed_interleaved(fns, device, iters=dict.fromkeys(fns, args.layer_iters), repeats=args.repeats,
                              warmup=1)
    base_name = next(iter(fns))  # the hand-written loop comes first
    base, base_spikes = min(times[base_name]), rows[base_name]["spikes"]
    for name, t in times.items():
        row = rows[name]
        spikes = row.pop("spikes")
        row.update(s_per_fwd_bwd=t, ratio=min(t) / base,
                   agreement_with_baseline=float((spikes == base_spikes).float().mean()))
    for row in rows.values():
        row.pop("spikes", None)
    return list(rows.values())


def print_layer(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    title = f"Linear({args.inputs}->{args.neurons}) + LIF, T={args.steps}, batch {args.batch}, fwd+bwd"
    print(f"\n{title:55s} {'version':>22s} {'ms':>9s} {'x baseline':>10s} {'rate':>7s} {'agree':>7s}")
    for r in rows:
        if "skipped" in r:
            print(f"{r['library']:55s} {r['version']:>22s} {r['skipped']}")
            continue
        agree = f"{r['agreement_with_baseline']:.4f}" if "agreement_with_baseline" in r else ""
        print(f"{r['library']:55s} {r['version']:>22s} {1e3 * min(r['s_per_fwd_bwd']):9.1f} {r['ratio']:9.2f}x "
              f"{r['spike_rate']:7.4f} {agree:>7s}")
    print("x baseline: time / hand-written time (lower is faster); rate: spikes per neuron per step; "
          "agree: fraction of spike entries equal to the baseline's")


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["seed", "layer", "all"], default="all")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the best is reported")
    parser.add_argument("--json", metavar="FILE", help="write all results (every repeat) to FILE")
    seed = parser.add_argument_group("part seed")
    seed.add_argument("--samples", type=int, default=10, help="batch-1 training steps per repeat")
    seed.add_argument("--seed-batch", type=int, default=64, help="the large batch")
    seed.add_argument("--batch-steps", type=int, default=2, help="large-batch training steps per repeat")
    layer = parser.add_argument_group("part layer")
    layer.add_argument("--steps", type=int, default=100)
    layer.add_argument("--batch", type=int, default=64)
    layer.add_argument("--inputs", type=int, default=784)
    layer.add_argument("--neurons", type=int, default=1000)
    layer.add_argument("--compile-peers", action=argparse.BooleanOptionalAction, default=None,
                       help="also time Norse's cell under torch.compile (default: on CUDA only)")
    layer.add_argument("--input-rate", type=float, default=0.05, help="input spike probability per step")
    layer.add_argument("--layer-iters", type=int, default=2, help="forward+backward passes per repeat")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA device")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"device={args.device} ({name}) threads={torch.get_num_threads()} torch={torch.__version__} "
          f"bioSNN={version_of('bioSNN')} repeats={args.repeats} load average={load:.2f} on {os.cpu_count()} CPUs")
    allocator = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    print(f"allocator: {allocator or 'glibc defaults'}")
    if device.type == "cpu" and load > (os.cpu_count() or 1) - 0.5:
        print("warning: other processes keep the CPUs busy; CPU times are unreliable (try --threads 1)")

    results: dict[str, Any] = {"device": args.device, "device_name": name, "threads": torch.get_num_threads(),
                               "load_average_before": load, "allocator_environment": allocator,
                               "torch": torch.__version__, "args": vars(args),
                               "versions": {d: version_of(d) for d in ("bioSNN", "snntorch", "spikingjelly", "norse")}}
    if args.part in ("seed", "all"):
        results["seed"] = bench_seed(args, device)
        print_seed(results["seed"])
    if args.part in ("layer", "all"):
        results["layer"] = bench_layer(args, device)
        print_layer(results["layer"], args)
    if hasattr(os, "getloadavg"):
        results["load_average_after"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
