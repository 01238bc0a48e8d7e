"""Speed of the generated torch step (backends ``eager``, ``fused`` and ``bptt``) against a hand-written
PyTorch LIF loop, in the same process, forward only (no autograd).

Both simulate the same current-based LIF with exponential synapse (library.lif_exp_synapse: exact
integration, threshold, reset, 2 ms refractoriness) for 1,000 neurons, batch 32, 100 inputs. The
baseline is the loop a user would write by hand (precomputed decay factors, no code generation).
Both precompute the input drive with one matmul and loop over time in Python; ``fused`` and ``bptt``
run chunks of steps compiled by ``torch.compile`` (``FUSED_STEPS`` / ``BPTT_STEPS`` steps per call; the
first run compiles, outside the timing). Times are the best of ``--repeats``, the candidates taking
turns within every repeat (round robin), so that load from other processes falls on all alike.

    python bench/torch_step_speed.py [--steps 500] [--device cpu] [--threads 1]
"""

from __future__ import annotations

import argparse
import math

import torch
from brian2 import ms

from bioSNN.equations import TorchStep, library
from supervised_speed import timed_interleaved  # bench/ is this script's folder


def hand_written_lif(drive: torch.Tensor, dt: float, p: dict) -> torch.Tensor:
    T, B, n = drive.shape
    a = math.exp(-dt / p["tau_m"])
    c = math.exp(-dt / p["tau_syn"])
    # exact solution of dv/dt = (v_rest - v)/tau_m + I/C_m with I decaying at tau_syn
    b = p["tau_m"] * p["tau_syn"] / (p["C_m"] * (p["tau_syn"] - p["tau_m"])) * (c - a)
    ref_steps = int(round(p["t_ref"] / dt)) - 1  # blocked for t_ref after the spike step
    v = torch.full((B, n), p["v_rest"], dtype=drive.dtype, device=drive.device)
    i_syn = torch.zeros_like(v)
    count = torch.zeros(B, n, dtype=torch.int64, device=drive.device)
    out = []
    for k in range(T):
        active = count <= 0
        v = torch.where(active, p["v_rest"] + (v - p["v_rest"]) * a + b * i_syn, v)
        i_syn = i_syn * c
        spike = (v > p["v_th"]) & active
        count = torch.where(spike, ref_steps, count - 1)
        i_syn = i_syn + drive[k]
        v = torch.where(spike, p["v_reset"], v)
        out.append(spike)
    return torch.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    model = library.lif_exp_synapse()
    dt = 0.1e-3
    step = TorchStep(model, dt * 1000 * ms, dtype=dtype, device=args.device)
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(args.steps, args.batch, args.inputs, generator=g) < 0.02).to(args.device)
    w = (torch.rand(args.inputs, args.neurons, generator=g) * 0.08e-9).to(args.device, dtype)
    p = {k: float(v) for k, v in model.parameters.items()}

    with torch.no_grad():
        generated_spikes = step.run(x, w).spikes
        drive = x.to(dtype) @ w
        hand_spikes = hand_written_lif(drive, dt, p)
        agree = (generated_spikes.bool() == hand_spikes).float().mean().item()
        compiled = {name: step.with_backend(name) for name in ("fused", "bptt")}
        same = {name: bool(torch.equal(c.run(x, w).spikes, generated_spikes))  # compiles before the timing
                for name, c in compiled.items()}
        fns = {"gen": lambda: step.run(x, w), "hand": lambda: hand_written_lif(x.to(dtype) @ w, dt, p),
               **{name: (lambda c=c: c.run(x, w)) for name, c in compiled.items()}}
        times = timed_interleaved(fns, torch.device(args.device), iters=dict.fromkeys(fns, 1), repeats=args.repeats,
                                  warmup=1)
        t_gen, t_hand, t_fused, t_bptt = (min(times[name]) for name in ("gen", "hand", "fused", "bptt"))
        fused_same, bptt_same = same["fused"], same["bptt"]
    print(f"device={args.device} dtype={args.dtype} threads={torch.get_num_threads()} "
          f"neurons={args.neurons} batch={args.batch} steps={args.steps}")
    print(f"spike agreement generated vs hand-written: {agree:.5f} ({int(generated_spikes.sum())} spikes)")
    print(f"generated TorchStep : {args.steps / t_gen:9.1f} steps/s")
    print(f"hand-written LIF    : {args.steps / t_hand:9.1f} steps/s")
    print(f"ratio generated / hand-written: {t_hand / t_gen:.2f}x")
    print(f"generated, backend 'fused' : {args.steps / t_fused:9.1f} steps/s (spikes identical to eager: {fused_same})")
    print(f"ratio fused / hand-written: {t_hand / t_fused:.2f}x")
    print(f"generated, backend 'bptt'  : {args.steps / t_bptt:9.1f} steps/s (spikes identical to eager: {bptt_same})")
    print(f"ratio bptt / hand-written: {t_hand / t_bptt:.2f}x")


if __name__ == "__main__":
    main()
