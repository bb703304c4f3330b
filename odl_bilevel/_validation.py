"""Input validation shared by every layer (the bottom of the stack).

Each function raises ``TypeError`` or ``ValueError`` with a message that names
the offending argument, so that bad input never turns into a silent wrong
answer deep inside a solver.
"""

import numbers

import numpy as np
import odl

__all__ = [
    "as_float",
    "require_element",
    "require_finite",
    "require_in_unit_interval",
    "require_nonnegative",
    "require_positive",
    "require_unit_cell_space",
]


def as_float(value, name):
    """Return ``value`` as a finite Python float or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu"):
            raise TypeError(f"`{name}` must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value}")
    return value


def require_positive(value, name):
    """Return ``value`` as a float, requiring ``value > 0``."""
    value = as_float(value, name)
    if value <= 0:
        raise ValueError(f"`{name}` must be positive, got {value}")
    return value


def require_nonnegative(value, name):
    """Return ``value`` as a float, requiring ``value >= 0``."""
    value = as_float(value, name)
    if value < 0:
        raise ValueError(f"`{name}` must be non-negative, got {value}")
    return value


def require_finite(array, name):
    """Raise ``ValueError`` naming ``name`` if ``array`` holds NaN or Inf."""
    if isinstance(getattr(array, "space", None), odl.ProductSpace):
        for part in array:
            require_finite(part, name)
        return array
    data = array.data if hasattr(array, "space") else np.asarray(array)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return array


def require_in_unit_interval(array, name):
    """Raise ``ValueError`` unless every entry of ``array`` lies in [0, 1]."""
    arr = np.asarray(array)
    require_finite(arr, name)
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(
            f"`{name}` must lie in [0, 1], got values in [{arr.min():.3g}, {arr.max():.3g}]"
        )
    return arr


def require_unit_cell_space(space, name="space"):
    """Require a uniformly discretised real space with unit cells.

    Our kernels work on raw arrays with Euclidean inner products; this holds
    exactly for ``odl.uniform_discr(zeros, shape, shape)`` (DESIGN.md §3.7) and
    for plain tensor spaces ``odl.rn(shape)``.
    """
    if not isinstance(space, odl.core.space.base_tensors.TensorSpace | odl.DiscretizedSpace):
        raise TypeError(
            f"`{name}` must be an odl.DiscretizedSpace or TensorSpace, got {type(space).__name__}"
        )
    if not space.is_real:
        raise ValueError(f"`{name}` must be a real space, got dtype {space.dtype}")
    if space.dtype not in (np.dtype("float32"), np.dtype("float64")):
        raise ValueError(f"`{name}` must have dtype float32 or float64, got {space.dtype}")
    if isinstance(space, odl.DiscretizedSpace):
        if not space.is_uniform or not np.allclose(space.cell_sides, 1.0):
            raise ValueError(
                f"`{name}` must have unit cells (use odl_bilevel.operators.unit_cell_space), "
                f"got cell sides {tuple(space.cell_sides)}"
            )
    if space.is_weighted:
        raise ValueError(f"`{name}` must be unweighted (Euclidean inner product)")
    return space


def require_element(x, space, name):
    """Return ``x`` as an element of ``space`` without silent casts.

    Accepts an element of ``space`` itself or an array of exactly its shape
    (any float dtype); rejects elements of other spaces, wrong shapes and
    NaN/Inf.
    """
    if hasattr(x, "space"):
        if x.space != space:
            raise ValueError(f"`{name}` must be an element of {space}, got one of {x.space}")
        elem = x
    else:
        arr = np.asarray(x)
        if isinstance(space, odl.ProductSpace):
            elem = space.element(x)
        else:
            if arr.shape != space.shape:
                raise ValueError(
                    f"`{name}` must have shape {space.shape}, got {arr.shape}"
                )
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
            elem = space.element(arr.astype(space.dtype, copy=True))
    require_finite(elem, name)
    return elem
