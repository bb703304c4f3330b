r"""Application builders: bilevel denoising and MRI sampling problems from arrays.

:func:`denoising_problem` turns clean and noisy signals or images into a
:class:`~odl_bilevel.bilevel.BilevelProblem` with the talk's energies (smoothed
TV with Tikhonov, smoothed TV, smoothed TGV²), log-parametrised weights and the
optional condition-number penalty; :func:`reconstruct` applies learned weights
to held-out data; :func:`denoising_weights` and :func:`denoising_phi` convert
between the learned variables :math:`\varphi` and the weights
:math:`(\alpha, \nu, \xi)`, :math:`(\alpha, \beta, \nu)`.
:class:`JointDenoisingFit` is the data term of the TGV² energy on
:math:`z = (x, v)`.

MRI sampling: :func:`sampling_problem` learns sampling patterns (with
:math:`\alpha`) from clean images and k-space data (:func:`simulate_kspace`);
:func:`sampling_weights` and :func:`sampling_phi` convert between
:math:`\varphi` and the pattern. :func:`learn_sampling_pattern` learns a
pattern at a requested rate (continuation in the sparsity weight, binary
pattern, :math:`\alpha` re-optimised), :func:`greedy_cartesian_pattern` is the
greedy line selection of Gözcü et al. (2018), :func:`optimise_alpha` finds the
best :math:`\alpha` of a fixed pattern and :func:`reconstruct_sampled`
reconstructs from it. The baseline patterns (:func:`uniform_random_pattern`,
:func:`variable_density_pattern`, :func:`data_adapted_pattern`) and the
helpers :func:`binary_pattern`, :func:`line_pattern` and :func:`pattern_rate`
need no solves; for real images, whose k-space is Hermitian, the baselines'
``hermitian=True`` sample one member of each conjugate pair
(:func:`conjugate_index`, :func:`conjugate_redundancy`). Data generation
lives in :mod:`odl_bilevel.datasets`.
"""

from ._conjugate import conjugate_index, conjugate_redundancy
from ._denoising import denoising_phi, denoising_problem, denoising_weights, reconstruct
from ._joint import JointDenoisingFit
from ._patterns import binary_pattern, data_adapted_pattern, line_pattern, pattern_rate
from ._random_patterns import peak_interference, uniform_random_pattern, variable_density_pattern
from ._sampling import sampling_phi, sampling_problem, sampling_weights, simulate_kspace
from ._sampling_alpha import optimise_alpha, reconstruct_sampled
from ._sampling_greedy import greedy_cartesian_pattern
from ._sampling_learning import learn_sampling_pattern
from ._sampling_map import REGULARISERS
from ._sampling_records import AlphaResult, GreedyResult, SamplingLearningResult, StageRecord

__all__ = [
    "REGULARISERS",
    "AlphaResult",
    "GreedyResult",
    "JointDenoisingFit",
    "SamplingLearningResult",
    "StageRecord",
    "binary_pattern",
    "conjugate_index",
    "conjugate_redundancy",
    "data_adapted_pattern",
    "denoising_phi",
    "denoising_problem",
    "denoising_weights",
    "greedy_cartesian_pattern",
    "learn_sampling_pattern",
    "line_pattern",
    "optimise_alpha",
    "pattern_rate",
    "peak_interference",
    "reconstruct",
    "reconstruct_sampled",
    "sampling_phi",
    "sampling_problem",
    "sampling_weights",
    "simulate_kspace",
    "uniform_random_pattern",
    "variable_density_pattern",
]
