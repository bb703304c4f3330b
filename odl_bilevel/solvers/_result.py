r"""Results of the inexact solvers and the work ledger that counts their cost.

Every inexact routine of the library takes ``tol`` and returns what it
achieved in a frozen :class:`SolverResult`: the iterate, a
:class:`SolverStatus`, the achieved stopping quantity (``certificate``) and
the work it spent. A :class:`WorkLedger` adds such results up, so that
hypergradients, upper-level optimisers and benchmarks count lower-level
iterations, gradient evaluations, Hessian-vector products and CG iterations in
one place (DESIGN.md §2).
"""

import dataclasses
import enum

__all__ = ["LINEAR_SOLVERS", "SolverResult", "SolverStatus", "WorkLedger"]

#: Names (``SolverResult.solver``) of the solvers of linear systems; the
#: :class:`WorkLedger` books their iterations as CG iterations, all others as
#: lower-level iterations.
LINEAR_SOLVERS = frozenset({"conjugate_gradient"})


class SolverStatus(enum.Enum):
    """Why an iterative solver stopped.

    Attributes
    ----------
    CONVERGED
        The stopping quantity reached the tolerance: ``certificate <= tol``.
    MAX_ITER
        ``max_iter`` iterations were done without reaching the tolerance
        (also the normal outcome of the fixed-iteration mode ``tol=0``).
    NONFINITE
        An iterate, gradient or residual became NaN or Inf (the method
        diverged, e.g. because the step was too long for the true Lipschitz
        constant).
    STOPPED_BY_CALLBACK
        The callback returned ``True``.
    NONPOSITIVE_CURVATURE
        Conjugate gradients met a direction :math:`p` with
        :math:`\\langle p, Hp\\rangle \\le 0`: the operator is not positive
        definite.
    """

    CONVERGED = "converged"
    MAX_ITER = "max_iter"
    NONFINITE = "nonfinite"
    STOPPED_BY_CALLBACK = "stopped_by_callback"
    NONPOSITIVE_CURVATURE = "nonpositive_curvature"

    #: Alias: a divergent run is reported as :attr:`NONFINITE`.
    DIVERGED = "nonfinite"


@dataclasses.dataclass(frozen=True, kw_only=True)
class SolverResult:
    r"""Outcome of an inexact solve: the iterate, why it stopped, what it achieved and cost.

    Attributes
    ----------
    x : odl.LinearSpaceElement
        The final iterate (a copy owned by the result).
    status : SolverStatus
        Why the solver stopped.
    message : str
        Human-readable explanation of ``status``.
    iterations : int
        Number of iterations done.
    certificate : float
        The achieved stopping quantity at ``x``, in the units of ``tol``
        (e.g. :math:`\|\nabla E(x)\|/\mu \ge \|x - \hat x\|` for the smooth
        solvers, :math:`\|b - Hx\|/\|b\|` for CG, the primal-dual gap for
        PDHG). ``nan`` if it could not be computed.
    tol : float
        The tolerance that was asked for.
    solver : str
        Name of the solver, e.g. ``"fista"`` or ``"conjugate_gradient"``.
    gradient_evaluations : int
        Number of evaluations of :math:`\nabla E`.
    hessian_products : int
        Number of Hessian-vector products (applications of :math:`H` in CG).
    operator_applications : int
        Number of applications of other linear operators and their adjoints
        (PDHG's :math:`K` and :math:`K^*`).
    wall_time : float
        Seconds spent inside the solver.
    history : tuple of float
        The stopping quantity at each check, the starting point first.
    y : odl.LinearSpaceElement or None
        The final dual iterate of primal-dual solvers (a copy; a warm start
        for the next solve), else ``None``.
    """

    x: object
    status: SolverStatus
    message: str
    iterations: int
    certificate: float
    tol: float
    solver: str = ""
    gradient_evaluations: int = 0
    hessian_products: int = 0
    operator_applications: int = 0
    wall_time: float = 0.0
    history: tuple = ()
    y: object = None

    @property
    def converged(self):
        """Whether the tolerance was reached (``status is SolverStatus.CONVERGED``)."""
        return self.status is SolverStatus.CONVERGED

    def __repr__(self):
        return (
            f"SolverResult(solver={self.solver!r}, status={self.status.name}, "
            f"iterations={self.iterations}, certificate={self.certificate:.3e}, "
            f"tol={self.tol:.3e}, gradient_evaluations={self.gradient_evaluations}, "
            f"hessian_products={self.hessian_products}, "
            f"operator_applications={self.operator_applications}, "
            f"wall_time={self.wall_time:.3g})"
        )


@dataclasses.dataclass
class WorkLedger:
    """Mutable tally of the work done by solvers, the one place where work is counted.

    Attributes
    ----------
    lower_iterations : int
        Iterations of lower-level (non-linear) solvers.
    gradient_evaluations : int
        Evaluations of :math:`\\nabla_x E`.
    hessian_products : int
        Hessian-vector products (including CG's).
    cg_iterations : int
        Iterations of linear solvers (:data:`LINEAR_SOLVERS`).
    lower_solves : int
        Number of lower-level solves.
    linear_solves : int
        Number of linear solves.
    operator_applications : int
        Applications of other linear operators (PDHG's :math:`K`, :math:`K^*`).
    wall_time : float
        Seconds, summed over the results added.

    Examples
    --------
    >>> from odl_bilevel.solvers import SolverResult, SolverStatus, WorkLedger
    >>> res = SolverResult(x=None, status=SolverStatus.CONVERGED, message="", iterations=7,
    ...                    certificate=1e-9, tol=1e-8, solver="fista", gradient_evaluations=8)
    >>> ledger = WorkLedger().add(res).add(res)
    >>> ledger.lower_iterations, ledger.gradient_evaluations, ledger.lower_solves
    (14, 16, 2)
    >>> (ledger + ledger).as_dict()["lower_iterations"]
    28
    """

    lower_iterations: int = 0
    gradient_evaluations: int = 0
    hessian_products: int = 0
    cg_iterations: int = 0
    lower_solves: int = 0
    linear_solves: int = 0
    operator_applications: int = 0
    wall_time: float = 0.0

    def add(self, result):
        """Book the work of ``result`` (a :class:`SolverResult`); return ``self``.

        Raises
        ------
        TypeError
            If ``result`` is not a :class:`SolverResult`.
        """
        if not isinstance(result, SolverResult):
            raise TypeError(f"`result` must be a SolverResult, got {type(result).__name__}")
        if result.solver in LINEAR_SOLVERS:
            self.cg_iterations += result.iterations
            self.linear_solves += 1
        else:
            self.lower_iterations += result.iterations
            self.lower_solves += 1
        self.gradient_evaluations += result.gradient_evaluations
        self.hessian_products += result.hessian_products
        self.operator_applications += result.operator_applications
        self.wall_time += result.wall_time
        return self

    def as_dict(self):
        """Return the counts as a plain ``dict`` (for logs, JSON and plots)."""
        return dataclasses.asdict(self)

    def __add__(self, other):
        if not isinstance(other, WorkLedger):
            return NotImplemented
        return WorkLedger(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in dataclasses.fields(self)
            }
        )
