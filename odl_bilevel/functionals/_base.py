r"""Base classes for functionals with parameters: :math:`F(x; \theta)`.

Bilevel learning needs, besides the value, gradient and Hessian of a
functional in :math:`x`, its derivatives with respect to the parameters
:math:`\theta \in \mathbb{R}^p`:

- :meth:`ParametrisedFunctional.param_gradient` returns
  :math:`\partial_\theta F(x;\theta) \in \mathbb{R}^p`;
- :meth:`ParametrisedFunctional.mixed_derivative` returns the linear operator
  :math:`\partial_\theta \nabla_x F(x;\theta) : \mathbb{R}^p \to X`,
  :math:`\delta\theta \mapsto \frac{d}{dt}\nabla_x F(x; \theta + t\,\delta\theta)|_{t=0}`,
  together with its adjoint :math:`X \to \mathbb{R}^p` (the matrix
  :math:`C^T` of the implicit-function theorem, DESIGN.md §1).

Error bounds for inexact hypergradients also need how fast the Hessian and
the mixed derivative change with :math:`x`:
:attr:`ParametrisedFunctional.hessian_lipschitz` (:math:`L_B`) and
:attr:`ParametrisedFunctional.mixed_lipschitz` (:math:`L_C`), ``nan`` where
unknown.

Functionals are immutable: :meth:`ParametrisedFunctional.with_params` returns
a new functional with other parameters (cheap; caches are rebuilt lazily).
"""

import math

import numpy as np
import odl

from .._validation import require_finite
from ..operators import FourierMultiplier

__all__ = [
    "HessianOperator",
    "ParamLinearOperator",
    "ParametrisedFunctional",
    "ParametrisedSum",
    "inner",
]


def _add_into(out, other):
    """``out += other`` on the raw arrays (ODL's ``+=`` costs a lincomb per call)."""
    if isinstance(out.space, odl.ProductSpace):
        for o, t in zip(out, other, strict=True):
            _add_into(o, t)
    else:
        np.add(out.data, other.data, out=out.data)


def inner(a, b):
    """Euclidean inner product of two elements (or product-space elements), as float."""
    if isinstance(a.space, odl.ProductSpace):
        return float(sum(inner(ai, bi) for ai, bi in zip(a, b, strict=True)))
    return float(np.vdot(a.data.ravel(), b.data.ravel()).real)


class HessianOperator(odl.Operator):
    """Base for self-adjoint linear operators :math:`H = \\nabla^2_x F(x)`.

    Subclasses implement ``_call(self, v, out)``; ``adjoint`` returns ``self``.
    """

    def __init__(self, space):
        super().__init__(space, space, linear=True)

    @property
    def adjoint(self):
        """The Hessian is symmetric: its adjoint is itself."""
        return self


class ParamLinearOperator(odl.Operator):
    r"""Linear operator :math:`\mathbb{R}^p \to X` given by two kernels.

    Parameters
    ----------
    param_space : odl.TensorSpace
        Domain :math:`\mathbb{R}^p`.
    space : odl.LinearSpace
        Range :math:`X`.
    forward : callable
        ``forward(dtheta, out)`` writes :math:`M\,\delta\theta` into the
        range element ``out``; ``dtheta`` is a float64 numpy array.
    backward : callable
        ``backward(v, out)`` writes :math:`M^T v` into the numpy array ``out``
        (float64, shape ``(p,)``) for a range element ``v``.
    """

    def __init__(self, param_space, space, forward, backward):
        super().__init__(param_space, space, linear=True)
        self._forward = forward
        self._backward = backward
        self._adjoint = _ParamLinearAdjoint(self)

    def _call(self, dtheta, out):
        self._forward(np.asarray(dtheta.data, dtype=float), out)

    @property
    def adjoint(self):
        """Adjoint :math:`M^T: X \\to \\mathbb{R}^p`."""
        return self._adjoint


class _ParamLinearAdjoint(odl.Operator):
    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    def _call(self, v, out):
        buf = np.zeros(self.range.shape, dtype=float)
        self._op._backward(v, buf)
        out.data[:] = buf

    @property
    def adjoint(self):
        return self._op


