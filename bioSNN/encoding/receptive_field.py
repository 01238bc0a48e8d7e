"""The seed projects' receptive field: a 5x5 on-centre kernel weighted by Manhattan distance.

.. math::

    \\mathrm{pot}(i, j) = \\sum_{a, b = -2}^{2} K_{d(a, b)} \\; \\mathrm{img}(i + a, j + b) \\cdot s,
    \\qquad d(a, b) = |a| + |b|,

with zero padding (taps outside the image contribute nothing) and ``s = 1/255`` for 8-bit images. The
kernel values by distance ``d = 0..4`` (seeds_spec 2.2):

========== ====== ======= ======= ======== ======
variant    d = 0  d = 1   d = 2   d = 3    d = 4
========== ====== ======= ======= ======== ======
training   1      0.625   0.125   -0.125   -0.5
formula    1      0.625   0.25    -0.125   -0.5
========== ====== ======= ======= ======== ======

``"training"`` is the kernel of the seed's training code and of the SAR project; ``"formula"`` is
``K = 1 - 0.375 d`` of the seed's demo scripts. Unlike the seed, non-square images are handled.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..arrays import check_images

__all__ = ["receptive_field", "kernel", "KERNEL_BY_DISTANCE"]

#: variant -> kernel value at Manhattan distance 0..4 from the centre.
KERNEL_BY_DISTANCE: dict[str, tuple[float, ...]] = {
    "training": (1.0, 0.625, 0.125, -0.125, -0.5),
    "formula": (1.0, 0.625, 0.25, -0.125, -0.5),
}


def kernel(variant: str = "training") -> np.ndarray:
    """The 5x5 kernel ``K[2 + a, 2 + b] = KERNEL_BY_DISTANCE[variant][|a| + |b|]``.

    Example:
        >>> float(kernel("training").sum()), float(kernel("formula").sum())
        (1.5, 2.5)
    """
    if variant not in KERNEL_BY_DISTANCE:
        raise InputError(f"unknown receptive-field variant {variant!r}; use one of {sorted(KERNEL_BY_DISTANCE)}")
    a = np.abs(np.arange(-2, 3))
    return np.asarray(KERNEL_BY_DISTANCE[variant])[a[:, None] + a[None, :]]


def receptive_field(images: Any, variant: str = "training", scale: float = 1 / 255) -> np.ndarray:
    """Receptive-field potential map of each image (see the module docstring for the equation).

    Args:
        images: ``[H, W]`` or ``[..., H, W]`` non-negative intensities (numpy or torch; 8-bit range
            0..255 when ``scale`` is the default ``1/255``).
        variant: ``"training"`` (default) or ``"formula"``.
        scale: factor applied to the intensities (``1/255`` for 8-bit images).

    Returns:
        float64 numpy array with the shape of ``images``. Computed in float64 so that the rate code's
        ``ceil`` gives the same periods whatever the input type.

    Example:
        >>> img = np.zeros((5, 5)); img[2, 2] = 255
        >>> receptive_field(img)[2].round(3).tolist()
        [0.125, 0.625, 1.0, 0.625, 0.125]
    """
    k = kernel(variant)
    eight_bit = np.isclose(scale, 1 / 255)
    x = check_images(images, "images", upper=255.0 if eight_bit else None,
                     hint="8-bit intensities expected (convert SAR magnitudes with bioSNN.data.to_uint8, "
                          "or pass scale=)" if eight_bit else "")
    h, w = x.shape[-2:]
    padded = np.zeros(x.shape[:-2] + (h + 4, w + 4))
    padded[..., 2:-2, 2:-2] = x * scale
    out = np.zeros(x.shape)
    for a in range(5):
        for b in range(5):
            out += k[a, b] * padded[..., a:a + h, b:b + w]
    return out
