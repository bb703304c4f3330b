r"""Sampling patterns and the sampled Fourier (MRI) forward operator.

- :class:`CartesianSampling` spreads one weight per phase-encode line along
  the readout, :math:`s = P\theta`;
- :func:`free_sampling` is the free pattern (one weight per pixel),
  :math:`s = \theta`, i.e. the identity;
- :class:`SampledFourier` is :math:`A_s x = S F x`, :math:`S=\mathrm{diag}(s)`,
  written as a real-to-real operator onto stacked :math:`(\mathrm{Re}, \mathrm{Im})`
  so that it can share a ``BroadcastOperator`` with a gradient
  (DESIGN.md §3.3).

References
----------
F. Sherry, M. Benning, J. C. De los Reyes, M. J. Graves, G. Maierhofer,
G. Williams, C.-B. Schönlieb and M. J. Ehrhardt, "Learning the sampling
pattern for MRI", IEEE Trans. Med. Imaging 39(12):4310-4321, 2020.
"""

import numpy as np
import odl

from .._validation import require_element, require_in_unit_interval, require_unit_cell_space
from ._fourier import _check_fft_options, _flip_k, _plan

__all__ = ["CartesianSampling", "SampledFourier", "free_sampling"]


def _as_shape(shape):
    shape = (int(shape),) if np.isscalar(shape) else tuple(int(n) for n in shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"`shape` must be a non-empty tuple of positive ints, got {shape}")
    return shape


def free_sampling(shape, dtype="float64"):
    r"""Return the free pattern :math:`s = \theta`: ``odl.IdentityOperator(odl.rn(shape))``.

    Every k-space pixel has its own weight, so the map from parameters to
    per-pixel weights is the identity on :math:`\mathbb{R}^{n}`.

    Examples
    --------
    >>> P = free_sampling((4, 4))
    >>> P.domain.shape, float(P.norm(estimate=False))
    ((4, 4), 1.0)
    """
    return odl.IdentityOperator(odl.rn(_as_shape(shape), dtype=dtype))


class CartesianSampling(odl.Operator):
    r"""Cartesian line pattern :math:`P:\mathbb{R}^{n_a}\to\mathbb{R}^{n}`, one weight per line.

    With :math:`a` = ``axis`` (the phase-encode direction),

    .. math::
        (P\theta)_{j} = \theta_{j_a}, \qquad
        (P^T s)_i = \sum_{j:\ j_a = i} s_j ,

    i.e. each line weight is spread along the readout (all other axes) and the
    adjoint sums over the readout. :math:`\|P\|^2 = n / n_a`.

    Parameters
    ----------
    shape : tuple of int
        Shape :math:`n` of k-space.
    axis : int
        Phase-encode axis (default 0: line :math:`i` is ``s[i, :]``).
    dtype : str or numpy.dtype
        ``"float64"`` or ``"float32"``.

    Raises
    ------
    ValueError
        If ``shape`` or ``axis`` is invalid.

    References
    ----------
    Sherry et al., "Learning the sampling pattern for MRI", IEEE TMI 2020.

    Examples
    --------
    >>> from odl_bilevel.testing import check_adjoint
    >>> P = CartesianSampling((4, 3))
    >>> P([1.0, 0.0, 0.5, 0.0]).data.tolist()[2]
    [0.5, 0.5, 0.5]
    >>> check_adjoint(P, rng=0).passed
    True
    """

    def __init__(self, shape, *, axis=0, dtype="float64"):
        shape = _as_shape(shape)
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"`axis` must be an int, got {axis!r}")
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"`axis` must index one of the {len(shape)} axes, got {axis}")
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype("float32"), np.dtype("float64")):
            raise ValueError(f"`dtype` must be float32 or float64, got {dtype}")
        axis = int(axis) % len(shape)
        super().__init__(odl.rn(shape[axis], dtype=dtype), odl.rn(shape, dtype=dtype), linear=True)
        self._axis = axis
        self._bshape = tuple(n if d == axis else 1 for d, n in enumerate(shape))
        self._sum_axes = tuple(d for d in range(len(shape)) if d != axis)
        self._adjoint = _CartesianSamplingAdjoint(self)

    @property
    def axis(self):
        """The phase-encode axis."""
        return self._axis

    def _call(self, theta, out):
        np.copyto(out.data, theta.data.reshape(self._bshape))

    @property
    def adjoint(self):
        r""":math:`P^T`: sum over the readout."""
        return self._adjoint

    def norm(self, estimate=False, **kwargs):
        r"""Exact operator norm :math:`\sqrt{n / n_a}`."""
        return float(np.sqrt(self.range.size / self.domain.size))


