r"""
Learning smoothed TV with Tikhonov on natural images
=====================================================

Training pairs :math:`(x_i^\dagger, y_i)`: grey :math:`128\times128` crops
of scikit-image's bundled photographs (embedded in the package), and
:math:`y_i = x_i^\dagger + \varepsilon_i`, :math:`\varepsilon_i \sim
\mathcal{N}(0, \sigma^2 I)`, :math:`\sigma = 0.1`. As in the 1-D example,

.. math::

    \hat x_i(\theta) = \operatorname*{argmin}_x \frac12\|x - y_i\|^2 +
    \alpha\Big(\sum_j\sqrt{|(\nabla x)_j|^2 + \nu^2} + \frac{\xi}{2}\|x\|^2\Big),

with :math:`\nabla` the 2-D forward differences (Neumann boundary), and the
upper level learns :math:`\varphi = \log(\alpha, \nu, \xi)` from

.. math::

    \min_\varphi \frac1n\sum_{i=1}^n \|\hat x_i(\theta) - x_i^\dagger\|^2
    + \beta\Big(\frac{L}{\mu}\Big)^2, \qquad
    L = 1 + \alpha\Big(\frac{\|\nabla\|^2}{\nu} + \xi\Big),\ \mu = 1 + \alpha\xi,

by L-BFGS-B with implicit hypergradients. Five images train, five others
test.
"""

# %%
# Training and test images
# ------------------------
import time

import matplotlib.pyplot as plt
import numpy as np

from odl_bilevel.datasets import available_images, denoising_pairs, natural_images
from odl_bilevel.metrics import psnr, ssim
from odl_bilevel.plotting import plot_history, plot_images, plot_reconstructions
from odl_bilevel.problems import denoising_phi, denoising_problem, denoising_weights, reconstruct
from odl_bilevel.upper import lbfgsb

names = available_images()
train_names = ["camera", "coffee", "chelsea", "coins", "astronaut"]
test_names = [n for n in names if n not in train_names]
clean_train, noisy_train = denoising_pairs(natural_images(train_names), 0.1, rng=3)
clean_test, noisy_test = denoising_pairs(natural_images(test_names), 0.1, rng=4)
fig = plot_images(dict(zip(train_names, noisy_train, strict=True)), ncols=5, vmin=0, vmax=1)
plt.figure(fig)  # hand the library figure to pyplot (and so to sphinx-gallery)

# %%
# Learning :math:`(\alpha, \nu, \xi)`
# ------------------------------------
start = time.perf_counter()
problem = denoising_problem(
    clean_train, noisy_train, penalty="condition", penalty_weight=1e-6,
    lower_tol=1e-4, cg_tol=1e-4,
)
phi0 = denoising_phi(problem)
result = lbfgsb(problem, phi0, max_iter=40)
weights = denoising_weights(problem, result.phi)
print(
    "learned: " + ", ".join(f"{k} = {v:.3g}" for k, v in weights.items())
    + f"; U = {result.objective:.3f} after {len(result.history) - 1} iterations "
    f"({result.status.name}, {time.perf_counter() - start:.1f} s)"
)
print("work:", {k: result.work[k] for k in ("lower_iterations", "hessian_products",
                                             "cg_iterations", "lower_solves")})
fig = plot_history(
    {"L-BFGS-B": [(r.work["lower_iterations"], r.objective) for r in result.history]},
    title="upper objective vs cumulative lower-level iterations",
)
plt.figure(fig)

# %%
# Held-out test images
# --------------------
# The learned weights denoise images that were not used for learning; the
# initial weights :math:`\alpha = \nu = \xi = 0.1` are shown for comparison.
learned = reconstruct(problem, result.phi, noisy_test)
initial = reconstruct(problem, phi0, noisy_test)
rows = [0, 3, 4]
fig = plot_reconstructions(
    [clean_test[k] for k in rows],
    [noisy_test[k] for k in rows],
    {"learned": [learned[k] for k in rows], "initial weights": [initial[k] for k in rows]},
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


train = reconstruct(problem, result.phi, noisy_train)
print(f"{'':16s} {'train PSNR':>10s} {'SSIM':>6s} {'test PSNR':>10s} {'SSIM':>6s}")
for label, xs_train, xs_test in [
    ("noisy data", noisy_train, noisy_test),
    ("initial weights", reconstruct(problem, phi0, noisy_train), initial),
    ("learned", train, learned),
]:
    print("{:16s} {:10.2f} {:6.3f} {:10.2f} {:6.3f}".format(
        label, *scores(xs_train, clean_train), *scores(xs_test, clean_test)))
