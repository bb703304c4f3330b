"""Functionals with gradients, Hessians and parameter derivatives."""

from ._base import HessianOperator, ParamLinearOperator, ParametrisedFunctional, ParametrisedSum
from ._tikhonov import Tikhonov
