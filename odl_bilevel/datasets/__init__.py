"""Data for the learning problems: signals, embedded natural images, noise, splits.

A leaf beside the stack (DESIGN.md §2): it depends only on NumPy and
:mod:`odl_bilevel._validation`, downloads nothing and does not import
scikit-image. The natural images are small grey crops of scikit-image's
bundled pictures, shipped in ``data/natural_images.npz`` (sources and licences
in ``data/README.md``; made by ``tools/make_embedded_images.py``).
"""

from ._images import available_images, natural_images
from ._noise import add_gaussian_noise, denoising_pairs, train_test_split
from ._signals import piecewise_constant_signals

__all__ = [
    "add_gaussian_noise",
    "available_images",
    "denoising_pairs",
    "natural_images",
    "piecewise_constant_signals",
    "train_test_split",
]
