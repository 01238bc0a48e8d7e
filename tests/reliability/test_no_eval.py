"""No expression read from a file reaches ``eval``: model JSON and ``.nir`` metadata are parsed, not run.

Each hostile expression, when ``eval``-ed the way bioSNN once did (``eval(expr, {"__builtins__": {}}, ns)``),
constructs :class:`MarkerWriter`, which creates a marker file (checked as a control). Every path that
reads a model must refuse it by name, and the marker must not appear.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bioSNN.equations import NeuronModel, library
from bioSNN.equations.expressions import evaluate_expression
from bioSNN.errors import ModelError

MARKER: list[Path] = []


class MarkerWriter:
    """Constructing one creates the marker file: a stand-in for arbitrary code."""

    def __init__(self):
        MARKER[0].write_text("ran")

    def __gt__(self, other):  # so that a comparison with it does not fail before the code ran
        return True

    __lt__ = __gt__


_REACH = "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'MarkerWriter'][0]()"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


def _sneaky() -> str:
    """No ASCII identifier in it (fullwidth letters, which Python NFKC-normalises to ASCII), no keyword:
    it passes an ASCII identifier check, and eval still reaches MarkerWriter."""
    index = object.__subclasses__().index(MarkerWriter)
    return _fullwidth("().__class__.__base__.__subclasses__()") + f"[{index}]()"


HOSTILE = [
    _REACH,
    "SNEAKY",
    "(lambda: " + _REACH + ")()",
    "[x for x in [" + _REACH + "]][0]",
    "{" + _REACH + ": 1}",
    "(y := " + _REACH + ")",
    "mV.__class__",
    "getattr(mV, '__class__')",
    "f'{" + _REACH + "}'",
    "'\\137\\137class\\137\\137'",  # octal escapes of __class__ in a string
    "exp(*[1])",
    "exp(x=1)",
    "__import__('os')",
    "9**9**9**9",
    "(" * 300 + "1" + ")" * 300,
]


@pytest.fixture(autouse=True)
def _marker(tmp_path):
    MARKER[:] = [tmp_path / "marker"]
    yield
    assert not MARKER[0].exists(), "an expression from a file ran code"


def _expr(expr: str) -> str:
    return _sneaky() if expr == "SNEAKY" else expr


@pytest.mark.parametrize("expr", [_REACH, "SNEAKY"])
def test_control_the_reach_runs_code_under_the_old_eval(expr):
    eval(_expr(expr), {"__builtins__": {}}, {})  # noqa: S307 - the control
    assert MARKER[0].exists()
    MARKER[0].unlink()


@pytest.mark.parametrize("expr", HOSTILE)
def test_the_evaluator_refuses_by_name(expr):
    from brian2 import mV

    with pytest.raises(ModelError, match="not allowed|unknown name|does not parse|not a number|cannot be evaluated|"
                                         "only calls|nested"):
        evaluate_expression(_expr(expr), {"mV": mV, "exp": np.exp})


def test_the_evaluator_still_computes_brian2_constants():
    from brian2 import mV, ms

    assert evaluate_expression("-55*mV + 2 * (3 - 1)*mV", {"mV": mV}) == -51 * mV
    assert evaluate_expression("exp(-dt/tau)", {"exp": np.exp, "dt": 1 * ms, "tau": 10 * ms}) == pytest.approx(
        np.exp(-0.1))
    assert evaluate_expression("a < b and not c", {"a": 1, "b": 2, "c": False}) is True
    assert evaluate_expression("２ * x", {"x": 3.0}) == 6.0  # fullwidth digit: NFKC


def _hostile_model(field: str, expr: str) -> dict:
    expr = _expr(expr)
    d = library.lif_delta().to_dict()
    d[field] = {"threshold": f"v > {expr}", "reset": f"v = {expr}", "on_pre": f"v += w*({expr})"}[field]
    return d


@pytest.mark.parametrize("field", ["threshold", "reset", "on_pre"])
@pytest.mark.parametrize("expr", HOSTILE[:6])
def test_model_json_paths_refuse(tmp_path, field, expr):
    """A model JSON with a hostile threshold, reset or on_pre factor: refused when read, exported or given weights."""
    from bioSNN.equations.brian import weight_unit
    from bioSNN.nir.neurons import export_neuron

    try:
        model = NeuronModel.from_dict(_hostile_model(field, expr))
    except (ModelError, ValueError):
        return  # refused when read: fine
    for use in (lambda: export_neuron(model, 1e-3, (2,)), lambda: weight_unit(model)):
        try:
            use()
        except (ModelError, ValueError, SyntaxError):
            pass


@pytest.mark.parametrize("expr", HOSTILE[:6])
def test_crafted_nir_node_refused(tmp_path, expr):
    """A .nir file whose node carries a bioSNN model with a hostile threshold: loaded as NIR's own node."""
    nir = pytest.importorskip("nir")
    from bioSNN.nir.neurons import METADATA_KEY, import_neuron

    node = nir.LIF(tau=np.full(2, 0.01), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.full(2, 10.0),
                   v_reset=np.zeros(2),
                   metadata={METADATA_KEY: json.dumps({"model": _hostile_model("threshold", expr)})})
    try:
        model, *_ = import_neuron(node, "n", 1e-3, (2,))
    except (ModelError, ValueError):
        return
    assert expr not in model.threshold  # NIR's own parameters, not the hostile record


def test_no_eval_or_exec_in_the_package():
    """The package calls neither eval nor exec, except the torch step's exec of the source it generated
    from Brian2's parsed statements (bioSNN/equations/codegen.py)."""
    root = Path(__file__).resolve().parents[2] / "bioSNN"
    found = []
    for path in root.rglob("*.py"):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if re.search(r"(?<![\w.])(eval|exec)\s*\(", code):
                found.append(f"{path.relative_to(root)}:{i}")
    assert found == ["equations/codegen.py:464"] or (len(found) == 1 and found[0].startswith("equations/codegen.py"))
