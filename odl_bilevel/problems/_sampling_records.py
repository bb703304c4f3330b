r"""Result records of the sampling-pattern routines (frozen dataclasses).

:class:`AlphaResult` (:func:`~odl_bilevel.problems.optimise_alpha`),
:class:`StageRecord` and :class:`SamplingLearningResult`
(:func:`~odl_bilevel.problems.learn_sampling_pattern`) and
:class:`GreedyResult` (:func:`~odl_bilevel.problems.greedy_cartesian_pattern`).
Work is reported as a plain ``dict`` with the fields of
:class:`~odl_bilevel.solvers.WorkLedger` (``lower_solves``,
``lower_iterations``, ``cg_iterations``, ``hessian_products``, ...,
``wall_time``), ready for JSON.
"""

import dataclasses

import numpy as np

__all__ = ["AlphaResult", "GreedyResult", "SamplingLearningResult", "StageRecord"]


def _plain(value):
    """JSON-friendly copy: arrays to lists, numpy scalars to Python numbers, records to dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class AlphaResult:
    r"""Result of :func:`~odl_bilevel.problems.optimise_alpha`: a pattern's best :math:`\alpha`.

    Attributes
    ----------
    alpha : float
        The best regularisation weight found, :math:`\alpha^*`.
    objective : float
        :math:`\frac1n\sum_i\|\hat x_i(\alpha^*) - x_i^\dagger\|^2` at :math:`\alpha^*`.
    evaluations : int
        Number of distinct :math:`\alpha` evaluated (each costs ``n`` lower-level solves).
    work : dict
        Work of the search (fields of :class:`~odl_bilevel.solvers.WorkLedger`;
        ``wall_time`` is the elapsed time of the search).
    history : tuple of (float, float)
        Every :math:`(\alpha, \text{objective})` evaluated, in order.
    message : str
        How the search ended.
    at_bound : {"lower", "upper"} or None
        Which bound of ``alpha_bounds`` the best :math:`\alpha` lies on
        (within the search tolerance), None if inside: then the search may
        have stopped short of the minimiser and the bounds should be widened.
    """

    alpha: float
    objective: float
    evaluations: int
    work: dict
    history: tuple = ()
    message: str = ""
    at_bound: str | None = None

    def as_dict(self):
        """Return the fields as JSON-friendly Python objects."""
        return _plain(self)


@dataclasses.dataclass(frozen=True)
class StageRecord:
    r"""One stage of the :math:`\beta_1` continuation of ``learn_sampling_pattern``.

    Attributes
    ----------
    beta1 : float
        The penalty weight :math:`\beta_1` of the stage.
    support_rate : float
        Fraction of sampling parameters above the support threshold at the
        end of the stage.
    objective : float
        Upper objective :math:`U` (loss plus penalty) at the end of the stage.
    iterations : int
        L-BFGS-B iterations of the stage.
    lower_solves : int
        Lower-level solves of the stage (the first stage also counts the
        evaluation that chose the starting :math:`\beta_1`).
    status : str
        The stage's :class:`~odl_bilevel.upper.UpperStatus` name.
    wall_time : float
        Elapsed seconds of the stage.
    """

    beta1: float
    support_rate: float
    objective: float
    iterations: int
    lower_solves: int
    status: str
    wall_time: float = 0.0

    def as_dict(self):
        """Return the fields as JSON-friendly Python objects."""
        return _plain(self)


@dataclasses.dataclass(frozen=True)
class SamplingLearningResult:
    r"""Result of :func:`~odl_bilevel.problems.learn_sampling_pattern`.

    Attributes
    ----------
    weights : numpy.ndarray
        Learned sampling parameters :math:`\sigma` (image shape for the free
        pattern, one per line for the Cartesian one).
    pattern : numpy.ndarray
        The continuous per-pixel weights :math:`s = P\sigma` (image shape).
    binary : numpy.ndarray
        The 0/1 per-pixel pattern with exactly ``k = max(1, round(rate * m))``
        sampled parameters (pixels or lines).
    rate : float
        Sampling rate of ``binary`` (fraction of k-space pixels sampled).
    alpha : float
        :math:`\alpha` used while learning (the learned one if ``learn_alpha``).
    alpha_binary : float
        :math:`\alpha` re-optimised on ``binary`` (or ``alpha``).
    objective : float
        Upper objective (loss plus penalty) of the final stage.
    stages : tuple of StageRecord
        The continuation stages, in the order run.
    work : dict
        Work summed over the stages and the :math:`\alpha` search
        (``lower_solves``, ``lower_iterations``, ``cg_iterations``,
        ``hessian_products``, ...); ``wall_time`` is the elapsed time,
        summed over resumed parts of a run.
    status : str
        ``"converged"`` (the support reached the rate), ``"max_stages"`` (it
        did not; ``binary`` still holds the ``k`` largest weights) or
        ``"stopped"`` (by the callback).
    message : str
        What happened, in words.
    binary_objective : float
        Training loss :math:`\frac1n\sum_i\|\hat x_i - x_i^\dagger\|^2` of
        ``binary`` with ``alpha_binary`` (``nan`` without the
        :math:`\alpha` search).
    alpha_search : AlphaResult or None
        The :math:`\alpha` search on ``binary`` (None without it).
    """

    weights: np.ndarray
    pattern: np.ndarray
    binary: np.ndarray
    rate: float
    alpha: float
    alpha_binary: float
    objective: float
    stages: tuple
    work: dict
    status: str
    message: str
    binary_objective: float = float("nan")
    alpha_search: AlphaResult | None = None

    def as_dict(self):
        """Return the fields as JSON-friendly Python objects (arrays as nested lists)."""
        return _plain(self)


@dataclasses.dataclass(frozen=True)
class GreedyResult:
    r"""Result of :func:`~odl_bilevel.problems.greedy_cartesian_pattern`.

    Attributes
    ----------
    lines : numpy.ndarray
        Boolean mask of the sampled lines (length ``shape[0]``).
    binary : numpy.ndarray
        The per-pixel 0/1 pattern (line ``i`` is ``binary[i, :]``).
    rate : float
        Its sampling rate.
    objective_history : tuple of float
        Training loss after the initial lines and after every added line.
    lower_solves : int
        Lower-level solves (``n`` per candidate evaluated, plus ``n`` for the
        initial pattern).
    work : dict
        Fields of :class:`~odl_bilevel.solvers.WorkLedger`; ``wall_time`` is
        the elapsed time.
    wall_time : float
        Elapsed seconds.
    order : tuple of int
        The lines added, in order (after ``initial_lines``).
    """

    lines: np.ndarray
    binary: np.ndarray
    rate: float
    objective_history: tuple
    lower_solves: int
    work: dict
    wall_time: float
    order: tuple = ()

    def as_dict(self):
        """Return the fields as JSON-friendly Python objects (arrays as nested lists)."""
        return _plain(self)
