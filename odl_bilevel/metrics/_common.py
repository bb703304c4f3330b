"""Conversion of metric inputs (arrays or ODL elements) to float64 arrays."""

import numpy as np

from odl_bilevel._validation import as_float

__all__ = ["as_image_pair", "resolve_data_range"]


def _to_array(x, name):
    data = x.data if hasattr(x, "space") and hasattr(x, "data") else x
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return arr


def as_image_pair(x, reference):
    """Return ``x`` and ``reference`` as float64 arrays of one shape (1-D or 2-D)."""
    x, reference = _to_array(x, "x"), _to_array(reference, "reference")
    if reference.ndim not in (1, 2):
        raise ValueError(f"`reference` must be 1-D or 2-D, got shape {reference.shape}")
    if x.shape != reference.shape:
        raise ValueError(
            f"`x` must have the shape of `reference` {reference.shape}, got {x.shape}"
        )
    return x, reference


def resolve_data_range(data_range, reference):
    """Return ``data_range`` as a positive float; None means ``max - min`` of ``reference``."""
    if data_range is None:
        value = float(reference.max() - reference.min())
        if value <= 0:
            raise ValueError(
                "`data_range` must be given when `reference` is constant (its max - min is 0)"
            )
        return value
    value = as_float(data_range, "data_range")
    if value <= 0:
        raise ValueError(f"`data_range` must be positive, got {value}")
    return value
