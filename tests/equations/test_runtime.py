"""The runtime functions of generated steps round as Brian2's numpy target does (float64, CPU)."""

import numpy as np
import pytest
import torch
from brian2.units.unitsafefunctions import exprel as brian2_exprel

from bioSNN.equations.runtime import FUNCTIONS, HELPERS

X = np.random.default_rng(0).uniform(0.01, 3.0, 20000)


@pytest.mark.parametrize("exponent", [3.0, 4.0, 1.5, -2.5, 2.0, 0.5])
def test_power_is_numpys_to_the_bit(exponent):
    got = HELPERS["_pow"](torch.tensor(X), exponent).numpy()
    np.testing.assert_array_equal(got, X ** exponent)


def test_number_over_tensor_is_one_division():
    t = torch.tensor(X)
    assert ((1.28 / t).numpy() != 1.28 / X).any()          # torch's own: reciprocal, then a product
    np.testing.assert_array_equal(HELPERS["_div"](1.28, t).numpy(), 1.28 / X)
    np.testing.assert_array_equal(HELPERS["_div"](t, 0.001).numpy(), X / 0.001)
    assert HELPERS["_div"](3.0, 2.0) == 1.5


def test_exprel_expm1_and_scalar_functions_are_numpys():
    v = np.concatenate([X - 1.5, [0.0, 1e-17, 800.0]])
    np.testing.assert_array_equal(FUNCTIONS["exprel"](torch.tensor(v)).numpy(), brian2_exprel(v))
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(FUNCTIONS["expm1"](torch.tensor(v)).numpy(), np.expm1(v))
    for name in ("exp", "log", "sin", "tanh", "expm1", "exprel"):   # loop invariants: numpy scalars
        fn = getattr(np, name, None) or brian2_exprel
        assert all(FUNCTIONS[name](float(a)) == float(fn(np.float64(a))) for a in X[:2000])


def test_numpy_valued_functions_keep_torch_gradients():
    x = torch.tensor(X[:7], requires_grad=True)
    torch.autograd.gradcheck(lambda a: HELPERS["_pow"](a, 3.0), (x,))
    torch.autograd.gradcheck(lambda a: FUNCTIONS["exprel"](a - 1.0), (x,))
    y = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    HELPERS["_pow"](y, 0.0).sum().backward()
    assert torch.equal(y.grad, torch.zeros(3, dtype=torch.float64))   # d(x**0)/dx = 0, also at 0
    assert HELPERS["_pow"](torch.ones(2), 3.0).dtype == torch.float32   # dtypes kept


TRANSCENDENTAL = ["exp", "log", "log10", "log1p", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
                  "arccos", "arctan"]


@pytest.mark.parametrize("name", TRANSCENDENTAL)
def test_tensor_functions_are_numpys_to_the_bit_with_torch_gradients(name):
    """On CPU tensors every transcendental function takes numpy's value (torch's kernels round otherwise
    on some CPUs) and keeps an exact derivative."""
    x = X / 3.1 if name in ("arcsin", "arccos") else X
    np.testing.assert_array_equal(FUNCTIONS[name](torch.tensor(x)).numpy(), getattr(np, name)(x))
    a = torch.tensor(x[:5], requires_grad=True)
    torch.autograd.gradcheck(FUNCTIONS[name], (a,))
