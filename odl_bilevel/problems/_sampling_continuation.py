r"""The :math:`\beta_1` continuation of ``learn_sampling_pattern``: stages, bracket, checkpoints.

Private helpers of :mod:`odl_bilevel.problems._sampling_learning`: the
penalty whose :math:`\beta_1` changes between stages, the choice of the first
:math:`\beta_1`, the plan of stages (growth, bisection after an overshoot,
the final stage) and the layout of the checkpoint directory.
"""

import math
import pathlib
import shutil

import numpy as np

from .._validation import require_nonnegative, require_positive
from ..bilevel import L1Penalty, Penalty
from ..upper import checkpoint_exists
from ._sampling import sampling_weights
from ._sampling_common import check_rate, sample_count, top_k
from ._sampling_records import StageRecord

__all__ = [
    "StagePenalty",
    "StagePlan",
    "check_learning_options",
    "clear_stage_dirs",
    "final_binary",
    "initial_beta",
    "run_options",
    "stage_dir",
]


class StagePenalty(Penalty):
    r"""The sampling penalty, with a :math:`\beta_1` that is set per stage."""

    def __init__(self, beta1, beta2, m):
        self.m, self.beta2 = m, beta2
        self.set(beta1)

    def set(self, beta1):
        r"""Set :math:`\beta_1` (the next evaluations use it)."""
        self.beta1 = beta1
        self._term = L1Penalty(beta1, self.beta2, indices=np.arange(self.m))

    def _value(self, theta):
        return self._term(theta)

    def _gradient(self, theta):
        return self._term.gradient(theta)


def initial_beta(problem, phi0, m, rate, lower_tol, cg_tol):
    r"""The (1 - rate)-quantile of the benefits :math:`-\partial U/\partial\sigma_j` at the start.

    Evaluates the hypergradient of the loss alone (``problem.penalty`` is a
    :class:`StagePenalty`, set to :math:`\beta_1 = 0` here). Falls back to
    the mean absolute benefit, then to a tiny positive value, if the quantile
    is not positive.
    """
    problem.penalty.set(0.0)
    evaluation = problem.value_and_gradient(phi0, tol=lower_tol, cg_tol=cg_tol)
    benefit = -np.asarray(evaluation.gradient, dtype=float)[:m]
    beta = float(np.quantile(benefit, 1.0 - rate))
    if not beta > 0:
        beta = float(np.mean(np.abs(benefit)))
    if not beta > 0:
        beta = 1e-8 * max(float(evaluation.value), 1.0) / m
    return beta


def run_options(rate, m, sampling, beta2, learn_alpha):
    """What identifies a run in its checkpoint besides the problem's fingerprint."""
    return {
        "rate": float(rate),
        "m": int(m),
        "sampling": str(sampling),
        "beta2": float(beta2),
        "learn_alpha": bool(learn_alpha),
    }


def stage_dir(checkpoint, j):
    """Directory of stage ``j``'s L-BFGS-B checkpoint inside ``checkpoint``."""
    return pathlib.Path(checkpoint) / f"stage_{j:02d}"


def clear_stage_dirs(checkpoint):
    """Remove the per-stage L-BFGS-B checkpoints of an earlier run (a fresh run starts)."""
    root = pathlib.Path(checkpoint)
    if root.is_dir():
        for d in root.glob("stage_*"):
            if d.name[6:].isdigit() and d.is_dir() and checkpoint_exists(d):
                shutil.rmtree(d)


#: a growth stage that closes less than this fraction of the gap between the
#: previous support and the rate makes the next beta1 grow by beta_factor**2
SLOW_PROGRESS = 0.1


