"""Data for the learning problems: signals, embedded natural images, noise, splits.

A leaf beside the stack (DESIGN.md §2): it depends only on NumPy and
:mod:`odl_bilevel._validation`, downloads nothing and does not import
scikit-image. The natural images are small grey crops of scikit-image's
bundled pictures, shipped in ``data/natural_images.npz`` (sources and licences
in ``data/README.md``; made by ``tools/make_embedded_images.py``). The brain
MRI slices are 24 axial slices of the MNI ICBM152 2009a T1 template (real
brain MRI, copyright notice in :data:`TEMPLATE_NOTICE` and ``data/README.md``),
shipped in ``data/brain_slices.npz`` (made by ``tools/make_brain_slices.py``;
:func:`load_template_slices` reads the full template when nibabel and nilearn
are installed). :func:`bump_image` is the smooth compactly supported bump of
the MRI sampling warm-up.
"""

from ._brain import (
    TEMPLATE_NOTICE,
    available_brain_slices,
    brain_slices,
    brain_split_indices,
    brain_train_test,
    load_template_slices,
)
from ._bump import bump_image
from ._images import available_images, natural_images
from ._noise import add_gaussian_noise, denoising_pairs, train_test_split
from ._signals import piecewise_constant_signals

__all__ = [
    "TEMPLATE_NOTICE",
    "add_gaussian_noise",
    "available_brain_slices",
    "available_images",
    "brain_slices",
    "brain_split_indices",
    "brain_train_test",
    "bump_image",
    "denoising_pairs",
    "load_template_slices",
    "natural_images",
    "piecewise_constant_signals",
    "train_test_split",
]
