r"""Banks of convolution filters :math:`K x = (k_1 * x, \dots, k_K * x)`.

Used by fields-of-experts regularisers (Roth & Black 2009) and analysis-operator
learning (Chen, Ranftl & Pock 2014). Kernels have odd sizes and are centred,
so :math:`(k * x)_i = \sum_j k_j\, x_{i + c - j}` with :math:`c` the centre
index of the kernel (multi-indices in 2-D). Two boundary conditions keep the
adjoint exact:

- ``"periodic"``: :math:`x` is extended periodically; the adjoint is periodic
  correlation with the same kernel;
- ``"zero"``: :math:`x` is extended by zeros; the adjoint is zero-extended
  correlation (same output size).

Mirror ("symmetric") extension is not offered: its adjoint is not a
correlation with mirror extension, so it would need a separate boundary
correction to be exact.
"""

import numpy as np
import odl
import scipy.ndimage as ndi

from .._validation import require_unit_cell_space

__all__ = ["FilterBank", "FilterDerivative", "dct_filters"]

_MODES = {"periodic": "wrap", "zero": "constant"}


def _as_filters(filters, ndim, name="filters"):
    """Validate a filter array of shape ``(K,) + kernel_shape`` (float64 copy)."""
    if np.iscomplexobj(filters):
        raise TypeError(f"`{name}` must be real-valued")
    try:
        arr = np.array(filters, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`{name}` must be a real array, got {type(filters).__name__}") from err
    if arr.ndim != ndim + 1:
        raise ValueError(
            f"`{name}` must have shape (K,) + kernel_shape with {ndim} kernel axes, "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] < 1:
        raise ValueError(f"`{name}` must hold at least one filter, got shape {arr.shape}")
    if any(n % 2 == 0 for n in arr.shape[1:]):
        raise ValueError(f"`{name}` kernels must have odd sizes, got kernel shape {arr.shape[1:]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` contains NaN or Inf")
    return arr


def dct_filters(kernel_shape):
    r"""Return the zero-mean DCT basis as a filter set.

    The orthonormal DCT-II basis of :math:`\mathbb{R}^{n_1\times\dots\times n_d}`
    without its constant element: :math:`\prod_i n_i - 1` kernels
    :math:`k_{(l)}(j) = \prod_i C_{l_i j_i}`, :math:`l \ne 0`, with
    :math:`C_{lj} = s_l \cos(\pi l (2j+1) / (2n))`,
    :math:`s_0 = \sqrt{1/n}`, :math:`s_l = \sqrt{2/n}` otherwise. Every kernel
    has unit :math:`\ell_2` norm and zero mean, so the filter responses do not
    see constant images -- the usual initialisation of fields of experts
    (Roth & Black 2009; Chen, Ranftl & Pock 2014).

    Parameters
    ----------
    kernel_shape : int or tuple of int
        Odd kernel size per axis, e.g. ``(3, 3)`` or ``5``.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(prod(kernel_shape) - 1,) + kernel_shape``.

    Raises
    ------
    ValueError
        If a size is not a positive odd integer or the kernel has one entry.

    References
    ----------
    S. Roth and M. J. Black, "Fields of Experts", IJCV 82 (2009) 205-229.
    Y. Chen, R. Ranftl and T. Pock, "Insights into analysis operator learning:
    from patch-based sparse models to higher order MRFs", IEEE TIP 23 (2014).

    Examples
    --------
    >>> k = dct_filters((3, 3))
    >>> k.shape, round(float(abs(k.sum(axis=(1, 2))).max()), 12)
    ((8, 3, 3), 0.0)
    >>> m = k.reshape(8, -1)
    >>> round(float(abs(m @ m.T - np.eye(8)).max()), 12)  # orthonormal
    0.0
    """
    shape = (int(kernel_shape),) if np.isscalar(kernel_shape) else tuple(map(int, kernel_shape))
    if not shape or any(n < 1 or n % 2 == 0 for n in shape):
        raise ValueError(f"`kernel_shape` must hold positive odd sizes, got {kernel_shape!r}")
    if int(np.prod(shape)) < 2:
        raise ValueError(f"`kernel_shape` must have more than one entry, got {shape}")
    mats = []
    for n in shape:
        j = np.arange(n)
        c = np.cos(np.pi * np.outer(j, 2 * j + 1) / (2 * n)) * np.sqrt(2.0 / n)
        c[0] = np.sqrt(1.0 / n)
        mats.append(c)
    basis = mats[0]
    for c in mats[1:]:
        basis = np.einsum("a...,bj->ab...j", basis, c).reshape(
            (basis.shape[0] * c.shape[0],) + basis.shape[1:] + (c.shape[1],)
        )
    return np.ascontiguousarray(basis[1:])


class FilterBank(odl.Operator):
    r"""Filter bank :math:`K: X \to X^K`, :math:`Kx = (k_1 * x, \dots, k_K * x)`.

    With :math:`c` the centre of the (odd-sized) kernels,
    :math:`(k * x)_i = \sum_j k_j\, x_{i+c-j}` and the adjoint is the sum of
    correlations :math:`K^T(y_1,\dots,y_K)_m = \sum_k \sum_j k_{k,j}\, y_{k,m-c+j}`,
    with the same periodic or zero extension.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X` (1-D or 2-D, float32 or float64).
    filters : array-like
        Kernels, shape ``(K,) + kernel_shape`` with ``len(kernel_shape) ==
        space.ndim``, odd sizes no larger than the image.
    boundary : {"periodic", "zero"}
        Extension of :math:`x` beyond the image.

    Raises
    ------
    ValueError
        Wrong filter shape, even kernel sizes, NaN/Inf, kernels larger than
        the image or unknown ``boundary``.
    TypeError
        If ``space`` is not a unit-cell space or ``filters`` is not real.

    Notes
    -----
    Adjoint: :math:`\langle k*x, y\rangle = \sum_i\sum_j k_j x_{i+c-j} y_i
    = \sum_m x_m \sum_j k_j y_{m-c+j}` (substitute :math:`m=i+c-j`), valid
    exactly when both index shifts wrap around (periodic) or fall off with
    zeros (zero boundary). :math:`\|K\|^2 = \|\sum_k K_k^TK_k\| \le
    \sum_k \|k_k\|_1^2` by Young's inequality (:attr:`norm_bound`, a bound on the
    *squared* norm like ``NeumannGradient.norm_bound``).

    Convolutions run through ``scipy.ndimage`` on the raw arrays, writing into
    the parts of ``out``; the operator owns a work buffer, so it is not
    thread-safe (build one per thread or process).

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import random_element
    >>> X = unit_cell_space((8, 8))
    >>> K = FilterBank(X, dct_filters((3, 3)))
    >>> x, y = random_element(X, 0), random_element(K.range, 1)
    >>> round(K(x).inner(y) / x.inner(K.adjoint(y)), 10)
    1.0
    >>> round(float(K(X.one()).norm()), 10)  # zero-mean filters ignore constants
    0.0
    """

    def __init__(self, space, filters, *, boundary="periodic"):
        require_unit_cell_space(space)
        filters = _as_filters(filters, space.ndim)
        if boundary not in _MODES:
            raise ValueError(f"`boundary` must be one of {sorted(_MODES)}, got {boundary!r}")
        if any(k > n for k, n in zip(filters.shape[1:], space.shape, strict=True)):
            raise ValueError(
                f"`filters` kernels {filters.shape[1:]} must not exceed the image {space.shape}"
            )
        super().__init__(space, odl.ProductSpace(space, filters.shape[0]), linear=True)
        filters.flags.writeable = False
        self._filters64 = filters
        self._filters = filters.astype(space.dtype)
        self._filters.flags.writeable = False
        self._boundary = boundary
        self._mode = _MODES[boundary]
        self._center = tuple(n // 2 for n in filters.shape[1:])
        self._tmp = np.empty(space.shape, dtype=space.dtype)
        self._adjoint = _FilterBankAdjoint(self)

    # -- properties --------------------------------------------------------
    @property
    def filters(self):
        """The kernels, shape ``(K,) + kernel_shape`` (read-only float64)."""
        return self._filters64

    @property
    def n_filters(self):
        """Number of filters :math:`K`."""
        return self._filters64.shape[0]

    @property
    def kernel_shape(self):
        """Shape of one kernel."""
        return self._filters64.shape[1:]

    @property
    def kernel_size(self):
        """Number of coefficients of one kernel."""
        return int(np.prod(self.kernel_shape))

    @property
    def boundary(self):
        """``"periodic"`` or ``"zero"``."""
        return self._boundary

    @property
    def norm_bound(self):
        r"""Upper bound :math:`\sum_k \|k_k\|_1^2 \ge \|K\|^2` on the squared operator norm."""
        l1 = np.abs(self._filters64).reshape(self.n_filters, -1).sum(axis=1)
        return float(np.sum(l1**2))

    @property
    def adjoint(self):
        """Sum of correlations :math:`K^T`; built once."""
        return self._adjoint

    def filter_derivative(self, x):
        r"""Return :math:`D_x: \delta c \mapsto (\delta k_1 * x, \dots, \delta k_K * x)`.

        The derivative of :math:`c \mapsto K(c)\,x` with respect to the filter
        coefficients, a :class:`FilterDerivative` from ``odl.rn(K * kernel_size)``
        (kernels flattened row-major, one after the other) to :attr:`range`.

        Parameters
        ----------
        x : element of :attr:`domain` or array-like
            The image the filters act on (copied).
        """
        return FilterDerivative(self, x)

    def _call(self, x, out):
        self._apply_raw(x.data, [p.data for p in out])

    # -- raw kernels (shared with the fields-of-experts functional) ---------
    def _apply_raw(self, x, outs, filters=None):
        """Write ``filters[k] * x`` into ``outs[k]`` (raw arrays)."""
        filters = self._filters if filters is None else filters
        for k, out in enumerate(outs):
            ndi.convolve(x, filters[k], output=out, mode=self._mode)

    def _adjoint_raw(self, ys, out, filters=None):
        """Write ``sum_k correlate(ys[k], filters[k])`` into ``out`` (raw arrays)."""
        filters = self._filters if filters is None else filters
        tmp = self._tmp if out.dtype == self._tmp.dtype else np.empty_like(out)
        ndi.correlate(ys[0], filters[0], output=out, mode=self._mode)
        for k in range(1, len(filters)):
            ndi.correlate(ys[k], filters[k], output=tmp, mode=self._mode)
            out += tmp

    def _padded(self, x):
        pad = [(c, c) for c in self._center]
        return np.pad(x, pad, mode="wrap" if self._boundary == "periodic" else "constant")

    def _coef_adjoint_raw(self, xpad, ys, out):
        r"""Write :math:`D_x^T y` into ``out`` (shape ``(K, kernel_size)``, float64).

        ``(D_x^T y)_{k,j} = <y_k, S_{c-j} x>`` with :math:`(S_s x)_i = x_{i+s}`,
        read from the padded image ``xpad`` (:meth:`_padded`).
        """
        ymat = np.asarray(ys, dtype=float).reshape(len(ys), -1)
        shape = self.domain.shape
        out = out.reshape(len(ys), self.kernel_size)
        for flat, j in enumerate(np.ndindex(*self.kernel_shape)):
            # S_{c-j} x = xpad[i + (c - j) + c]
            sl = tuple(
                slice(2 * c - jj, 2 * c - jj + n)
                for c, jj, n in zip(self._center, j, shape, strict=True)
            )
            window = np.ascontiguousarray(xpad[sl]).ravel()
            # einsum, not `@`: BLAS gemv was 30x slower here for (K, N) @ (N,)
            out[:, flat] = np.einsum("kn,n->k", ymat, window.astype(float, copy=False))


class _FilterBankAdjoint(odl.Operator):
    def __init__(self, bank):
        super().__init__(bank.range, bank.domain, linear=True)
        self._bank = bank

    def _call(self, y, out):
        self._bank._adjoint_raw([p.data for p in y], out.data)

    @property
    def adjoint(self):
        return self._bank


class FilterDerivative(odl.Operator):
    r"""Derivative of a filter bank in its coefficients, at a fixed image :math:`x`.

    :math:`D_x: \mathbb{R}^{K n_k} \to X^K`,
    :math:`D_x\,\delta c = (\delta k_1 * x, \dots, \delta k_K * x)`, where
    :math:`\delta c` stacks the kernels :math:`\delta k_k` (each flattened
    row-major). Built by :meth:`FilterBank.filter_derivative`.

    Notes
    -----
    :math:`(\delta k * x)_i = \sum_j \delta k_j (S_{c-j}x)_i` with the shift
    :math:`(S_s x)_i = x_{i+s}` (periodic or zero extension), so the adjoint is
    :math:`(D_x^T y)_{k,j} = \langle y_k, S_{c-j}x\rangle`: one shifted copy
    of :math:`x` per kernel entry and a matrix-vector product with the stacked
    :math:`y`.

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import random_element
    >>> X = unit_cell_space(16)
    >>> K = FilterBank(X, dct_filters(3))
    >>> D = K.filter_derivative(random_element(X, 0))
    >>> c = D.domain.element(K.filters.ravel())
    >>> round(float((D(c) - K(D.x)).norm()), 10)  # linear in the filters
    0.0
    >>> u, y = random_element(D.domain, 1), random_element(D.range, 2)
    >>> round(D(u).inner(y) / u.inner(D.adjoint(y)), 10)
    1.0
    """

    def __init__(self, bank, x):
        if not isinstance(bank, FilterBank):
            raise TypeError(f"`bank` must be a FilterBank, got {type(bank).__name__}")
        x = np.array(x.data if hasattr(x, "space") else x, dtype=bank.domain.dtype)
        if x.shape != bank.domain.shape:
            raise ValueError(f"`x` must have shape {bank.domain.shape}, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("`x` contains NaN or Inf")
        super().__init__(odl.rn(bank.n_filters * bank.kernel_size), bank.range, linear=True)
        self._bank = bank
        self._x = x
        self._xpad = bank._padded(x)
        self._adjoint = _FilterDerivativeAdjoint(self)

    @property
    def x(self):
        """The image :math:`x` (an element of the bank's domain)."""
        return self._bank.domain.element(self._x.copy())

    @property
    def adjoint(self):
        """:math:`D_x^T`, built once."""
        return self._adjoint

    def _call(self, dc, out):
        bank = self._bank
        kernels = np.asarray(dc.data).reshape(bank.filters.shape)
        bank._apply_raw(self._x, [p.data for p in out], kernels)


class _FilterDerivativeAdjoint(odl.Operator):
    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    def _call(self, y, out):
        buf = np.empty(self.range.shape, dtype=float)
        self._op._bank._coef_adjoint_raw(self._op._xpad, [p.data for p in y], buf)
        out.data[:] = buf

    @property
    def adjoint(self):
        return self._op
