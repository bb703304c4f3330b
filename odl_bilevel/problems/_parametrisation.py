r"""Parametrisations of the denoising regularisers: log-linear maps and condition constants.

The learned variables of the denoising problems are logarithms of the weights
in the talk's notation, :math:`\varphi = \log(\alpha, \nu, \xi)` (or a
subset), while the energy is a sum of functionals whose own parameters
:math:`\theta` may be products of those weights: in
:math:`\alpha(\sum_j\sqrt{|\nabla x|_j^2+\nu^2} + \frac{\xi}{2}\|x\|^2)` the
Tikhonov functional carries the weight :math:`\alpha\xi`. Every such map is
*log-linear*,

.. math::

    \log\theta = M_\ell\,\varphi + b, \qquad
    J_T(\varphi) = \mathrm{diag}(\theta)\,M_\ell, \qquad
    J_T^T g = M_\ell^T(\theta\odot g),

where :math:`M` is the integer matrix with :math:`\log\theta = M\log w` for the
weights :math:`w` (:math:`w` = talk parameters), :math:`M_\ell` its columns of
the learned weights and :math:`b = M_F\log w_F` the contribution of the
weights :math:`w_F` held fixed.

The condition constants :math:`L(\theta)` (Lipschitz constant of
:math:`\nabla_xE`) and :math:`\mu(\theta)` (strong convexity) of each
denoising energy, with their gradients, feed
:class:`~odl_bilevel.bilevel.ConditionPenalty`.
"""

import numpy as np

__all__ = ["ConditionConstants", "LogLinearMap"]


class LogLinearMap:
    r"""The map :math:`\theta = \exp(M_\ell\varphi + b)` with its vjp, inverse and Jacobian norm.

    Picklable (a module-level class holding arrays), so a
    :class:`~odl_bilevel.bilevel.ParameterMap` built from its bound methods
    travels to process pools.

    Parameters
    ----------
    matrix : array-like, shape (p, q)
        :math:`M_\ell`.
    offset : array-like, shape (p,)
        :math:`b`.

    Examples
    --------
    The talk parametrisation :math:`\theta = (\alpha, \nu, \alpha\xi)` from
    :math:`\varphi = \log(\alpha, \nu, \xi)`:

    >>> import numpy as np
    >>> T = LogLinearMap([[1, 0, 0], [0, 1, 0], [1, 0, 1]], np.zeros(3))
    >>> [round(float(t), 6) for t in T.forward(np.log([2.0, 0.1, 0.5]))]
    [2.0, 0.1, 1.0]
    >>> [round(float(g), 6) for g in T.vjp(np.log([2.0, 0.1, 0.5]), np.ones(3))]
    [3.0, 0.1, 1.0]
    """

    def __init__(self, matrix, offset):
        self.matrix = np.array(matrix, dtype=float, ndmin=2)
        self.offset = np.array(offset, dtype=float).ravel()
        if self.matrix.shape[0] != self.offset.size:
            raise ValueError(
                f"`offset` must have {self.matrix.shape[0]} entries, got {self.offset.size}"
            )

    def forward(self, phi):
        r""":math:`\theta = \exp(M_\ell\varphi + b)`."""
        return np.exp(self.matrix @ np.asarray(phi, dtype=float) + self.offset)

    def vjp(self, phi, g):
        r""":math:`J_T^T g = M_\ell^T(\theta\odot g)`."""
        return self.matrix.T @ (self.forward(phi) * np.asarray(g, dtype=float))

    def inverse(self, theta):
        r"""Least-squares :math:`\varphi` with :math:`M_\ell\varphi = \log\theta - b`."""
        theta = np.asarray(theta, dtype=float)
        if np.any(theta <= 0):
            raise ValueError(f"`theta` must be positive, got {theta.tolist()}")
        phi, *_ = np.linalg.lstsq(self.matrix, np.log(theta) - self.offset, rcond=None)
        return phi

    def jacobian_norm(self, phi):
        r""":math:`\|\mathrm{diag}(\theta)M_\ell\|_2` (exact, by an SVD of a small matrix)."""
        return float(np.linalg.norm(self.forward(phi)[:, None] * self.matrix, 2))


