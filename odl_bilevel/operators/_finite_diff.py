r"""Finite-difference operators with Neumann boundaries and exact adjoints.

Three linear operators on a unit-cell space :math:`X = \mathbb{R}^{n_1\times\dots\times n_d}`,
each working in place on the raw arrays of ODL elements with preallocated work
buffers (DESIGN.md §4):

- :class:`NeumannGradient` :math:`\nabla: X \to X^d`, forward differences;
- :class:`SymmetrisedGradient` :math:`\mathcal{E}: X^d \to X^{d(d+1)/2}`,
  :math:`\mathcal{E}v = \frac12(\nabla v + \nabla v^T)` with backward differences;
- :class:`SecondOrderDifferences` :math:`\nabla^2 = \mathcal{E}\nabla: X \to X^{d(d+1)/2}`.

One-dimensional difference kernels along axis :math:`k` (index :math:`i` along
that axis, :math:`n = n_k`):

.. math::

    (D^+_k x)_i = \begin{cases} x_{i+1} - x_i & i < n-1 \\ 0 & i = n-1 \end{cases},
    \qquad
    D^-_k = -(D^+_k)^T, \quad
    (D^-_k v)_i = v_i\,[i < n-1] - v_{i-1}\,[i > 0].

:math:`D^+_k` is the forward difference with Neumann (mirror) boundary and
:math:`D^-_k` the backward difference with the boundary that makes
:math:`-D^-_k` its adjoint (Chambolle 2004; Bredies 2014).

**Symmetric-matrix layout.** A field of symmetric :math:`d\times d` matrices
:math:`w` is stored as :math:`d(d+1)/2` components: first the diagonal
:math:`w_{11},\dots,w_{dd}`, then the off-diagonals :math:`\sqrt2\,w_{ij}`,
:math:`i<j`, in lexicographic order (2-D: :math:`(w_{11}, w_{22}, \sqrt2 w_{12})`).
With this weighting the Euclidean inner product of the stored components
equals the Frobenius inner product :math:`\sum_{ij} w_{ij} w'_{ij}`, so the
pointwise Euclidean norm of the components is the Frobenius norm, and the
adjoints below are adjoints with respect to the Frobenius inner product.
:func:`symmetric_components` lists the index pairs.

These operators are not thread-safe (they own their work buffers); build one
per thread or process.

References
----------
Bredies, K., Kunisch, K., Pock, T. (2010). Total generalized variation.
*SIAM J. Imaging Sci.* 3(3), 492-526.

Bredies, K. (2014). Recovering piecewise smooth multichannel images by
minimization of convex functionals with total generalized variation penalty.
In *Efficient Algorithms for Global Optimization Methods in Computer Vision*,
LNCS 8293, 44-77.

Chambolle, A. (2004). An algorithm for total variation minimization and
applications. *J. Math. Imaging Vis.* 20, 89-97.
"""

import itertools

import numpy as np
import odl

from .._validation import require_unit_cell_space

__all__ = [
    "NeumannGradient",
    "SecondOrderDifferences",
    "SymmetrisedGradient",
    "symmetric_components",
]

_INV_SQRT2 = float(1.0 / np.sqrt(2.0))


def symmetric_components(ndim):
    """Index pairs ``(i, j)`` of the stored components of a symmetric matrix field.

    Diagonal entries first, then ``i < j`` in lexicographic order; the
    off-diagonal components are stored multiplied by :math:`\\sqrt2` (see the
    module docstring).

    Examples
    --------
    >>> symmetric_components(2)
    [(0, 0), (1, 1), (0, 1)]
    """
    ndim = int(ndim)
    return [(i, i) for i in range(ndim)] + list(itertools.combinations(range(ndim), 2))


# --------------------------------------------------------------------------
# Raw kernels on numpy arrays (n-D, along one axis).  ``lo`` = [:-1] and
# ``hi`` = [1:] along the axis; every kernel writes without temporaries.
#
# Never use ``np.negative(a, out=b)`` on strided views here: numpy 2.4.6
# (x86-64, AVX2) returns wrong values when the input and output are column
# views with a stride of 8 float64 / 4 float32 elements (e.g. ``a[:, 1:2]`` of
# an 8x8 float64 array) -- it reads the input as if contiguous.  We use
# ``np.multiply(a, -1.0, out=b)``, which is correct.
# --------------------------------------------------------------------------


