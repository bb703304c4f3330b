"""Smooth regularisers: smoothed TV / TV² / TGV and the H¹ seminorm."""

import numpy as np

from odl_bilevel.functionals import H1Seminorm, SmoothedTGV, SmoothedTV, SmoothedTV2
from odl_bilevel.testing import random_element
from registry import Case


def _moderate_point(f, rng):
    """Random point with gradients of size ~1: finite differences stay meaningful."""
    return 0.5 * random_element(f.domain, rng)


def _small_nu(X):
    # float32 finite differences need nu >= 0.1 (the curvature scale 1/nu)
    return 0.05 if X.dtype == np.float64 else 0.1


CASES = [
    Case("SmoothedTV", "functional", lambda X, rng: SmoothedTV(X, alpha=1.0, nu=0.1),
         point=_moderate_point),
    Case("SmoothedTV-wide", "functional", lambda X, rng: SmoothedTV(X, alpha=0.4, nu=0.5),
         point=_moderate_point),
    Case("SmoothedTV-small-nu", "functional",
         lambda X, rng: SmoothedTV(X, alpha=1.5, nu=_small_nu(X)), point=_moderate_point),
    Case("H1Seminorm", "functional", lambda X, rng: H1Seminorm(X, weight=0.7)),
    Case("SmoothedTV2", "functional", lambda X, rng: SmoothedTV2(X, alpha=0.8, nu=0.2),
         point=_moderate_point),
    Case("SmoothedTGV", "functional",
         lambda X, rng: SmoothedTGV(X, alpha=1.0, beta=0.5, nu=0.1), point=_moderate_point),
    Case("SmoothedTGV-beta", "functional",
         lambda X, rng: SmoothedTGV(X, alpha=0.3, beta=2.0, nu=0.2), point=_moderate_point),
]
