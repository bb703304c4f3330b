"""Stand-ins for BilevelProblem used by the DFO tests: least-squares functions with bounded noise.

:class:`LeastSquaresFake` implements the part of the BilevelProblem interface
that :func:`odl_bilevel.upper.dfo` uses. Its residuals are a closed-form
function of phi plus, optionally, a deterministic perturbation of norm at most
``delta`` (the reported ``error_bound``), where ``delta`` shrinks with the
requested tolerance (``noise * tol``) or with the iteration count in the
fixed-iteration mode (``noise * 0.5 ** (max_iter / 20)``). Each call books
lower-level "iterations" that grow like ``log(1 / delta)``.
"""

import math
import types
import zlib

import numpy as np
import pytest

from odl_bilevel.solvers import SolverResult, SolverStatus, WorkLedger


class IdentityMap:
    """theta = phi."""

    def __init__(self, size, bounds=None):
        self.size = size
        self.names = tuple(f"p{j}" for j in range(size))
        self.bounds = bounds

    def forward(self, phi):
        return np.array(phi, dtype=float)


class LeastSquaresFake:
    """f(phi) = |r(phi)|^2 + J(phi), evaluated with a controllable, bounded error."""

    lower_tol = 1e-8
    n_samples = 1

    def __init__(self, residual, size, *, bounds=None, penalty=None, noise=0.0, seed=0):
        self.residual, self.penalty = residual, penalty
        self.noise, self.seed = noise, seed
        self.parameter_map = IdentityMap(size, bounds)
        self.ledger = WorkLedger()
        self.calls = []  # (phi, tol, max_iter, delta, perturbation)

    def true_residuals(self, phi):
        return np.asarray(self.residual(np.asarray(phi, dtype=float)), dtype=float)

    def true_value(self, phi):
        r = self.true_residuals(phi)
        return float(r @ r) + (0.0 if self.penalty is None else float(self.penalty(phi)))

    def _delta(self, tol, max_iter):
        if self.noise == 0.0:
            return 0.0
        if tol < 1e-300:  # fixed-iteration mode
            return self.noise * 0.5 ** (max_iter / 20.0)
        return self.noise * tol

    def residuals(self, phi, *, tol=None, max_iter=None, warm_start=True):
        phi = np.array(phi, dtype=float)
        tol = self.lower_tol if tol is None else tol
        r = self.true_residuals(phi)
        delta = self._delta(tol, max_iter)
        key = zlib.crc32(phi.tobytes() + bytes([len(self.calls) % 256, self.seed % 256]))
        u = np.random.default_rng(key).standard_normal(r.size)
        u *= np.random.default_rng(key + 1).uniform(0.2, 1.0) / max(np.linalg.norm(u), 1e-300)
        perturbation = delta * u
        r_tilde = r + perturbation
        penalty = 0.0 if self.penalty is None else float(self.penalty(phi))
        iterations = 5 + int(math.ceil(math.log(1.0 / max(delta, 1e-16)))) if delta else 40
        if max_iter is not None and tol < 1e-300:
            iterations = max_iter
        self.ledger.add(
            SolverResult(x=None, status=SolverStatus.CONVERGED, message="", iterations=iterations,
                         certificate=delta, tol=tol, solver="fake")
        )
        self.calls.append((phi, tol, max_iter, delta, perturbation))
        return types.SimpleNamespace(
            residuals=r_tilde,
            penalty=penalty,
            value=float(r_tilde @ r_tilde) + penalty,
            error_bound=delta,
            status=SolverStatus.CONVERGED,
        )

    def state_dict(self):
        return {"ledger": self.ledger.as_dict(), "n_calls": len(self.calls)}

    def load_state_dict(self, state):
        self.ledger = WorkLedger(**state["ledger"])
        missing = int(state["n_calls"]) - len(self.calls)
        self.calls = self.calls[: int(state["n_calls"])] + [None] * max(missing, 0)


def rosenbrock(phi):
    return np.array([10.0 * (phi[1] - phi[0] ** 2), 1.0 - phi[0]])


def linear(A, b):
    def residual(phi):
        return A @ phi - b

    return residual


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_fake_noise_is_bounded_by_the_reported_bound(noise):
    fake = LeastSquaresFake(rosenbrock, 2, noise=noise)
    for tol in (1e-1, 1e-3, 1e-6):
        res = fake.residuals([0.3, -0.2], tol=tol)
        exact = fake.true_residuals([0.3, -0.2])
        assert np.linalg.norm(res.residuals - exact) <= res.error_bound + 1e-15
        assert res.error_bound == pytest.approx(noise * tol)
