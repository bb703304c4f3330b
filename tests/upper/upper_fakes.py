"""A tiny stand-in for BilevelProblem with a closed-form lower level (tests of the upper engines).

Lower level  E_i(x; xi) = 1/2 |x - y_i|^2 + xi/2 |x|^2,  x_hat_i = y_i / (1 + xi);
upper level  U(phi) = (1/n) sum_i |x_hat_i - t_i|^2 with xi = exp(phi).
With a = 1/(1 + xi): U is minimal at a* = sum <y_i, t_i> / sum |y_i|^2, xi* = 1/a* - 1.
"""

import types

import numpy as np

from odl_bilevel.solvers import SolverResult, SolverStatus, WorkLedger


class LogMap:
    """theta = exp(phi) for one parameter ``xi``."""

    names = ("xi",)
    size = 1

    def __init__(self, bounds=None):
        self.bounds = bounds

    def forward(self, phi):
        return np.exp(np.asarray(phi, dtype=float))

    def vjp(self, phi, g_theta):
        return np.exp(np.asarray(phi, dtype=float)) * np.asarray(g_theta, dtype=float)


class QuadraticFakeProblem:
    """Implements the parts of the BilevelProblem interface that the upper engines use."""

    lower_tol = 1e-8

    def __init__(self, ys, targets, *, bounds=None, noise=0.0, error_bound=0.0):
        self.noise, self.error_bound = noise, error_bound
        self.ys = [np.asarray(y, dtype=float) for y in ys]
        self.targets = [np.asarray(t, dtype=float) for t in targets]
        self.n_samples = len(self.ys)
        self.domain = types.SimpleNamespace(shape=self.ys[0].shape)
        self.parameter_map = LogMap(bounds)
        self.ledger = WorkLedger()
        self.warm_starts = [None] * self.n_samples
        self.calls = []  # (phi, tol, cg_tol) of every value_and_gradient call

    def xi_star(self):
        a = sum(float(y @ t) for y, t in zip(self.ys, self.targets, strict=True))
        a /= sum(float(y @ y) for y in self.ys)
        return 1.0 / a - 1.0

    def upper(self, xi):
        a = 1.0 / (1.0 + xi)
        return float(
            np.mean([np.sum((a * y - t) ** 2) for y, t in zip(self.ys, self.targets, strict=True)])
        )

    def value_and_gradient(self, phi, *, tol=None, cg_tol=None):
        phi = np.asarray(phi, dtype=float)
        self.calls.append((phi.copy(), tol, cg_tol))
        xi = float(np.exp(phi[0]))
        a = 1.0 / (1.0 + xi)
        value, d_xi = 0.0, 0.0
        for i, (y, t) in enumerate(zip(self.ys, self.targets, strict=True)):
            x = a * y
            value += float(np.sum((x - t) ** 2)) / self.n_samples
            d_xi += 2.0 * float((x - t) @ (-(a**2) * y)) / self.n_samples
            iters = 3 if self.warm_starts[i] is not None else 20  # warm starts pay off
            self.ledger.add(
                SolverResult(
                    x=None,
                    status=SolverStatus.CONVERGED,
                    message="",
                    iterations=iters,
                    certificate=0.0,
                    tol=tol or self.lower_tol,
                    solver="fista",
                    gradient_evaluations=iters + 1,
                )
            )
            self.warm_starts[i] = x
        used = self.lower_tol if tol is None else tol
        wiggle = self.noise * np.sin(1e7 * phi[0])  # deterministic "inexactness"
        return types.SimpleNamespace(
            value=value + wiggle,
            gradient=np.array([xi * d_xi + wiggle]),
            error_bound=self.error_bound,
            objective=types.SimpleNamespace(solves=types.SimpleNamespace(tol=used)),
        )

    def state_dict(self):
        return {
            "warm_starts": [None if w is None else w.copy() for w in self.warm_starts],
            "ledger": self.ledger.as_dict(),
        }

    def load_state_dict(self, state):
        self.warm_starts = [
            None if w is None else np.asarray(w, dtype=float) for w in state["warm_starts"]
        ]
        self.ledger = WorkLedger(**state["ledger"])


def make_fake(rng, *, n_samples=3, size=20, sigma=0.5, bounds=None, **kwargs):
    """Random targets and noisy data; the optimal xi is well inside (0, inf)."""
    targets = [rng.standard_normal(size) for _ in range(n_samples)]
    ys = [t + sigma * rng.standard_normal(size) for t in targets]
    return QuadraticFakeProblem(ys, targets, bounds=bounds, **kwargs)
