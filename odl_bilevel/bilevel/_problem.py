r"""The bilevel learning problem: lower-level energies, training pairs, upper loss, parameters.

.. math::
    \min_\varphi U(\varphi) = \frac1n\sum_{i=1}^n \ell\big(\hat x_i(\theta), x_i^\dagger\big)
        + J(\theta), \qquad \theta = T(\varphi), \qquad
    \hat x_i(\theta) = \operatorname*{argmin}_x E_i(x;\theta).

:class:`BilevelProblem` is the one object every upper-level engine drives
(DESIGN.md §2): L-BFGS-B calls :meth:`~BilevelProblem.value_and_gradient`,
derivative-free engines call :meth:`~BilevelProblem.residuals` or
:meth:`~BilevelProblem.objective`, checkpoints use
:meth:`~BilevelProblem.state_dict`. It knows nothing about the application
(denoising, MRI): that lives in the energies.

Per-sample work goes through a :class:`concurrent.futures.Executor` as
module-level tasks (:mod:`odl_bilevel.bilevel._tasks`); the parent keeps the
warm starts and the :class:`~odl_bilevel.solvers.WorkLedger`.
"""

import logging
import math
import time

import numpy as np

from .._validation import require_element, require_nonnegative, require_positive
from ..solvers import WorkLedger
from ._checks import (
    check_energies,
    check_executor,
    check_int,
    check_solver_options,
    mean_hypergradient,
    summary,
)
from ._losses import SquaredError, loss_error_bound
from ._parameters import ParameterMap, as_phi
from ._problem_attributes import ProblemAttributes
from ._problem_views import ProblemViews
from ._results import (
    HypergradientEvaluation,
    LowerSolveResult,
    ObjectiveResult,
    readonly,
)
from ._state import problem_state, restore_state
from ._tasks import SMOOTH_SOLVERS, SOLVERS, hypergradient_task, solve_task

__all__ = ["BilevelProblem"]

_logger = logging.getLogger(__name__)


