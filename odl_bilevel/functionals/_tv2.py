r"""Smoothed second-order TV :math:`F(x) = \alpha\sum_j\sqrt{|(\nabla^2x)_j|_F^2+\nu^2}`."""

from ..operators import SecondOrderDifferences
from ._smooth_tv import _SmoothedNorm

__all__ = ["SmoothedTV2"]


class SmoothedTV2(_SmoothedNorm):
    r"""Smoothed second-order total variation (TV²), :math:`\theta = (\alpha, \nu)`.

    .. math::

        F(x;\alpha,\nu) = \alpha\sum_j \sqrt{|(\nabla^2 x)_j|_F^2 + \nu^2},

    with :math:`\nabla^2 = \mathcal{E}\nabla` the discrete Hessian
    :class:`~odl_bilevel.operators.SecondOrderDifferences` (Neumann boundary)
    and :math:`|\cdot|_F` the pointwise Frobenius norm of the symmetric
    :math:`d\times d` matrix. TV² favours piecewise-affine images; it is what
    :class:`~odl_bilevel.functionals.SmoothedTGV` penalises when the
    auxiliary field is pinned to :math:`v = \nabla x`.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X`.
    alpha : float
        Weight :math:`\alpha \ge 0`.
    nu : float
        Smoothing :math:`\nu > 0`.

    Raises
    ------
    ValueError
        If ``alpha < 0`` or ``nu <= 0`` (naming the argument) or ``space`` is
        not a real unit-cell space.
    TypeError
        If ``space`` is not a discretised/tensor space.

    Notes
    -----
    The stored components of :math:`\nabla^2 x` carry the off-diagonals times
    :math:`\sqrt2`, so their Euclidean norm is the Frobenius norm and the
    Euclidean adjoint of the operator is its Frobenius adjoint. With
    :math:`h = \nabla^2 x` and :math:`w = (|h|_F^2+\nu^2)^{-1/2}` (as for
    :class:`~odl_bilevel.functionals.SmoothedTV`):

    - :math:`\nabla_x F = \alpha(\nabla^2)^T(w\,h)`;
    - :math:`\nabla^2_x F\,v = \alpha(\nabla^2)^T[(wI - w^3hh^T)\nabla^2 v]`
      (positive semidefinite; weights precomputed by ``gradient.derivative(x)``);
    - :math:`\|\nabla^2_xF\| \le \alpha\|\nabla^2\|^2/\nu \le 16d^2\alpha/\nu`
      (:attr:`grad_lipschitz`);
    - :math:`\partial_\alpha F = \sum_j (|h_j|_F^2+\nu^2)^{1/2}`,
      :math:`\partial_\nu F = \alpha\nu\sum_j w_j`, and the mixed derivative
      :math:`\delta_\alpha(\nabla^2)^T(wh) - \delta_\nu\alpha\nu(\nabla^2)^T(w^3h)`;
    - Lipschitz constants in :math:`x`, as for
      :class:`~odl_bilevel.functionals.SmoothedTV` with :math:`K = \nabla^2`,
      :math:`\|K\|^2 \le 16d^2` and the pointwise bound :math:`\kappa \le \|K\| \le 4d`:
      :attr:`hessian_lipschitz` :math:`L_B = c_3\alpha\|\nabla^2\|^3/\nu^2 \le
      64c_3d^3\alpha/\nu^2` (:math:`c_3 = 48/(25\sqrt5)`) and
      :attr:`mixed_lipschitz` :math:`L_C = \|\nabla^2\|^2\sqrt{\nu^2+\alpha^2}/\nu^2`.

    References
    ----------
    Chambolle, A., Lions, P.-L. (1997). Image recovery via total variation
    minimization and related problems. *Numer. Math.* 76, 167-188.

    Bredies, K., Kunisch, K., Pock, T. (2010). Total generalized variation.
    *SIAM J. Imaging Sci.* 3(3), 492-526.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space((6, 6))
    >>> f = SmoothedTV2(X, alpha=1.0, nu=0.1)
    >>> round(f(X.one()), 6), round(f.grad_lipschitz, 6)
    (3.6, 640.0)
    >>> x = X.element(np.add.outer(np.arange(6.0), 2 * np.arange(6.0)))  # affine
    >>> round(f(x) - f(X.one()), 6) > 0     # affine images cost only at the boundary
    True
    """

    _operator_class = SecondOrderDifferences
