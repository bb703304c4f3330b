r"""Per-evaluation records and the result of the derivative-free engine.

Besides the per-iteration history of every engine
(:class:`~odl_bilevel.upper.IterationRecord`), :func:`~odl_bilevel.upper.dfo`
keeps one :class:`EvaluationRecord` per call of
:meth:`BilevelProblem.residuals` -- the objective against cumulative
lower-level work that the dynamic-accuracy benchmark plots -- and returns
them in :attr:`DFOResult.evaluations`.
"""

import dataclasses

import numpy as np

from ._records import UpperResult

__all__ = ["EVALUATION_KINDS", "DFOResult", "EvaluationRecord"]

#: Why an evaluation was made.
EVALUATION_KINDS = ("initial", "trial", "geometry", "reevaluation", "retry")


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluationRecord:
    r"""One evaluation :math:`\tilde f(\varphi)` of the derivative-free engine.

    Attributes
    ----------
    index : int
        Running number of the evaluation (0-based, across resumed parts).
    iteration : int
        Trust-region iteration it belongs to (0: building the first model).
    kind : str
        One of :data:`EVALUATION_KINDS`: a point of the first model, a
        trust-region trial point, a geometry-improving point, a
        re-evaluation of the current iterate with a tighter accuracy, or a
        retry of the same point because the reported bound missed its target.
    phi : tuple of float
        The point :math:`\varphi`.
    objective : float
        :math:`\tilde f(\varphi) = \|\tilde r\|^2 + J(\theta)` (the problem's
        ``value``, penalty included).
    error_bound : float
        Guaranteed bound :math:`e \ge |f(\varphi) - \tilde f(\varphi)|`,
        :math:`e = \delta(2\|\tilde r\| + \delta)` (``inf`` if the problem
        cannot bound :math:`\delta`).
    residual_bound : float
        :math:`\delta \ge \|\tilde r - r\|` as reported by the problem.
    lower_tol : float
        Lower-level tolerance requested (0 in the fixed-iteration mode).
    lower_iterations : int
        Cumulative lower-level iterations of the problem's ledger after
        this evaluation (the work measure of the benchmark).
    """

    index: int
    iteration: int
    kind: str
    phi: tuple
    objective: float
    error_bound: float
    residual_bound: float
    lower_tol: float
    lower_iterations: int

    def __post_init__(self):
        for name in ("index", "iteration", "lower_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"`{name}` must be an int, got {value!r}")
            object.__setattr__(self, name, int(value))
        if self.kind not in EVALUATION_KINDS:
            raise ValueError(f"`kind` must be one of {EVALUATION_KINDS}, got {self.kind!r}")
        phi = np.asarray(self.phi, dtype=float).ravel()
        object.__setattr__(self, "phi", tuple(float(v) for v in phi))
        for name in ("objective", "error_bound", "residual_bound", "lower_tol"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def as_dict(self):
        """Return the record as a JSON-friendly ``dict``."""
        out = dataclasses.asdict(self)
        out["phi"] = list(self.phi)
        return out

    @classmethod
    def from_dict(cls, data):
        """Rebuild a record from :meth:`as_dict` output.

        Raises
        ------
        ValueError
            If ``data`` lacks a field or has unknown ones.
        """
        if not isinstance(data, dict):
            raise TypeError(f"`data` must be a dict, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        missing, unknown = names - set(data), set(data) - names
        if missing or unknown:
            raise ValueError(
                f"`data` is not an EvaluationRecord: missing {sorted(missing)}, "
                f"unknown {sorted(unknown)}"
            )
        return cls(**data)


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class DFOResult(UpperResult):
    r"""Result of :func:`~odl_bilevel.upper.dfo`: an :class:`UpperResult` plus evaluation records.

    Attributes
    ----------
    evaluations : tuple of EvaluationRecord
        Every evaluation of the run in order (resumed parts included):
        :math:`\varphi`, :math:`\tilde f`, its bound, the requested tolerance
        and the cumulative lower-level iterations -- the data of an
        objective-versus-work plot.
    error_bound : float
        Bound :math:`e \ge |f - \tilde f|` of the final objective.
    radius : float
        Final trust-region radius :math:`\Delta`.

    Notes
    -----
    All attributes of :class:`UpperResult` are there too (``phi``,
    ``theta``, ``objective``, ``status``, ``message``, ``history``,
    ``work``, ``engine="dfo"``). For objective-versus-work curves of the
    *iterates* use ``history`` (``objective`` and ``work["lower_iterations"]``
    per iteration); ``evaluations`` also holds rejected trial points and
    coarse evaluations.
    """

    evaluations: tuple = ()
    error_bound: float = float("nan")
    radius: float = float("nan")

    def __post_init__(self):
        super().__post_init__()
        evaluations = tuple(self.evaluations)
        for k, rec in enumerate(evaluations):
            if not isinstance(rec, EvaluationRecord):
                raise TypeError(
                    f"`evaluations[{k}]` must be an EvaluationRecord, got {type(rec).__name__}"
                )
        object.__setattr__(self, "evaluations", evaluations)
        object.__setattr__(self, "error_bound", float(self.error_bound))
        object.__setattr__(self, "radius", float(self.radius))
