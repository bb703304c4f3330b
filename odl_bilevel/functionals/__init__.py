r"""Functionals with gradients, Hessians and parameter derivatives.

Every smooth functional is a :class:`ParametrisedFunctional`
:math:`F(x;\theta)`: ``gradient`` is an operator whose ``derivative(x)`` is the
Hessian, ``param_gradient(x)`` is :math:`\partial_\theta F` and
``mixed_derivative(x)`` is :math:`\partial_\theta\nabla_x F` with its adjoint.
Nonsmooth TV and TGV² come as :class:`PDHGForm` for ODL's PDHG.
"""

from ._base import HessianOperator, ParametrisedFunctional, ParametrisedSum, ParamLinearOperator
from ._data_fit import L2DataFit, SampledDataFit
from ._foe import FieldsOfExperts
from ._h1 import H1Seminorm
from ._nonsmooth import PDHGForm, primal_dual_gap, tgv_pdhg_form, tv_pdhg_form
from ._smooth_tv import SmoothedTV
from ._tgv import SmoothedTGV
from ._tikhonov import Tikhonov
from ._tv2 import SmoothedTV2

__all__ = [
    "FieldsOfExperts",
    "H1Seminorm",
    "HessianOperator",
    "L2DataFit",
    "PDHGForm",
    "ParamLinearOperator",
    "ParametrisedFunctional",
    "ParametrisedSum",
    "SampledDataFit",
    "SmoothedTGV",
    "SmoothedTV",
    "SmoothedTV2",
    "Tikhonov",
    "primal_dual_gap",
    "tgv_pdhg_form",
    "tv_pdhg_form",
]
