r"""Fixed MRI sampling patterns: the baselines a learned pattern is measured against.

A *pattern* is a float64 array of the image shape with values in
:math:`[0, 1]` that weights the unshifted k-space of the unitary DFT
:math:`F` (DC at index 0, :func:`numpy.fft.fftfreq` order); a *binary*
pattern holds only 0.0 and 1.0. A *Cartesian* pattern is constant along each
line ``pattern[i, ...]`` of axis 0 (the phase-encode direction of
:class:`~odl_bilevel.operators.CartesianSampling`).

The sampling *rate* :math:`r \in (0, 1]` is the fraction of k-space pixels
(or lines, for Cartesian patterns) sampled: a pattern at rate :math:`r` over
:math:`m` pixels (lines) has exactly

.. math::

    k = \max\big(1, \operatorname{round}(r m)\big)

nonzero entries (lines), ``round`` being Python's (halves to even).

- :func:`data_adapted_pattern`: the :math:`k` pixels (lines) where the
  training images carry the most Fourier magnitude (energy), after Knoll et
  al.
- :func:`binary_pattern`, :func:`line_pattern`, :func:`pattern_rate`:
  thresholding learned weights, spreading line weights, measuring the rate.

The random patterns (uniform, variable density) are in
:mod:`odl_bilevel.problems._random_patterns`. All functions are pure numpy.
"""

import numbers

import numpy as np

from .._validation import as_float
from ._denoising import _as_samples

__all__ = [
    "binary_pattern",
    "data_adapted_pattern",
    "line_pattern",
    "pattern_rate",
]


# ------------------------------------------------------------------------------------------
# validation helpers
# ------------------------------------------------------------------------------------------


def _as_shape(shape):
    """Return ``shape`` as a tuple of 1 or 2 positive ints (an int means a 1-D shape)."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if isinstance(shape, str | bytes) or not hasattr(shape, "__iter__"):
        raise TypeError(f"`shape` must be a tuple of positive ints, got {shape!r}")
    shape = tuple(shape)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"`shape` must be a tuple of positive ints, got {shape!r}")
    if len(shape) not in (1, 2) or min(shape) < 1:
        raise ValueError(f"`shape` must hold 1 or 2 positive ints, got {shape}")
    return tuple(int(n) for n in shape)


def _as_rate(rate):
    """Return ``rate`` as a float in (0, 1]."""
    rate = as_float(rate, "rate")
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"`rate` must lie in (0, 1], got {rate}")
    return rate


def _count(rate, m):
    """The number :math:`k = \\max(1, \\mathrm{round}(rm))` of samples among ``m``."""
    return max(1, min(m, round(rate * m)))


def _as_real_array(values, name, *, unit=False):
    """Return ``values`` as a finite float64 array with at least one entry (copied)."""
    data = values.data if hasattr(values, "space") and hasattr(values, "data") else values
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64)
    if arr.ndim == 0 or arr.size == 0:
        raise ValueError(f"`{name}` must be a non-empty array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    if unit and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(
            f"`{name}` must lie in [0, 1], got values in [{arr.min():.3g}, {arr.max():.3g}]"
        )
    return arr


def _as_generator(rng):
    """Return a numpy Generator from ``rng`` (Generator, non-negative int seed or None)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ValueError(f"`rng` must be a non-negative seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"`rng` must be a numpy Generator, an int seed or None, got {rng!r}")


def _as_bool(value, name):
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"`{name}` must be a bool, got {value!r}")
    return bool(value)


def _as_count(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"`{name}` must be >= 1, got {value}")
    return int(value)


def _top_k(scores, k):
    """Flat indices of the ``k`` largest ``scores``; ties go to the smaller flat index."""
    return np.argsort(-scores.ravel(), kind="stable")[:k]


def _indicator(indices, shape):
    out = np.zeros(int(np.prod(shape)))
    out[indices] = 1.0
    return out.reshape(shape)


def _finish(flat_or_lines, shape, cartesian):
    """Spread a per-line indicator over the image (Cartesian) or reshape a per-pixel one."""
    if cartesian:
        return line_pattern(flat_or_lines, shape)
    return flat_or_lines.reshape(shape)


# ------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------


