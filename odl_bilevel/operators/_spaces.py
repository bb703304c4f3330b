"""Unit-cell discretised spaces, on which inner products are Euclidean."""

import numpy as np
import odl

__all__ = ["unit_cell_space"]


def unit_cell_space(shape, dtype="float64"):
    """Return ``odl.uniform_discr(zeros, shape, shape, dtype=dtype)``.

    On this space every cell has volume 1, so ODL's inner product equals the
    Euclidean one of the raw arrays (DESIGN.md §3.7) and agrees with NumPy
    and SciPy.

    Parameters
    ----------
    shape : int or tuple of int
        Number of pixels per axis (1-D or 2-D, or higher).
    dtype : str or numpy.dtype
        ``"float64"`` or ``"float32"``.

    Examples
    --------
    >>> X = unit_cell_space((4, 6))
    >>> X.shape, float(X.cell_volume)
    ((4, 6), 1.0)
    """
    shape = (int(shape),) if np.isscalar(shape) else tuple(int(n) for n in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"`shape` must be a non-empty tuple of positive ints, got {shape}")
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype("float32"), np.dtype("float64")):
        raise ValueError(f"`dtype` must be float32 or float64, got {dtype}")
    if len(shape) == 1:
        return odl.uniform_discr(0.0, float(shape[0]), shape[0], dtype=dtype)
    return odl.uniform_discr([0.0] * len(shape), [float(n) for n in shape], shape, dtype=dtype)
