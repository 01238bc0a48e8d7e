"""Small labelled problems for the supervised tests."""

import numpy as np
from brian2 import ms

from bioSNN.encoding import SpikeTrains
from bioSNN.equations import library
from bioSNN.supervised.data import SupervisedSplit
from bioSNN.unsupervised.guidance import Guidance


def toy_split(n=48, n_in=12, steps=16, seed=0, dt=1e-3, image_shape=None):
    """Two classes: class 1 fires on the first half of the inputs, class 0 on the second half."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    p = np.where(labels[:, None, None] == 1, [0.5] * (n_in // 2) + [0.05] * (n_in - n_in // 2),
                 [0.05] * (n_in // 2) + [0.5] * (n_in - n_in // 2))
    x = rng.random((n, steps, n_in)) < p
    x[:, 0] = False
    return SupervisedSplit(SpikeTrains.from_dense(x, dt, labels=labels, class_names=("a", "b"), image_shape=image_shape))


def toy_guidance(steps=16, model=None, dt=1e-3):
    """Templates for 2 classes x 2 neurons: the class's neuron ramps up, the other stays at rest."""
    model = model or library.seed_wta_if()
    T = steps - 1
    templates = np.zeros((2, 2, T), np.float32)
    templates[0, 0] = templates[1, 1] = np.linspace(2, 30, T)
    return Guidance(templates, np.array([0, 1]), ("a", "b"), dt, model, first_step=1)


DT = 1 * ms
