from odl_bilevel.functionals import ParametrisedSum, Tikhonov
from registry import Case

CASES = [
    Case("Tikhonov", "functional", lambda X, rng: Tikhonov(X, xi=float(rng.uniform(0.5, 2)))),
    Case(
        "ParametrisedSum",
        "functional",
        lambda X, rng: ParametrisedSum(Tikhonov(X, xi=0.3), Tikhonov(X, xi=1.7)),
    ),
]
