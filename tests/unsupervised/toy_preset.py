"""A preset of one's own, for tests/unsupervised/test_presets.py: one module defining PRESET."""

import json
from pathlib import Path

from bioSNN.unsupervised.presets import Preset


def _train(data, out, *, options, val, n_neurons, seed, epochs, slice, shuffle, backend, cuda, resume, overwrite,
           progress):
    Path(out).mkdir(parents=True, exist_ok=True)
    metrics = {"preset": "toy", "n_images": len(data), "gain": options["gain"], "n_neurons": n_neurons or 2,
               "n_val": 0 if val is None else len(val)}
    (Path(out) / "metrics.json").write_text(json.dumps(metrics))
    return metrics


def _evaluate(directory, data, *, backend, cuda, progress, draws):
    return {"accuracy": 1.0, "n_test": len(data)}


PRESET = Preset(name="toy", description="a test preset", input="images", default_neurons=2, train=_train,
                evaluate=_evaluate, flags=(("--gain", dict(type=float, help="a preset-only option")),))