class _CartesianSamplingAdjoint(odl.Operator):
    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    def _call(self, s, out):
        if self._op._sum_axes:
            np.sum(s.data, axis=self._op._sum_axes, out=out.data)
        else:
            np.copyto(out.data, s.data)

    @property
    def adjoint(self):
        return self._op


def _sampling_weights(weights, shape, name="weights"):
    """Validate per-pixel weights in [0, 1] of ``shape``; return a float64 copy."""
    data = weights.data if hasattr(weights, "space") else weights
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"`{name}` must be real-valued, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"`{name}` must have shape {tuple(shape)}, got {arr.shape}")
    arr = np.array(arr, dtype=float)
    require_in_unit_interval(arr, name)
    arr.flags.writeable = False
    return arr


class SampledFourier(odl.Operator):
    r"""MRI forward operator :math:`A_s x = S F x` as a real operator onto stacked (Re, Im).

    .. math::
        A_s: X=\mathbb{R}^n \to \mathbb{R}^{2\times n},\qquad
        A_s x = \big(\mathrm{Re}(s\odot Fx),\ \mathrm{Im}(s\odot Fx)\big),

    with :math:`F` the unitary DFT and :math:`s\in[0,1]^n` per-pixel weights.
    Its adjoint is :math:`A_s^T(u, v) = \mathrm{Re}\,F^H\big(s\odot(u+iv)\big)`
    and :math:`\|A_s\|^2 = \max_k (s_k^2 + s_{-k}^2)/2` (for real :math:`x`,
    :math:`A_s^TA_s = \mathrm{Re}\,F^H S^2 F` has the symmetrised weights as
    eigenvalues).

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Real unit-cell space :math:`X`.
    weights : array-like
        Per-pixel weights :math:`s` of shape ``space.shape`` in :math:`[0,1]`.
    impl, threads, planner_effort
        FFT options as in :class:`~odl_bilevel.operators.UnitaryDFT`.

    Raises
    ------
    TypeError
        If ``space`` is not a discretised/tensor space or ``weights`` is not real.
    ValueError
        If ``space`` is not a real unit-cell space, or ``weights`` has the
        wrong shape, is not finite or leaves :math:`[0, 1]`.

    References
    ----------
    Sherry et al., "Learning the sampling pattern for MRI", IEEE TMI 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_adjoint
    >>> X = unit_cell_space((8, 8))
    >>> s = np.random.default_rng(0).uniform(size=(8, 8))
    >>> A = SampledFourier(X, s)
    >>> A.range.shape, check_adjoint(A, rng=0).passed
    ((2, 8, 8), True)
    >>> G = odl.Gradient(X, pad_mode="symmetric")
    >>> K = odl.BroadcastOperator(A, G)
    >>> round(float(K(X.one())[0].norm()), 6) == round(float(s[0, 0] * 8), 6)
    True
    """

    def __init__(self, space, weights, *, impl="pyfftw", threads=1, planner_effort="FFTW_MEASURE"):
        require_unit_cell_space(space)
        opts = dict(zip(("impl", "threads", "planner_effort"),
                        _check_fft_options(impl, threads, planner_effort), strict=True))
        self._weights = _sampling_weights(weights, space.shape)
        super().__init__(space, odl.rn((2,) + space.shape, dtype=space.dtype), linear=True)
        self._opts = opts
        self._cdtype = space.complex_space.dtype
        self._scale = 1.0 / np.sqrt(float(space.size))
        # s / sqrt(N) in the working precision: fuses normalisation and sampling
        self._ws = (self._weights * self._scale).astype(space.dtype)
        self._adjoint = _SampledFourierAdjoint(self)

    @property
    def weights(self):
        """Per-pixel weights :math:`s` (read-only float64 array)."""
        return self._weights

    def _transform(self, x):
        """Return the unnormalised full DFT of ``x`` (the plan's output buffer)."""
        plan = _plan("fwd", self.domain.shape, self._cdtype, **self._opts)
        np.copyto(plan.input, x.data, casting="unsafe")
        return plan.execute()

    def _call(self, x, out):
        res = self._transform(x)
        np.multiply(res.real, self._ws, out=out.data[0])
        np.multiply(res.imag, self._ws, out=out.data[1])

    @property
    def adjoint(self):
        r""":math:`A_s^T(u,v) = \mathrm{Re}\,F^H(s\odot(u+iv))`."""
        return self._adjoint

    def norm(self, estimate=False, **kwargs):
        r"""Exact operator norm :math:`\max_k \sqrt{(s_k^2+s_{-k}^2)/2}`."""
        w = self._weights**2
        return float(np.sqrt(np.max(0.5 * (w + _flip_k(w)))))

    def weight_derivative(self, x):
        r"""Return the linear map :math:`\delta s \mapsto \partial_s(A_s x)[\delta s]`.

        .. math::
            \delta s \mapsto \big(\mathrm{Re}(\delta s\odot Fx),\
            \mathrm{Im}(\delta s\odot Fx)\big), \qquad
            (u, v) \mapsto \mathrm{Re}(Fx)\odot u + \mathrm{Im}(Fx)\odot v
            \ \text{(adjoint)},

        from ``odl.rn(space.shape)`` to :attr:`range`.

        Parameters
        ----------
        x : element of ``self.domain``
            The point :math:`x`.

        Examples
        --------
        >>> import numpy as np
        >>> from odl_bilevel.operators import unit_cell_space
        >>> from odl_bilevel.testing import check_adjoint
        >>> X = unit_cell_space((6,))
        >>> A = SampledFourier(X, np.full(6, 0.5))
        >>> check_adjoint(A.weight_derivative(X.one()), rng=0).passed
        True
        """
        x = require_element(x, self.domain, "x")
        res = self._transform(x)
        fx = np.stack([res.real, res.imag]) * self._scale
        return _WeightDerivative(self, fx.astype(self.domain.dtype))

    def __repr__(self):
        return f"SampledFourier({self.domain!r}, weights=<{self._weights.shape} array>)"


