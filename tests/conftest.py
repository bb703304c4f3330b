import numpy as np
import pytest


@pytest.fixture
def rng():
    """Seeded random generator; every test that needs randomness uses it."""
    return np.random.default_rng(20261126)
