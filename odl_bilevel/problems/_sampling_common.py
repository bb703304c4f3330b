r"""Shared helpers of the sampling-pattern routines: validation, tolerances, fixed patterns.

The lower-level tolerances of these routines are absolute bounds on the
certified error :math:`\|x - \hat x_i\| \le \varepsilon` (as everywhere in the
library). Since :math:`\|x - \hat x\|` grows with the number :math:`N` of
pixels, ``None`` picks the per-pixel scaled default

.. math::

    \varepsilon = \varepsilon_{\rm px}\sqrt N, \qquad \varepsilon_{\rm px} = 10^{-3},

i.e. a root-mean-square error per pixel of at most :math:`10^{-3}` (0.1 % of
the [0, 1] intensity range): 0.064 at 64², 0.256 at 256², 1.024 at 1024².
"""

import math
import numbers

import numpy as np

from .._validation import require_positive
from ._sampling import sampling_problem

__all__ = ["TOL_PER_PIXEL"]

#: Per-pixel root-mean-square lower-level error :math:`\varepsilon_{\rm px}` of the
#: default tolerance :math:`\varepsilon = \varepsilon_{\rm px}\sqrt N`.
TOL_PER_PIXEL = 1e-3


def default_tol(tol, shape, name):
    """``tol`` validated (positive), or the per-pixel scaled default for ``shape`` if None."""
    if tol is None:
        return TOL_PER_PIXEL * math.sqrt(int(np.prod(shape)))
    return require_positive(tol, name)


def check_int(value, name, minimum=1):
    """An integer ``>= minimum`` (TypeError/ValueError naming ``name``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return int(value)


def check_bool(value, name):
    """A bool (TypeError naming ``name``)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"`{name}` must be a bool, got {value!r}")
    return bool(value)


def check_rate(rate, name="rate"):
    """A sampling rate in (0, 1]."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"`{name}` must be a real number in (0, 1], got {rate!r}")
    rate = float(rate)
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"`{name}` must lie in (0, 1], got {rate}")
    return rate


def sample_count(rate, m):
    """Number ``k = max(1, round(rate * m))`` of sampled entries at ``rate``."""
    return max(1, int(round(rate * m)))


def check_pattern(pattern, name="pattern"):
    """A per-pixel pattern: finite float64 array (1-D or 2-D) with values in [0, 1]."""
    arr = np.asarray(pattern)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a real array, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"`{name}` must be 1-D or 2-D (the image shape), got shape {arr.shape}")
    arr = np.array(arr, dtype=float)
    if not np.all(np.isfinite(arr)) or arr.min() < 0.0 or arr.max() > 1.0:
        raise ValueError(f"`{name}` must hold finite values in [0, 1]")
    return arr


def check_callback(callback):
    """None or a callable."""
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None, got {type(callback).__name__}")
    return callback


def top_k(k, keys):
    """0/1 array (shape of ``keys[0]``) marking the ``k`` entries that rank highest by ``keys``.

    Entries are ordered by ``keys[0]`` (larger first), ties by ``keys[1]``,
    and so on, then by the flat index (smaller first), as a stable sort does.
    """
    shape = np.shape(keys[0])
    columns = [np.arange(int(np.prod(shape)))]
    columns += [-np.asarray(key, dtype=float).ravel() for key in reversed(keys)]
    order = np.lexsort(columns)
    out = np.zeros(columns[0].size)
    out[order[:k]] = 1.0
    return out.reshape(shape)


def fixed_pattern_problem(
    clean,
    kspace,
    pattern,
    *,
    alpha,
    regulariser,
    nu,
    xi,
    learn_alpha,
    alpha_bounds=(1e-6, 1e2),
    solver,
    lower_tol,
    lower_max_iter,
    executor,
    sampling="free",
):
    """A :func:`sampling_problem` whose sampling parameters are the fixed ``pattern``."""
    return sampling_problem(
        clean,
        kspace,
        sampling=sampling,
        regulariser=regulariser,
        alpha=alpha,
        nu=nu,
        xi=xi,
        learn_alpha=learn_alpha,
        init_weights=np.asarray(pattern, dtype=float).ravel(),
        alpha_bounds=alpha_bounds,
        solver=solver,
        lower_tol=lower_tol,
        lower_max_iter=lower_max_iter,
        executor=executor,
    )