class _Slices:
    """Precomputed index tuples for the difference kernels of an n-D array."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        nd = len(shape)
        self.lo, self.hi, self.last, self.first, self.mid, self.lo2 = [], [], [], [], [], []
        for k in range(nd):

            def sl(s, k=k):
                return tuple(s if a == k else slice(None) for a in range(nd))

            self.lo.append(sl(slice(None, -1)))
            self.hi.append(sl(slice(1, None)))
            self.last.append(sl(slice(-1, None)))
            self.first.append(sl(slice(0, 1)))
            self.mid.append(sl(slice(1, -1)))
            self.lo2.append(sl(slice(None, -2)))

    def fwd(self, x, out, k):
        """``out = D+_k x``."""
        lo, hi = self.lo[k], self.hi[k]
        np.subtract(x[hi], x[lo], out=out[lo])
        out[self.last[k]] = 0

    def fwd_adj(self, p, out, k):
        """``out = (D+_k)^T p`` (minus the backward-difference divergence)."""
        if self.shape[k] == 1:
            out[...] = 0
            return
        first, mid, last = self.first[k], self.mid[k], self.last[k]
        np.multiply(p[first], -1.0, out=out[first])
        np.subtract(p[self.lo2[k]], p[mid], out=out[mid])
        out[last] = p[self.lo[k]][last]

    def fwd_adj_add(self, p, out, k):
        """``out += (D+_k)^T p``."""
        lo, hi = self.lo[k], self.hi[k]
        np.add(out[hi], p[lo], out=out[hi])
        np.subtract(out[lo], p[lo], out=out[lo])

    def bwd(self, v, out, k):
        """``out = D-_k v = -(D+_k)^T v``."""
        if self.shape[k] == 1:
            out[...] = 0
            return
        first, mid, last = self.first[k], self.mid[k], self.last[k]
        out[first] = v[first]
        np.subtract(v[mid], v[self.lo2[k]], out=out[mid])
        np.multiply(v[self.lo[k]][last], -1.0, out=out[last])

    def bwd_add(self, v, out, k):
        """``out += D-_k v``."""
        lo, hi = self.lo[k], self.hi[k]
        np.add(out[lo], v[lo], out=out[lo])
        np.subtract(out[hi], v[lo], out=out[hi])

    def bwd_adj_add(self, w, out, k):
        """``out += (D-_k)^T w = -D+_k w``."""
        lo, hi = self.lo[k], self.hi[k]
        np.add(out[lo], w[lo], out=out[lo])
        np.subtract(out[lo], w[hi], out=out[lo])


def _parts(elem):
    return [p.data for p in elem]


class _Adjoint(odl.Operator):
    """Adjoint of one of the operators below: calls its ``_apply_adjoint``."""

    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    def _call(self, y, out):
        self._op._apply_adjoint(y, out)

    @property
    def adjoint(self):
        """The original operator."""
        return self._op

    def __repr__(self):
        return f"{self._op!r}.adjoint"


class NeumannGradient(odl.Operator):
    r"""Forward-difference gradient with Neumann boundary, :math:`\nabla: X \to X^d`.

    .. math::

        (\nabla x)_k = D^+_k x, \qquad
        (D^+_k x)_i = x_{i+1} - x_i \ (i < n_k - 1), \quad 0 \ (i = n_k - 1),

    which equals ``odl.Gradient(space, pad_mode='symmetric')`` on unit-cell
    spaces. The adjoint is minus the backward-difference divergence,
    :math:`\nabla^T p = \sum_k (D^+_k)^T p_k`,
    :math:`((D^+_k)^T p)_i = p_{i-1}[i>0] - p_i[i<n_k-1]`.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X` (any dimension :math:`d`, float32 or float64).

    Raises
    ------
    TypeError, ValueError
        If ``space`` is not a real unit-cell space.

    Notes
    -----
    Per axis :math:`\|D^+_k\| \le 2`, hence :math:`\|\nabla\|^2 \le 4d` and
    :math:`\|\nabla\| \le 2\sqrt d`; :attr:`norm_bound` returns the bound on the
    *squared* norm, :math:`4d`, which is what step sizes and Lipschitz constants
    need.

    References
    ----------
    Rudin, L. I., Osher, S., Fatemi, E. (1992). Nonlinear total variation
    based noise removal algorithms. *Physica D* 60, 259-268.

    Chambolle, A., Pock, T. (2011). A first-order primal-dual algorithm for
    convex problems with applications to imaging. *J. Math. Imaging Vis.* 40,
    120-145.

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_adjoint
    >>> X = unit_cell_space((4, 5))
    >>> grad = NeumannGradient(X)
    >>> g = grad(X.element(lambda t: t[0]))   # a ramp along axis 0
    >>> [round(float(v), 6) for v in g[0].data[:, 0]], grad.norm_bound
    ([1.0, 1.0, 1.0, 0.0], 8.0)
    >>> check_adjoint(grad, rng=0).rel_error < 1e-12
    True
    """

    def __init__(self, space):
        require_unit_cell_space(space)
        super().__init__(space, odl.ProductSpace(space, space.ndim), linear=True)
        self._sl = _Slices(space.shape)
        self._adjoint = _Adjoint(self)

    @property
    def norm_bound(self):
        r"""Upper bound :math:`4d \ge \|\nabla\|^2` on the squared operator norm."""
        return 4.0 * self.domain.ndim

    def gram_symbol(self):
        r"""Fourier symbol of :math:`\nabla^T\nabla` with periodic instead of Neumann boundary.

        :math:`\lambda_k = \sum_{a=1}^d 4\sin^2(\pi k_a/n_a)` on the DFT grid
        (NumPy's ``fftfreq`` order): the eigenvalues of the periodic negative
        Laplacian, which the Neumann one matches away from the boundary (a
        preconditioner's approximation, not exact).

        >>> from odl_bilevel.operators import unit_cell_space
        >>> NeumannGradient(unit_cell_space(4)).gram_symbol().round(12).tolist()
        [0.0, 2.0, 4.0, 2.0]
        """
        shape = self.domain.shape
        total = np.zeros(shape)
        for a, n in enumerate(shape):
            lam = 4.0 * np.sin(np.pi * np.fft.fftfreq(n)) ** 2
            total += lam.reshape([n if b == a else 1 for b in range(len(shape))])
        return total

    @property
    def adjoint(self):
        r"""Adjoint :math:`\nabla^T = -\operatorname{div}` (cached)."""
        return self._adjoint

    def _call(self, x, out):
        self._apply(x.data, _parts(out))

    def _apply(self, x, outs):
        for k, o in enumerate(outs):
            self._sl.fwd(x, o, k)

    def _apply_adjoint(self, p, out):
        self._apply_adjoint_raw(_parts(p), out.data)

    def _apply_adjoint_raw(self, ps, out):
        """``out = sum_k (D+_k)^T ps[k]`` on raw arrays."""
        self._sl.fwd_adj(ps[0], out, 0)
        for k in range(1, len(ps)):
            self._sl.fwd_adj_add(ps[k], out, k)

    def __repr__(self):
        return f"{type(self).__name__}({self.domain!r})"


class SymmetrisedGradient(odl.Operator):
    r"""Symmetrised gradient :math:`\mathcal{E}v = \frac12(\nabla v + \nabla v^T)` of a field.

    For :math:`v = (v_1,\dots,v_d) \in X^d`, with backward differences
    :math:`D^-_k = -(D^+_k)^T`,

    .. math::

        (\mathcal{E}v)_{ii} = D^-_i v_i, \qquad
        (\mathcal{E}v)_{ij} = \tfrac12 (D^-_j v_i + D^-_i v_j) \quad (i \ne j),

    stored in the Frobenius-consistent layout of the module docstring: the
    :math:`d` diagonal entries, then :math:`\sqrt2(\mathcal{E}v)_{ij}`, :math:`i<j`
    (2-D: three components). The range is ``odl.ProductSpace(space, d(d+1)/2)``.

    Pairing forward differences for :math:`\nabla` (:class:`NeumannGradient`)
    with backward differences here is the discretisation of Bredies (2014): it
    makes :math:`\mathcal{E}\nabla` a centred, symmetric discrete Hessian and
    :math:`\mathcal{E}^T` (Frobenius adjoint) a forward-difference divergence of
    symmetric matrix fields, so that TGV's :math:`\nabla x - v` and
    :math:`\mathcal{E}v` are consistent.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X`; the domain is ``odl.ProductSpace(space, d)``.

    Notes
    -----
    Adjoint (with respect to the Frobenius inner product, i.e. the Euclidean one
    of the stored components :math:`w_c`):

    .. math::

        (\mathcal{E}^T w)_i = (D^-_i)^T w_{ii}
            + \tfrac{1}{\sqrt2} \sum_{j \ne i} (D^-_j)^T (\sqrt2 w_{ij}),
        \qquad (D^-_j)^T = -D^+_j.

    Bound: :math:`\|\mathcal{E}v\|^2 \le \sum_i \|D^-_i v_i\|^2 +
    \sum_{i<j} (\|D^-_j v_i\|^2 + \|D^-_i v_j\|^2) \le 4d\,\|v\|^2`, so
    :attr:`norm_bound` is :math:`4d` (8 in 2-D, as in Bredies et al. 2010).

    References
    ----------
    Bredies, K., Kunisch, K., Pock, T. (2010). Total generalized variation.
    *SIAM J. Imaging Sci.* 3(3), 492-526.

    Bredies, K. (2014). Recovering piecewise smooth multichannel images by
    minimization of convex functionals with total generalized variation penalty.
    LNCS 8293, 44-77.

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_adjoint
    >>> X = unit_cell_space((5, 6))
    >>> E = SymmetrisedGradient(X)
    >>> len(E.range), E.components, E.norm_bound
    (3, [(0, 0), (1, 1), (0, 1)], 8.0)
    >>> check_adjoint(E, rng=0).rel_error < 1e-12
    True
    """

    def __init__(self, space):
        require_unit_cell_space(space)
        d = space.ndim
        comps = symmetric_components(d)
        super().__init__(
            odl.ProductSpace(space, d), odl.ProductSpace(space, len(comps)), linear=True
        )
        self._space = space
        self._comps = comps
        self._sl = _Slices(space.shape)
        self._tmp = np.empty(space.shape, dtype=space.dtype)
        self._adjoint = _Adjoint(self)

    @property
    def components(self):
        """Index pairs ``(i, j)`` of the stored range components (see module docstring)."""
        return list(self._comps)

    @property
    def norm_bound(self):
        r"""Upper bound :math:`4d \ge \|\mathcal{E}\|^2` on the squared operator norm."""
        return 4.0 * self._space.ndim

    @property
    def adjoint(self):
        r"""Adjoint :math:`\mathcal{E}^T` (Frobenius inner product; cached)."""
        return self._adjoint

    def _call(self, v, out):
        self._apply(_parts(v), _parts(out))

    def _apply(self, vs, outs):
        """``outs = E vs`` on raw arrays (``vs``: d arrays, ``outs``: d(d+1)/2 arrays)."""
        sl = self._sl
        for c, (i, j) in enumerate(self._comps):
            o = outs[c]
            if i == j:
                sl.bwd(vs[i], o, i)
            else:
                sl.bwd(vs[i], o, j)
                sl.bwd_add(vs[j], o, i)
                o *= _INV_SQRT2

    def _apply_adjoint(self, w, out):
        self._apply_adjoint_raw(_parts(w), _parts(out))

    def _apply_adjoint_raw(self, ws, outs):
        """``outs = E^T ws`` on raw arrays."""
        sl, tmp = self._sl, self._tmp
        for o in outs:
            o[...] = 0
        for c, (i, j) in enumerate(self._comps):
            if i == j:
                sl.bwd_adj_add(ws[c], outs[i], i)
            else:
                np.multiply(ws[c], _INV_SQRT2, out=tmp)
                sl.bwd_adj_add(tmp, outs[i], j)
                sl.bwd_adj_add(tmp, outs[j], i)

    def to_matrix(self, w):
        r"""Return the matrix field of a range element as an array of shape ``(d, d, *shape)``.

        Undoes the :math:`\sqrt2` weighting of the off-diagonal components.
        """
        d = self._space.ndim
        arr = np.empty((d, d, *self._space.shape), dtype=self._space.dtype)
        for c, (i, j) in enumerate(self._comps):
            val = w[c].data if i == j else w[c].data * _INV_SQRT2
            arr[i, j] = val
            arr[j, i] = val
        return arr

    def __repr__(self):
        return f"{type(self).__name__}({self._space!r})"


class SecondOrderDifferences(odl.Operator):
    r"""Discrete Hessian :math:`\nabla^2 x = \mathcal{E}\nabla x` with Neumann boundary.

    .. math::

        (\nabla^2 x)_{ii} = D^-_i D^+_i x, \qquad
        (\nabla^2 x)_{ij} = \tfrac12 (D^-_j D^+_i x + D^-_i D^+_j x) \quad (i \ne j),

    i.e. the composition of :class:`SymmetrisedGradient` with
    :class:`NeumannGradient`. Diagonal entries are the centred second
    differences :math:`x_{i+1} - 2x_i + x_{i-1}` in the interior (Neumann at the
    boundary); the mixed derivatives are symmetrised. The range has the
    Frobenius-consistent layout of the module docstring (2-D:
    :math:`(\partial_{11}x, \partial_{22}x, \sqrt2\,\partial_{12}x)`), so
    :math:`|(\nabla^2x)_j|` is the pointwise Frobenius norm used by TV²; and
    TGV with :math:`v = \nabla x` penalises exactly :math:`\mathcal{E}v = \nabla^2 x`.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X`.

    Notes
    -----
    The adjoint is :math:`\nabla^T \mathcal{E}^T`. As
    :math:`\|\nabla^2\| \le \|\mathcal{E}\|\,\|\nabla\|`, the squared norm is at
    most :math:`16 d^2` (:attr:`norm_bound`).

    References
    ----------
    Bredies, K., Kunisch, K., Pock, T. (2010). Total generalized variation.
    *SIAM J. Imaging Sci.* 3(3), 492-526.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_adjoint
    >>> X = unit_cell_space(6)
    >>> H = SecondOrderDifferences(X)
    >>> [round(float(v), 6) for v in H(X.element(np.arange(6.0) ** 2))[0].data]
    [1.0, 2.0, 2.0, 2.0, 2.0, -9.0]
    >>> check_adjoint(H, rng=0).rel_error < 1e-12
    True
    """

    def __init__(self, space):
        require_unit_cell_space(space)
        self._grad = NeumannGradient(space)
        self._sym = SymmetrisedGradient(space)
        super().__init__(space, self._sym.range, linear=True)
        self._buf = np.empty((space.ndim, *space.shape), dtype=space.dtype)
        self._adjoint = _Adjoint(self)

    @property
    def norm_bound(self):
        r"""Upper bound :math:`16 d^2 \ge \|\nabla^2\|^2` on the squared operator norm."""
        return self._grad.norm_bound * self._sym.norm_bound

    @property
    def adjoint(self):
        r"""Adjoint :math:`\nabla^T\mathcal{E}^T` (cached)."""
        return self._adjoint

    def _call(self, x, out):
        self._apply(x.data, _parts(out))

    def _apply(self, x, outs):
        """``outs = E grad x`` on raw arrays."""
        buf = list(self._buf)
        self._grad._apply(x, buf)
        self._sym._apply(buf, outs)

    def _apply_adjoint(self, w, out):
        self._apply_adjoint_raw(_parts(w), out.data)

    def _apply_adjoint_raw(self, ws, out):
        """``out = grad^T E^T ws`` on raw arrays."""
        buf = list(self._buf)
        self._sym._apply_adjoint_raw(ws, buf)
        self._grad._apply_adjoint_raw(buf, out)

    def __repr__(self):
        return f"{type(self).__name__}({self.domain!r})"