def pattern_rate(pattern):
    r"""Return the sampling rate of ``pattern``: the fraction of its nonzero entries.

    .. math::

        r(s) = \frac{\#\{j : s_j \neq 0\}}{m}, \qquad s \in [0, 1]^m .

    For a Cartesian pattern this equals the fraction of sampled lines.

    Parameters
    ----------
    pattern : array-like
        Sampling weights in :math:`[0, 1]` (any shape, at least one entry).

    Returns
    -------
    float
        The rate in :math:`[0, 1]`.

    Raises
    ------
    TypeError
        If ``pattern`` is not real-valued.
    ValueError
        If ``pattern`` is empty, holds NaN/Inf or values outside :math:`[0, 1]`.

    Examples
    --------
    >>> pattern_rate([[1.0, 0.0], [0.5, 0.0]])
    0.5
    """
    arr = _as_real_array(pattern, "pattern", unit=True)
    return float(np.count_nonzero(arr)) / arr.size


def binary_pattern(weights, rate):
    r"""Threshold ``weights`` to the binary pattern of their :math:`k` largest entries.

    .. math::

        b_j = \begin{cases} 1 & j \in \operatorname{top}_k(w), \\ 0 & \text{otherwise},
        \end{cases} \qquad k = \max\big(1, \operatorname{round}(r\,m)\big),

    with :math:`m` = ``weights.size``. Ties are broken by the stable order of
    the flattened (C-order) array: among equal weights the smaller flat index
    wins. Applied to per-line weights this gives the sampled lines of a
    Cartesian pattern (then spread them with :func:`line_pattern`).

    Parameters
    ----------
    weights : array-like
        Real scores, e.g. learned sampling weights :math:`\sigma` (any shape,
        at least one entry).
    rate : float
        Sampling rate :math:`r \in (0, 1]`.

    Returns
    -------
    numpy.ndarray
        Float64 0/1 array of ``weights``' shape with exactly :math:`k` ones.

    Raises
    ------
    TypeError
        If ``weights`` is not real-valued or ``rate`` not a real number.
    ValueError
        If ``weights`` is empty or holds NaN/Inf, or ``rate`` is outside
        :math:`(0, 1]`.

    Examples
    --------
    >>> binary_pattern([0.1, 0.9, 0.5, 0.9], 0.5).tolist()
    [0.0, 1.0, 0.0, 1.0]
    >>> binary_pattern([0.2, 0.2, 0.2, 0.2], 0.25).tolist()   # tie: first index
    [1.0, 0.0, 0.0, 0.0]
    """
    arr = _as_real_array(weights, "weights")
    rate = _as_rate(rate)
    return _indicator(_top_k(arr, _count(rate, arr.size)), arr.shape)


def line_pattern(lines, shape):
    r"""Spread per-line weights over the image: ``pattern[i, ...] = lines[i]``.

    The Cartesian map :math:`(P\theta)_{ij} = \theta_i` of
    :class:`~odl_bilevel.operators.CartesianSampling` (phase-encode axis 0),
    applied to numpy arrays.

    Parameters
    ----------
    lines : array-like
        1-D weights in :math:`[0, 1]` of length ``shape[0]`` (booleans allowed).
    shape : int or tuple of int
        Image shape, 1-D or 2-D.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``shape``.

    Raises
    ------
    TypeError
        If ``lines`` is not real-valued or ``shape`` not a tuple of ints.
    ValueError
        If ``lines`` is not 1-D of length ``shape[0]``, holds NaN/Inf or
        values outside :math:`[0, 1]`, or ``shape`` is invalid.

    Examples
    --------
    >>> line_pattern([1, 0, 1], (3, 2)).tolist()
    [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    """
    shape = _as_shape(shape)
    arr = _as_real_array(lines, "lines", unit=True)
    if arr.shape != (shape[0],):
        raise ValueError(
            f"`lines` must be 1-D of length shape[0] = {shape[0]}, got shape {arr.shape}"
        )
    return np.ascontiguousarray(
        np.broadcast_to(arr.reshape((shape[0],) + (1,) * (len(shape) - 1)), shape),
        dtype=np.float64,
    )