class ParametrisedFunctional(odl.functionals.Functional):
    r"""Abstract smooth functional :math:`F(x; \theta)` with parameter derivatives.

    Subclasses implement ``_call``, ``gradient`` (an Operator whose
    ``derivative(x)`` is the Hessian), :meth:`param_gradient`,
    :meth:`mixed_derivative` and ``_with_params``.

    Parameters
    ----------
    space : odl.LinearSpace
        Domain :math:`X`.
    params : array-like
        Parameter vector :math:`\theta` (stored as a read-only float64 copy).
    param_names : sequence of str, optional
        One name per block of parameters, e.g. ``("alpha", "nu")``; default
        ``("theta",)``.
    grad_lipschitz : float, optional
        Lipschitz constant of :math:`\nabla_x F` (``nan`` if unknown/none).
    """

    def __init__(self, space, params, *, param_names=("theta",), grad_lipschitz=np.nan):
        super().__init__(space, linear=False, grad_lipschitz=float(grad_lipschitz))
        params = np.array(params, dtype=float).ravel()
        require_finite(params, "params")
        params.flags.writeable = False
        self._params = params
        self._param_names = tuple(param_names)
        self._param_space = odl.rn(params.size)

    @property
    def params(self):
        r"""Current parameter vector :math:`\theta` (read-only float64 array)."""
        return self._params

    @property
    def param_names(self):
        """Names of the parameter blocks, in the order they appear in ``params``."""
        return self._param_names

    @property
    def param_space(self):
        r""":math:`\mathbb{R}^p` as an ``odl.rn(p)`` (float64)."""
        return self._param_space

    @property
    def strong_convexity(self):
        r"""Modulus :math:`\mu \ge 0` with :math:`\nabla^2_x F \succeq \mu I` (0: only convex)."""
        return 0.0

    @property
    def hessian_lipschitz(self):
        r"""Lipschitz constant :math:`L_B` of :math:`x \mapsto \nabla^2_x F(x;\theta)`.

        In the operator norm (Euclidean norms on the unit-cell space),

        .. math::
            \|\nabla^2_xF(x)v - \nabla^2_xF(z)v\| \le L_B\,\|x - z\|\,\|v\|
            \quad\text{for all } x, z, v;

        0 for quadratics, ``nan`` if unknown (the base-class default).
        """
        return math.nan

    @property
    def mixed_lipschitz(self):
        r"""Lipschitz constant :math:`L_C` of :math:`x \mapsto C(x) = \partial_\theta\nabla_x F`.

        With :math:`C(x)` = :meth:`mixed_derivative` (a map
        :math:`\mathbb{R}^p \to X`) and Euclidean norms on both spaces,

        .. math::
            \|(C(x) - C(z))\delta\| \le L_C\,\|x - z\|\,\|\delta\|
            \quad\text{for all } x, z \in X,\ \delta\in\mathbb{R}^p,

        i.e. :math:`\|C(x) - C(z)\| \le L_C\|x-z\|` (also for :math:`C^T`);
        ``nan`` if unknown (the base-class default).
        """
        return math.nan

    def with_params(self, theta):
        r"""Return the same functional with parameters ``theta``.

        Raises
        ------
        ValueError
            If ``theta`` has the wrong size, holds NaN/Inf or is out of range.
        """
        theta = np.asarray(theta.data if hasattr(theta, "data") else theta, dtype=float).ravel()
        if theta.size != self._params.size:
            raise ValueError(f"`theta` must have {self._params.size} entries, got {theta.size}")
        require_finite(theta, "theta")
        return self._with_params(theta)

    def _with_params(self, theta):
        raise NotImplementedError

    def param_gradient(self, x):
        r"""Return :math:`\partial_\theta F(x;\theta)` as an element of :attr:`param_space`."""
        raise NotImplementedError

    def mixed_derivative(self, x):
        r"""Return the linear operator :math:`\partial_\theta\nabla_x F(x;\theta)`.

        It maps :math:`\mathbb{R}^p \to X` and has an exact ``adjoint``.
        """
        raise NotImplementedError

    def fourier_symbol(self, x):
        r"""Fourier symbol :math:`h` of (an approximation of) the Hessian at ``x``, or None.

        A real array over the DFT grid (NumPy's ``fftfreq`` order; a scalar
        for a multiple of the identity) with :math:`h_k = h_{-k} \ge 0`, such
        that :math:`\nabla^2_xF(x) \approx \mathrm{Re}\,F^H\mathrm{diag}(h)F`
        (exact for translation-invariant quadratic terms). Only used to build
        :meth:`hessian_preconditioner`, so a rough approximation is fine; the
        base class has none (None).
        """
        return None

    def fourier_majorant(self):
        r"""Fourier symbol :math:`m` of a global majorant of the Hessian, or None.

        A real array over the DFT grid (NumPy's ``fftfreq`` order) or a
        scalar, with :math:`m_k = m_{-k} \ge 0`, such that for every :math:`x`

        .. math::

            \nabla^2_xF(x) \preceq \mathrm{Re}\,F^H\mathrm{diag}(m)F,

        i.e. :math:`F` is 1-smooth in the metric of :math:`M = F^H\mathrm{diag}(m)F`:
        :math:`F(x + d) \le F(x) + \langle\nabla F(x), d\rangle + \frac12\langle d, Md\rangle`.
        :func:`~odl_bilevel.solvers.fista` then takes the step
        :math:`M^{-1}\nabla E` (preconditioned FISTA) instead of
        :math:`\nabla E/L`. Unlike :meth:`fourier_symbol` this must be a true
        bound (checked by :func:`~odl_bilevel.testing.check_fourier_majorant`);
        the base class has none (None).
        """
        return None

    def majorant_preconditioner(self):
        r""":math:`M^{-1}` for preconditioned FISTA, from :meth:`fourier_majorant`, or None.

        :class:`~odl_bilevel.operators.FourierMultiplier` with symbol
        :math:`1/m` when the majorant :math:`m` is an array over the DFT grid
        with :math:`m > 0` everywhere; None otherwise (no majorant, or a
        scalar one, which is plain FISTA with step :math:`1/m`).
        """
        m = self.fourier_majorant()
        if m is None:
            return None
        m = np.asarray(m, dtype=np.float64)
        if m.shape != tuple(self.domain.shape) or not (np.all(np.isfinite(m)) and m.min() > 0.0):
            return None
        return FourierMultiplier(self.domain, 1.0 / m)

    def hessian_preconditioner(self, x):
        r"""An SPD approximation :math:`M \approx (\nabla^2_xF(x))^{-1}` for CG, or None.

        :class:`~odl_bilevel.operators.FourierMultiplier` with symbol
        :math:`1/h`, :math:`h` = :meth:`fourier_symbol`, when that exists and is
        positive; None otherwise (CG then runs unpreconditioned).
        """
        h = self.fourier_symbol(x)
        if h is None:
            return None
        h = np.broadcast_to(np.asarray(h, dtype=np.float64), self.domain.shape)
        if not (np.all(np.isfinite(h)) and h.min() > 0.0):
            return None
        return FourierMultiplier(self.domain, 1.0 / h)


