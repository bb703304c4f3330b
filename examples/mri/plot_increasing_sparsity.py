r"""
Sparser and sparser learned patterns: increasing :math:`\beta`
===============================================================

The sparsity penalty of the sampling problem (Sherry et al. 2020),

.. math::

    \min_{s \in [0,1]^m} \frac1n\sum_{i=1}^n\|\hat x_i(s) - x_i^\dagger\|^2
    + \beta\|s\|_1,

trades reconstruction quality for fewer samples: the larger :math:`\beta`,
the fewer weights survive. Here the free pattern is learned for decreasing
sampling rates on brain MRI slices (:math:`64\times64`), each run continuing
from the weights and the :math:`\beta` of the previous, denser one
(:func:`~odl_bilevel.problems.learn_sampling_pattern` with ``init_weights``
and ``beta``), so the whole sweep is one continuation in :math:`\beta`. Every
binary pattern is evaluated on held-out test slices with its own re-optimised
:math:`\alpha`, and compared with variable-density random patterns at the
same rates.
"""

# %%
# Data
# ----
# Four slices train, three others test; k-space noise :math:`\sigma = 0.02`.
import time

import matplotlib.pyplot as plt
import numpy as np

from odl_bilevel.datasets import brain_train_test
from odl_bilevel.metrics import psnr
from odl_bilevel.plotting import plot_continuation, plot_rate_sweep
from odl_bilevel.problems import (
    learn_sampling_pattern,
    optimise_alpha,
    reconstruct_sampled,
    simulate_kspace,
    variable_density_pattern,
)

size, sigma = 64, 0.02
rates = (0.4, 0.25, 0.15, 0.08)
train, test = brain_train_test(4, 3, size=size)
kspace_train = simulate_kspace(train, sigma, rng=1)
kspace_test = simulate_kspace(test, sigma, rng=2)


def mean_test_psnr(pattern, alpha):
    """Mean PSNR (dB) on the test slices of the reconstructions from ``pattern``."""
    xs = reconstruct_sampled(kspace_test, pattern, alpha=alpha)
    return float(np.mean([psnr(x, c, data_range=1.0) for x, c in zip(xs, test, strict=True)]))


# %%
# One continuation through all rates
# ----------------------------------
results = []
init, beta = 1.0, None
start = time.perf_counter()
for rate in rates:
    res = learn_sampling_pattern(train, kspace_train, rate, alpha=1e-2, max_iter=10,
                                 init_weights=init, beta=beta)
    results.append(res)
    init, beta = res.weights, res.stages[-1].beta1
    print(f"rate {res.rate:.3f}: beta = {beta:.2e}, {len(res.stages)} stages, "
          f"{res.work['lower_solves']} solves, alpha {res.alpha_binary:.2e} "
          f"({time.perf_counter() - start:.0f} s so far)")

# %%
# Test PSNR against the sampling rate
# -----------------------------------
learned_points = [(res.rate, mean_test_psnr(res.binary, res.alpha_binary)) for res in results]
density_points = []
for k, rate in enumerate(rates):
    vd = variable_density_pattern((size, size), rate, rng=k)
    alpha = optimise_alpha(train, kspace_train, vd, max_evals=10).alpha
    density_points.append((rate, mean_test_psnr(vd, alpha)))
print(f"{'rate':>6s} {'beta':>9s} {'learned':>9s} {'variable density':>17s}  (test PSNR, dB)")
for (r, p), (_, q), res in zip(learned_points, density_points, results, strict=True):
    print(f"{r:6.3f} {res.stages[-1].beta1:9.1e} {p:9.2f} {q:17.2f}")
fig = plot_rate_sweep(
    learned_points,
    labels=[f"β={res.stages[-1].beta1:.0e}" for res in results],
    patterns=[res.binary for res in results],
)
ax = fig.axes[0]
ax.plot(*zip(*density_points, strict=True), marker="s", label="variable density")
ax.legend(fontsize="small")
plt.figure(fig)  # hand the library figure to pyplot (and so to sphinx-gallery)

# %%
# The continuation
# ----------------
# Each stage learns the weights at a fixed :math:`\beta` and records the
# fraction of weights that are not zero; :math:`\beta` grows until that
# fraction reaches the requested rate.
stages = [(s.beta1, s.support_rate) for res in results for s in res.stages]
fig = plot_continuation({"free pattern": stages})
plt.figure(fig)
plt.show()
