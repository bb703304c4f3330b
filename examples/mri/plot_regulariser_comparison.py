r"""
The pattern depends on the regulariser: smoothed TV vs :math:`H^1`
===================================================================

The learned sampling pattern is optimal for one reconstruction method, so it
changes with the regulariser :math:`R` of the lower level

.. math::

    \hat x_i(s) = \operatorname*{argmin}_x \frac12\|S(Fx - y_i)\|^2
    + \alpha\Big(R(x) + \frac{\xi}{2}\|x\|^2\Big).

Here two free patterns are learned at the same sampling rate on brain MRI
slices (:math:`64\times64`): one for the smoothed total variation
:math:`R(x) = \sum_j\sqrt{|(\nabla x)_j|^2 + \nu^2}` (``regulariser="tv"``)
and one for the :math:`H^1` seminorm :math:`R(x) = \frac12\|\nabla x\|^2`
(``regulariser="h1"``, a quadratic, Tikhonov-type regulariser). A linear
reconstruction like :math:`H^1` cannot recover unsampled frequencies the way
TV's sparsity prior can, so it asks for the low frequencies, densely. Both
patterns are then tested with both regularisers, each pair with its own
re-optimised :math:`\alpha`.
"""

# %%
# Data and :math:`\alpha` per regulariser
# ---------------------------------------
# :math:`\alpha` is fixed while a pattern is learned (the binary pattern gets
# its best :math:`\alpha` afterwards). TV uses :math:`\alpha = 10^{-2}`, as in
# the other examples; the quadratic :math:`H^1` penalty lives on another
# scale, so its :math:`\alpha` comes from a 1-D search
# (:func:`~odl_bilevel.problems.optimise_alpha`) with a variable-density
# pattern at the target rate.
import time

import matplotlib.pyplot as plt
import numpy as np

from odl_bilevel.datasets import brain_train_test
from odl_bilevel.metrics import psnr, ssim
from odl_bilevel.plotting import plot_patterns, plot_sampling_reconstructions
from odl_bilevel.problems import (
    learn_sampling_pattern,
    optimise_alpha,
    reconstruct_sampled,
    simulate_kspace,
    variable_density_pattern,
)

size, rate, sigma = 64, 0.2, 0.02
train, test = brain_train_test(4, 3, size=size)
kspace_train = simulate_kspace(train, sigma, rng=1)
kspace_test = simulate_kspace(test, sigma, rng=2)
regularisers = {"smoothed TV": "tv", "H1": "h1"}
start_pattern = variable_density_pattern((size, size), rate, rng=0)
alpha0 = {
    "smoothed TV": 1e-2,
    "H1": optimise_alpha(train, kspace_train, start_pattern, regulariser="h1", max_evals=12).alpha,
}
print("alpha while learning:", {k: f"{v:.2e}" for k, v in alpha0.items()})

# %%
# Learning one pattern per regulariser
# ------------------------------------
learned = {}
for label, reg in regularisers.items():
    start = time.perf_counter()
    learned[label] = learn_sampling_pattern(
        train, kspace_train, rate, regulariser=reg, alpha=alpha0[label], max_iter=15
    )
    res = learned[label]
    print(f"{label}: {time.perf_counter() - start:.1f} s, {len(res.stages)} stages "
          f"({res.status}), "
          f"{res.work['lower_solves']} solves, rate {res.rate:.3f}, "
          f"alpha {res.alpha_binary:.2e}")
patterns = {label: res.binary for label, res in learned.items()}
both = np.count_nonzero(patterns["smoothed TV"] * patterns["H1"])
print(f"the patterns share {both / np.count_nonzero(patterns['H1']):.0%} of their samples")
fig = plot_patterns({f"learned for {label}": p for label, p in patterns.items()})
plt.figure(fig)  # hand the library figure to pyplot (and so to sphinx-gallery)

# %%
# Each pattern with each regulariser
# ----------------------------------
# The test slices are reconstructed with every pair of pattern and
# regulariser, with :math:`\alpha` re-optimised on the training slices for
# that pair. The :math:`H^1` reconstruction depends strongly on its pattern:
# from the TV pattern's scattered high frequencies it cannot fill in what is
# missing. TV is much less sensitive: its sparsity prior fills in unsampled
# frequencies, and here it does about as well from either pattern.
print(f"{'pattern':22s} {'reconstruction':>15s} {'test PSNR':>10s} {'SSIM':>6s}")
recons, masks = {}, {}
for r_label, reg in regularisers.items():
    for p_label, pattern in patterns.items():
        if p_label == r_label:
            alpha = learned[p_label].alpha_binary
        else:
            alpha = optimise_alpha(train, kspace_train, pattern, regulariser=reg,
                                   max_evals=12).alpha
        xs = reconstruct_sampled(kspace_test, pattern, alpha=alpha, regulariser=reg)
        key = f"{r_label}, {'own' if p_label == r_label else p_label} pattern"
        recons[key], masks[key] = xs[1], pattern
        p = np.mean([psnr(x, c, data_range=1.0) for x, c in zip(xs, test, strict=True)])
        s = np.mean([ssim(x, c, data_range=1.0) for x, c in zip(xs, test, strict=True)])
        print(f"learned for {p_label:10s} {r_label:>15s} {p:10.2f} {s:6.3f}")
fig = plot_sampling_reconstructions(test[1], recons, patterns=masks)
plt.figure(fig)
plt.show()
