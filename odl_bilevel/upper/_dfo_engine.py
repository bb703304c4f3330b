r"""The steppable state of the derivative-free engine :func:`~odl_bilevel.upper.dfo` (private).

:class:`DFOEngine` holds the interpolation set, the radii :math:`\Delta \ge
\rho`, the evaluation counters and records; :meth:`DFOEngine.start` builds the
first model and :meth:`DFOEngine.step` runs one trust-region iteration. All
state that a later iteration reads is in :meth:`DFOEngine.state`, so a run
restored from a checkpoint continues along the same trajectory. The
algorithm and the accuracy rules are documented in :func:`~odl_bilevel.upper.dfo`.
"""

import logging
import math

import numpy as np

from ._accuracy import (
    C_INIT,
    C_PRED,
    FIXED_ITERATION_TOL,
    INACCURACY_RATIO,
    residual_target,
    value_error_bound,
)
from ._dfo_model import InterpolationSet, geometry_step
from ._dfo_records import EvaluationRecord
from ._records import IterationRecord, UpperStatus
from ._trust_region import clip_to_radius, trust_region_step

__all__ = ["DFOEngine"]

logger = logging.getLogger(__name__)

ETA1, ETA2 = 0.1, 0.7  # ratio thresholds: success, very successful
GAMMA_DEC, GAMMA_INC, GAMMA_INC_STEP = 0.5, 2.0, 4.0  # radius factors
GAMMA_SAFETY = 0.5  # a step shorter than this times rho is a safety step
ALPHA_RHO, ALPHA_DELTA = 0.1, 0.5  # rho reduction: rho *= 0.1, delta = rho_old / 2
GEOMETRY_FACTOR = 2.0  # points farther than this times delta are badly placed
MAX_REEVALUATIONS = 5  # per iteration
MAX_RETRIES = 4  # per evaluation
DELTA_MAX = 1e10


class _Point:
    """One evaluation: augmented residual, value and bounds."""

    __slots__ = ("R", "value", "rnorm", "delta", "reported", "e", "tol")

    def __init__(self, R, value, rnorm, delta, reported, e, tol):
        self.R, self.value, self.rnorm, self.delta = R, value, rnorm, delta
        self.reported, self.e, self.tol = reported, e, tol