class BilevelProblem(ProblemAttributes, ProblemViews):
    r"""Bilevel learning problem: the upper objective, its hypergradient and per-sample solves.

    .. math::
        U(\varphi) = \frac1n\sum_{i=1}^n\ell(\hat x_i(\theta), x_i^\dagger) + J(\theta),
        \quad \theta = T(\varphi), \quad
        \hat x_i(\theta) = \operatorname{argmin} E_i(\cdot;\theta).

    Parameters
    ----------
    energies : sequence of ParametrisedFunctional
        Lower-level energies :math:`E_i(\cdot;\theta)`, one per training
        sample, on one domain and with one parameter layout (their current
        parameters are ignored). For ``solver="pdhg"``: :class:`PDHGEnergy` objects.
    targets : sequence
        Ground truths :math:`x_i^\dagger`, elements (or arrays) of the loss's
        target space (the domain, or ``domain[component]`` for a component
        loss); copied.
    parameter_map : ParameterMap
        :math:`\theta = T(\varphi)`; its bounds are the optimiser's bounds.
    penalty : Penalty, optional
        :math:`J(\theta)` (any object with ``__call__`` and ``gradient`` on
        :math:`\theta`).
    loss : UpperLoss, optional
        :math:`\ell`; default :class:`SquaredError` (any object with
        ``value(x, target)``, ``gradient(x, target)`` and ``lipschitz``).
    solver : {"fista", "gradient_descent", "pdhg"}
        Lower-level solver; ``"pdhg"`` serves :meth:`objective`,
        :meth:`residuals` and :meth:`reconstruct` only (no hypergradients of
        nonsmooth energies).
    solver_options : dict, optional
        More keyword arguments of the solver, e.g. ``{"preconditioner": None}``
        (plain instead of preconditioned FISTA) or ``{"momentum": "nesterov"}``
        (FISTA: ``L``, ``mu``, ``momentum``, ``preconditioner``; gradient
        descent: ``L``, ``mu``).
    lower_tol : float
        Default tolerance on the certified lower-level error
        :math:`\varepsilon_i \ge \|x_i - \hat x_i\|`.
    lower_max_iter : int
        Default iteration cap of a lower-level solve.
    cg_tol : float
        Default relative-residual tolerance of the adjoint CG solves.
    cg_max_iter : int
        Default iteration cap of CG.
    executor : concurrent.futures.Executor, optional
        Runs the per-sample tasks (a ``ProcessPoolExecutor``, a
        ``dask.distributed`` client's ``get_executor()``, ...); ``None`` runs
        them inline, one after another. Energies, targets and the loss must
        then be picklable (all library objects are).

    Attributes
    ----------
    ledger : WorkLedger
        Cumulative work of all solves and CG runs of this problem (updated in
        place).

    Raises
    ------
    TypeError
        If an argument has the wrong type (the message names it).
    ValueError
        If energies disagree in domain or parameters, ``targets`` has the
        wrong length or elements, the parameter map gives the wrong number of
        parameters, or a tolerance is not positive.

    Notes
    -----
    *Warm starts.* Each sample keeps its last finite solution :math:`x_i` and
    its last adjoint :math:`w_i` (and PDHG's dual iterate), which start the
    next solve at any :math:`\theta`. Values, losses and gradients are always
    computed from the solutions returned for the :math:`\theta` of the call.

    *Accuracy.* Solves that stop at the iteration cap are not errors: their
    certificates still bound the error, the bounds grow accordingly, and the
    results' ``status`` is not ``CONVERGED`` (a warning is logged).

    Examples
    --------
    :math:`E_i = \frac12\|x - y_i\|^2 + \frac{\xi}{2}\|x\|^2` has
    :math:`\hat x_i = y_i/(1+\xi)`:

    >>> import numpy as np, odl
    >>> from odl_bilevel.functionals import L2DataFit, ParametrisedSum, Tikhonov
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space(4)
    >>> y = X.element([1.0, 2.0, 3.0, 4.0])
    >>> E = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, 1.0))
    >>> problem = BilevelProblem([E], [0.5 * y], parameter_map=ParameterMap.log(("xi",)),
    ...                          lower_tol=1e-10)
    >>> res = problem.objective([0.0])                # xi = 1: x_hat = y / 2 = target
    >>> round(res.value, 12), res.status.name
    (0.0, 'CONVERGED')
    """

    def __init__(
        self,
        energies,
        targets,
        *,
        parameter_map,
        penalty=None,
        loss=None,
        solver="fista",
        solver_options=None,
        lower_tol=1e-6,
        lower_max_iter=5000,
        cg_tol=1e-6,
        cg_max_iter=1000,
        executor=None,
    ):
        if solver not in SOLVERS:
            raise ValueError(f"`solver` must be one of {SOLVERS}, got {solver!r}")
        self._solver = solver
        self._solver_options = check_solver_options(solver_options, solver)
        self._energies = check_energies(energies, solver, "energies")
        domain = self._energies[0].domain
        n = len(self._energies)
        self._p = int(self._energies[0].params.size)

        if not isinstance(parameter_map, ParameterMap):
            raise TypeError(
                f"`parameter_map` must be a ParameterMap, got {type(parameter_map).__name__}"
            )
        if parameter_map.theta_size is not None and parameter_map.theta_size != self._p:
            raise ValueError(
                f"`parameter_map` gives {parameter_map.theta_size} parameters, the energies "
                f"have {self._p} {tuple(self._energies[0].param_names)}"
            )
        self._map = parameter_map

        if penalty is not None and not (callable(penalty) and hasattr(penalty, "gradient")):
            raise TypeError(
                f"`penalty` must be a Penalty (callable with `gradient`), got "
                f"{type(penalty).__name__}"
            )
        self._penalty = penalty

        loss = SquaredError() if loss is None else loss
        for attr in ("value", "gradient"):
            if not callable(getattr(loss, attr, None)):
                raise TypeError(f"`loss` must have a callable `{attr}`, got {type(loss).__name__}")
        if not hasattr(loss, "lipschitz"):
            raise TypeError(f"`loss` must have a `lipschitz` attribute, got {type(loss).__name__}")
        self._loss = loss
        target_space = loss.target_space(domain) if hasattr(loss, "target_space") else domain
        if isinstance(targets, str | bytes) or not hasattr(targets, "__iter__"):
            raise TypeError(f"`targets` must be a sequence, got {type(targets).__name__}")
        targets = list(targets)
        if len(targets) != n:
            raise ValueError(
                f"`targets` must have {n} entries (one per energy), got {len(targets)}"
            )
        self._targets = tuple(
            require_element(t, target_space, f"targets[{i}]").copy()
            for i, t in enumerate(targets)
        )

        self._lower_tol = require_positive(lower_tol, "lower_tol")
        self._lower_max_iter = check_int(lower_max_iter, "lower_max_iter")
        self._cg_tol = require_positive(cg_tol, "cg_tol")
        self._cg_max_iter = check_int(cg_max_iter, "cg_max_iter")
        self._executor = check_executor(executor)

        self._x_warm = [None] * n
        self._w_warm = [None] * n
        self._y_warm = [None] * n
        self.ledger = WorkLedger()

    # -- helpers -------------------------------------------------------------------------
    def theta(self, phi):
        r"""Return :math:`\theta = T(\varphi)` (validated: ``ValueError`` naming ``phi``)."""
        return self._theta(phi)[1]

    def _theta(self, phi):
        phi = as_phi(phi, self._map.size)
        theta = self._map.forward(phi)
        if theta.size != self._p:
            raise ValueError(
                f"`parameter_map` gives {theta.size} parameters, the energies have {self._p}"
            )
        return phi, theta

    def energy(self, i, phi):
        r"""Return :math:`E_i(\cdot;\theta)`, :math:`\theta = T(\varphi)`.

        Raises
        ------
        IndexError
            If ``i`` is not a sample index.
        ValueError
            If ``phi`` is invalid (naming ``phi``).
        """
        if not -self.n_samples <= i < self.n_samples:
            raise IndexError(f"`i` must be a sample index < {self.n_samples}, got {i}")
        return self._energies[i].with_params(self._theta(phi)[1])

    def _tol(self, tol, default, name):
        """A per-call tolerance: positive, or 0 for the fixed-iteration mode of the solvers."""
        if tol is None:
            return default
        if name == "tol":
            return require_nonnegative(tol, name)
        return require_positive(tol, name)

    def _max_iter(self, max_iter, default, name):
        return default if max_iter is None else check_int(max_iter, name)

    def _map_tasks(self, fn, kwargs_list):
        """Run ``fn(**kwargs)`` for every entry, inline or through the executor, in order."""
        if self._executor is None:
            return [fn(**kw) for kw in kwargs_list]
        futures = [self._executor.submit(fn, **kw) for kw in kwargs_list]
        return [f.result() for f in futures]

    def _lower_result(self, results, errors, tol, start):
        work = WorkLedger()
        for r in results:
            work.add(r)
        converged, status, message = summary(results, errors, tol)
        return LowerSolveResult(
            x=tuple(r.x for r in results),
            results=tuple(results),
            errors=tuple(float(e) for e in errors),
            tol=tol,
            all_converged=converged,
            status=status,
            message=message,
            work=work,
            wall_time=time.perf_counter() - start,
        )

    def _store(self, i, result, error):
        if math.isfinite(error):
            self._x_warm[i] = result.x
            if result.y is not None:
                self._y_warm[i] = result.y
        self.ledger.add(result)

    def _solve(self, theta, tol, max_iter, warm_start):
        start = time.perf_counter()
        tasks = [
            dict(
                energy=E,
                theta=theta,
                x0=self._x_warm[i] if warm_start else None,
                y0=self._y_warm[i] if warm_start else None,
                solver=self._solver,
                solver_options=self._solver_options,
                tol=tol,
                max_iter=max_iter,
            )
            for i, E in enumerate(self._energies)
        ]
        out = self._map_tasks(solve_task, tasks)
        for i, (result, error) in enumerate(out):
            self._store(i, result, error)
        return self._lower_result([o[0] for o in out], [o[1] for o in out], tol, start)

    def _loss_terms(self, xs, errors):
        """Per-sample losses and their error bounds at the solutions ``xs``."""
        losses, bounds = [], []
        for x, t, err in zip(xs, self._targets, errors, strict=True):
            if not math.isfinite(err):
                losses.append(math.nan)
                bounds.append(math.inf)
                continue
            losses.append(float(self._loss.value(x, t)))
            if callable(getattr(self._loss, "error_bound", None)):
                bounds.append(float(self._loss.error_bound(x, t, err)))
            else:
                bounds.append(loss_error_bound(self._loss, x, t, err))
        return losses, bounds

    def _penalty_value(self, theta):
        return 0.0 if self._penalty is None else float(self._penalty(theta))

    def _objective_from(self, phi, theta, solves, start):
        losses, bounds = self._loss_terms(solves.x, solves.errors)
        n = self.n_samples
        penalty = self._penalty_value(theta)
        return ObjectiveResult(
            value=float(sum(losses) / n + penalty),
            losses=tuple(losses),
            penalty=penalty,
            error_bound=float(sum(bounds) / n),
            **self._solve_fields(phi, theta, solves, start),
        )

    @staticmethod
    def _solve_fields(phi, theta, solves, start):
        """The fields every evaluation result shares: the solves, the point, status, work, time."""
        return {
            "solves": solves,
            "phi": readonly(phi),
            "theta": readonly(theta),
            "status": solves.status,
            "message": solves.message,
            "work": WorkLedger() + solves.work,
            "wall_time": time.perf_counter() - start,
        }

    # -- evaluations ---------------------------------------------------------------------
    def solve(self, phi, *, tol=None, max_iter=None, warm_start=True):
        r"""Solve every sample's lower level at :math:`\theta = T(\varphi)`.

        Parameters
        ----------
        phi : array-like
            Learned variables :math:`\varphi` (length ``parameter_map.size``).
        tol : float, optional
            Tolerance on the certified error :math:`\varepsilon_i \ge
            \|x_i - \hat x_i\|` (default :attr:`lower_tol`).
        max_iter : int, optional
            Iteration cap per solve (default :attr:`lower_max_iter`).
        warm_start : bool, optional
            Start from each sample's last solution (else from zero). The new
            solutions are stored as warm starts either way.

        Returns
        -------
        LowerSolveResult

        Raises
        ------
        ValueError
            If ``phi`` has the wrong size or holds NaN/Inf (naming ``phi``), or
            ``tol``/``max_iter`` are invalid (naming them).
        """
        return self._solve_at(phi, tol, max_iter, warm_start)[2]

    def _solve_at(self, phi, tol, max_iter, warm_start):
        """``(phi, theta, solves)``: the arguments checked, the lower levels solved at ``phi``."""
        phi, theta = self._theta(phi)
        tol = self._tol(tol, self._lower_tol, "tol")
        max_iter = self._max_iter(max_iter, self._lower_max_iter, "max_iter")
        return phi, theta, self._solve(theta, tol, max_iter, bool(warm_start))

    def objective(self, phi, *, tol=None, max_iter=None, warm_start=True):
        r"""Evaluate :math:`U(\varphi)` with a certified error bound.

        Parameters are those of :meth:`solve`.

        Returns
        -------
        ObjectiveResult
            ``value``, per-sample ``losses``, ``penalty``, and ``error_bound``
            :math:`\ge |U - U^*|` from the certificates (see
            :meth:`UpperLoss.error_bound`).
        """
        start = time.perf_counter()
        phi, theta, solves = self._solve_at(phi, tol, max_iter, warm_start)
        return self._objective_from(phi, theta, solves, start)

    def value_and_gradient(
        self, phi, *, tol=None, cg_tol=None, max_iter=None, cg_max_iter=None, warm_start=True
    ):
        r"""Evaluate :math:`U(\varphi)` and :math:`\nabla_\varphi U` by implicit differentiation.

        Per sample (one task each): solve the lower level to ``tol``, then
        :func:`~odl_bilevel.hypergradients.implicit_hypergradient` (CG on
        :math:`\nabla^2_xE_i\,w_i = \nabla_x\ell(x_i)` warm-started from the
        last :math:`w_i`, :math:`g_i = -C_i^Tw_i`). Then

        .. math::
            \nabla_\varphi U = J_T(\varphi)^T\Big(\frac1n\sum_i g_i + \nabla J(\theta)\Big),
            \qquad
            \|\nabla_\varphi U - \nabla_\varphi U^*\| \le \|J_T(\varphi)\|\,\frac1n\sum_i\delta_i,

        with :math:`\delta_i` the per-sample hypergradient error bounds.

        Parameters
        ----------
        phi : array-like
            Learned variables :math:`\varphi`.
        tol, max_iter, warm_start
            As in :meth:`solve`.
        cg_tol : float, optional
            CG relative-residual tolerance (default :attr:`cg_tol`).
        cg_max_iter : int, optional
            CG iteration cap (default :attr:`cg_max_iter`).

        Returns
        -------
        HypergradientEvaluation

        Raises
        ------
        ValueError
            If the problem uses ``solver="pdhg"`` (naming ``solver``), or an
            argument is invalid (naming it).
        """
        start = time.perf_counter()
        if self._solver not in SMOOTH_SOLVERS:
            raise ValueError(
                f"`solver` = {self._solver!r} gives no hypergradients; use one of {SMOOTH_SOLVERS}"
            )
        if not getattr(self._loss, "differentiable", True):
            raise ValueError(
                f"`loss` ({type(self._loss).__name__}) is not differentiable and gives no "
                "hypergradients; use a derivative-free engine (odl_bilevel.upper.dfo)"
            )
        phi, theta = self._theta(phi)
        tol = self._tol(tol, self._lower_tol, "tol")
        cg_tol = self._tol(cg_tol, self._cg_tol, "cg_tol")
        max_iter = self._max_iter(max_iter, self._lower_max_iter, "max_iter")
        cg_max_iter = self._max_iter(cg_max_iter, self._cg_max_iter, "cg_max_iter")
        warm_start = bool(warm_start)
        tasks = [
            dict(
                energy=E,
                theta=theta,
                x0=self._x_warm[i] if warm_start else None,
                w0=self._w_warm[i] if warm_start else None,
                target=self._targets[i],
                loss=self._loss,
                solver=self._solver,
                solver_options=self._solver_options,
                tol=tol,
                max_iter=max_iter,
                cg_tol=cg_tol,
                cg_max_iter=cg_max_iter,
            )
            for i, E in enumerate(self._energies)
        ]
        out = self._map_tasks(hypergradient_task, tasks)
        results, errors, hypergradients = zip(*out, strict=True)
        for i, (result, error, hg) in enumerate(out):
            self._store(i, result, error)
            if hg is not None:
                self._w_warm[i] = hg.adjoint
                self.ledger.add(hg.cg)
        solves = self._lower_result(list(results), list(errors), tol, start)
        objective = self._objective_from(phi, theta, solves, start)

        work = WorkLedger() + solves.work
        for hg in hypergradients:
            if hg is not None:
                work.add(hg.cg)
        g_theta, bound_theta, status, message = mean_hypergradient(
            hypergradients, self._p, solves.status, solves.message
        )
        if self._penalty is not None:
            g_theta = g_theta + np.asarray(self._penalty.gradient(theta), dtype=float)
        gradient = self._map.vjp(phi, g_theta)
        jac_norm = self._map.jacobian_norm(phi)
        bound = jac_norm * bound_theta if bound_theta > 0 else 0.0
        return HypergradientEvaluation(
            value=objective.value,
            gradient=readonly(gradient),
            error_bound=float(bound),
            gradient_theta=readonly(g_theta),
            error_bound_theta=bound_theta,
            objective=objective,
            hypergradients=tuple(hypergradients),
            status=status,
            message=message,
            work=work,
            wall_time=time.perf_counter() - start,
        )

    # -- checkpoints ---------------------------------------------------------------------
    def state_dict(self):
        """Return the warm starts and the ledger as plain numpy arrays and Python numbers.

        See :func:`~odl_bilevel.bilevel._state.problem_state` for the layout; the
        dict can be written with ``numpy.savez`` (or JSON + npz) and read back
        with :meth:`load_state_dict`. No ODL object is pickled.
        """
        return problem_state(self)

    def load_state_dict(self, state):
        """Restore warm starts and ledger from :meth:`state_dict` output (or a loaded ``npz``).

        Raises
        ------
        ValueError
            If ``state`` lacks keys or belongs to a problem with another
            number of samples or domain size (naming ``state``).
        """
        warm, ledger = restore_state(self, state)
        self._x_warm, self._w_warm, self._y_warm = warm["x"], warm["w"], warm["y"]
        for field, value in ledger.items():
            setattr(self.ledger, field, value)

    def __repr__(self):
        return (
            f"BilevelProblem(n_samples={self.n_samples}, parameters={self._map.names}, "
            f"solver={self._solver!r}, loss={self._loss!r}, penalty={self._penalty!r})"
        )
