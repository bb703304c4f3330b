r"""
Two upper-level engines on one problem: hypergradients vs dynamic-accuracy DFO
===============================================================================

The talk's 1-D denoising problem: piecewise-constant signals
:math:`x_i^\dagger \in [0, 1]^{256}`, data :math:`y_i = x_i^\dagger +
\varepsilon_i` with :math:`\sigma = 0.1`, and the lower level

.. math::

    \hat x_i(\theta) = \operatorname*{argmin}_x \frac12\|x - y_i\|^2
    + \alpha\Big(\sum_j\sqrt{|(\nabla x)_j|^2 + \nu^2} + \frac{\xi}{2}\|x\|^2\Big).

The upper level learns :math:`\varphi = \log(\alpha, \nu, \xi)` by

.. math::

    \min_\varphi U(\varphi) = \frac1n\sum_{i=1}^n\|\hat x_i(\theta) - x_i^\dagger\|^2
    + \beta\Big(\frac{L(\theta)}{\mu(\theta)}\Big)^2 .

The same :class:`~odl_bilevel.bilevel.BilevelProblem` drives two engines:

- :func:`~odl_bilevel.upper.lbfgsb`: L-BFGS-B with implicit hypergradients
  (every evaluation solves the lower level to ``lower_tol`` and one adjoint
  system by CG);
- :func:`~odl_bilevel.upper.dfo`: a derivative-free trust-region method on the
  residuals :math:`r_i = \hat x_i - x_i^\dagger` that asks the lower level only
  for the accuracy its current step needs (Ehrhardt & Roberts 2021).

We compare the objective at the iterates against the work spent.
"""

# %%
# Data and problem
# ----------------
import time

import matplotlib.pyplot as plt

from odl_bilevel.datasets import denoising_pairs, piecewise_constant_signals
from odl_bilevel.plotting import plot_history
from odl_bilevel.problems import denoising_phi, denoising_problem, denoising_weights
from odl_bilevel.upper import dfo, lbfgsb

signals = piecewise_constant_signals(10, 256, rng=1)
clean, noisy = denoising_pairs(signals, 0.1, rng=2)


def make_problem():
    """A fresh problem (own warm starts and work ledger) for each engine."""
    return denoising_problem(
        clean, noisy, penalty="condition", penalty_weight=1e-6, lower_tol=1e-6, cg_tol=1e-6
    )


# %%
# Learning with both engines
# --------------------------
# Both start from :math:`\alpha = \nu = \xi = 0.1`. L-BFGS-B stops on its
# gradient test; DFO gets a budget of 60 evaluations.
results = {}
for label, engine in [
    ("L-BFGS-B + hypergradients", lambda p: lbfgsb(p, denoising_phi(p), max_iter=40)),
    ("DFO, dynamic accuracy", lambda p: dfo(p, denoising_phi(p), max_evals=60)),
]:
    problem = make_problem()
    start = time.perf_counter()
    res = engine(problem)
    w = denoising_weights(problem, res.phi)
    results[label] = res
    print(
        f"{label:27s} U = {res.objective:.5f}  alpha = {w['alpha']:.4f}  nu = {w['nu']:.2e}  "
        f"xi = {w['xi']:.2e}  lower-level iterations = {res.work['lower_iterations']}  "
        f"CG iterations = {res.work['cg_iterations']}  ({time.perf_counter() - start:.1f} s)"
    )

# %%
# Objective against lower-level iterations
# ----------------------------------------
# Each point is an accepted iterate, with the cumulative number of
# lower-level (FISTA) iterations over all training signals when it was
# accepted.
fig = plot_history(
    {
        label: [(r.work["lower_iterations"], r.objective) for r in res.history]
        for label, res in results.items()
    },
    logx=True,
    title="upper objective vs lower-level iterations",
)
plt.figure(fig)

# %%
# Objective against all operator applications
# -------------------------------------------
# L-BFGS-B also pays for the adjoint systems: one Hessian-vector product per
# CG iteration, which costs about one gradient evaluation. Counting gradient
# evaluations plus Hessian-vector products puts both engines on one scale;
# DFO needs no Hessian at all.
fig = plot_history(
    {
        label: [
            (r.work["gradient_evaluations"] + r.work["hessian_products"], r.objective)
            for r in res.history
        ]
        for label, res in results.items()
    },
    xlabel="gradient evaluations + Hessian-vector products",
    logx=True,
    title="upper objective vs all operator applications",
)
plt.figure(fig)

# %%
# Both engines find essentially the same weights and objective, for work of
# the same order. The derivative-free engine needs no adjoint solves and starts
# with very coarse lower-level solves, tightening them only as its trust
# region shrinks; L-BFGS-B solves every lower level to ``lower_tol`` from the
# first iteration on. Which is cheaper depends on the number :math:`q` of
# learned parameters: DFO needs :math:`q + 1` interpolation points before its
# first step and models built from :math:`O(q)` evaluations, while a
# hypergradient costs about one extra solve whatever :math:`q` is. The
# benchmark ``benchmarks/dynamic_accuracy.py`` compares dynamic with fixed
# lower-level accuracy inside the DFO engine.
