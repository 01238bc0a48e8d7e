"""``biosnn demo``: the whole pipeline on the MNIST subset shipped inside the package, in a few minutes.

Each stage is one ``biosnn`` command, printed and then run exactly as a user would type it, reading
the files the previous stage wrote:

1. ``biosnn encode``: the subset's images -> Diehl & Cook Poisson spike trains (``spikes/{train,test}.npz``);
2. ``biosnn unsupervised --preset diehl_cook``: Brian2 STDP (compiled ``cpp_standalone``), then
   neuron -> class assignment and the guidance signals (``stdp/``);
3. ``biosnn evaluate stdp``: the unsupervised network's accuracy on the test subset;
4. ``biosnn supervised``: a spiking MLP whose output neurons are the STDP network's neuron model,
   trained on the spike trains of step 1 with a Huber loss towards the guidance potentials plus
   cross-entropy, once per seed (``supervised-seedK/``);
5. ``biosnn evaluate supervised-seed0``: accuracy and confusion matrix;
6. ``biosnn plot ...``: every figure into the figures folder (PDF and 300 dpi PNG).

``summary.json`` in the output folder records the commands, each stage's seconds and the accuracies.
The training stages run with ``--overwrite``: the demo's folders are its own, and a second demo
replaces the first.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..evaluations import EvaluationKey, evaluation
from ..fileio import atomic_write_json

__all__ = ["DemoConfig", "run_demo", "FIGURE_NAMES"]

#: the figures the demo writes (file stems in the figures folder)
FIGURE_NAMES = ("demo-membrane", "demo-raster", "demo-guidance", "demo-stdp-weights", "demo-stdp-weights-history",
                "demo-supervised-weights-history", "demo-curves", "demo-confusion", "demo-rates")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo run (defaults: a few minutes on a 2-core CPU)."""

    stdp_images: int = 2000         # training images shown to the STDP network (one pass)
    stdp_neurons: int = 50
    guidance_per_class: int = 5
    train_images: int = 5000        # supervised training set (first N of the subset: all of it)
    test_images: int = 1000         # the subset's whole test split
    steps: int = 100                # steps of 0.5 ms per presentation seen by the supervised network
    hidden: int = 200
    epochs: int = 3
    batch_size: int = 50
    seeds: tuple[int, ...] = (0, 1)  # supervised runs (the curves show a band over them)
    backend: str = "cpp_standalone"

    @classmethod
    def quick(cls) -> "DemoConfig":
        """A run of well under a minute after compilation (the test suite's)."""
        return cls(stdp_images=200, stdp_neurons=30, guidance_per_class=1, train_images=200, test_images=100,
                   steps=40, hidden=32, epochs=2, batch_size=50)


def _run(argv: list[str], log: list[dict[str, Any]]) -> float:
    from . import main

    print(f"\n$ biosnn {shlex.join(argv)}", flush=True)
    start = time.perf_counter()
    status = main(argv)
    seconds = time.perf_counter() - start
    log.append({"command": "biosnn " + shlex.join(argv), "seconds": round(seconds, 1)})
    if status != 0:
        raise InputError(f"demo step failed (exit {status}): biosnn {shlex.join(argv)}")
    return seconds


def figure_commands(stdp: Path, runs: list[Path], fig_dir: Path) -> list[list[str]]:
    """The ``biosnn plot`` commands that draw :data:`FIGURE_NAMES` from the demo's folders."""
    figure_args = {
        "demo-membrane": ["membrane", str(runs[0])],
        "demo-raster": ["raster", str(runs[0])],
        "demo-guidance": ["guidance", str(stdp)],
        "demo-stdp-weights": ["weights", str(stdp)],
        "demo-stdp-weights-history": ["weights", str(stdp), "--history"],
        "demo-supervised-weights-history": ["weights", str(runs[0]), "--history"],
        "demo-curves": ["curves", *map(str, runs)],
        "demo-confusion": ["confusion", str(runs[0])],
        "demo-rates": ["rates", str(runs[0])],
    }
    return [["plot", *figure_args[name], "--out", str(fig_dir / name)] for name in FIGURE_NAMES]