class _SampledFourierAdjoint(odl.Operator):
    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    def _call(self, z, out):
        op = self._op
        plan = _plan("bwd", op.domain.shape, op._cdtype, **op._opts)
        buf = plan.input
        np.multiply(z.data[0], op._ws, out=buf.real)
        np.multiply(z.data[1], op._ws, out=buf.imag)
        res = plan.execute()
        np.copyto(out.data, res.real, casting="unsafe")

    @property
    def adjoint(self):
        return self._op


class _WeightDerivative(odl.Operator):
    """``ds -> (Re, Im)(ds * F x)`` for a fixed ``x``; ``fx`` is stacked (Re, Im) of ``F x``."""

    def __init__(self, op, fx):
        dom = odl.rn(op.domain.shape, dtype=op.domain.dtype)
        super().__init__(dom, op.range, linear=True)
        self._fx = fx
        self._adjoint = _WeightDerivativeAdjoint(self)

    def _call(self, ds, out):
        np.multiply(self._fx, ds.data, out=out.data)

    @property
    def adjoint(self):
        return self._adjoint


class _WeightDerivativeAdjoint(odl.Operator):
    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    def _call(self, z, out):
        fx = self._op._fx
        np.multiply(fx[0], z.data[0], out=out.data)
        out.data += fx[1] * z.data[1]

    @property
    def adjoint(self):
        return self._op
