"""Noise, denoising pairs and train/test splits for the learning problems."""

import numbers

import numpy as np

from odl_bilevel._validation import require_nonnegative

from ._random import as_generator, to_array

__all__ = ["add_gaussian_noise", "denoising_pairs", "train_test_split"]


def add_gaussian_noise(x, sigma, *, rng=None):
    r"""Return ``x + sigma * n`` with ``n`` standard normal white noise.

    Parameters
    ----------
    x : array-like or odl element
        Clean signal or image.
    sigma : float
        Noise standard deviation, :math:`\sigma \ge 0` (in the units of ``x``;
        for images in [0, 1], ``sigma=0.1`` is 10 % of the range).
    rng : numpy.random.Generator or int or None, optional
        Source of randomness.

    Returns
    -------
    noisy : numpy.ndarray or odl element
        A new float64 array of the shape of ``x``; a new element of
        ``x.space`` when ``x`` is an ODL element. The result is not clipped.

    Examples
    --------
    >>> y = add_gaussian_noise(np.zeros(10_000), 0.5, rng=0)
    >>> round(float(y.std()), 2)
    0.5
    """
    sigma = require_nonnegative(sigma, "sigma")
    arr = to_array(x, "x")
    noisy = arr + sigma * as_generator(rng).standard_normal(arr.shape)
    return x.space.element(noisy) if hasattr(x, "space") else noisy


def denoising_pairs(images, sigma, *, rng=None):
    """Return ``(clean, noisy)`` lists for a sequence of clean signals or images.

    Parameters
    ----------
    images : sequence of array-like
        Clean samples (a 2-D array of 1-D signals counts as a sequence of rows).
    sigma : float
        Noise standard deviation (see :func:`add_gaussian_noise`).
    rng : numpy.random.Generator or int or None, optional
        Source of randomness; the noise of sample ``i`` is drawn after that of
        sample ``i - 1`` from the same generator.

    Returns
    -------
    clean, noisy : list of numpy.ndarray
        float64 copies of the clean samples and their noisy versions.

    Examples
    --------
    >>> clean, noisy = denoising_pairs([np.zeros(4), np.ones(4)], 0.1, rng=1)
    >>> len(clean), len(noisy), noisy[1].shape
    (2, 2, (4,))
    """
    sigma = require_nonnegative(sigma, "sigma")
    gen = as_generator(rng)
    clean = [to_array(im, f"images[{i}]") for i, im in enumerate(images)]
    noisy = [c + sigma * gen.standard_normal(c.shape) for c in clean]
    return clean, noisy


def train_test_split(items, n_train, *, rng=None):
    """Split ``items`` into a training part of ``n_train`` items and a test part.

    Parameters
    ----------
    items : sequence or numpy.ndarray
        Samples (an array is split along its first axis).
    n_train : int
        Number of training items, ``0 <= n_train <= len(items)``.
    rng : numpy.random.Generator or int or None, optional
        None keeps the given order (the first ``n_train`` items train);
        otherwise the items are shuffled with this generator first.

    Returns
    -------
    train, test
        Two arrays if ``items`` is an array, two lists otherwise.

    Examples
    --------
    >>> train_test_split(["a", "b", "c"], 2)
    (['a', 'b'], ['c'])
    >>> train, test = train_test_split(np.arange(10), 7, rng=0)
    >>> sorted(np.concatenate([train, test]).tolist()) == list(range(10))
    True
    """
    n = len(items)
    if isinstance(n_train, bool) or not isinstance(n_train, numbers.Integral):
        raise TypeError(f"`n_train` must be an int, got {n_train!r}")
    if not 0 <= n_train <= n:
        raise ValueError(f"`n_train` must lie in [0, {n}] (the number of items), got {n_train}")
    order = np.arange(n) if rng is None else as_generator(rng).permutation(n)
    train_idx, test_idx = order[: int(n_train)], order[int(n_train) :]
    if isinstance(items, np.ndarray):
        return items[train_idx], items[test_idx]
    items = list(items)
    return [items[i] for i in train_idx], [items[i] for i in test_idx]
