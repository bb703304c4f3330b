r"""What an upper-level optimiser reports: one record per iteration and a final result.

An upper-level engine minimises :math:`U(\varphi)` over the learned variables
:math:`\varphi` (the parameters are :math:`\theta = T(\varphi)`, DESIGN.md §1).
After every accepted iteration it appends an :class:`IterationRecord` to its
history; the run ends with a frozen :class:`UpperResult` whose
:class:`UpperStatus` says why it stopped. Records convert to and from plain
``dict`` (:meth:`IterationRecord.as_dict`, :meth:`IterationRecord.from_dict`)
for checkpoints, JSON results and plots.
"""

import dataclasses
import enum

import numpy as np

__all__ = ["IterationRecord", "UpperResult", "UpperStatus"]


class UpperStatus(enum.Enum):
    """Why an upper-level optimiser stopped.

    Attributes
    ----------
    CONVERGED
        A convergence test of the engine was met (for :func:`lbfgsb`: SciPy's
        projected-gradient test ``gtol`` or relative-reduction test ``ftol``).
    MAX_ITER
        The iteration budget ``max_iter`` (or SciPy's evaluation budget) was
        used up.
    STOPPED_BY_CALLBACK
        The user's ``callback`` returned ``True``.
    FAILED
        The engine gave up, e.g. L-BFGS-B's line search could not find a
        decrease (often a sign that the hypergradient is too inexact for the
        current step: tighten ``lower_tol`` and ``cg_tol``).
    """

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    STOPPED_BY_CALLBACK = "stopped_by_callback"
    FAILED = "failed"


