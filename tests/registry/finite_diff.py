from odl_bilevel.operators import NeumannGradient, SecondOrderDifferences, SymmetrisedGradient
from registry import Case

CASES = [
    Case("NeumannGradient", "operator", lambda X, rng: NeumannGradient(X)),
    Case("SymmetrisedGradient", "operator", lambda X, rng: SymmetrisedGradient(X)),
    Case("SecondOrderDifferences", "operator", lambda X, rng: SecondOrderDifferences(X)),
]
