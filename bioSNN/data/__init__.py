"""Dataset readers and writers.

* :func:`load_mnist`: the four original IDX files (``.gz`` or not), headers checked;
* :func:`load_mstar`: MSTAR Phoenix chips with their metadata, MD5 verified; :func:`to_uint8`;
* :func:`load_image_folder`: ``<root>/<class>/<image>`` for users' own images;
* :func:`read_seed_layout` / :func:`write_seed_layout`: the SAR seed project's ``Spikes``/``Labels``;
* :func:`load_mnist_subset`: the small real MNIST subset shipped with the package.

Readers return an :class:`ImageSet`; errors about files are :class:`~bioSNN.errors.DataError`.
"""

from .datasets import IMAGE_DATASETS, load_images
from .embedded import build_mnist_subset, load_mnist_subset
from .folder import load_image_folder
from .idx import read_idx, write_idx
from .imageset import ImageSet
from .mnist import load_mnist
from .geometry import center_crop, resize
from .mstar import ChipInfo, load_mstar, to_uint8
from .phoenix import PhoenixChip, read_phoenix
from .seed_layout import SeedSplit, read_seed_layout, write_seed_layout

__all__ = [
    "ImageSet", "load_images", "IMAGE_DATASETS", "load_mnist", "load_mnist_subset", "build_mnist_subset", "load_mstar", "ChipInfo", "to_uint8",
    "center_crop", "resize", "read_phoenix", "PhoenixChip", "load_image_folder", "read_idx", "write_idx",
    "read_seed_layout", "write_seed_layout", "SeedSplit",
]
