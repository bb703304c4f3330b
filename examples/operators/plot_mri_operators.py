r"""
MRI operators: phantom, k-space, sampling and exact adjoints
=============================================================

The MRI forward operator of odl_bilevel is :math:`A_s = S F`: the unitary
discrete Fourier transform :math:`F` followed by multiplication with sampling
weights :math:`s \in [0,1]^m`, :math:`S = \mathrm{diag}(s)`. A Cartesian
pattern keeps whole phase-encode lines, :math:`s = P\theta` with one weight
:math:`\theta_j` per line. The operator maps a real image to the stacked real
and imaginary parts of its sampled k-space, so it composes with the gradient
inside ODL product spaces.

This example shows a head phantom, its k-space, a variable-density Cartesian
pattern, the zero-filled reconstruction :math:`A_s^* y`, and the checks that
every operator and functional of the library passes: the adjoint test and the
Taylor tests of the data term :math:`\frac12\|S(Fx-y)\|^2` plus smoothed TV.
"""

# %%
# Phantom and k-space
# -------------------
import matplotlib.pyplot as plt
import numpy as np
import odl

from odl_bilevel.functionals import ParametrisedSum, SampledDataFit, SmoothedTV
from odl_bilevel.operators import CartesianSampling, SampledFourier, UnitaryDFT, unit_cell_space
from odl_bilevel.testing import check_adjoint, check_gradient, check_hessian

rng = np.random.default_rng(0)
n = 128
X = unit_cell_space((n, n))
phantom = odl.phantom.shepp_logan(X, modified=True)
F = UnitaryDFT(X)
kspace = F(phantom)
print(f"unitary: |F x| / |x| = {kspace.norm() / phantom.norm():.12f}")

# %%
# A variable-density Cartesian pattern
# ------------------------------------
# Keep every line near the centre of k-space and lines further out with a
# probability that decays with the frequency: 25 % of the lines in all.
freq = np.abs(np.fft.fftfreq(n)) * n
centre = freq < 4
density = (1 + freq) ** -1.5
density[centre] = 0
outer = rng.choice(n, size=n // 4 - centre.sum(), replace=False, p=density / density.sum())
theta = centre.astype(float)
theta[outer] = 1.0
P = CartesianSampling((n, n), axis=0)
s = P(theta).data
A = SampledFourier(X, s)
print(f"sampling rate {s.mean():.3f}")

noise = 0.01 * (rng.standard_normal(X.shape) + 1j * rng.standard_normal(X.shape))
y_full = kspace.data + noise
data = A.range.element(np.stack([s * y_full.real, s * y_full.imag]))
zero_filled = A.adjoint(data)

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
axes[0].imshow(phantom.data.T, cmap="gray")
axes[0].set_title("phantom $x^\\dagger$")
axes[1].imshow(np.fft.fftshift(np.log10(1e-4 + np.abs(kspace.data))).T, cmap="magma")
axes[1].set_title("$\\log_{10}|Fx^\\dagger|$")
axes[2].imshow(np.fft.fftshift(s).T, cmap="gray")
axes[2].set_title(f"Cartesian pattern, {100 * s.mean():.0f} %")
axes[3].imshow(zero_filled.data.T, cmap="gray")
axes[3].set_title("zero-filled $A_s^* y$")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# Exact adjoints
# --------------
# :func:`~odl_bilevel.testing.check_adjoint` compares
# :math:`\langle A x, y\rangle` with :math:`\langle x, A^* y\rangle` on random
# vectors and raises if they disagree; it returns the relative error.
for name, op in [("F", F), ("P", P), ("A_s = S F", A)]:
    print(f"adjoint test of {name:10s}: relative error {check_adjoint(op, rng=rng).rel_error:.1e}")

# %%
# Derivatives of the lower-level energy
# -------------------------------------
# :math:`E(x) = \frac12\|S(Fx-y)\|^2 + \alpha\sum_j\sqrt{|(\nabla x)_j|^2+\nu^2}`.
# The Taylor tests compare the gradient and the Hessian with finite
# differences; a correct gradient shows remainders of order 2.
E = ParametrisedSum(SampledDataFit(X, y_full, theta, sampling=P), SmoothedTV(X, 0.02, 0.01))
x = zero_filled
grad = check_gradient(E, x, rng=rng)
hess = check_hessian(E, x, rng=rng)
orders = ", ".join(f"{o:.2f}" for o in grad.details["orders"][:3])
print(f"gradient: relative error {grad.rel_error:.1e}, Taylor orders {orders}")
print(f"Hessian:  relative error {hess.rel_error:.1e}")
plt.show()