class ParametrisedSum(ParametrisedFunctional):
    r"""Sum :math:`F(x;\theta) = \sum_k F_k(x;\theta_k)`, :math:`\theta=(\theta_1,\dots)`.

    Parameters are concatenated in the order of the summands; gradients,
    Hessians, Lipschitz constants (:attr:`grad_lipschitz`,
    :attr:`hessian_lipschitz`, :attr:`mixed_lipschitz`) and strong-convexity
    moduli add up (``nan`` if any summand's constant is unknown).

    The sum rule for :attr:`mixed_lipschitz` holds because :math:`C(x)` is
    the block row :math:`[C_1(x), C_2(x), \dots]` acting on disjoint blocks
    :math:`\delta_k` of :math:`\delta`:
    :math:`\|\sum_k (C_k(x) - C_k(z))\delta_k\| \le \sum_k L_{C,k}\|x-z\|\|\delta_k\|
    \le (\sum_k L_{C,k})\|x-z\|\|\delta\|`.

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.functionals import Tikhonov, ParametrisedSum
    >>> X = odl.uniform_discr([0, 0], [4, 4], (4, 4))
    >>> f = ParametrisedSum(Tikhonov(X, xi=1.0), Tikhonov(X, xi=2.0))
    >>> round(f(X.one()), 6), f.params.tolist(), f.strong_convexity
    (24.0, [1.0, 2.0], 3.0)
    """

    def __init__(self, *functionals):
        if not functionals:
            raise ValueError("`functionals` must not be empty")
        space = functionals[0].domain
        for k, f in enumerate(functionals):
            if not isinstance(f, ParametrisedFunctional):
                raise TypeError(
                    f"`functionals[{k}]` must be a ParametrisedFunctional, got {type(f).__name__}"
                )
            if f.domain != space:
                raise ValueError(f"`functionals[{k}]` has domain {f.domain}, expected {space}")
        self._terms = tuple(functionals)
        sizes = [f.params.size for f in functionals]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        names = tuple(n for f in functionals for n in f.param_names)
        lip = float(sum(f.grad_lipschitz for f in functionals))
        super().__init__(
            space,
            np.concatenate([f.params for f in functionals]),
            param_names=names,
            grad_lipschitz=lip,
        )
        self._gradient = _SumGradient(self)

    @property
    def terms(self):
        """The summands :math:`F_k`."""
        return self._terms

    @property
    def strong_convexity(self):
        return float(sum(f.strong_convexity for f in self._terms))

    @property
    def hessian_lipschitz(self):
        return float(sum(f.hessian_lipschitz for f in self._terms))

    @property
    def mixed_lipschitz(self):
        return float(sum(f.mixed_lipschitz for f in self._terms))

    def fourier_symbol(self, x):
        """The sum of the summands' symbols; None if one of them has none."""
        total = 0.0
        for f in self._terms:
            h = f.fourier_symbol(x)
            if h is None:
                return None
            total = total + np.asarray(h, dtype=np.float64)
        return total

    def fourier_majorant(self):
        """The sum of the summands' majorants; None if one of them has none."""
        total = 0.0
        for f in self._terms:
            m = f.fourier_majorant()
            if m is None:
                return None
            total = total + np.asarray(m, dtype=np.float64)
        return total

    def _blocks(self, theta):
        return [theta[a:b] for a, b in zip(self._offsets[:-1], self._offsets[1:], strict=True)]

    def _with_params(self, theta):
        return ParametrisedSum(
            *[f.with_params(t) for f, t in zip(self._terms, self._blocks(theta), strict=True)]
        )

    def _call(self, x):
        return float(sum(f(x) for f in self._terms))

    @property
    def gradient(self):
        r""":math:`\nabla_x F = \sum_k \nabla_x F_k`."""
        return self._gradient

    def param_gradient(self, x):
        return self.param_space.element(
            np.concatenate([f.param_gradient(x).data for f in self._terms])
        )

    def mixed_derivative(self, x):
        ops = [f.mixed_derivative(x) for f in self._terms]
        blocks = self._blocks
        space = self.domain

        def forward(dtheta, out):
            out.set_zero()
            tmp = space.element()
            for op, d in zip(ops, blocks(dtheta), strict=True):
                op(op.domain.element(d), out=tmp)
                _add_into(out, tmp)

        def backward(v, out):
            bounds = zip(self._offsets[:-1], self._offsets[1:], strict=True)
            for op, (a, b) in zip(ops, bounds, strict=True):
                out[a:b] = op.adjoint(v).data

        return ParamLinearOperator(self.param_space, space, forward, backward)


class _SumGradient(odl.Operator):
    def __init__(self, func):
        super().__init__(func.domain, func.domain)
        self._grads = [f.gradient for f in func.terms]
        self._tmp = None

    def _call(self, x, out):
        if self._tmp is None:
            self._tmp = self.domain.element()
        self._grads[0](x, out=out)
        for g in self._grads[1:]:
            g(x, out=self._tmp)
            _add_into(out, self._tmp)

    def derivative(self, x):
        return _SumHessian(self.domain, [g.derivative(x) for g in self._grads])


class _SumHessian(HessianOperator):
    def __init__(self, space, hessians):
        super().__init__(space)
        self._hessians = hessians
        self._tmp = space.element()

    def _call(self, v, out):
        self._hessians[0](v, out=out)
        for h in self._hessians[1:]:
            h(v, out=self._tmp)
            _add_into(out, self._tmp)
