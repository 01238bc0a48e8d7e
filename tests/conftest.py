"""Shared test settings: Brian2 caches go to a temp dir; torch uses one thread for reproducible timing."""

import os
from pathlib import Path

import pytest

try:  # the brian2cuda environment (Python >= 3.12) runs the Brian2-side tests without torch
    import torch
except ImportError:
    torch = None
else:
    torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _seed_torch():
    if torch is not None:
        torch.manual_seed(0)


# Real data sets live in ../shared/data (relative to the project root); tests that need them skip cleanly.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    return _shared("mnist")


@pytest.fixture(scope="session")
def mstar_root() -> Path:
    return _shared("mstar3")