class ConditionConstants:
    r"""Constants :math:`L(\theta)` and :math:`\mu(\theta)` of the denoising energies.

    With :math:`c = 4d \ge \|\nabla\|^2` (:math:`d` the dimension) and
    :math:`\theta` the energy's parameters:

    - ``"tv"``, :math:`\theta = (\alpha, \nu)`:
      :math:`L = 1 + c\alpha/\nu`, :math:`\mu = 1`;
    - ``"tv_tikhonov"``, :math:`\theta = (\alpha, \nu, \alpha\xi)`:
      :math:`L = 1 + \alpha(c/\nu + \xi)`, :math:`\mu = 1 + \alpha\xi`;
    - ``"tgv"``, :math:`\theta = (\alpha, \beta, \nu)`:
      :math:`L = \max(1, \tau) + (\alpha(c + 1) + \beta c)/\nu`,
      :math:`\mu = \min(1, \tau)` (:math:`\tau` the Tikhonov weight on the
      vector field, see :class:`~odl_bilevel.problems.JointDenoisingFit`).

    They are the ``grad_lipschitz`` and ``strong_convexity`` of the energies
    that :func:`denoising_problem` builds (tested).

    Parameters
    ----------
    kind : {"tv", "tv_tikhonov", "tgv"}
    ndim : int
        Dimension :math:`d` of the signals/images.
    tau : float, optional
        :math:`\tau` (``"tgv"`` only).

    Examples
    --------
    >>> C = ConditionConstants("tv_tikhonov", 1)
    >>> C.lipschitz([1.0, 0.5, 0.25]), C.strong_convexity([1.0, 0.5, 0.25])
    (9.25, 1.25)
    """

    def __init__(self, kind, ndim, *, tau=0.0):
        if kind not in ("tv", "tv_tikhonov", "tgv"):
            raise ValueError(f"`kind` must be 'tv', 'tv_tikhonov' or 'tgv', got {kind!r}")
        self.kind, self.c, self.tau = kind, 4.0 * int(ndim), float(tau)

    def lipschitz(self, theta):
        r""":math:`L(\theta)`."""
        t, c = np.asarray(theta, dtype=float), self.c
        if self.kind == "tv":
            return 1.0 + c * t[0] / t[1]
        if self.kind == "tv_tikhonov":
            return 1.0 + c * t[0] / t[1] + t[2]
        return max(1.0, self.tau) + (t[0] * (c + 1.0) + t[1] * c) / t[2]

    def lipschitz_gradient(self, theta):
        r""":math:`\nabla_\theta L(\theta)`."""
        t, c = np.asarray(theta, dtype=float), self.c
        if self.kind == "tv":
            return np.array([c / t[1], -c * t[0] / t[1] ** 2])
        if self.kind == "tv_tikhonov":
            return np.array([c / t[1], -c * t[0] / t[1] ** 2, 1.0])
        return np.array(
            [(c + 1.0) / t[2], c / t[2], -(t[0] * (c + 1.0) + t[1] * c) / t[2] ** 2]
        )

    def strong_convexity(self, theta):
        r""":math:`\mu(\theta)`."""
        t = np.asarray(theta, dtype=float)
        if self.kind == "tv":
            return 1.0
        if self.kind == "tv_tikhonov":
            return 1.0 + t[2]
        return min(1.0, self.tau)

    def strong_convexity_gradient(self, theta):
        r""":math:`\nabla_\theta\mu(\theta)`."""
        t = np.asarray(theta, dtype=float)
        g = np.zeros(t.size)
        if self.kind == "tv_tikhonov":
            g[2] = 1.0
        return g
