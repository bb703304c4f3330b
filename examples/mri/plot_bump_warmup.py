r"""
Warm-up: where to sample the Fourier transform of a bump
=========================================================

The talk's warm-up. One training image, the smooth bump

.. math::

    x^\dagger_{ij} = \exp\Big(1 - \frac{1}{1 - r_{ij}^2}\Big)\ (r_{ij} < 1),
    \qquad r_{ij} = \frac{|(i, j) - c|}{\rho},

(:func:`~odl_bilevel.datasets.bump_image`), and its k-space data
:math:`y = Fx^\dagger + \varepsilon` with tiny noise. Which 2.76 % of the
Fourier coefficients should an MRI scanner measure? The obvious answer keeps
the largest ones, :math:`|(Fx^\dagger)_k|` (the best :math:`k`-term Fourier
approximation, :func:`~odl_bilevel.problems.data_adapted_pattern`). Bilevel
learning asks instead which weights :math:`s \in [0, 1]^m` give the best
reconstruction,

.. math::

    \min_{s \in [0,1]^m} \|\hat x(s) - x^\dagger\|^2 + \beta\|s\|_1, \qquad
    \hat x(s) = \operatorname*{argmin}_x \frac12\|S(Fx - y)\|^2
    + \alpha\Big(\sum_j\sqrt{|(\nabla x)_j|^2 + \nu^2} + \frac{\xi}{2}\|x\|^2\Big),

with :math:`S = \mathrm{diag}(s)`, and increases :math:`\beta` until at most
2.76 % of the weights are left
(:func:`~odl_bilevel.problems.learn_sampling_pattern`). Both binary patterns
are then compared by the reconstructions they give, each with its own best
:math:`\alpha`.
"""

# %%
# The bump and its Fourier coefficients
# -------------------------------------
import time

import matplotlib.pyplot as plt
import numpy as np

from odl_bilevel.datasets import bump_image
from odl_bilevel.metrics import psnr
from odl_bilevel.plotting import plot_images, plot_sampling_reconstructions
from odl_bilevel.problems import (
    data_adapted_pattern,
    learn_sampling_pattern,
    optimise_alpha,
    reconstruct_sampled,
    simulate_kspace,
)

n = 64
rate = 0.0276
bump = bump_image(n)  # radius n/4, centred
kspace = simulate_kspace([bump], 1e-3, rng=0)
spectrum = np.abs(np.fft.fft2(bump, norm="ortho"))
print(f"{n}x{n} pixels; {rate:.2%} of them is {max(1, round(rate * n * n))} coefficients")
fig = plot_images(
    {"bump $x^\\dagger$": bump,
     "$\\log_{10}|Fx^\\dagger|$ (shifted)": np.log10(1e-8 + np.fft.fftshift(spectrum))},
    cmap="magma",
)
plt.figure(fig)  # hand the library figure to pyplot (and so to sphinx-gallery)

# %%
# Learning the pattern
# --------------------
start = time.perf_counter()
learned = learn_sampling_pattern([bump], kspace, rate, alpha=1e-2, beta_factor=3.0, max_iter=15)
print(f"learned in {time.perf_counter() - start:.1f} s, {learned.work['lower_solves']} "
      f"lower-level solves; status {learned.status}")
for k, stage in enumerate(learned.stages):
    print(f"  stage {k}: beta = {stage.beta1:.2e}, support {stage.support_rate:.2%}, "
          f"objective {stage.objective:.3g}")

# %%
# The largest Fourier coefficients
# --------------------------------
# The best :math:`\alpha` of this pattern is found by a 1-D search on the same
# training loss, so that both patterns get the same care.
largest = data_adapted_pattern([bump], rate)
alpha_largest = optimise_alpha([bump], kspace, largest, alpha_bounds=(1e-7, 1.0)).alpha
overlap = np.count_nonzero(largest * learned.binary) / np.count_nonzero(largest)
print(f"both patterns sample {np.count_nonzero(learned.binary)} coefficients; "
      f"{overlap:.0%} of them are shared")


def paired(pattern):
    """Fraction of the samples :math:`k` whose mirror frequency :math:`-k` is sampled too."""
    mirror = np.roll(pattern[::-1, ::-1], 1, axis=(0, 1))  # index -k (mod n), unshifted layout
    return np.count_nonzero(pattern * mirror) / np.count_nonzero(pattern)


print(f"samples with their mirror -k also sampled: learned {paired(learned.binary):.0%}, "
      f"largest coefficients {paired(largest):.0%}")

# %%
# Patterns and reconstructions
# ----------------------------
# The masks are drawn with the zero frequency in the centre. A real image has
# a Hermitian spectrum, :math:`(Fx)_{-k} = \overline{(Fx)_k}`, so once
# :math:`(Fx)_k` is measured its mirror adds nothing but a second look at the
# noise. The largest coefficients come in mirror pairs; the learned pattern
# mostly keeps one coefficient of each pair and spends the budget saved on
# more, and higher, frequencies.
recons = {
    "learned": reconstruct_sampled(kspace, learned.binary, alpha=learned.alpha_binary)[0],
    "largest coefficients": reconstruct_sampled(kspace, largest, alpha=alpha_largest)[0],
}
alphas = {"learned": learned.alpha_binary, "largest coefficients": alpha_largest}
for label, x in recons.items():
    print(f"{label:22s} alpha {alphas[label]:.2e}  PSNR {psnr(x, bump, data_range=1.0):6.2f} dB")
fig = plot_sampling_reconstructions(
    bump, recons, patterns={"learned": learned.binary, "largest coefficients": largest}
)
plt.figure(fig)
plt.show()
