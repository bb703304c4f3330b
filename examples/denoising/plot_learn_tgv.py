r"""
Learning the weights of TGV² for image denoising
================================================

Second-order total generalised variation (Bredies, Kunisch & Pock 2010)
regularises an image :math:`x` through an auxiliary vector field :math:`v`
that takes over the gradient where the image is smooth, so that smooth
shading is not turned into staircases as with TV. The lower level, on the
joint variable :math:`z = (x, v)`, is

.. math::

    \hat z_i(\theta) = \operatorname*{argmin}_{x, v}\ \frac12\|x - y_i\|^2
    + \alpha\sum_j\sqrt{|(\nabla x - v)_j|^2 + \nu^2}
    + \beta\sum_j\sqrt{|(\mathcal{E}v)_j|_F^2 + \nu^2}
    + \frac{\tau}{2}\|v\|^2,

with the symmetrised gradient :math:`\mathcal{E}`, a fixed smoothing
:math:`\nu = 0.01` and a small fixed :math:`\tau = 0.01` that makes the
energy strongly convex in :math:`v` too (so that the lower-level solves are
certified). The upper level learns :math:`\varphi = \log(\alpha, \beta)` from

.. math::

    \min_\varphi \frac1n\sum_{i=1}^n \|\hat x_i(\theta) - x_i^\dagger\|^2,

a loss on the image part :math:`x` of :math:`\hat z_i` only. Three
:math:`64\times64` grey natural images train, the seven other embedded
images test; the noise has standard deviation :math:`\sigma = 0.1`. At the end, the learned
:math:`\beta` is compared with ten times smaller and larger values.
"""

# %%
# Data
# ----
import time

import matplotlib.pyplot as plt
import numpy as np

from odl_bilevel.datasets import available_images, denoising_pairs, natural_images
from odl_bilevel.metrics import psnr, ssim
from odl_bilevel.plotting import plot_history, plot_reconstructions
from odl_bilevel.problems import denoising_phi, denoising_problem, denoising_weights, reconstruct
from odl_bilevel.upper import lbfgsb

train_names = ["camera", "coffee", "chelsea"]
test_names = [n for n in available_images() if n not in train_names]
clean_train, noisy_train = denoising_pairs(natural_images(train_names, size=64), 0.1, rng=3)
clean_test, noisy_test = denoising_pairs(natural_images(test_names, size=64), 0.1, rng=4)

# %%
# Learning :math:`(\alpha, \beta)`
# ---------------------------------
# We start from :math:`\alpha = 0.05`, :math:`\beta = 0.1` and keep
# :math:`\alpha \le 1`: for much larger :math:`\alpha` the field is forced to
# :math:`v = \nabla x` and TGV² degenerates into a second-order TV.
start = time.perf_counter()
problem = denoising_problem(
    clean_train, noisy_train, regulariser="tgv",
    init={"alpha": 0.05, "beta": 0.1, "nu": 0.01}, tgv_tau=0.01,
    bounds={"alpha": (1e-3, 1.0), "beta": (1e-3, 10.0)},
    lower_tol=1e-2, cg_tol=1e-3, lower_max_iter=20000,
)
result = lbfgsb(problem, denoising_phi(problem), max_iter=15, ftol=1e-6)
weights = denoising_weights(problem, result.phi)
print(
    "learned: " + ", ".join(f"{k} = {v:.3g}" for k, v in weights.items())
    + f"; U = {result.objective:.3f} after {len(result.history) - 1} iterations "
    f"({result.status.name}, {time.perf_counter() - start:.1f} s)"
)
fig = plot_history(
    {"L-BFGS-B": [(r.work["lower_iterations"], r.objective) for r in result.history]},
    title="upper objective vs cumulative lower-level iterations",
)
plt.figure(fig)  # hand the library figure to pyplot (and so to sphinx-gallery)

# %%
# Too low, learned and too high :math:`\beta`
# -------------------------------------------
# With :math:`\beta` too low the field :math:`v` absorbs the noisy gradient
# and little noise is removed. As :math:`\beta` grows, :math:`v` is forced
# towards zero and TGV² turns into smoothed TV (with weight :math:`\alpha`),
# which is already a good denoiser of these photographs: the upper objective
# is flat above the learned :math:`\beta` (the training PSNR barely changes
# at ten times the learned value, and the test images, among them the smooth
# ``cell``, are even denoised slightly better there), while it rises steeply
# below it.
alpha, beta = weights["alpha"], weights["beta"]
betas = {"beta / 10": beta / 10, "learned beta": beta, "10 beta": 10 * beta}
recons = {
    label: reconstruct(problem, denoising_phi(problem, {"alpha": alpha, "beta": b}), noisy_test)
    for label, b in betas.items()
}
rows = [test_names.index(n) for n in ("astronaut", "text", "cell")]
fig = plot_reconstructions(
    [clean_test[k] for k in rows],
    [noisy_test[k] for k in rows],
    {label: [xs[k] for k in rows] for label, xs in recons.items()},
    data_range=1.0,
)
plt.figure(fig)

# %%
# PSNR and SSIM, training and test sets
# -------------------------------------


def scores(xs, refs):
    """Mean PSNR (dB) and SSIM of ``xs`` against ``refs`` (data range 1)."""
    p = np.mean([psnr(x, r, data_range=1.0) for x, r in zip(xs, refs, strict=True)])
    s = np.mean([ssim(x, r, data_range=1.0) for x, r in zip(xs, refs, strict=True)])
    return p, s


print(f"{'':14s} {'beta':>7s} {'train PSNR':>10s} {'SSIM':>6s} {'test PSNR':>10s} {'SSIM':>6s}")
print("{:14s} {:>7s} {:10.2f} {:6.3f} {:10.2f} {:6.3f}".format(
    "noisy data", "", *scores(noisy_train, clean_train), *scores(noisy_test, clean_test)))
for label, b in betas.items():
    phi = denoising_phi(problem, {"alpha": alpha, "beta": b})
    train = reconstruct(problem, phi, noisy_train)
    print("{:14s} {:7.4f} {:10.2f} {:6.3f} {:10.2f} {:6.3f}".format(
        label, b, *scores(train, clean_train), *scores(recons[label], clean_test)))
print(f"total time {time.perf_counter() - start:.1f} s")
