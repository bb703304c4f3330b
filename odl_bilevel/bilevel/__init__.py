r"""The bilevel learning problem: energies, training pairs, upper loss and parameters.

:class:`BilevelProblem` holds the lower-level energies :math:`E_i(x;\theta)`,
the ground truths :math:`x_i^\dagger`, the upper loss :math:`\ell`
(:class:`SquaredError` by default, :class:`UpperLoss` for others,
:class:`NonsmoothLoss` for losses given by values only, such as
:math:`1 - \mathrm{SSIM}`, for derivative-free engines), an optional
penalty :math:`J` (:class:`ConditionPenalty`, :class:`L1Penalty`) and the
parameter map :math:`\theta = T(\varphi)` (:class:`ParameterMap`). It
evaluates the upper objective with certified error bounds, its implicit
hypergradient and least-squares residuals, running the per-sample solves
through a :class:`concurrent.futures.Executor` with warm starts and a
:class:`~odl_bilevel.solvers.WorkLedger`. Nonsmooth energies for the PDHG
solver are wrapped as :class:`PDHGEnergy`.
"""

from ._energies import PDHGEnergy
from ._losses import SquaredError, UpperLoss
from ._nonsmooth_loss import NonsmoothLoss
from ._parameters import ParameterMap
from ._penalties import ConditionPenalty, L1Penalty, Penalty
from ._problem import BilevelProblem
from ._results import HypergradientEvaluation, LowerSolveResult, ObjectiveResult, ResidualsResult

__all__ = [
    "BilevelProblem",
    "ConditionPenalty",
    "HypergradientEvaluation",
    "L1Penalty",
    "LowerSolveResult",
    "NonsmoothLoss",
    "ObjectiveResult",
    "PDHGEnergy",
    "ParameterMap",
    "Penalty",
    "ResidualsResult",
    "SquaredError",
    "UpperLoss",
]