def data_adapted_pattern(images, rate, *, cartesian=False, hermitian=False):
    r"""The :math:`k` frequencies (lines) where the training images carry most signal.

    With :math:`F` the unitary DFT (``norm="ortho"``, unshifted) and training
    images :math:`x_1, \dots, x_n`, the free pattern samples the :math:`k`
    pixels with the largest mean Fourier magnitude

    .. math::

        w_j = \frac1n \sum_{i=1}^n |(Fx_i)_j| ,

    and the Cartesian pattern (``cartesian=True``) the :math:`k` lines
    (axis 0) with the largest mean energy summed along the readout,

    .. math::

        e_l = \frac1n \sum_{i=1}^n \sum_{j} |(Fx_i)_{l j}|^2 .

    By Parseval the lines with the largest :math:`e_l` minimise the mean
    error :math:`\frac1n\sum_i\|x_i - F^*SFx_i\|^2` of the zero-filled
    reconstruction over all line sets of size :math:`k`. Ties go to the
    smaller index (see :func:`binary_pattern`); DC is not forced, but
    natural images almost always put it first. This is a deterministic
    version of Knoll et al.'s adapted patterns, which draw random samples
    from a density proportional to the training power spectrum.

    The scores of real images are point-symmetric, :math:`w_{-j} = w_j`, so
    the pattern samples both members of almost every conjugate pair
    :math:`\pm j`, i.e. every coefficient twice (see
    :func:`conjugate_redundancy`). With ``hermitian=True`` it selects pairs
    instead: the :math:`k` pairs with the largest :math:`w_j + w_{-j}`
    (:math:`w_j` for a self-conjugate frequency), each sampled at its
    representative (the half of k-space with flat index :math:`j \le -j`);
    only beyond that many pairs (rates above about 1/2) are second members
    added, again by score.

    Parameters
    ----------
    images : sequence of array-like
        Real 1-D or 2-D training images of one shape (a stacked array of shape
        ``(n, ...)`` is read as ``n`` images).
    rate : float
        Sampling rate :math:`r \in (0, 1]`, :math:`k = \max(1,
        \operatorname{round}(r m))` with :math:`m` pixels (lines).
    cartesian : bool, optional
        Sample whole lines along axis 0.
    hermitian : bool, optional
        Select one member of each conjugate pair of frequencies (lines)
        before any second member (for real images).

    Returns
    -------
    numpy.ndarray
        Float64 0/1 array of the images' shape.

    Raises
    ------
    TypeError
        If ``images`` is not a sequence of real arrays or ``cartesian`` or
        ``hermitian`` not a bool.
    ValueError
        If ``images`` is empty, holds NaN/Inf, has images of different shapes
        or not 1-D/2-D, or ``rate`` is outside :math:`(0, 1]`.

    References
    ----------
    F. Knoll, C. Clason, C. Diwoky and R. Stollberger, "Adapted random
    sampling patterns for accelerated MRI", Magnetic Resonance Materials in
    Physics, Biology and Medicine (MAGMA) 24(1):43-50, 2011.

    Examples
    --------
    >>> x = np.cos(2 * np.pi * 3 * np.arange(16) / 16)   # energy at frequencies +-3
    >>> np.flatnonzero(data_adapted_pattern([x], 2 / 16)).tolist()
    [3, 13]
    >>> np.flatnonzero(data_adapted_pattern([x + 0.5], 2 / 16, hermitian=True)).tolist()
    [0, 3]
    """
    images = _as_samples(images, "images")
    rate = _as_rate(rate)
    cartesian = _as_bool(cartesian, "cartesian")
    hermitian = _as_bool(hermitian, "hermitian")
    shape = images[0].shape
    for i, x in enumerate(images):
        if x.shape != shape:
            raise ValueError(f"`images[{i}]` has shape {x.shape}, expected {shape} (as images[0])")
    if cartesian:
        axes = tuple(range(1, len(shape)))
        scores = np.zeros(shape[0])
        for x in images:
            scores += np.sum(np.abs(np.fft.fftn(x, norm="ortho")) ** 2, axis=axes)
    else:
        scores = np.zeros(shape)
        for x in images:
            scores += np.abs(np.fft.fftn(x, norm="ortho"))
    scores /= len(images)
    if not hermitian:
        return _finish(binary_pattern(scores, rate), shape, cartesian)
    from ._conjugate import _half_plane, _place_pairs, _split_budget  # (imports this module)

    reps, conj = _half_plane(scores.shape)
    flat = scores.ravel()
    paired = conj[reps] != reps
    pair_scores = flat[reps] + np.where(paired, flat[conj[reps]], 0.0)
    first, second = _split_budget(_count(rate, flat.size), reps.size)
    order = np.argsort(-pair_scores, kind="stable")
    extra = order[paired[order]][:second]
    chosen = _place_pairs(order[:first], extra, reps, conj)
    return _finish(_indicator(chosen, (flat.size,)), shape, cartesian)
