"""Does STDP guidance help gradient training when labels are scarce? The label-budget study.

For every seed ``s``, label budget ``b`` (labelled training samples per class, or ``all``) and method:

* ``ce``: cross-entropy on the labelled samples only (no guidance term);
* ``template``: CE + Huber to the class template of each labelled sample (templates made from the
  labelled samples' recorded guidance, so no other label is read);
* ``sample``: CE on the labelled samples + Huber to every sample's *own* recorded guidance (the
  STDP network's response to it, recorded without labels): this is the one that learns from the
  unlabelled samples too;
* ``kd``: CE on the labelled samples + distillation of the STDP network's own vote on every sample
  (``kd-sample``: its recorded spike counts, pooled by the neuron -> class assignment made from the
  labelled samples), so the unlabelled samples teach through the teacher's decision;

it runs ``biosnn supervised`` with the STDP network of seed ``s`` (its guidance and its per-sample
guidance), the validation protocol (15 % of every class held out, split seed 0; the epoch kept is the
one best on those chips; ``--no-test``), and then scores the test split once (``biosnn evaluate``).
Labelled samples are drawn by ``--labelled b --labelled-seed s`` (stratified). With a budget every
epoch shows the labelled samples repeated to the size of the training split, then every sample
(``sample``) or the repeated labelled samples again (``ce``, ``template``): all methods take the same
number of optimizer steps, and ``epochs`` is halved against ``all`` so that budgets do too.

Writes ``OUT/results.json`` (every run), ``OUT/table.md`` (mean +- std over seeds, std with n - 1) and
``OUT/label-budget-<data>.{png,pdf}`` (test accuracy against labels per class, one line per method,
bands = +- std over seeds). Runs already finished are read, not run again (resume by re-running).

Usage (about 4 minutes per run on one core at the MSTAR defaults; ``--jobs`` runs in parallel)::

    python bench/label_budget.py --data mstar --root ../shared/data/mstar3 \\
        --network 'runs/mstar3-stdp-s{seed}' --samples 'runs/sg/mstar-s{seed}.npz' \\
        --budgets 1,10,all --seeds 0,1,2 --jobs 2 --out runs/label-budget-mstar

``--merge EARLIER/results.json`` adds the rows of an earlier run (other methods) to the table and
figure, e.g. ``--methods kd --merge bench/results/label-budget-mstar.json``.

``--network`` and ``--samples`` are patterns with ``{seed}``; record the per-sample guidance first with
``biosnn sample-guidance NETWORK --dataset ... --out FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

#: Method -> (loss, flags). Each method's loss weight and decision rule were chosen on the validation
#: chips of seed 0 with all labels (README, "Guidance and labels"): CE-only reads the class's largest
#: time-mean potential; the per-sample term teaches the output layer Diehl & Cook's potentials, whose
#: class information is in their spikes, so that method decides by Diehl & Cook's spike-count vote.
METHODS = {
    "ce": ("ce-membrane", []),
    "template": ("0.01*huber-guidance+ce-membrane", []),
    "sample": ("0.1*huber-sample+ce-rate", ["--decision", "rate", "--rate-scale", "5"]),
    # the STDP network's own vote on every chip (its recorded spike counts) distilled into the spike counts
    "kd": ("kd-sample+ce-rate", ["--decision", "rate", "--rate-scale", "5"]),
}
#: Per data set: the image reader and the supervised recipe (chosen on validation chips, see README).
DATASETS = {
    "mstar": {"dataset": "mstar", "T": 350, "epochs": 10, "flags": ["--model", "spiking-mlp", "--hidden", "200",
                                                                    "--dropout", "0.3", "--rows", "all",
                                                                    "--membrane-scale", "0.5", "--batch-size", "16",
                                                                    "--lr", "2e-3", "--schedule", "cosine"]},
    "mnist": {"dataset": "mnist", "T": 100, "epochs": 10, "flags": ["--model", "spiking-mlp", "--hidden", "200",
                                                                    "--dropout", "0.3", "--rows", "all",
                                                                    "--membrane-scale", "0.5", "--batch-size", "32",
                                                                    "--lr", "2e-3", "--schedule", "cosine"]},
}


def run_dir(out: Path, method: str, budget: str, seed: int) -> Path:
    return out / f"{method}-b{budget}-s{seed}"


def command(args: argparse.Namespace, method: str, budget: str, seed: int) -> list[str]:
    preset = DATASETS[args.data]
    epochs = args.epochs or preset["epochs"]
    cmd = ["biosnn", "supervised", "--dataset", preset["dataset"], "--root", args.root,
           "--guidance", str(Path(args.network.format(seed=seed)) / "guidance.npz"),
           "--sample-guidance", args.samples.format(seed=seed), "--T", str(args.T or preset["T"]),
           "--loss", METHODS[method][0], *METHODS[method][1], *preset["flags"], "--val-fraction", "0.15",
           "--no-test", "--seed", str(seed), "--no-progress", "--out", str(run_dir(args.out, method, budget, seed))]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if budget != "all":
        cmd += ["--labelled", budget, "--labelled-seed", str(seed), "--epochs", str(max(1, epochs // 2))]
    else:
        cmd += ["--epochs", str(epochs)]
    return cmd


def result(directory: Path) -> dict | None:
    """The run's chosen validation accuracy and its one test score, or None if not finished."""
    path = directory / "metrics.json"
    if not path.exists():
        return None
    metrics = json.loads(path.read_text())
    tests = [v for k, v in metrics.get("evaluations", {}).items() if "/test/" in k]
    if not metrics.get("complete") or not tests:
        return None
    history = metrics["history"]
    best = metrics.get("best_val_epoch", len(history))
    return {"val": history[best - 1]["val_accuracy"], "test": tests[-1]["accuracy"], "epoch": best,
            "seconds": sum(h["seconds"] for h in history)}


