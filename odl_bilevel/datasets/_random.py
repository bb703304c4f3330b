"""Random generators and array conversion shared by the dataset helpers."""

import numbers

import numpy as np

__all__ = ["as_generator", "to_array"]


def as_generator(rng, name="rng"):
    """Return a :class:`numpy.random.Generator` from ``rng``.

    ``rng`` may be a Generator (used as is, so draws advance it), an int seed,
    a :class:`numpy.random.SeedSequence` or None (fresh OS entropy).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ValueError(f"`{name}` must be a non-negative seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"`{name}` must be a numpy Generator, an int seed or None, got {rng!r}")


def to_array(x, name):
    """Return the float64 array behind ``x`` (an array-like or an ODL element), copied."""
    data = x.data if hasattr(x, "space") and hasattr(x, "data") else x
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return arr
