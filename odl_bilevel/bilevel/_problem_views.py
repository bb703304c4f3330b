r"""Views of a :class:`~odl_bilevel.bilevel.BilevelProblem` besides :math:`U` and :math:`\nabla U`.

The mixin :class:`ProblemViews` gives the problem its least-squares residual form
(:meth:`~ProblemViews.residuals`, read by the derivative-free engine) and the
solution of other data at learned parameters (:meth:`~ProblemViews.reconstruct`,
e.g. a test set). Both only use the problem's private solve helpers
(``_theta``, ``_tol``, ``_max_iter``, ``_solve_at``, ``_map_tasks``,
``_lower_result``, ``_penalty_value``, ``_solve_fields``), defined in
:mod:`odl_bilevel.bilevel._problem`.
"""

import math
import time

import numpy as np

from .._numeric import real_dot
from ._checks import check_energies
from ._results import ResidualsResult, readonly
from ._tasks import solve_task

__all__ = ["ProblemViews"]


class ProblemViews:
    """Residual form and reconstruction of other data (mixin of ``BilevelProblem``)."""

    def residuals(self, phi, *, tol=None, max_iter=None, warm_start=True):
        r"""Least-squares residuals :math:`r(\varphi)` of the data part of :math:`U`.

        .. math::
            r = \frac{1}{\sqrt n}\big(r_1(x_1), \dots, r_n(x_n)\big),
            \qquad \|r\|^2 = \frac1n\sum_i\ell(x_i, x_i^\dagger),

        with :math:`r_i = x_i - x_i^\dagger` for the squared error
        (:math:`r_i = \sqrt{\ell_i - c}` for a :class:`NonsmoothLoss`); the
        penalty :math:`J(\theta)` is reported separately. The error bound
        :math:`\|r - r^*\| \le \big(\frac1n\sum_i b_i^2\big)^{1/2}`
        follows blockwise from :math:`\|r_i(x_i) - r_i(\hat x_i)\| \le b_i`,
        :math:`b_i = L_r\varepsilon_i` for a loss with a Lipschitz residual
        (``residual_lipschitz``), else the loss's
        ``residual_error_bound(x_i, target, eps_i)``.

        Parameters are those of :meth:`solve`.

        Returns
        -------
        ResidualsResult

        Raises
        ------
        TypeError
            If the loss has no least-squares form (naming ``loss``).
        """
        start = time.perf_counter()
        lip_r = float(getattr(self._loss, "residual_lipschitz", math.nan))
        residual_bound = getattr(self._loss, "residual_error_bound", None)
        if not (
            (math.isfinite(lip_r) or callable(residual_bound))
            and callable(getattr(self._loss, "residual", None))
        ):
            raise TypeError(
                f"`loss` ({type(self._loss).__name__}) has no least-squares residual form; "
                "use SquaredError or NonsmoothLoss"
            )
        phi, theta, solves = self._solve_at(phi, tol, max_iter, warm_start)
        n = self.n_samples
        scale = 1.0 / math.sqrt(n)
        r = np.concatenate(
            [
                scale * np.asarray(self._loss.residual(x, t), dtype=float).ravel()
                for x, t in zip(solves.x, self._targets, strict=True)
            ]
        )
        penalty = self._penalty_value(theta)
        errors = solves.errors
        if math.isfinite(lip_r):
            blocks = [lip_r * e for e in errors]
        else:
            blocks = [
                float(residual_bound(x, t, e))
                for x, t, e in zip(solves.x, self._targets, errors, strict=True)
            ]
        bound = math.sqrt(sum(b * b for b in blocks) / n)
        return ResidualsResult(
            residuals=readonly(r),
            penalty=penalty,
            value=real_dot(r, r) + float(penalty),
            errors=errors,
            error_bound=float(bound),
            **self._solve_fields(phi, theta, solves, start),
        )

    def reconstruct(self, phi, data_energies, *, tol=None, max_iter=None, full_result=False):
        r"""Solve other energies (e.g. a test set) at :math:`\theta = T(\varphi)`.

        Cold starts; the problem's warm starts and :attr:`ledger` are not
        touched (evaluation is not learning work).

        Parameters
        ----------
        phi : array-like
            Learned variables.
        data_energies : sequence
            Energies with the parameter layout of the training energies (any
            domain).
        tol, max_iter : optional
            As in :meth:`solve`.
        full_result : bool, optional
            Return the :class:`LowerSolveResult` instead of the list of solutions.

        Returns
        -------
        list or LowerSolveResult
            The solutions :math:`\hat x(\theta)` of the given energies. A solve
            that misses ``tol`` is logged as a warning (and visible in the
            full result).
        """
        start = time.perf_counter()
        _, theta = self._theta(phi)
        energies = check_energies(
            data_energies, self._solver, "data_energies", reference=self._energies[0]
        )
        tol = self._tol(tol, self._lower_tol, "tol")
        max_iter = self._max_iter(max_iter, self._lower_max_iter, "max_iter")
        tasks = [
            dict(energy=E, theta=theta, x0=None, y0=None, solver=self._solver, tol=tol,
                 max_iter=max_iter, solver_options=self._solver_options)
            for E in energies
        ]
        out = self._map_tasks(solve_task, tasks)
        result = self._lower_result([o[0] for o in out], [o[1] for o in out], tol, start)
        return result if full_result else list(result.x)
