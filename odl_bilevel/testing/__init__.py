"""Public checkers for adjoints and derivatives (Taylor tests) that raise.

Nothing in the library imports this subpackage; it imports the library.
"""

from ._checks import (
    CheckResult,
    check_adjoint,
    check_fourier_majorant,
    check_gradient,
    check_hessian,
    check_param_derivative,
    random_element,
)

__all__ = [
    "CheckResult",
    "check_adjoint",
    "check_fourier_majorant",
    "check_gradient",
    "check_hessian",
    "check_param_derivative",
    "random_element",
]