def run_demo(out: str = "runs/demo", config: DemoConfig | None = None, *, figures: str | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Run the pipeline (see the module docstring); returns the summary it writes to ``out/summary.json``.
    Figures go to ``figures`` (default ``out/figures``: a run never touches the committed ``figures/``,
    which ``figures/regenerate.sh`` rewrites on purpose)."""
    c = config or DemoConfig()
    out_dir = Path(out)
    fig_dir = Path(figures) if figures is not None else out_dir / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir.mkdir(parents=True, exist_ok=True)
    quiet = [] if progress else ["--no-progress"]
    log: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    spikes, stdp = out_dir / "spikes", out_dir / "stdp"
    runs = [out_dir / f"supervised-seed{s}" for s in c.seeds]
    # 1. encode (the Poisson code of the unsupervised network, 0.5 ms steps, first `steps` steps)
    for split, n in (("train", c.train_images), ("test", c.test_images)):
        _run(["encode", "--dataset", "mnist-subset", "--split", split, "--encoder", "diehl-cook", "--dt", "0.5",
              "--T", str(c.steps - 1), "--limit", str(n), "--seed", "1" if split == "test" else "0",
              "--out", str(spikes / f"{split}.npz"), *quiet], log)
    # 2.-3. STDP in Brian2, guidance, unsupervised accuracy
    _run(["unsupervised", "--preset", "diehl_cook", "--dataset", "mnist-subset", "--n-neurons", str(c.stdp_neurons),
          "--n-train", str(c.stdp_images), "--n-assign", str(c.stdp_images), "--slice", str(max(c.stdp_images // 5, 1)),
          "--guidance-per-class", str(c.guidance_per_class), "--backend", c.backend, "--overwrite", "--out", str(stdp),
          *quiet], log)
    _run(["evaluate", str(stdp), "--dataset", "mnist-subset", "--split", "test", "--limit", str(c.test_images),
          "--backend", c.backend, *quiet], log)
    # 4.-5. supervised training guided by the STDP network's potentials, per seed; evaluation
    for seed, run in zip(c.seeds, runs):
        _run(["supervised", "--dataset", "spikes", "--root", str(spikes), "--guidance", str(stdp / "guidance.npz"),
              "--model", "spiking-mlp", "--hidden", str(c.hidden), "--loss", "0.05*huber-guidance+ce-membrane",
              "--rows", "all", "--membrane-scale", "0.5", "--epochs", str(c.epochs), "--batch-size", str(c.batch_size),
              "--lr", "2e-3", "--seed", str(seed), "--overwrite", "--out", str(run), *quiet], log)
    _run(["evaluate", str(runs[0]), *quiet], log)
    # 6. figures
    for argv in figure_commands(stdp, runs, fig_dir):
        _run(argv, log)
    unsupervised = json.loads((stdp / "metrics.json").read_text())
    supervised = [json.loads((run / "metrics.json").read_text()) for run in runs]
    summary = {
        "config": asdict(c),
        "seconds": round(time.perf_counter() - t0, 1),
        "stdp_test_accuracy": evaluation(unsupervised, EvaluationKey("mnist-subset", "test", c.test_images))[1]["accuracy"],
        "stdp_assignment_accuracy": unsupervised["assignment_set_accuracy"],
        "supervised_test_accuracy": [m["final"].get("test_accuracy") for m in supervised],
        "figures": [str(fig_dir / f"{name}.{fmt}") for name in FIGURE_NAMES for fmt in ("pdf", "png")],
        "steps": log,
    }
    atomic_write_json(out_dir / "summary.json", summary)
    print(f"\nbioSNN demo finished in {summary['seconds']:.0f} s")
    print(f"  spike trains          {spikes}/train.npz, test.npz")
    print(f"  STDP network          {stdp}/  (test accuracy {100 * summary['stdp_test_accuracy']:.1f} %, "
          f"{c.stdp_neurons} neurons, {c.stdp_images} images)")
    for run, acc in zip(runs, summary["supervised_test_accuracy"]):
        print(f"  supervised network    {run}/  (test accuracy {100 * acc:.1f} %)")
    print(f"  figures               {fig_dir}/{{{','.join(FIGURE_NAMES)}}}.{{pdf,png}}")
    print(f"  summary               {out_dir / 'summary.json'}")
    sys.stdout.flush()
    return summary


def _cmd_demo(args: argparse.Namespace) -> int:
    run_demo(args.out, DemoConfig.quick() if args.quick else DemoConfig(), figures=args.figures,
             progress=not args.no_progress)
    return 0


def _demo_parser(sub: Any, full: bool = True) -> None:
    p = sub.add_parser("demo", help="the whole pipeline on the shipped MNIST subset, figures included",
                       description="encode -> Brian2 STDP (Diehl & Cook, short) -> guidance -> supervised torch "
                                   "training guided by it -> evaluation -> every figure, on the data shipped "
                                   "inside the package, in a few minutes on a CPU.")
    if not full:
        return
    p.add_argument("--out", default="runs/demo", help="folder for the artifacts (default runs/demo)")
    p.add_argument("--figures", help="folder for the figures (default OUT/figures; figures/regenerate.sh "
                                     "writes the committed ones)")
    p.add_argument("--quick", action="store_true", help="a much smaller run (tests, smoke checks)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_demo)
