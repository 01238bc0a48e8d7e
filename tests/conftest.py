"""Shared test settings: Brian2 caches go to a temp dir; torch uses one thread for reproducible timing."""

import os

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)
