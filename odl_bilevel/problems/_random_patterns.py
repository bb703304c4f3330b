r"""Random MRI sampling patterns: uniform and variable density (Lustig et al. 2007).

Patterns, rates and sample counts :math:`k` are defined as for the fixed
patterns (:func:`~odl_bilevel.problems.pattern_rate`).

- :func:`uniform_random_pattern`: :math:`k` pixels (lines) uniformly at
  random, DC always included.
- :func:`variable_density_pattern`: Lustig, Donoho & Pauly's polynomial
  density :math:`(1 - \rho)^p` in the normalised distance :math:`\rho` to
  DC, optionally with their Monte-Carlo choice of the least interfering of
  several draws (:func:`peak_interference`).

With ``hermitian=True`` both draw conjugate pairs :math:`\pm j` instead of
frequencies and sample one member of each drawn pair at random, so that for
real images every sample measures a different coefficient (see
:mod:`odl_bilevel.problems._conjugate`).

Randomness only through ``rng``.
"""

import numpy as np

from .._validation import require_positive
from ._conjugate import (
    _half_plane,
    _place_pairs,
    _split_budget,
    conjugate_redundancy,  # noqa: F401  (doctests)
)
from ._patterns import (
    _as_bool,
    _as_count,
    _as_generator,
    _as_rate,
    _as_real_array,
    _as_shape,
    _count,
    _finish,
    _indicator,
    pattern_rate,  # noqa: F401  (doctests)
)

__all__ = ["peak_interference", "uniform_random_pattern", "variable_density_pattern"]


def uniform_random_pattern(shape, rate, *, cartesian=False, hermitian=False, rng=None):
    r"""Draw a binary pattern of :math:`k` k-space pixels (lines) uniformly, DC included.

    The DC coefficient (flat index 0 of the unshifted k-space; line 0 for
    ``cartesian=True``) is always sampled; the other :math:`k - 1` pixels
    (lines) are drawn uniformly without replacement from the remaining
    :math:`m - 1`, where :math:`m` is the number of pixels (lines) and
    :math:`k = \max(1, \operatorname{round}(r m))`. With ``hermitian=True``
    the :math:`k - 1` are drawn among the conjugate pairs :math:`\pm j`
    other than DC (one member of each, at random), and only beyond the
    number of pairs (rates above about 1/2) are second members drawn.

    Parameters
    ----------
    shape : int or tuple of int
        Image shape, 1-D or 2-D.
    rate : float
        Sampling rate :math:`r \in (0, 1]`.
    cartesian : bool, optional
        Sample whole lines along axis 0 (rate = fraction of lines).
    hermitian : bool, optional
        Draw conjugate pairs, one member each (for real images).
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
    >>> s = uniform_random_pattern((8, 8), 0.25, hermitian=True, rng=0)
    >>> pattern_rate(s), conjugate_redundancy(s)
    (0.25, 0.0)
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
    hermitian = _as_bool(hermitian, "hermitian")
    gen = _as_generator(rng)
    grid = (shape[0],) if cartesian else shape
    m = int(np.prod(grid))
    k = _count(rate, m)
    if not hermitian:
        chosen = np.concatenate(([0], 1 + gen.choice(m - 1, size=k - 1, replace=False)))
        return _finish(_indicator(chosen.astype(np.intp), (m,)), shape, cartesian)
    reps, conj = _half_plane(grid)
    first, second = _split_budget(k, reps.size)
    pairs = np.flatnonzero(conj[reps] != reps)
    drawn = np.concatenate(([0], 1 + gen.choice(reps.size - 1, size=first - 1, replace=False)))
    extra = gen.choice(pairs, size=second, replace=False)
    chosen = _place_pairs(drawn, extra, reps, conj, gen)
    return _finish(_indicator(chosen, (m,)), shape, cartesian)


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


def variable_density_pattern(
    shape, rate, *, power=3.0, cartesian=False, trials=1, hermitian=False, rng=None
):
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
    :math:`p_j`, and every pattern has exactly :math:`k` samples (Lustig
    draws independent Bernoulli(:math:`p_j`) masks, whose sample count
    varies). With ``trials > 1``, as Lustig's Monte-Carlo design
    (``genSampling``), ``trials`` patterns :math:`s` are drawn and the one
    with the least peak interference is kept: the largest off-origin modulus
    of the transform point-spread function

    .. math::

        \max_{t \neq 0} \big|\big(F^{-1} (s / p)\big)_t\big|,

    with :math:`F^{-1}` the inverse DFT (``numpy.fft.ifftn``; along axis 0
    for Cartesian lines) and :math:`s_j / p_j = 0` where :math:`p_j = 0`.
    Since :math:`p_j \le 1`, at least :math:`k - 1` entries have
    :math:`p_j > 0`; pixels with :math:`p_j = 0` (the corners for small
    rates) are never sampled.

    With ``hermitian=True`` (for real images, whose conjugate frequencies
    :math:`\pm j` carry the same coefficient) the density is laid on the
    conjugate pairs instead: :math:`p` as above over the representatives
    :math:`j \le -j` of the pairs (:math:`\rho_j` of the representative,
    :math:`k` pairs including DC), and each drawn pair is sampled at one of
    its members, chosen at random. Every sample then measures a different
    coefficient, where the plain draw samples both members of a pair with
    probability :math:`p_j^2`. Only when :math:`k` exceeds the number of
    pairs (rates above about 1/2) are second members drawn, from the same
    polynomial density. The Monte-Carlo criterion then uses each pixel's
    inclusion probability (half its pair's).

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
    trials : int, optional
        Number of patterns drawn; the one with the least peak interference is
        returned (Lustig's examples use 10). The default 1 returns the first
        draw.
    hermitian : bool, optional
        Draw conjugate pairs, one member each (for real images).
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
        ``power <= 0``, ``trials < 1`` or ``rng`` a negative seed.

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

    Lustig's Monte-Carlo design keeps the least interfering of 10 draws:

    >>> s = variable_density_pattern((32, 32), 0.25, trials=10, rng=0)
    >>> pattern_rate(s)
    0.25

    For real images, one member of each conjugate pair:

    >>> s = variable_density_pattern((32, 32), 0.25, hermitian=True, rng=0)
    >>> pattern_rate(s), conjugate_redundancy(s)
    (0.25, 0.0)
    """
    shape = _as_shape(shape)
    rate = _as_rate(rate)
    power = require_positive(power, "power")
    cartesian = _as_bool(cartesian, "cartesian")
    trials = _as_count(trials, "trials")
    hermitian = _as_bool(hermitian, "hermitian")
    gen = _as_generator(rng)
    grid = (shape[0],) if cartesian else shape
    radius = _normalised_radius(grid).ravel()
    m = radius.size
    k = _count(rate, m)
    if k == m:
        return np.ones(shape)
    if hermitian:
        draw, density = _pair_density(grid, radius, power, k)
    else:
        density = np.concatenate(([1.0], _polynomial_density(radius[1:], power, k - 1)))

        def draw(gen):
            return np.concatenate(([0], 1 + _systematic_sample(density[1:], gen)))

    best, least = None, np.inf
    for _ in range(trials):
        chosen = draw(gen)
        mask = _indicator(chosen.astype(np.intp), (m,))
        if trials == 1:
            best = mask
            break
        level = peak_interference(mask.reshape(grid), density.reshape(grid))
        if level < least:
            best, least = mask, level
    return _finish(best, shape, cartesian)


