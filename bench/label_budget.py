"""The label-budget study, k-label honest (issue 31): what does a user with k labels per class get?

One trained STDP folder (unsupervised: it saw its training images without labels; they are the
unlabelled pool). Per seed ``s`` and budget ``k`` (labelled samples per class, or ``all``), the labelled
samples are ``labelled_split(pool labels, per_class=k, seed=s)``; **every choice reads only them**:
cross-validation inside the k labels (:mod:`bioSNN.supervised.selection`), or, with one label per class
or for the twin's training recipe, a recipe fixed in advance (the hybrid defaults, chosen on the
all-label validation chips of MSTAR-3: another data set for MSTAR-10 and MNIST; for MSTAR-3 itself
the recipe saw its own validation chips, so its rows are for continuity only). No validation split.
The test split is scored once per seed, budget and method.

Rows (all at this commit, same seeds, same labelled samples, one presentation per image with the
STDP network's protocol; the STDP counts of pool and test are one fixed Poisson draw per image):

* ``pixel 1-NN``: cosine nearest labelled sample;
* ``k-means N prototypes``: spherical k-means on the whole pool (unlabelled, N = STDP neurons), each
  prototype named by the majority of the labelled samples it owns, or by its nearest labelled sample;
* ``pixel linear read-out (STDP-free CE)``: logistic regression on the pixels, L2 by the k-label rule;
* ``STDP vote``: neurons assigned to classes from the labelled samples' counts, Diehl & Cook's vote;
* ``STDP counts linear read-out``: logistic regression on the STDP counts, L2 by the k-label rule
  (the hybrid's epoch 0; the primary comparison, fixed in advance: this row minus ``ce-only``);
* ``ce-only (twin from random weights)``: the same spiking architecture from Diehl & Cook's initial
  weights, trained with CE on the k labels (the hybrid recipe, last epoch);
* ``twin + CE``, ``twin + CE + guidance`` (Huber 0.1 to the untouched twin's potentials),
  ``twin + CE + distillation`` (KL 1.0 to the k-label vote on unlabelled pool images, as many
  optimizer steps as CE): the trained STDP network fine-tuned on the k labels.

    python bench/label_budget.py --model runs/mstar10-stdp --budgets 1,10,100,all --seeds 5 --twin-budgets 1,10
    python bench/label_budget.py --model models/mnist-dc100 --pool 10000 --budgets 1,10,100,all --seeds 5

Writes ``bench/results/label-budget-<model>.json`` after every run (re-running resumes: runs already
in it are kept) and ``figures/label-budget-<model>.png``; paired differences with 95 % t intervals.
The STDP counts are cached in ``runs/label-budget-cache/<model>.npz``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bioSNN.data.datasets import load_images
from bioSNN.data.splits import labelled_split, validation_split
from bioSNN.fileio import atomic_savez, atomic_write_json
from bioSNN.supervised.data import image_options
from bioSNN.supervised.hybrid import (HybridConfig, _logits, count_features, fit_readout_k, train_hybrid,
                                      vote_scores)
from bioSNN.supervised.twin import load_twin
from bioSNN.unsupervised.assignment import assign_labels
from bioSNN.unsupervised.pipeline import rates_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hybrid_study import ci95  # noqa: E402
from mstar_pixel_baselines import _unit as unit, kmeans  # noqa: E402

#: the twin rows: name -> HybridConfig settings (the rest is the hybrid's fixed recipe)
TWIN_METHODS = {
    "ce-only (twin from random weights)": dict(init="random"),
    "twin + CE": dict(init="stdp"),
    "twin + CE + guidance": dict(init="stdp", guidance=0.1),
    "twin + CE + distillation": dict(init="stdp", distill=1.0),
}
PRIMARY = ("STDP counts linear read-out", "ce-only (twin from random weights)")
#: the Poisson draws of the cached counts
POOL_SEED, TEST_SEED = 41, 43


def cheap_rows(pix_pool, y_pool, pix_test, y_test, counts_pool, counts_test, lab, n_classes, n_protos, seed):
    """The rows that need no training of the twin: pixel 1-NN, k-means, pixel read-out, vote, count read-out."""
    out, how = {}, {}
    xl, yl = pix_pool[lab], y_pool[lab]
    out["pixel 1-NN"] = float((yl[(pix_test @ xl.T).argmax(1)] == y_test).mean())
    centres = kmeans(pix_pool, min(n_protos, len(pix_pool)), seed)
    owner = (xl @ centres.T).argmax(1)
    nearest = yl[(centres @ xl.T).argmax(1)]
    names = np.array([np.bincount(yl[owner == j], minlength=n_classes).argmax() if (owner == j).any() else nearest[j]
                      for j in range(len(centres))])
    out[f"k-means {len(centres)} prototypes"] = float((names[(pix_test @ centres.T).argmax(1)] == y_test).mean())
    readout, sel = fit_readout_k(xl * 100, yl, n_classes, seed=seed, scale=1.0)
    out["pixel linear read-out (STDP-free CE)"] = float((_logits(readout, pix_test * 100).argmax(1) == y_test).mean())
    how["pixel linear read-out (STDP-free CE)"] = sel.to_dict()
    assignments = assign_labels(counts_pool[lab], yl, n_classes)
    out["STDP vote"] = float((vote_scores(counts_test, assignments, n_classes).argmax(1) == y_test).mean())
    readout, sel = fit_readout_k(counts_pool[lab], yl, n_classes, seed=seed)
    out["STDP counts linear read-out"] = float((_logits(readout, counts_test).argmax(1) == y_test).mean())
    how["STDP counts linear read-out"] = sel.to_dict()
    return out, how, assignments


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="runs/mstar10-stdp")
    p.add_argument("--root", help="data root (default: the one the network records)")
    p.add_argument("--budgets", default="1,10,100,all")
    p.add_argument("--twin-budgets", default="1,10", help="budgets that also run the twin rows ('' for none)")
    p.add_argument("--methods", default=",".join(TWIN_METHODS), help="twin rows to run")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--pool", type=int, help="a seeded subset of this many pool images (MNIST: the cost of counts)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="JSON (default bench/results/label-budget-<model>.json)")
    p.add_argument("--merge", nargs="+", help="combine the runs of these JSON files (side-by-side processes, e.g. "
                                               "other --first-seed) into --out, then summarise")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    name = Path(args.model).name
    out = Path(args.out or f"bench/results/label-budget-{name}.json")
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        runs = {(r["seed"], r["budget"], r["method"]): r for part in parts for r in part["runs"]}
        result = {**parts[0], "runs": [runs[k] for k in sorted(runs, key=str)], **summarise(list(runs.values()))}
        atomic_write_json(out, result)
        figure(result["summary"], Path(f"figures/label-budget-{name}.png"), name)
        print(json.dumps(result["paired"], indent=1))
        return 0
    teacher, saved = load_twin(args.model)
    teacher = teacher.to(torch.float32)
    source = saved.meta["data"]
    root = args.root or source["root"]
    options = image_options(source)
    train_all = load_images(source["reader"], root, "train", **options)
    test = load_images(source["reader"], root, "test", **options)
    holdout = source.get("holdout")
    pool_idx = validation_split(train_all.labels, holdout["fraction"], holdout["seed"])[0] if holdout \
        else np.arange(len(train_all))
    if args.pool and args.pool < len(pool_idx):
        pool_idx = np.sort(np.random.default_rng(0).permutation(pool_idx)[:args.pool])
    total = teacher.config.input_total
    rates_pool, y_pool = rates_of(train_all.images[pool_idx], total), train_all.labels[pool_idx]
    rates_test, y_test = rates_of(test.images, total), test.labels
    n_classes = len(saved.class_names)
    cache = Path("runs/label-budget-cache") / f"{name}-{len(pool_idx)}.npz"
    if cache.exists():
        with np.load(cache) as z:
            counts_pool, counts_test = z["pool"], z["test"]
    else:
        counts_pool = count_features(teacher, rates_pool, seed=POOL_SEED, progress=not args.no_progress, desc="pool")
        counts_test = count_features(teacher, rates_test, seed=TEST_SEED, progress=not args.no_progress, desc="test")
        atomic_savez(cache, pool=counts_pool, test=counts_test, pool_idx=pool_idx)
    pix_pool, pix_test = unit(train_all.images[pool_idx]), unit(test.images)
    result = json.loads(out.read_text()) if out.exists() else {"runs": []}
    done = {(r["seed"], r["budget"], r["method"]) for r in result["runs"]}
    twin_budgets = [b for b in args.twin_budgets.split(",") if b]
    methods = [m for m in args.methods.split(",") if m]

    def record(seed, budget, method, acc, **extra):
        result["runs"].append({"seed": seed, "budget": budget, "method": method, "test": acc, **extra})
        done.add((seed, budget, method))
        result.update(meta(args, argv, len(pool_idx), len(y_test), saved))
        atomic_write_json(out, result)
        logging.info("seed %d budget %s %s: %.4f", seed, budget, method, acc)

    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for budget in args.budgets.split(","):
            lab = np.arange(len(y_pool)) if budget == "all" else labelled_split(y_pool, per_class=int(budget),
                                                                                  seed=seed)[0]
            rows, how, assignments = cheap_rows(pix_pool, y_pool, pix_test, y_test, counts_pool, counts_test, lab,
                                                n_classes, teacher.n, seed)
            for method, acc in rows.items():
                if (seed, budget, method) not in done:
                    record(seed, budget, method, acc, n_labelled=len(lab), selection=how.get(method))
            if budget not in twin_budgets:
                continue
            unlabelled = (rates_pool, vote_scores(counts_pool, assignments, n_classes))
            for method in methods:
                if (seed, budget, method) in done:
                    continue
                cfg = HybridConfig(seed=seed, **TWIN_METHODS[method])
                start = time.perf_counter()
                res = train_hybrid(teacher, assignments, n_classes, (rates_pool[lab], y_pool[lab]), None, config=cfg,
                                   unlabelled=unlabelled if cfg.distill else None, progress=not args.no_progress)
                student, readout = res.state["student"], res.state["readout"]
                counts = count_features(student, rates_test, seed=TEST_SEED, progress=not args.no_progress,
                                        desc="student test")
                acc = float((_logits(readout, counts).argmax(1) == y_test).mean())
                record(seed, budget, method, acc, n_labelled=len(lab), config=cfg.to_dict(),
                       selection=res.history[0].get("readout_selection"), seconds=time.perf_counter() - start)
    result.update(summarise(result["runs"]))
    atomic_write_json(out, result)
    figure(result["summary"], Path(f"figures/label-budget-{name}.png"), name)
    print(json.dumps(result["paired"], indent=1))
    return 0


def meta(args, argv, n_pool, n_test, saved) -> dict:
    return {"model": args.model, "n_pool": n_pool, "n_test": n_test, "classes": list(saved.class_names),
            "protocol": "k-label rule: choices by cross-validation inside the k labelled samples, or the fixed "
                        "recipe (hybrid defaults, chosen on MSTAR-3 validation) where k = 1 or for the twin's "
                        "training; no validation split; test scored once per seed, budget and method",
            "command": "python bench/label_budget.py " + " ".join(sys.argv[1:] if argv is None else argv)}


def summarise(runs: list[dict]) -> dict:
    """Mean +- std per (budget, method); paired differences (same seeds) of every STDP-based row with
    ``ce-only`` and with the STDP-free pixel read-out, 95 % t intervals."""
    table: dict[str, dict[str, dict]] = {}
    by: dict[tuple[str, str], dict[int, float]] = {}
    for r in runs:
        by.setdefault((r["budget"], r["method"]), {})[r["seed"]] = r["test"]
    for (budget, method), vals in by.items():
        v = np.array([vals[s] for s in sorted(vals)])
        table.setdefault(budget, {})[method] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1
                                                else None, "n": len(v), "seeds": sorted(vals)}
    paired = {}
    stdp_rows = ["STDP vote", "STDP counts linear read-out", *[m for m in TWIN_METHODS if m.startswith("twin")]]
    controls = ["ce-only (twin from random weights)", "pixel linear read-out (STDP-free CE)"]
    for budget in table:
        for a in stdp_rows:
            for b in controls:
                if (budget, a) in by and (budget, b) in by:
                    seeds = sorted(set(by[budget, a]) & set(by[budget, b]))
                    if len(seeds) >= 2:
                        d = np.array([by[budget, a][s] - by[budget, b][s] for s in seeds])
                        paired[f"k={budget}: {a} - {b}"] = {"mean": float(d.mean()), "ci95": ci95(d), "n": len(d),
                                                            "primary": (a, b) == PRIMARY}
    return {"summary": table, "paired": paired}


def figure(summary: dict, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = [b for b in summary if b != "all"]
    budgets.sort(key=int)
    methods = sorted({m for b in summary for m in summary[b]})
    fig, ax = plt.subplots(figsize=(8, 5))
    for m in methods:
        xs = [int(b) for b in budgets if m in summary[b]]
        if not xs:
            continue
        mean = np.array([summary[str(x)][m]["mean"] for x in xs]) * 100
        std = np.array([summary[str(x)][m]["std"] or 0 for x in xs]) * 100
        line, = ax.plot(xs, mean, marker="o", label=m, ls="--" if "twin" not in m and "STDP" not in m else "-")
        ax.fill_between(xs, mean - std, mean + std, alpha=0.15, color=line.get_color())
    ax.set_xscale("log")
    ax.set_xlabel("labelled samples per class (k-label model selection)")
    ax.set_ylabel("test accuracy (%), mean +- std over seeds")
    ax.set_title(f"{title}: accuracy at a label budget")
    ax.legend(fontsize=7)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)


if __name__ == "__main__":
    sys.exit(main())
