"""Every example in the public docstrings of bioSNN.equations runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["model", "brian", "surrogate", "torch_step", "simulate", "library"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"bioSNN.equations.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
