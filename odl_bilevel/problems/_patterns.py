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

- :func:`uniform_random_pattern`: :math:`k` pixels (lines) uniformly at
  random, DC always included.
- :func:`variable_density_pattern`: Lustig, Donoho & Pauly's polynomial
  density :math:`(1 - \rho)^p` in the normalised distance :math:`\rho` to DC.
- :func:`data_adapted_pattern`: the :math:`k` pixels (lines) where the
  training images carry the most Fourier magnitude (energy), after Knoll et
  al.
- :func:`binary_pattern`, :func:`line_pattern`, :func:`pattern_rate`:
  thresholding learned weights, spreading line weights, measuring the rate.

All functions are pure numpy; randomness only through ``rng``.
"""

import numbers

import numpy as np

from .._validation import as_float, require_positive
from ._denoising import _as_samples

__all__ = [
    "binary_pattern",
    "data_adapted_pattern",
    "line_pattern",
    "pattern_rate",
    "uniform_random_pattern",
    "variable_density_pattern",
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


def uniform_random_pattern(shape, rate, *, cartesian=False, rng=None):
    r"""Draw a binary pattern of :math:`k` k-space pixels (lines) uniformly, DC included.

    The DC coefficient (flat index 0 of the unshifted k-space; line 0 for
    ``cartesian=True``) is always sampled; the other :math:`k - 1` pixels
    (lines) are drawn uniformly without replacement from the remaining
    :math:`m - 1`, where :math:`m` is the number of pixels (lines) and
    :math:`k = \max(1, \operatorname{round}(r m))`.

    Parameters
    ----------
    shape : int or tuple of int
        Image shape, 1-D or 2-D.
    rate : float
        Sampling rate :math:`r \in (0, 1]`.
    cartesian : bool, optional
        Sample whole lines along axis 0 (rate = fraction of lines).
    rng : numpy.random.Generator or int or None, optional
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Float64 0/1 array of ``shape``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``shape`` is invalid, ``rate`` outside :math:`(0, 1]` or ``rng`` a
        negative seed.

    Examples
    --------
    >>> s = uniform_random_pattern((8, 8), 0.25, rng=0)
    >>> pattern_rate(s), s[0, 0]
    (0.25, 1.0)
    >>> s = uniform_random_pattern((8, 8), 0.25, cartesian=True, rng=0)
    >>> s.sum(axis=1).tolist()[0], pattern_rate(s)
    (8.0, 0.25)
    """
    shape = _as_shape(shape)
    rate = _as_rate(rate)
    cartesian = _as_bool(cartesian, "cartesian")
    gen = _as_generator(rng)
    m = shape[0] if cartesian else int(np.prod(shape))
    k = _count(rate, m)
    chosen = np.concatenate(([0], 1 + gen.choice(m - 1, size=k - 1, replace=False)))
    return _finish(_indicator(chosen.astype(np.intp), (m,)), shape, cartesian)


def _normalised_radius(shape):
    r"""Distance :math:`\rho \in [0, 1]` of each unshifted frequency to DC.

    Each axis' :func:`numpy.fft.fftfreq` is scaled to :math:`[-1, 1]` (as
    Lustig's ``linspace(-1, 1, n)`` grids), then :math:`\rho` is divided by
    its maximum.
    """
    axes = [2.0 * np.fft.fftfreq(n) for n in shape]
    grids = np.meshgrid(*axes, indexing="ij")
    radius = np.sqrt(sum(g**2 for g in grids))
    top = radius.max()
    return radius / top if top > 0 else radius


def _polynomial_density(radius, power, total):
    r"""Lustig's ``genPDF``: :math:`\mathrm{clip}((1 - \rho)^q + c, 0, 1)` summing to ``total``.

    The offset :math:`c \in [-1, 1]` is found by bisection;
    :math:`c \mapsto \sum_j \mathrm{clip}(\cdot)` is continuous and
    non-decreasing from 0 (:math:`c = -1`) to the number of entries
    (:math:`c = 1`).
    """
    base = (1.0 - radius) ** power
    lo, hi = -1.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.clip(base + mid, 0.0, 1.0).sum() < total:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return np.clip(base + hi, 0.0, 1.0)


def _systematic_sample(p, gen):
    r"""Randomised systematic sampling: ``round(sum(p))`` distinct indices, index j with prob. p_j.

    The entries are put in random order and laid end to end as intervals of
    lengths :math:`p_j \le 1` on :math:`[0, k)`; the points :math:`u, u + 1,
    \dots, u + k - 1` (:math:`u \sim U[0, 1)`) fall into :math:`k` distinct
    intervals, and interval :math:`j` is hit with probability :math:`p_j`.
    """
    k = round(float(p.sum()))
    if k == 0:
        return np.zeros(0, dtype=np.intp)
    perm = gen.permutation(p.size)
    cum = np.cumsum(p[perm])
    cum *= k / cum[-1]
    cum[-1] = k
    hits = np.searchsorted(cum, gen.random() + np.arange(k), side="right")
    chosen = np.unique(perm[np.minimum(hits, p.size - 1)])
    if chosen.size < k:  # rounding put two points in one interval: top up by density
        rest = np.setdiff1d(np.argsort(-p, kind="stable"), chosen, assume_unique=True)
        chosen = np.concatenate((chosen, rest[: k - chosen.size]))
    return chosen


def variable_density_pattern(shape, rate, *, power=3.0, cartesian=False, rng=None):
    r"""Draw a binary pattern from the polynomial variable density of Lustig et al.

    With :math:`\rho_j \in [0, 1]` the distance of the (unshifted,
    :func:`numpy.fft.fftfreq`) frequency :math:`j` to DC — each axis scaled
    to :math:`[-1, 1]`, then :math:`\rho` normalised to maximum 1; for
    ``cartesian=True`` the distance of line :math:`j` along axis 0 — the
    density is Lustig's polynomial

    .. math::

        p_j = \operatorname{clip}\big((1 - \rho_j)^{q} + c,\ 0,\ 1\big),
        \qquad j \neq 0, \qquad \sum_{j \neq 0} p_j = k - 1,

    with power :math:`q`, :math:`k = \max(1, \operatorname{round}(r m))` and
    the offset :math:`c` found by bisection (as Lustig's ``genPDF``). The DC
    coefficient (line) :math:`j = 0` is always sampled (:math:`p_0 = 1`; the
    other :math:`k - 1` samples share the rest of the budget), and the other
    pixels (lines) are drawn without replacement by randomised systematic
    sampling: pixel :math:`j` is sampled with probability exactly
    :math:`p_j`, and every pattern has exactly :math:`k` samples. (Lustig
    draws independent Bernoulli(:math:`p_j`) masks, whose sample count
    varies, and keeps the one with the least incoherent interference.)
    Since :math:`p_j \le 1`, at least :math:`k - 1` entries have
    :math:`p_j > 0`; pixels with :math:`p_j = 0` (the corners for small
    rates) are never sampled.

    Parameters
    ----------
    shape : int or tuple of int
        Image shape, 1-D or 2-D.
    rate : float
        Sampling rate :math:`r \in (0, 1]`.
    power : float, optional
        Polynomial power :math:`q > 0`. As the offset :math:`c` fills the
        budget, a large :math:`q` gives a small, fully sampled centre and an
        almost uniform remainder; the samples are most concentrated near DC
        for moderate powers (about 2 to 3 at rates 5 to 30 %).
    cartesian : bool, optional
        Sample whole lines along axis 0 (rate = fraction of lines).
    rng : numpy.random.Generator or int or None, optional
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Float64 0/1 array of ``shape``.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``shape`` is invalid, ``rate`` outside :math:`(0, 1]`,
        ``power <= 0`` or ``rng`` a negative seed.

    References
    ----------
    M. Lustig, D. Donoho and J. M. Pauly, "Sparse MRI: the application of
    compressed sensing for rapid MR imaging", Magnetic Resonance in Medicine
    58(6):1182-1195, 2007.

    Examples
    --------
    >>> s = variable_density_pattern((16, 16), 0.2, rng=0)
    >>> pattern_rate(s) == 51 / 256, s[0, 0]
    (True, 1.0)
    >>> s = variable_density_pattern((16, 16), 0.25, cartesian=True, rng=0)
    >>> int(s[:, 0].sum()), bool(np.all(s == s[:, :1]))
    (4, True)
    """
    shape = _as_shape(shape)
    rate = _as_rate(rate)
    power = require_positive(power, "power")
    cartesian = _as_bool(cartesian, "cartesian")
    gen = _as_generator(rng)
    radius = _normalised_radius((shape[0],) if cartesian else shape).ravel()
    m = radius.size
    k = _count(rate, m)
    if k == m:
        return np.ones(shape)
    density = _polynomial_density(radius[1:], power, k - 1)
    chosen = np.concatenate(([0], 1 + _systematic_sample(density, gen))).astype(np.intp)
    return _finish(_indicator(chosen, (m,)), shape, cartesian)


def data_adapted_pattern(images, rate, *, cartesian=False):
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

    Returns
    -------
    numpy.ndarray
        Float64 0/1 array of the images' shape.

    Raises
    ------
    TypeError
        If ``images`` is not a sequence of real arrays or ``cartesian`` not a
        bool.
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
    """
    images = _as_samples(images, "images")
    rate = _as_rate(rate)
    cartesian = _as_bool(cartesian, "cartesian")
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
    return _finish(binary_pattern(scores, rate), shape, cartesian)