def _pair_density(grid, radius, power, k):
    """The pair draw of ``variable_density_pattern(hermitian=True)`` and its pixel density."""
    reps, conj = _half_plane(grid)
    paired = conj[reps] != reps
    first, second = _split_budget(k, reps.size)
    p1 = np.concatenate(([1.0], _polynomial_density(radius[reps[1:]], power, first - 1)))
    p2 = np.zeros(reps.size)
    if second:
        p2[paired] = _polynomial_density(radius[reps[paired]], power, second)
    pixel = np.zeros(radius.size)
    pixel[reps] = np.where(paired, 0.5 * (p1 + p2), p1)
    pixel[conj[reps]] = pixel[reps]
    pairs = np.flatnonzero(paired)

    def draw(gen):
        drawn = np.concatenate(([0], 1 + _systematic_sample(p1[1:], gen)))
        extra = pairs[_systematic_sample(p2[pairs], gen)] if second else np.zeros(0, np.intp)
        return _place_pairs(drawn, extra, reps, conj, gen)

    return draw, pixel


def peak_interference(pattern, density):
    r"""Peak interference of a random pattern: Lustig's criterion of incoherence.

    .. math::

        I(s) = \max_{t \neq 0} \big|\big(F^{-1} (s / p)\big)_t\big|,

    the largest modulus away from the origin of the transform point-spread
    function of the pattern :math:`s` drawn from the density :math:`p`
    (inverse DFT ``numpy.fft.ifftn`` over all axes; :math:`s_j / p_j = 0`
    where :math:`p_j = 0`). :math:`s/p` has expectation 1, whose inverse DFT
    vanishes off the origin, so :math:`I` measures the aliasing that a
    draw adds; :func:`variable_density_pattern` with ``trials > 1`` keeps
    the draw with the least :math:`I`.

    Parameters
    ----------
    pattern : array-like
        0/1 sampling pattern (unshifted frequencies, or per line), at least 2 entries.
    density : array-like
        Inclusion probabilities in :math:`[0, 1]`, same shape; positive wherever
        ``pattern`` samples.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes differ, an entry is outside :math:`[0, 1]`, or
        ``pattern`` samples where ``density`` is 0.

    References
    ----------
    M. Lustig, D. Donoho and J. M. Pauly, "Sparse MRI: the application of
    compressed sensing for rapid MR imaging", Magnetic Resonance in Medicine
    58(6):1182-1195, 2007 (Section "Monte-Carlo incoherent sampling design").

    Examples
    --------
    >>> p = np.full(8, 0.5)
    >>> peak_interference(np.ones(8), p) == 0.0   # no aliasing when every sample is taken
    True
    >>> round(peak_interference(np.array([1.0, 0, 1, 0, 1, 0, 1, 0]), p), 12)  # aliased copy
    1.0
    """
    s = _as_real_array(pattern, "pattern", unit=True)
    p = _as_real_array(density, "density", unit=True)
    if s.shape != p.shape or s.size < 2:
        raise ValueError(
            f"`pattern` and `density` must have the same shape with at least 2 entries, "
            f"got {s.shape} and {p.shape}"
        )
    if np.any((p == 0) & (s != 0)):
        raise ValueError("`pattern` samples where `density` is 0")
    ratio = np.divide(s, p, out=np.zeros_like(s), where=p > 0)
    psf = np.abs(np.fft.ifftn(ratio)).ravel()
    return float(psf[1:].max())
