"""The hybrid against its parts, all labels (issue 31): one trained STDP folder, >= 3 seeds, one command.

Protocol: the STDP network's own training images and validation hold-out (stored in its folder); every
choice (read-out L2, epoch including epoch 0, ensemble weight) on the validation images; the test split
scored once per seed and method at the end. Rows, all at this commit, same seeds, same draws per image
(one presentation, the STDP network's protocol):

* trivial baselines: pixel 1-NN (cosine), spherical k-means with as many prototypes as STDP neurons
  (named by majority), a logistic read-out on the pixels (L2 on validation);
* the STDP vote: the shipped Brian2 number, and the twin's vote on its own draws (per seed);
* a linear read-out on the STDP counts (epoch 0 of the hybrid);
* ``hybrid-ce``: the twin fine-tuned with CE (surrogate gradients through the whole presentation);
* ``hybrid-guided``: the same plus the guidance anchor (Huber to the untouched twin's potentials);
* ``ce-only``: the same architecture from Diehl & Cook's random initial weights, CE, same budget;
* the hybrid's decision: the validation-weighted mix of the teacher vote and the chosen student
  (weight 0 = the vote, 1 = the student, both candidates), beside the student alone.

    python bench/hybrid_study.py --model models/mstar3-stdp --seeds 3
    python bench/hybrid_study.py --model runs/mstar10-stdp --seeds 3

Writes ``bench/results/hybrid-<model>.json`` and ``figures/hybrid-<model>.png``; paired differences
(hybrid minus each part) with 95 % t confidence intervals over the seeds.
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
from bioSNN.data.splits import validation_split
from bioSNN.fileio import atomic_write_json
from bioSNN.supervised.data import image_options
from bioSNN.supervised.hybrid import HybridConfig, fit_readout, train_hybrid
from bioSNN.supervised.twin import load_twin
from bioSNN.unsupervised.pipeline import rates_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mstar_pixel_baselines import _unit as unit, kmeans  # noqa: E402  (one k-means for every bench)

METHODS = {
    "hybrid-ce": dict(init="stdp", guidance=0.0),
    "hybrid-guided": dict(init="stdp", guidance=0.1),
    "ce-only": dict(init="random", guidance=0.0),
}


def trivial_baselines(x_tr, y_tr, x_va, y_va, x_te, y_te, n_classes: int, k: int, seed: int) -> dict[str, float]:
    xt, xv, xe = unit(x_tr), unit(x_va), unit(x_te)
    out = {"pixel 1-NN": float((y_tr[(xe @ xt.T).argmax(1)] == y_te).mean())}
    centres = kmeans(xt, min(k, len(xt)), seed)
    owner = (xt @ centres.T).argmax(1)
    names = np.array([np.bincount(y_tr[owner == j], minlength=n_classes).argmax() if (owner == j).any() else -1
                      for j in range(len(centres))])
    out[f"k-means {len(centres)} prototypes"] = float((names[(xe @ centres.T).argmax(1)] == y_te).mean())
    fits = {l2: fit_readout(xt * 100, y_tr, n_classes, l2, scale=1.0) for l2 in (1e-4, 1e-3, 1e-2, 1e-1)}
    val = {l2: float((r(torch.as_tensor(xv * 100)).argmax(1).numpy() == y_va).mean()) for l2, r in fits.items()}
    best = max(val, key=lambda l2: (val[l2], -l2))
    out["pixel linear read-out"] = float((fits[best](torch.as_tensor(xe * 100)).argmax(1).numpy() == y_te).mean())
    return out


def ci95(d: np.ndarray) -> list[float]:
    from scipy import stats

    if len(d) < 2:
        return [float("nan"), float("nan")]
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return [float(d.mean() - half), float(d.mean() + half)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="models/mstar3-stdp")
    p.add_argument("--root", help="data root (default: the one the network records)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds first..first+seeds-1 (one process per seed runs them side by side; then --merge)")
    p.add_argument("--merge", nargs="+", help="combine these per-seed JSON files into --out (no training)")
    p.add_argument("--epochs", type=int, default=HybridConfig.epochs)
    p.add_argument("--lr", type=float, default=HybridConfig.lr)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--n-train", type=int, help="first N training images after the hold-out (a subset)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="JSON (default bench/results/hybrid-<model>.json)")
    p.add_argument("--save", help="write seed 0's hybrid-ce run as a `biosnn hybrid` folder here (then score it with "
                                   "`biosnn evaluate`)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        per_seed = sorted((r for part in parts for r in part["per_seed"]), key=lambda r: r["seed"])
        rows: dict[str, list[float]] = {}
        for record in per_seed:
            for name, value in record["rows"].items():
                rows.setdefault(name, []).append(value)
        result = {**parts[0], **summarise(rows), "per_seed": per_seed,
                  "command": "python bench/hybrid_study.py " + " ".join(sys.argv[1:] if argv is None else argv)}
        out = Path(args.out or f"bench/results/hybrid-{Path(args.model).name}.json")
        atomic_write_json(out, result)
        figure(result["summary"], Path(f"figures/hybrid-{Path(args.model).name}.png"), Path(args.model).name)
        print(json.dumps({k: (v["mean"], v["std"]) for k, v in result["summary"].items()}, indent=1))
        print(json.dumps(result["paired"], indent=1))
        return 0
    torch.set_num_threads(args.threads)
    teacher, saved = load_twin(args.model)
    source = saved.meta["data"]
    root = args.root or source["root"]
    options = image_options(source)
    train_all = load_images(source["reader"], root, "train", **options)
    test = load_images(source["reader"], root, "test", **options)
    holdout = source.get("holdout") or {"fraction": 0.15, "seed": 0}
    fit_idx, val_idx = validation_split(train_all.labels, holdout["fraction"], holdout["seed"])
    if args.n_train:
        fit_idx = fit_idx[np.random.default_rng(0).permutation(len(fit_idx))[:args.n_train]]
    total = teacher.config.input_total
    rates = rates_of(train_all.images, total)
    parts = {"train": (rates[fit_idx], train_all.labels[fit_idx]), "val": (rates[val_idx], train_all.labels[val_idx]),
             "test": (rates_of(test.images, total), test.labels)}
    n_classes = len(saved.class_names)
    metrics = json.loads((Path(args.model) / "metrics.json").read_text())
    shipped = {k: v["accuracy"] for k, v in metrics.get("evaluations", {}).items()}
    methods = [m for m in args.methods.split(",") if m]
    rows: dict[str, list[float]] = {}
    per_seed = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        base = trivial_baselines(train_all.images[fit_idx], train_all.labels[fit_idx], train_all.images[val_idx],
                                 train_all.labels[val_idx], test.images, test.labels, n_classes, teacher.n, seed)
        record = {"seed": seed, "baselines": base, "methods": {}, "rows": dict(base)}
        for name, value in base.items():
            rows.setdefault(name, []).append(value)
        for method in methods:
            cfg = HybridConfig(seed=seed, epochs=args.epochs, lr=args.lr, **METHODS[method])
            start = time.perf_counter()
            res = train_hybrid(teacher, saved.assignments, n_classes, parts["train"], parts["val"], parts["test"],
                               config=cfg, progress=not args.no_progress)
            record["methods"][method] = {**res.to_dict(), "config": cfg.to_dict(), "seconds": time.perf_counter() - start}
            if args.save and seed == 0 and method == "hybrid-ce":
                from bioSNN.runfolder import prepare_run_folder
                from bioSNN.supervised.hybrid import HYBRID_OUTPUTS, save_hybrid

                with prepare_run_folder(args.save, overwrite=True, outputs=HYBRID_OUTPUTS) as folder:
                    save_hybrid(folder, res, saved, cfg, stdp=args.model, n_train=len(fit_idx),
                                data={**dict(train_all.source), "holdout": holdout})
            got = {f"{method} (twin alone)" if method != "ce-only" else method: res.test["student"]}
            if method.startswith("hybrid"):
                got[f"{method} (vote + twin, the hybrid)"] = res.test["ensemble"]
            if method == "hybrid-ce":
                got["STDP vote (twin, own draws)"] = res.test["vote"]
                got["STDP counts linear read-out"] = res.test["readout"]
            record["rows"].update(got)
            for name, value in got.items():
                rows.setdefault(name, []).append(value)
            logging.info("seed %d %s: %s", seed, method, json.dumps(record["methods"][method]["test"]))
        per_seed.append(record)
        result = {"model": args.model, "n_train": len(fit_idx), "n_val": len(val_idx), "n_test": len(test),
                  "shipped_brian2": shipped, **summarise(rows), "per_seed": per_seed,
                  "protocol": "choices on the stored validation hold-out; test scored once per seed and method",
                  "command": "python bench/hybrid_study.py " + " ".join(sys.argv[1:] if argv is None else argv)}
        out = Path(args.out or f"bench/results/hybrid-{Path(args.model).name}.json")
        atomic_write_json(out, result)  # after every seed: a stopped study keeps what it measured
    if not args.merge and args.first_seed == 0 and args.seeds >= 2:
        figure(result["summary"], Path(f"figures/hybrid-{Path(args.model).name}.png"), Path(args.model).name)
    print(json.dumps({k: (v["mean"], v["std"]) for k, v in result["summary"].items()}, indent=1))
    return 0


def summarise(rows: dict[str, list[float]]) -> dict[str, dict]:
    """Mean +- std of every row, and the hybrid's paired differences with each part (95 % t CI)."""
    summary = {k: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None, "values": v}
               for k, v in rows.items()}
    paired = {}
    for hybrid in ("hybrid-ce (vote + twin, the hybrid)", "hybrid-guided (vote + twin, the hybrid)",
                   "hybrid-ce (twin alone)"):
        for part in ("STDP vote (twin, own draws)", "ce-only", "STDP counts linear read-out"):
            if hybrid in rows and part in rows and len(rows[hybrid]) == len(rows[part]):
                d = np.asarray(rows[hybrid]) - np.asarray(rows[part])
                paired[f"{hybrid} - {part}"] = {"mean": float(d.mean()), "ci95": ci95(d), "n": len(d)}
    return {"summary": summary, "paired": paired}


def figure(summary: dict, out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary)
    means = [100 * summary[k]["mean"] for k in names]
    errs = [100 * (summary[k]["std"] or 0) for k in names]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(names) + 1))
    ax.barh(range(len(names)), means, xerr=errs, color="0.6")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(max(0, min(means) - 5), 100)
    ax.set_xlabel("test accuracy (%), mean +- std over seeds")
    ax.set_title(f"{title}: hybrid and its parts")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)


if __name__ == "__main__":
    sys.exit(main())