class StagePlan:
    r"""The stages run so far and the :math:`\beta_1` bracket around the rate.

    While no stage has reached the rate, :math:`\beta_1` grows by
    ``beta_factor`` per stage, or by its square after a stage that closed
    less than ``SLOW_PROGRESS`` of the gap between the previous support
    (``start_support`` before the first stage) and the rate: such a stage
    shows that :math:`\beta_1` is still far below the value that reaches
    the rate, and each stage costs about the same number of solves.
    """

    def __init__(self, rate, beta0, beta_factor, refine, rate_tol, phi0, start_support=1.0):
        self.rate, self.beta_factor = rate, beta_factor
        self.refine, self.rate_tol = refine, rate_tol
        self.next_beta = beta0
        self.stages, self.phis = [], []
        self.phi0 = phi0
        self.start_support = float(start_support)
        self.refinements = 0
        self.ended = False  # the continuation has ended (rate reached and refined)
        self.initial_solves = 0  # solves of the evaluation that chose beta1 at the start

    @property
    def band(self):
        """The supports that end the continuation: ``[rate * (1 - rate_tol), rate]``."""
        return self.rate * (1.0 - self.rate_tol), self.rate

    @property
    def reached(self):
        """Whether a stage has reached the rate (support at most the rate)."""
        return any(s.support_rate <= self.rate for s in self.stages)

    def _closest_above(self, support):
        """Index of the stage with the smallest support above ``support`` (later ones first)."""
        above = [j for j, s in enumerate(self.stages) if s.support_rate > support]
        if not above:
            return None
        return min(above, key=lambda j: (self.stages[j].support_rate, -j))

    def start_phi(self):
        """Start of the next stage: the stage closest to the rate from above (or the start)."""
        j = self._closest_above(self.rate)
        return self.phi0 if j is None else self.phis[j]

    def final(self):
        """Indices of the final stage and of the closest stage with a larger support (or None).

        The final stage has the largest support at most the rate (the last
        stage if none reached the rate).
        """
        ok = [j for j, s in enumerate(self.stages) if s.support_rate <= self.rate]
        if ok:
            final = max(ok, key=lambda j: (self.stages[j].support_rate, j))
        else:
            final = len(self.stages) - 1
        return final, self._closest_above(self.stages[final].support_rate)

    def add(self, record, phi):
        """Book a finished stage; set the next beta1 and return whether the continuation ends."""
        self.stages.append(record)
        self.phis.append(np.array(phi, dtype=float))
        low, top = self.band
        if low <= record.support_rate <= top:
            self.ended = True
            return True
        below = [s.beta1 for s in self.stages if s.support_rate <= self.rate]
        if not below:
            previous = (
                self.stages[-2].support_rate if len(self.stages) > 1 else self.start_support
            )
            gap = previous - self.rate
            slow = gap > 0 and (previous - record.support_rate) < SLOW_PROGRESS * gap
            self.next_beta = record.beta1 * self.beta_factor ** (2 if slow else 1)
            return False
        if self.refinements >= self.refine:
            self.ended = True
            return True
        # bisect beta1 between the largest beta1 above the rate and the smallest one below it
        beta_hi = min(below)
        beta_lo = max((s.beta1 for s in self.stages if s.support_rate > self.rate), default=0.0)
        self.next_beta = (
            math.sqrt(beta_lo * beta_hi) if beta_lo > 0 else beta_hi / self.beta_factor
        )
        self.refinements += 1
        return False

    def state(self):
        """The plan as checkpoint data (plain numbers, dicts and arrays)."""
        return {
            "stages": [s.as_dict() for s in self.stages],
            "phis": np.array(self.phis) if self.phis else np.zeros((0, self.phi0.size)),
            "next_beta": self.next_beta,
            "refinements": self.refinements,
            "ended": self.ended,
            "initial_solves": self.initial_solves,
        }

    def restore(self, extra):
        """Restore the plan from :meth:`state` output (read from a checkpoint)."""
        self.stages = [StageRecord(**s) for s in extra["stages"]]
        self.phis = [np.array(p, dtype=float) for p in extra["phis"]]
        self.next_beta = float(extra["next_beta"])
        self.refinements = int(extra["refinements"])
        self.ended = bool(extra["ended"])
        self.initial_solves = int(extra["initial_solves"])


def check_learning_options(rate, beta, beta_factor, beta2, alpha, support_threshold, rate_tol):
    """Validate the continuation's options (errors name the argument); return them."""
    rate = check_rate(rate)
    if beta is not None:
        beta = require_positive(beta, "beta")
    beta_factor = require_positive(beta_factor, "beta_factor")
    if not beta_factor > 1.0:
        raise ValueError(f"`beta_factor` must be > 1, got {beta_factor}")
    beta2 = require_nonnegative(beta2, "beta2")
    alpha = require_positive(alpha, "alpha")
    support_threshold = require_nonnegative(support_threshold, "support_threshold")
    if not support_threshold < 1.0:
        raise ValueError(f"`support_threshold` must be < 1, got {support_threshold}")
    rate_tol = require_nonnegative(rate_tol, "rate_tol")
    if not rate_tol < 1.0:
        raise ValueError(f"`rate_tol` must be < 1, got {rate_tol}")
    return rate, beta, beta_factor, beta2, alpha, support_threshold, rate_tol


def final_binary(problem, plan, m, stopped, rate, support_threshold):
    """The final stage's weights and the binary pattern of ``learn_sampling_pattern``.

    The final stage is the one closest to the rate (the last one when the run
    was stopped). The binary pattern takes all of its support first (whatever
    the size of its weights: a high-SNR frequency such as DC needs only a
    small weight), then the largest weights of the denser stage, then the
    rest; remaining ties (many weights sit exactly on a bound) go to the
    lower frequencies, not to the first flat indices (which would fill a
    block of k-space rows). ``m`` is the number of sampling weights. Returns
    ``(final, weights, binary)``: the final stage's index, its
    :func:`sampling_weights` and the binary pattern.
    """
    final, tie_stage = (len(plan.stages) - 1, None) if stopped else plan.final()
    denser = np.zeros(m) if tie_stage is None else plan.phis[tie_stage][:m]
    phi_final = plan.phis[final]
    sigma = phi_final[:m]
    weights = sampling_weights(problem, phi_final)
    chosen = top_k(
        sample_count(rate, m),
        [sigma > support_threshold, denser, sigma, -_frequency_radius(weights["s"].shape)],
    )
    binary = sampling_weights(problem, np.concatenate([chosen, phi_final[m:]]))["pattern"]
    return final, weights, (binary > 0.5).astype(float)


def _frequency_radius(shape):
    """Distance of each (unshifted, ``fftfreq``-ordered) frequency to DC, flattened."""
    grids = np.meshgrid(*(np.fft.fftfreq(n) for n in shape), indexing="ij")
    return np.sqrt(sum(g * g for g in grids)).ravel()
