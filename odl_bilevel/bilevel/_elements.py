"""Raw-array helpers for elements of plain and product spaces (private).

Warm starts are stored in checkpoints as flat float64 vectors, residuals are
concatenated flat vectors and norms are accumulated in double precision;
these helpers convert between ODL elements (plain or ``odl.ProductSpace``)
and such vectors.
"""

import numpy as np
import odl

from .._numeric import real_dot

__all__ = ["element_norm", "flatten", "space_size", "unflatten"]


def _parts(elem):
    if isinstance(elem.space, odl.ProductSpace):
        return [q for p in elem for q in _parts(p)]
    return [elem]


def _space_parts(space):
    if isinstance(space, odl.ProductSpace):
        return [q for p in space for q in _space_parts(p)]
    return [space]


def flatten(elem):
    """Return the entries of ``elem`` as one fresh 1-D float64 array (parts concatenated)."""
    parts = _parts(elem)
    if len(parts) == 1:
        return np.array(parts[0].data, dtype=float).ravel()
    return np.concatenate([np.asarray(p.data, dtype=float).ravel() for p in parts])


def space_size(space):
    """Number of real entries of an element of ``space``."""
    return int(sum(int(np.prod(s.shape)) for s in _space_parts(space)))


def unflatten(vec, space):
    """Return a new element of ``space`` holding ``vec`` (inverse of :func:`flatten`)."""
    vec = np.asarray(vec, dtype=float).ravel()
    if vec.size != space_size(space):
        raise ValueError(f"expected {space_size(space)} entries for {space}, got {vec.size}")
    elem = space.element()
    offset = 0
    for part in _parts(elem):
        n = int(np.prod(part.shape))
        part.data[...] = vec[offset : offset + n].reshape(part.shape)
        offset += n
    return elem


def element_norm(elem):
    """Euclidean norm of ``elem`` (all parts), accumulated in float64."""
    total = 0.0
    for p in _parts(elem):
        a = np.asarray(p.data, dtype=float).ravel()
        total += real_dot(a, a)
    return float(np.sqrt(total))
