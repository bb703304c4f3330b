r"""Conjugate pairs of k-space: why a pattern for real images should sample one of :math:`\pm k`.

The unitary DFT of a *real* image is Hermitian,

.. math::

    (Fx)_{-j} = \overline{(Fx)_j}, \qquad -j = (-j_1 \bmod n_1, \dots, -j_d \bmod n_d),

so a pattern that samples both :math:`j` and :math:`-j` measures the same
coefficient twice: the second sample only averages the noise, while the
same sample spent on another coefficient adds information. Patterns drawn
or selected without regard to this (Lustig's variable density, Knoll's
data-adapted pattern, uniform random) sample many such pairs; a learned
pattern for real images avoids them by itself. The ``hermitian=True``
options of :func:`~odl_bilevel.problems.data_adapted_pattern`,
:func:`~odl_bilevel.problems.variable_density_pattern` and
:func:`~odl_bilevel.problems.uniform_random_pattern` choose among the
*representatives* of the pairs instead (the classical half-plane or
"partial Fourier" idea), and :func:`conjugate_redundancy` measures how many
samples of a pattern repeat a coefficient.

For complex images (real MRI data carry a phase) the symmetry does not hold
and both members of a pair carry information.
"""

import numpy as np

from ._patterns import _as_real_array, _as_shape

__all__ = ["conjugate_index", "conjugate_redundancy"]


def conjugate_index(shape):
    r"""Flat index of the conjugate frequency :math:`-j` of every frequency :math:`j`.

    For the unshifted k-space of ``shape`` (DC at index 0,
    :func:`numpy.fft.fftfreq` order), entry :math:`j` of the result is the
    C-order flat index of :math:`(-j_1 \bmod n_1, \dots)`. The map is an
    involution; its fixed points (*self-conjugate* frequencies: DC and, for
    even sides, the Nyquist frequencies) are their own pair.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of k-space (or the number of lines), 1-D or 2-D.

    Returns
    -------
    numpy.ndarray
        Integer array of ``prod(shape)`` flat indices.

    Examples
    --------
    >>> conjugate_index(4).tolist()
    [0, 3, 2, 1]
    >>> conjugate_index((2, 3)).tolist()
    [0, 2, 1, 3, 5, 4]
    """
    shape = _as_shape(shape)
    grids = np.meshgrid(*[(-np.arange(n)) % n for n in shape], indexing="ij")
    return np.ravel_multi_index(tuple(grids), shape).ravel()


def _half_plane(shape):
    """Representatives ``j <= -j`` (ascending; DC first) and the conjugate map of ``shape``."""
    conj = conjugate_index(shape)
    return np.flatnonzero(np.arange(conj.size) <= conj), conj


def _split_budget(k, n_representatives):
    """Samples on distinct coefficients first; only the rest repeats coefficients."""
    first = min(k, n_representatives)
    return first, k - first


def _place_pairs(first, second, reps, conj, gen=None):
    """Flat indices of a pattern that samples one member of the pairs ``reps[first]``.

    The member is the representative itself (``gen`` None) or either member
    at random; the pairs ``reps[second]`` (only when every pair has one
    sample) get both members.
    """
    idx = reps[np.asarray(first, dtype=np.intp)]
    if gen is not None:
        idx = np.where(gen.random(idx.size) < 0.5, conj[idx], idx)
    both = reps[np.asarray(second, dtype=np.intp)]
    return np.unique(np.concatenate((idx, both, conj[both]))).astype(np.intp)


def conjugate_redundancy(pattern):
    r"""Fraction of a pattern's samples whose conjugate frequency is sampled too.

    .. math::

        \rho(s) = \frac{\#\{j : s_j \neq 0,\ s_{-j} \neq 0,\ -j \neq j\}}
                       {\#\{j : s_j \neq 0,\ -j \neq j\}}

    (0 when no sample lies off the self-conjugate frequencies). For real
    images such samples repeat a coefficient (see the module notes): 0 means
    every sample measures a new coefficient, 1 that the pattern is
    point-symmetric and half of its samples only average noise. A pattern
    drawn independently at :math:`j` and :math:`-j` with probability
    :math:`p` has :math:`\rho \approx p` on average, weighted by density.

    Parameters
    ----------
    pattern : array-like
        Sampling weights in :math:`[0, 1]` of the unshifted k-space, 1-D or 2-D.

    Returns
    -------
    float
        :math:`\rho \in [0, 1]`.

    Raises
    ------
    TypeError
        If ``pattern`` is not real-valued.
    ValueError
        If ``pattern`` is empty, not 1-D/2-D, or holds NaN/Inf or values
        outside :math:`[0, 1]`.

    Examples
    --------
    >>> conjugate_redundancy([1.0, 1.0, 0.0, 1.0])   # samples +-1 (and DC)
    1.0
    >>> conjugate_redundancy([1.0, 1.0, 1.0, 0.0])   # +1 and the Nyquist frequency 2
    0.0
    """
    arr = _as_real_array(pattern, "pattern", unit=True)
    if arr.ndim not in (1, 2):
        raise ValueError(f"`pattern` must be 1-D or 2-D, got shape {arr.shape}")
    conj = conjugate_index(arr.shape)
    flat = arr.ravel() != 0
    paired = conj != np.arange(conj.size)
    sampled = flat & paired
    total = int(np.count_nonzero(sampled))
    return 0.0 if total == 0 else float(np.count_nonzero(sampled & flat[conj])) / total
