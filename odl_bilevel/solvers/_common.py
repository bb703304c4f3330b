"""Validation and bookkeeping shared by the solvers (private)."""

import numbers
import time

import numpy as np

from .._validation import require_element

__all__ = ["Clock", "check_callback", "check_int", "finite", "start_point"]


def check_int(value, name, *, minimum):
    """Return ``value`` as an int ``>= minimum`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return value


def check_callback(callback):
    """Return ``callback`` if it is ``None`` or callable, else raise naming it."""
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None, got {type(callback).__name__}")
    return callback


def start_point(x0, space, ops, name="x0"):
    """Return a fresh contiguous element of ``space`` holding ``x0`` (zero if ``None``).

    ``x0`` itself is never modified nor aliased.
    """
    if x0 is None:
        return space.zero()
    elem = require_element(x0, space, name)
    return ops.element_copy(elem)


def finite(value):
    """Whether a Python float is finite."""
    return bool(np.isfinite(value))


class Clock:
    """Accumulates the wall time spent inside a solver's own calls."""

    def __init__(self):
        self.total = 0.0
        self._start = None

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.total += time.perf_counter() - self._start
        return False
