r"""Interpolation set and linear residual models of the derivative-free engine (private).

DFO-GN (Cartis & Roberts 2019) keeps :math:`q + 1` points
:math:`y_0, \dots, y_q \in \mathbb{R}^q` with their (inexact) residual vectors
:math:`\tilde R(y_t) \in \mathbb{R}^m`; one of them is the current iterate
:math:`\varphi_k = y_{k^*}`. With :math:`W \in \mathbb{R}^{q\times q}` the
matrix of rows :math:`w_t = y_t - \varphi_k` (:math:`t \ne k^*`) the linear
interpolation model :math:`\tilde R(\varphi_k + s) \approx R_k + J_ks` has the
Jacobian defined by

.. math::
    W J_k^T = D, \qquad D \text{ with rows } \tilde R(y_t) - \tilde R(\varphi_k),

and the Gauss–Newton model of :math:`f = \|R\|^2` is
:math:`m_k(s) = \|R_k + J_ks\|^2` with gradient :math:`g_k = 2J_k^TR_k` and
Hessian :math:`H_k = 2J_k^TJ_k`. Since :math:`q` is small and :math:`m` may be
large, :math:`g_k = 2W^{-1}(DR_k)` and :math:`H_k = 2W^{-1}DD^TW^{-T}` are
formed without :math:`J_k`.

The *Lagrange polynomials* of the set are the affine functions with
:math:`\ell_t(y_j) = \delta_{tj}`: :math:`\ell_t(\varphi_k + s) = a_t^Ts`
for :math:`t \ne k^*` with :math:`A = W^{-T}` (rows :math:`a_t`), and
:math:`\ell_{k^*} = 1 - \sum_{t\ne k^*}\ell_t`. Replacing :math:`y_t` by a
point :math:`y` multiplies :math:`|\det W|` by :math:`|\ell_t(y)|`, so
:math:`|\ell_t(y)|` measures how well poised the new set is.
"""

import numpy as np

__all__ = ["InterpolationSet", "geometry_step"]