class DFOEngine:
    """State and steps of one :func:`~odl_bilevel.upper.dfo` run.

    Parameters
    ----------
    problem : BilevelProblem
        The problem (``residuals``, ``parameter_map``, ``ledger``).
    options : dict
        The validated options of :func:`~odl_bilevel.upper.dfo`.
    lower, upper : numpy.ndarray
        Box bounds of :math:`\\varphi` (``-inf``/``inf`` for none).
    """

    def __init__(self, problem, options, lower, upper):
        self.problem, self.options = problem, options
        self.lower, self.upper = lower, upper
        self.dynamic = options["accuracy"] == "dynamic"
        self.Y = None
        self.delta = self.rho = math.nan
        self.n_evals = 0
        self.iteration = 0
        self.kappa = 1.0  # observed delta / tol of the last evaluation, at least 1
        self.evaluations = []
        self.history = []

    # -- evaluations -------------------------------------------------------------------------
    def _call(self, phi, tol, max_iter, nominal_tol, kind):
        res = self.problem.residuals(phi, tol=tol, max_iter=max_iter, warm_start=True)
        r = np.asarray(res.residuals, dtype=float).ravel()
        value = float(res.value)
        penalty = float(res.penalty)
        if penalty < 0.0:
            if penalty < -1e-14 * max(1.0, abs(value)):
                raise ValueError(
                    f"`problem` reports a negative penalty J(theta) = {penalty}; the "
                    "least-squares form needs J >= 0"
                )
            penalty = 0.0
        R = np.append(r, math.sqrt(penalty))
        rnorm = float(np.linalg.norm(r))
        delta = float(res.error_bound)
        delta = delta if delta >= 0 else math.inf  # nan: unknown
        reported = value_error_bound(rnorm, delta)
        self.n_evals += 1
        self.evaluations.append(
            EvaluationRecord(
                index=len(self.evaluations),
                iteration=self.iteration,
                kind=kind,
                phi=phi,
                objective=value,
                error_bound=reported,
                residual_bound=delta,
                lower_tol=nominal_tol,
                lower_iterations=int(self.problem.ledger.as_dict()["lower_iterations"]),
            )
        )
        if not np.all(np.isfinite(R)) or not math.isfinite(value):
            logger.warning("dfo: evaluation %d at phi = %s is not finite", self.n_evals, phi)
        return _Point(R, value, rnorm, delta, reported, reported, nominal_tol)

    def evaluate(self, phi, target, kind, ref_norm, reserve=0, needed=None):
        r"""Evaluate at ``phi``; in dynamic mode aim at :math:`e \le` ``target``.

        ``reserve`` evaluations are kept for later (retries may not use them);
        ``needed(point)`` says whether a missed target matters (default: always).
        Returns a :class:`_Point` whose ``e`` is the bound the decisions use.
        """
        opts = self.options
        if opts["accuracy"] == "fixed_iterations":
            p = self._call(phi, FIXED_ITERATION_TOL, opts["fixed_iterations"], 0.0, kind)
            p.e = 0.0  # fixed modes use the values as if exact
            return p
        if opts["accuracy"] == "fixed_tol":
            p = self._call(phi, opts["fixed_tol"], None, opts["fixed_tol"], kind)
            p.e = 0.0
            return p
        tmin, tmax = opts["lower_tol_min"], opts["lower_tol_max"]
        tol = min(max(residual_target(ref_norm, target) / self.kappa, tmin), tmax)
        for attempt in range(MAX_RETRIES + 1):
            p = self._call(phi, tol, None, tol, kind if attempt == 0 else "retry")
            if not math.isfinite(p.delta):
                # no certified bound: use the nominal one, delta = tol (no retries)
                p.e = value_error_bound(p.rnorm, tol)
                return p
            self.kappa = max(1.0, p.delta / tol)
            if (
                p.e <= target * (1 + 1e-9)
                or tol <= tmin
                or self.n_evals + reserve >= opts["max_evals"]
                or not math.isfinite(p.value)
                or (needed is not None and not needed(p))
            ):
                return p
            wanted = residual_target(p.rnorm, target)
            tol = max(tmin, min(tol, tol * wanted / (2.0 * p.delta)))
        return p

    def _store(self, t, phi, p):
        self.Y.set_point(t, phi, p.R, p.value, p.e, p.reported, p.delta, p.tol)

    # -- start -------------------------------------------------------------------------------
    def start(self, phi0, radius):
        """Evaluate :math:`\\varphi_0` and :math:`q` coordinate steps; build the first set."""
        q = phi0.size
        self.delta = self.rho = float(radius)
        first = self.evaluate(phi0, math.inf, "initial", 0.0, reserve=q)
        target = C_INIT * max(first.value, 0.0)
        if self.dynamic and first.e > target and math.isfinite(first.delta):
            first = self.evaluate(phi0, target, "retry", first.rnorm, reserve=q)
        points, evals = [phi0.copy()], [first]
        for j in range(q):
            y = phi0.copy()
            y[j] += radius if phi0[j] + radius <= self.upper[j] else -radius
            points.append(y)
            evals.append(self.evaluate(y, target, "initial", first.rnorm, reserve=q - 1 - j))
        values = np.array([p.value for p in evals])
        kopt = int(np.nanargmin(values)) if np.any(np.isfinite(values)) else 0
        self.Y = InterpolationSet(
            points,
            [p.R for p in evals],
            values,
            [p.e for p in evals],
            [p.reported for p in evals],
            [p.delta for p in evals],
            [p.tol for p in evals],
            kopt,
        )

    # -- pieces of an iteration --------------------------------------------------------------
    def _step_bounds(self, x):
        return np.minimum(self.lower - x, 0.0), np.maximum(self.upper - x, 0.0)

    def projected_gradient(self, g, x):
        r""":math:`\|P_{[l,v]}(\varphi - g) - \varphi\|`."""
        lo, hi = self._step_bounds(x)
        return float(np.linalg.norm(np.clip(-g, lo, hi)))

    def _bad_points(self):
        """Mask of the points far away or (dynamic mode) much coarser than the iterate."""
        Y = self.Y
        bad = Y.distances() > GEOMETRY_FACTOR * self.delta
        if self.dynamic:
            tighter = Y.tols > self.options["lower_tol_min"] * (1 + 1e-12)
            bad |= (Y.value_bounds > INACCURACY_RATIO * Y.eopt) & tighter
        bad[Y.kopt] = False
        return bad

    def _improve_geometry(self):
        """Replace the worst point by one maximising its Lagrange polynomial in the region."""
        Y = self.Y
        bad = self._bad_points()
        dist = Y.distances()
        far = bad & (dist > GEOMETRY_FACTOR * self.delta)
        if far.any():
            t = int(np.argmax(np.where(far, dist, -1.0)))
        else:
            t = int(np.argmax(np.where(bad, Y.value_bounds, -1.0)))
        idx, A = Y.lagrange()
        x = Y.xopt
        lo, hi = self._step_bounds(x)
        d = geometry_step(A[int(np.flatnonzero(idx == t)[0])], self.delta, lo, hi, clip_to_radius)
        y = np.clip(x + d, self.lower, self.upper)
        rnorm = float(np.linalg.norm(Y.residuals[Y.kopt][:-1]))
        eopt = Y.eopt
        # only a point that would count as coarse is worth a retry
        p = self.evaluate(
            y, eopt, "geometry", rnorm, needed=lambda q: q.e > INACCURACY_RATIO * eopt
        )
        if not (np.all(np.isfinite(p.R)) and math.isfinite(p.value)):
            return
        fopt = Y.fopt
        self._store(t, y, p)
        if p.value + p.e < fopt - eopt:  # a certified decrease: move the iterate
            Y.kopt = t

    def _reduce_rho(self):
        """Reduce :math:`\\rho`; return a stop outcome when it is already ``radius_min``."""
        rmin = self.options["radius_min"]
        if self.rho <= rmin * (1 + 1e-12):
            return UpperStatus.CONVERGED, (
                f"the trust-region radius reached radius_min={rmin}"
            )
        old = self.rho
        ratio = old / rmin
        if ratio <= 16.0:
            self.rho = rmin
        elif ratio <= 250.0:
            self.rho = math.sqrt(old * rmin)
        else:
            self.rho = ALPHA_RHO * old
        self.delta = max(ALPHA_DELTA * old, self.rho)
        return None

    def _after_failure(self, delta_old):
        """Geometry improvement or rho reduction after a failed or safety step."""
        if self._bad_points().any():
            if self.n_evals < self.options["max_evals"]:
                self._improve_geometry()
            return None
        if delta_old <= self.rho * (1 + 1e-12):
            return self._reduce_rho()
        return None

    def _replacement(self, y, success):
        """Index of the point that the new point ``y`` replaces (never the iterate)."""
        Y = self.Y
        lag = np.abs(Y.lagrange_values(y))
        cand = Y.others()
        centre = y if success else Y.xopt
        dist = np.linalg.norm(Y.points[cand] - centre, axis=1)
        weight = np.maximum(1.0, (dist / self.delta) ** 4)
        lc = lag[cand]
        ok = lc >= 1e-3 * lc.max() if lc.max() > 0 else np.ones(cand.size, dtype=bool)
        score = np.where(ok, lc * weight, -1.0)
        return int(cand[int(np.argmax(score))])

    def _noise_floor(self, pi):
        """Dynamic stop: finest tolerance, good geometry and no certifiable decrease left."""
        Y = self.Y
        finest = Y.tols[Y.kopt] <= self.options["lower_tol_min"] * (1 + 1e-12)
        return finest and not self._bad_points().any() and pi * self.delta <= Y.eopt

    # -- one iteration -----------------------------------------------------------------------
    def step(self):
        """Run one trust-region iteration; return ``(status, message)`` to stop, else ``None``."""
        Y = self.Y
        self.iteration += 1
        for reevaluations in range(MAX_REEVALUATIONS + 1):
            x = Y.xopt
            g, H = Y.model()
            pi = self.projected_gradient(g, x)
            if self.dynamic and self._noise_floor(pi):
                return UpperStatus.CONVERGED, (
                    "the model decrease in the trust region is below the value error bound "
                    f"at the finest tolerance lower_tol_min={self.options['lower_tol_min']}"
                )
            lo, hi = self._step_bounds(x)
            s, pred = trust_region_step(g, H, self.delta, lo, hi)
            snorm = float(np.linalg.norm(s))
            if snorm < GAMMA_SAFETY * self.rho or not pred > 0:
                delta_old = self.delta
                self.delta = max(GAMMA_DEC * self.delta, self.rho)
                if self.delta <= 1.5 * self.rho:
                    self.delta = self.rho
                return self._after_failure(delta_old)
            rnorm = float(np.linalg.norm(Y.residuals[Y.kopt][:-1]))
            if (
                self.dynamic
                and Y.eopt > C_PRED * pred
                and Y.tols[Y.kopt] > self.options["lower_tol_min"]
                and reevaluations < MAX_REEVALUATIONS
                and self.n_evals + 1 < self.options["max_evals"]
            ):
                p = self.evaluate(x, 0.5 * C_PRED * pred, "reevaluation", rnorm, reserve=1)
                if np.all(np.isfinite(p.R)) and math.isfinite(p.value):
                    self._store(Y.kopt, x, p)
                continue
            break
        if self.n_evals >= self.options["max_evals"]:
            return None
        y = np.clip(x + s, self.lower, self.upper)
        fopt = Y.fopt
        # a missed target only matters for a step that would be accepted
        p = self.evaluate(
            y, C_PRED * pred, "trial", rnorm, needed=lambda q: fopt - q.value >= ETA1 * pred
        )
        finite = bool(np.all(np.isfinite(p.R)) and math.isfinite(p.value))
        ratio = (Y.fopt - p.value) / pred if finite else -math.inf
        delta_old = self.delta
        if ratio < ETA1:
            self.delta = min(GAMMA_DEC * self.delta, snorm)
        elif ratio <= ETA2:
            self.delta = max(GAMMA_DEC * self.delta, snorm)
        else:
            self.delta = min(max(GAMMA_INC * self.delta, GAMMA_INC_STEP * snorm), DELTA_MAX)
        if self.delta <= 1.5 * self.rho:
            self.delta = self.rho
        success = ratio >= ETA1
        if finite:
            t = self._replacement(y, success)
            self._store(t, y, p)
            if success:
                Y.kopt = t
        if success:
            return None
        return self._after_failure(delta_old)

    # -- records and checkpoints -------------------------------------------------------------
    def record(self, wall_time):
        """Append and return the :class:`IterationRecord` of the current state."""
        Y = self.Y
        x = Y.xopt
        g, _ = Y.model()
        rec = IterationRecord(
            iteration=self.iteration,
            phi=x,
            theta=self.problem.parameter_map.forward(x),
            objective=Y.fopt,
            gradient_norm=self.projected_gradient(g, x),
            error_bound=float(Y.reported_bounds[Y.kopt]),
            lower_tol=float(Y.tols[Y.kopt]),
            work=self.problem.ledger.as_dict(),
            wall_time=wall_time,
        )
        self.history.append(rec)
        return rec

    def state(self):
        """Everything a later iteration reads, as arrays and numbers (for checkpoints)."""
        return {
            "set": self.Y.state(),
            "delta": self.delta,
            "rho": self.rho,
            "n_evals": self.n_evals,
            "iteration": self.iteration,
            "kappa": self.kappa,
        }

    def restore(self, state, *, history, evaluations):
        """Install :meth:`state` output and the stored records."""
        self.Y = InterpolationSet.from_state(state["set"])
        self.delta, self.rho = float(state["delta"]), float(state["rho"])
        self.n_evals, self.iteration = int(state["n_evals"]), int(state["iteration"])
        self.kappa = float(state["kappa"])
        self.history = list(history)
        self.evaluations = list(evaluations)
