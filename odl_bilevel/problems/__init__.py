r"""Application builders: bilevel denoising and MRI sampling problems from arrays.

:func:`denoising_problem` turns clean and noisy signals or images into a
:class:`~odl_bilevel.bilevel.BilevelProblem` with the talk's energies (smoothed
TV with Tikhonov, smoothed TV, smoothed TGV²), log-parametrised weights and the
optional condition-number penalty; :func:`reconstruct` applies learned weights
to held-out data; :func:`denoising_weights` and :func:`denoising_phi` convert
between the learned variables :math:`\varphi` and the weights
:math:`(\alpha, \nu, \xi)`, :math:`(\alpha, \beta, \nu)`.
:class:`JointDenoisingFit` is the data term of the TGV² energy on
:math:`z = (x, v)`. :func:`sampling_problem` learns MRI sampling patterns
(with :math:`\alpha`) from clean images and k-space data
(:func:`simulate_kspace`); :func:`sampling_weights` and :func:`sampling_phi`
convert between :math:`\varphi` and the pattern. Data generation lives in
:mod:`odl_bilevel.datasets`.
"""

from ._denoising import denoising_phi, denoising_problem, denoising_weights, reconstruct
from ._joint import JointDenoisingFit
from ._sampling import sampling_phi, sampling_problem, sampling_weights, simulate_kspace

__all__ = [
    "JointDenoisingFit",
    "denoising_phi",
    "denoising_problem",
    "denoising_weights",
    "reconstruct",
    "sampling_phi",
    "sampling_problem",
    "sampling_weights",
    "simulate_kspace",
]