def one(args: argparse.Namespace, method: str, budget: str, seed: int) -> dict:
    directory = run_dir(args.out, method, budget, seed)
    done = result(directory)
    if done is None:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        again = ["--overwrite"] if directory.exists() else []  # an unfinished run starts afresh
        with open(str(directory) + ".log", "w") as log:
            subprocess.run(command(args, method, budget, seed) + again, check=True, stdout=log, stderr=log, env=env)
            subprocess.run(["biosnn", "evaluate", str(directory), "--split", "test", "--no-progress"], check=True,
                           stdout=log, stderr=log, env=env)
        done = result(directory)
    assert done is not None, directory
    print(f"{method:8s} budget {budget:>4s} seed {seed}: val {done['val']:.4f} test {done['test']:.4f}", flush=True)
    return {"method": method, "budget": budget, "seed": seed, **done}


def summarise(rows: list[dict], budgets: list[str], methods: list[str]) -> tuple[str, dict]:
    stats: dict = {}
    lines = ["| labels per class | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for b in budgets:
        cells = []
        for m in methods:
            acc = np.array([r["test"] for r in rows if r["budget"] == b and r["method"] == m]) * 100
            val = np.array([r["val"] for r in rows if r["budget"] == b and r["method"] == m]) * 100
            sd = float(acc.std(ddof=1)) if len(acc) > 1 else 0.0
            stats[(b, m)] = (float(acc.mean()), sd, len(acc))
            cells.append(f"{acc.mean():.2f} +- {sd:.2f} (val {val.mean():.1f}, n={len(acc)})")
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines), stats


def figure(stats: dict, budgets: list[str], methods: list[str], n_all: int, out: Path, title: str) -> None:
    from bioSNN.plotting.style import PALETTE, new_figure, save, style

    x = [n_all if b == "all" else int(b) for b in budgets]
    with style():
        fig, ax = new_figure()
        for k, m in enumerate(methods):
            mean = np.array([stats[(b, m)][0] for b in budgets])
            sd = np.array([stats[(b, m)][1] for b in budgets])
            colour = list(PALETTE.values())[k] if isinstance(PALETTE, dict) else PALETTE[k]
            ax.plot(x, mean, "o-", color=colour, label=m, ms=3)
            ax.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)
        ax.set_xscale("log")
        ax.set_xticks(x, [("all" if b == "all" else b) for b in budgets])
        ax.set_xlabel("labelled training samples per class")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(title)
        ax.legend(frameon=False)
        save(fig, out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=sorted(DATASETS), required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--network", required=True, help="STDP network folder pattern with {seed}")
    p.add_argument("--samples", required=True, help="per-sample guidance file pattern with {seed}")
    p.add_argument("--budgets", default="1,10,all")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--methods", default="ce,template,sample,kd")
    p.add_argument("--merge", type=Path, action="append", default=[],
                   help="results.json of an earlier run of this script (other methods, same budgets and seeds): "
                        "its rows join the table and the figure")
    p.add_argument("--T", type=int)
    p.add_argument("--epochs", type=int, help="epochs with all labels (halved with a budget)")
    p.add_argument("--limit", type=int, help="the first N training images only")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    budgets, methods = args.budgets.split(","), args.methods.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(m, b, s) for s in seeds for b in budgets for m in methods]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda job: one(args, *job), jobs))
    (args.out / "results.json").write_text(json.dumps({"command": sys.argv, "runs": rows}, indent=1))
    for path in args.merge:
        earlier = [r for r in json.loads(path.read_text())["runs"] if r["method"] not in methods]
        methods = list(dict.fromkeys([r["method"] for r in earlier])) + methods
        rows = earlier + rows
    table, stats = summarise(rows, budgets, methods)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    config = json.loads((run_dir(args.out, methods[-1], budgets[-1], seeds[0]) / "config.json").read_text())
    per_class_all = config["data"]["n_train"] // len(config["guidance"]["class_names"])
    figure(stats, budgets, methods, per_class_all, args.out / f"label-budget-{args.data}",
           f"{args.data}: guidance vs CE-only ({len(seeds)} seeds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
