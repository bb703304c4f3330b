"""Single-threaded reductions for arrays of any size (layer 0, beside ``_validation``).

``np.dot``/``np.vdot`` on float arrays call BLAS level 1, which OpenBLAS runs on
several threads above ~10⁴ entries; when the other core is busy every call can
stall for a scheduler time slice (10 ms for a 256² dot product on the 2-core VM,
against 20 µs). ``einsum`` without ``optimize`` uses NumPy's own single-threaded
loops, so the library's inner products go through :func:`real_dot`.
"""

import math

import numpy as np

__all__ = ["real_dot", "real_norm"]


def real_dot(a, b):
    r"""Return :math:`\mathrm{Re}\sum_j \bar a_j b_j` as a Python float (any shapes of one size).

    Examples
    --------
    >>> real_dot(np.arange(3.0), np.ones(3))
    3.0
    >>> real_dot(np.array([1j, 2.0]), np.array([1j, 1.0]))
    3.0
    """
    a = np.asarray(a).reshape(-1)
    b = np.asarray(b).reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.iscomplexobj(a) or np.iscomplexobj(b):
            return float(np.einsum("i,i->", np.conj(a), b).real)
        return float(np.einsum("i,i->", a, b))


def real_norm(a):
    r"""Return the Euclidean norm :math:`\|a\|_2` as a Python float (accumulated in float64).

    Examples
    --------
    >>> real_norm(np.array([3.0, 4.0]))
    5.0
    """
    a = np.asarray(a).reshape(-1)
    if a.dtype != np.float64 and not np.iscomplexobj(a):
        a = a.astype(np.float64)
    return math.sqrt(max(real_dot(a, a), 0.0))