class InterpolationSet:
    r"""The interpolation points, their residuals and evaluation accuracies.

    Parameters
    ----------
    points : numpy.ndarray
        Shape ``(q + 1, q)``.
    residuals : numpy.ndarray
        Shape ``(q + 1, m)``: augmented residuals :math:`\tilde R(y_t)`.
    values : numpy.ndarray
        :math:`\tilde f(y_t)` (value including the penalty).
    value_bounds : numpy.ndarray
        Bounds :math:`e_t \ge |f(y_t) - \tilde f(y_t)|` used by the decisions
        (finite stand-ins where the problem reports ``inf``, see
        :func:`~odl_bilevel.upper.dfo`).
    reported_bounds : numpy.ndarray
        The bounds as reported (possibly ``inf``).
    residual_bounds : numpy.ndarray
        :math:`\delta_t \ge \|\tilde r(y_t) - r(y_t)\|` as reported.
    tols : numpy.ndarray
        Lower-level tolerance requested for each point (0 in fixed-iteration mode).
    kopt : int
        Index of the current iterate.
    """

    _ARRAYS = (
        "points",
        "residuals",
        "values",
        "value_bounds",
        "reported_bounds",
        "residual_bounds",
        "tols",
    )

    def __init__(
        self, points, residuals, values, value_bounds, reported_bounds, residual_bounds, tols, kopt
    ):
        self.points = np.array(points, dtype=float)
        self.residuals = np.array(residuals, dtype=float)
        self.values = np.array(values, dtype=float)
        self.value_bounds = np.array(value_bounds, dtype=float)
        self.reported_bounds = np.array(reported_bounds, dtype=float)
        self.residual_bounds = np.array(residual_bounds, dtype=float)
        self.tols = np.array(tols, dtype=float)
        self.kopt = int(kopt)

    # -- access ----------------------------------------------------------------------------
    @property
    def size(self):
        """Number of points :math:`q + 1`."""
        return self.points.shape[0]

    @property
    def xopt(self):
        r"""The current iterate :math:`\varphi_k` (a copy)."""
        return self.points[self.kopt].copy()

    @property
    def fopt(self):
        r""":math:`\tilde f(\varphi_k)`."""
        return float(self.values[self.kopt])

    @property
    def eopt(self):
        r"""The decision bound :math:`e_k` of the current iterate."""
        return float(self.value_bounds[self.kopt])

    def others(self):
        """Indices of the points other than the current iterate."""
        return np.array([t for t in range(self.size) if t != self.kopt], dtype=int)

    def distances(self):
        r""":math:`\|y_t - \varphi_k\|` for all points."""
        return np.linalg.norm(self.points - self.points[self.kopt], axis=1)

    def set_point(self, t, point, residual, value, value_bound, reported, residual_bound, tol):
        """Store a new evaluation in slot ``t``."""
        self.points[t] = point
        self.residuals[t] = residual
        self.values[t] = value
        self.value_bounds[t] = value_bound
        self.reported_bounds[t] = reported
        self.residual_bounds[t] = residual_bound
        self.tols[t] = tol

    # -- models ----------------------------------------------------------------------------
    def _displacements(self):
        idx = self.others()
        return idx, self.points[idx] - self.points[self.kopt]

    @staticmethod
    def _solve(W, rhs):
        try:
            out = np.linalg.solve(W, rhs)
            if np.all(np.isfinite(out)):
                return out
        except np.linalg.LinAlgError:
            pass
        return np.linalg.lstsq(W, rhs, rcond=None)[0]

    def model(self):
        r"""Return :math:`(g_k, H_k)` of the Gauss–Newton model :math:`\|R_k + J_ks\|^2`."""
        idx, W = self._displacements()
        D = self.residuals[idx] - self.residuals[self.kopt]
        DR = D @ self.residuals[self.kopt]
        DD = D @ D.T
        g = 2.0 * self._solve(W, DR)
        M = self._solve(W, DD)  # W^{-1} D D^T
        H = 2.0 * self._solve(W, M.T)  # W^{-1} (W^{-1} D D^T)^T = W^{-1} D D^T W^{-T}
        H = 0.5 * (H + H.T)
        return g, H

    def lagrange(self):
        r"""Return ``(idx, A)``: :math:`\ell_t(\varphi_k + s) = A_j^Ts` for :math:`t = idx_j`."""
        idx, W = self._displacements()
        A = self._solve(W.T, np.eye(W.shape[0]))  # A W^T = I: rows a_t, a_t . w_j = delta_tj
        return idx, A

    def lagrange_values(self, point):
        r"""Return :math:`\ell_t(y)` for every point index :math:`t` (``kopt`` included)."""
        idx, A = self.lagrange()
        vals = np.empty(self.size)
        vals[idx] = A @ (np.asarray(point, dtype=float) - self.points[self.kopt])
        vals[self.kopt] = 1.0 - float(np.sum(vals[idx]))
        return vals

    # -- checkpoints -----------------------------------------------------------------------
    def state(self):
        """Plain arrays and ints for a checkpoint."""
        out = {name: getattr(self, name).copy() for name in self._ARRAYS}
        out["kopt"] = self.kopt
        return out

    @classmethod
    def from_state(cls, state):
        """Rebuild from :meth:`state` output."""
        return cls(*(np.asarray(state[name], dtype=float) for name in cls._ARRAYS), state["kopt"])


def geometry_step(a, delta, lower, upper, clip):
    r"""Return :math:`d` maximising :math:`|a^Td|` over the ball :math:`\|d\|\le\Delta` and box.

    Both signs are tried: :math:`\pm\operatorname{clip}(ta, \ell, u)` from
    ``clip`` (:func:`~odl_bilevel.upper._trust_region.clip_to_radius` with
    ``t_max=inf``), which maximises a linear function over the ball-box
    intersection exactly.
    """
    plus = clip(a, delta, lower, upper, t_max=np.inf)
    minus = clip(-a, delta, lower, upper, t_max=np.inf)
    return plus if abs(float(a @ plus)) >= abs(float(a @ minus)) else minus
