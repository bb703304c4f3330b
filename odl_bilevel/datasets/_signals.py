"""Random piecewise-constant 1-D signals (the talk's 1-D denoising data)."""

import numbers

import numpy as np

from ._random import as_generator

__all__ = ["piecewise_constant_signals"]


def _int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}, got {value}")
    return int(value)


def _jump_range(n_jumps):
    if isinstance(n_jumps, numbers.Integral) and not isinstance(n_jumps, bool):
        low = high = _int(n_jumps, "n_jumps", 0)
    else:
        try:
            low, high = n_jumps
        except (TypeError, ValueError):
            raise TypeError(
                f"`n_jumps` must be an int or a pair (low, high), got {n_jumps!r}"
            ) from None
        low, high = _int(low, "n_jumps[0]", 0), _int(high, "n_jumps[1]", 0)
        if low > high:
            raise ValueError(f"`n_jumps` must satisfy low <= high, got {n_jumps!r}")
    return low, high


def _new_level(old, min_jump, u):
    """Map ``u ~ U(0, 1)`` to a uniform draw from ``[0, 1]`` minus ``(old - m, old + m)``."""
    below = max(old - min_jump, 0.0)
    above = max(1.0 - old - min_jump, 0.0)
    t = u * (below + above)
    return t if t < below else old + min_jump + (t - below)


def piecewise_constant_signals(
    n, length=256, *, n_jumps=(3, 8), min_segment=None, min_jump=0.1, rng=None
):
    r"""Draw random piecewise-constant signals with values in [0, 1].

    Each signal :math:`x \in [0, 1]^{\text{length}}` is constant on
    :math:`k + 1` segments, with :math:`k` drawn uniformly from the integers
    in ``n_jumps``. The jump positions are uniform among all placements with
    every segment at least ``min_segment`` samples long; the first level is
    uniform on [0, 1] and each next level is uniform on
    :math:`[0, 1] \setminus (v - m, v + m)` with :math:`v` the previous level
    and :math:`m` = ``min_jump``, so every jump has height at least ``min_jump``.

    Parameters
    ----------
    n : int
        Number of signals.
    length : int, optional
        Number of samples per signal.
    n_jumps : int or (int, int), optional
        Number of jumps per signal, or the inclusive range it is drawn from.
    min_segment : int or None, optional
        Minimal length of a constant piece; requires
        ``length >= (max_jumps + 1) * min_segment``. None means
        ``max(1, length // 32)`` (8 samples for the default length 256).
    min_jump : float, optional
        Minimal jump height, in [0, 0.5).
    rng : numpy.random.Generator or int or None, optional
        Source of randomness.

    Returns
    -------
    signals : numpy.ndarray
        Array of shape ``(n, length)``, dtype float64, one signal per row.

    Raises
    ------
    ValueError
        If an argument is out of range (the message names it).

    Examples
    --------
    >>> x = piecewise_constant_signals(2, 64, n_jumps=3, rng=0)
    >>> x.shape, int((np.diff(x[0]) != 0).sum())
    ((2, 64), 3)
    >>> bool(x.min() >= 0 and x.max() <= 1)
    True
    """
    n = _int(n, "n", 0)
    length = _int(length, "length", 1)
    low, high = _jump_range(n_jumps)
    if min_segment is None:
        min_segment = max(1, length // 32)
    min_segment = _int(min_segment, "min_segment", 1)
    if isinstance(min_jump, bool) or not isinstance(min_jump, numbers.Real):
        raise TypeError(f"`min_jump` must be a real number, got {min_jump!r}")
    min_jump = float(min_jump)
    if not 0.0 <= min_jump < 0.5:
        raise ValueError(f"`min_jump` must lie in [0, 0.5), got {min_jump}")
    if length < (high + 1) * min_segment:
        raise ValueError(
            f"`length` ({length}) must be at least (max jumps + 1) * `min_segment` "
            f"= {(high + 1) * min_segment}"
        )
    gen = as_generator(rng)
    signals = np.empty((n, length))
    for row in signals:
        k = int(gen.integers(low, high + 1))
        # Stars and bars: k sorted distinct draws from {0, ..., slack + k - 1}, minus
        # their rank, give non-decreasing extras in [0, slack]; every segment keeps
        # min_segment samples and the extras are spread uniformly over placements.
        slack = length - (k + 1) * min_segment
        draws = np.sort(gen.choice(slack + k, size=k, replace=False))
        bounds = (np.arange(1, k + 1) * min_segment + draws - np.arange(k)).tolist()
        level = float(gen.uniform())
        start = 0
        for stop in [*bounds, length]:
            row[start:stop] = level
            level = _new_level(level, min_jump, float(gen.uniform()))
            start = stop
    return signals
