r"""Upper-level optimisers over a :class:`~odl_bilevel.bilevel.BilevelProblem`.

:func:`lbfgsb` minimises the upper objective :math:`U(\varphi)` with SciPy's
L-BFGS-B and implicit hypergradients, warm-starting the lower-level solves
across iterations. :func:`dfo` is a derivative-free Gauss–Newton
trust-region method on the least-squares residuals that chooses the
lower-level accuracy of each evaluation dynamically (Ehrhardt & Roberts
2021), or fixes it (iterations or tolerance) as a baseline; its
:class:`DFOResult` also holds one :class:`EvaluationRecord` per evaluation.
Every engine returns an :class:`UpperResult` with a history of
:class:`IterationRecord` and an :class:`UpperStatus`, and writes checkpoints
(:func:`save_checkpoint`, :func:`load_checkpoint`) from which a run resumes
after an interruption.
"""

from ._checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    checkpoint_exists,
    load_checkpoint,
    problem_fingerprint,
    save_checkpoint,
)
from ._dfo import dfo
from ._dfo_records import DFOResult, EvaluationRecord
from ._lbfgsb import lbfgsb
from ._records import IterationRecord, UpperResult, UpperStatus

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "DFOResult",
    "EvaluationRecord",
    "IterationRecord",
    "UpperResult",
    "UpperStatus",
    "checkpoint_exists",
    "dfo",
    "lbfgsb",
    "load_checkpoint",
    "problem_fingerprint",
    "save_checkpoint",
]
