"""Every example in the docstrings of every bioSNN module runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import bioSNN

MODULES = sorted(m.name for m in pkgutil.walk_packages(bioSNN.__path__, "bioSNN.") if not m.name.endswith("__main__"))


def test_modules_found():
    assert "bioSNN.encoding.spike_trains" in MODULES and "bioSNN.equations.model" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