def _frozen_vector(values):
    """A read-only float64 copy of ``values``, flattened."""
    arr = np.array(values, dtype=np.float64).ravel()
    arr.flags.writeable = False
    return arr


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class IterationRecord:
    r"""State of an upper-level run after one accepted iteration.

    Attributes
    ----------
    iteration : int
        Iteration number; 0 is the starting point, counting continues across
        a resumed run.
    phi : numpy.ndarray
        Learned variables :math:`\varphi_k` (read-only float64 copy).
    theta : numpy.ndarray
        Parameters :math:`\theta_k = T(\varphi_k)` of the lower-level energies
        (read-only float64 copy).
    objective : float
        Upper objective :math:`U(\varphi_k)` computed from the inexact
        lower-level solutions.
    gradient_norm : float
        Euclidean norm :math:`\|\nabla U(\varphi_k)\|` of the computed
        hypergradient (in :math:`\varphi`; not projected onto the bounds).
    error_bound : float
        Bound on :math:`\|\nabla U(\varphi_k) - \nabla U_{\mathrm{exact}}(\varphi_k)\|`
        from the lower-level and CG tolerances (``inf`` if a constant is unknown).
    lower_tol : float
        Lower-level tolerance :math:`\varepsilon` used at this iteration
        (the certificate :math:`\|x - \hat x\| \le \varepsilon`).
    work : dict
        Cumulative work counts (:meth:`odl_bilevel.solvers.WorkLedger.as_dict`)
        of the problem's ledger when the iteration was accepted.
    wall_time : float
        Seconds since the start of the run (summed over resumed parts).
    """

    iteration: int
    phi: tuple
    theta: tuple
    objective: float
    gradient_norm: float
    error_bound: float
    lower_tol: float
    work: dict
    wall_time: float

    def __post_init__(self):
        if isinstance(self.iteration, bool) or not isinstance(self.iteration, int | np.integer):
            raise TypeError(f"`iteration` must be an int, got {self.iteration!r}")
        if self.iteration < 0:
            raise ValueError(f"`iteration` must be non-negative, got {self.iteration}")
        object.__setattr__(self, "iteration", int(self.iteration))
        object.__setattr__(self, "phi", _frozen_vector(self.phi))
        object.__setattr__(self, "theta", _frozen_vector(self.theta))
        for name in ("objective", "gradient_norm", "error_bound", "lower_tol", "wall_time"):
            object.__setattr__(self, name, float(getattr(self, name)))
        if not isinstance(self.work, dict):
            raise TypeError(f"`work` must be a dict, got {type(self.work).__name__}")
        object.__setattr__(self, "work", dict(self.work))

    # Arrays, not tuples of floats: a record of a free 256² sampling pattern holds 2 x 65,536
    # numbers, and a tuple of Python floats costs four times the memory and made every
    # checkpoint of such a run (the whole history, as JSON) take seconds.
    __hash__ = None

    def __eq__(self, other):
        if not isinstance(other, IterationRecord):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            if f.name in ("phi", "theta")
            else getattr(self, f.name) == getattr(other, f.name)
            for f in dataclasses.fields(self)
        )

    def as_dict(self, *, arrays=False):
        """Return the record as a ``dict``: JSON-friendly (lists), or with the arrays themselves.

        Parameters
        ----------
        arrays : bool, optional
            Keep ``phi`` and ``theta`` as (read-only) numpy arrays instead of
            lists of floats (how checkpoints store them, in their NPZ file).
        """
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["work"] = dict(self.work)
        if not arrays:
            out["phi"] = self.phi.tolist()
            out["theta"] = self.theta.tolist()
        return out

    @classmethod
    def from_dict(cls, data):
        """Rebuild a record from :meth:`as_dict` output.

        Raises
        ------
        ValueError
            If ``data`` lacks a field or has unknown ones (the message names them).
        """
        if not isinstance(data, dict):
            raise TypeError(f"`data` must be a dict, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        missing, unknown = names - set(data), set(data) - names
        if missing or unknown:
            raise ValueError(
                f"`data` is not an IterationRecord: missing {sorted(missing)}, "
                f"unknown {sorted(unknown)}"
            )
        return cls(**data)


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class UpperResult:
    r"""Outcome of an upper-level optimisation.

    Attributes
    ----------
    phi : numpy.ndarray
        Final learned variables :math:`\varphi` (read-only float64).
    theta : numpy.ndarray
        Final parameters :math:`\theta = T(\varphi)` (read-only float64).
    objective : float
        Upper objective at ``phi``.
    status : UpperStatus
        Why the run stopped.
    message : str
        Human-readable explanation (for L-BFGS-B, SciPy's message).
    history : tuple of IterationRecord
        One record per accepted iteration, the starting point first.
    work : dict
        Total work (:meth:`odl_bilevel.solvers.WorkLedger.as_dict`) of the
        problem's ledger at the end, including resumed parts.
    engine : str
        Name of the optimiser, e.g. ``"lbfgsb"``.
    """

    phi: np.ndarray
    theta: np.ndarray
    objective: float
    status: UpperStatus
    message: str
    history: tuple
    work: dict
    engine: str

    def __post_init__(self):
        for name in ("phi", "theta"):
            arr = np.array(getattr(self, name), dtype=float).ravel()
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if not isinstance(self.status, UpperStatus):
            raise TypeError(f"`status` must be an UpperStatus, got {self.status!r}")
        object.__setattr__(self, "objective", float(self.objective))
        object.__setattr__(self, "history", tuple(self.history))
        object.__setattr__(self, "work", dict(self.work))

    @property
    def converged(self):
        """Whether the run met its convergence test (``status is UpperStatus.CONVERGED``)."""
        return self.status is UpperStatus.CONVERGED

    @property
    def iterations(self):
        """Number of accepted iterations (the last record's ``iteration``; 0 if none)."""
        return self.history[-1].iteration if self.history else 0

    def __repr__(self):
        return (
            f"UpperResult(engine={self.engine!r}, status={self.status.name}, "
            f"iterations={self.iterations}, objective={self.objective:.6g}, "
            f"theta={np.array2string(self.theta, precision=4)})"
        )
