"""Time one gradient and one Hessian-vector product of the MRI energy against hand code.

    E(x) = 1/2 ||S(F x - y)||^2 + alpha * sum_j sqrt(|(grad x)_j|^2 + nu^2)

(free sampling pattern s, unitary 2-D DFT F, forward differences with Neumann
boundary), built from the library's objects (``SampledDataFit`` +
``SmoothedTV`` in a ``ParametrisedSum``), against the best hand-written
numpy/pyfftw code we know (r2c/c2r FFTW plans on aligned buffers, symmetrised
half-spectrum mask, every array preallocated, in-place ufuncs), in the same
run. Single thread; library and reference calls alternate, and each column is
the median over ``--repeats`` calls after a warm-up.
If ``SmoothedTV`` is not importable both sides time the data fit only.

Usage::

    python benchmarks/operators.py --sizes 64 256 1024 --repeats 50
"""

import argparse
import statistics
import time

import numpy as np
import pyfftw

from odl_bilevel.functionals import ParametrisedSum, SampledDataFit
from odl_bilevel.operators import unit_cell_space

try:
    from odl_bilevel.functionals import SmoothedTV
except ImportError:  # pragma: no cover - depends on the state of the tree
    SmoothedTV = None

__all__ = ["HandEnergy", "main"]

ALPHA, NU = 0.05, 0.1


def _paired_medians(func_lib, func_ref, repeats):
    """Median times of two functions, called alternately so that load noise hits both."""
    func_lib(), func_ref()  # warm-up
    t_lib, t_ref = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func_lib()
        t1 = time.perf_counter()
        func_ref()
        t2 = time.perf_counter()
        t_lib.append(t1 - t0)
        t_ref.append(t2 - t1)
    return statistics.median(t_lib), statistics.median(t_ref)


class HandEnergy:
    """Hand-written gradient and Hessian-vector product of E (float64, preallocated)."""

    def __init__(self, y, s, alpha, nu, *, tv=True):
        shape = y.shape
        n = y.size
        w = s * s
        w_sym = 0.5 * (w + np.roll(np.flip(w), 1, axis=(0, 1)))
        self.w_half = np.ascontiguousarray(w_sym[:, : shape[1] // 2 + 1] / n)
        self.b = np.fft.ifftn(w * y, norm="ortho").real
        self.alpha, self.nu, self.tv = alpha, nu, tv
        half = (shape[0], shape[1] // 2 + 1)
        self.x = pyfftw.empty_aligned(shape, dtype=float)  # callers write x here
        self.spec = pyfftw.empty_aligned(half, dtype=complex)
        self.real_out = pyfftw.empty_aligned(shape, dtype=float)
        # r2c must keep x (the TV part reads it); c2r may destroy the spectrum
        self.r2c = pyfftw.FFTW(
            self.x, self.spec, axes=(0, 1), flags=("FFTW_MEASURE",),
            threads=1,
        )
        self.c2r = pyfftw.FFTW(
            self.spec, self.real_out, axes=(0, 1), direction="FFTW_BACKWARD",
            flags=("FFTW_MEASURE", "FFTW_DESTROY_INPUT"), threads=1,
        )
        self.g0, self.g1 = np.zeros(shape), np.zeros(shape)
        self.wgt, self.tmp = np.empty(shape), np.empty(shape)
        self.aw, self.u0, self.u1 = np.empty(shape), np.empty(shape), np.empty(shape)

    def _grad(self, x):
        """Forward differences, 0 at the last index (Neumann)."""
        np.subtract(x[1:], x[:-1], out=self.g0[:-1])
        np.subtract(x[:, 1:], x[:, :-1], out=self.g1[:, :-1])

    def _grad_adjoint_add(self, p0, p1, out):
        """out += grad^T (p0, p1); p0[-1] = p1[:, -1] = 0."""
        out[:-1] -= p0[:-1]
        out[1:] += p0[:-1]
        out[:, :-1] -= p1[:, :-1]
        out[:, 1:] += p1[:, :-1]

    def gradient(self, out):
        """out = grad E(self.x)."""
        self.r2c.execute()
        np.multiply(self.spec, self.w_half, out=self.spec)
        self.c2r.execute()
        np.subtract(self.real_out, self.b, out=out)
        if self.tv:
            self._grad(self.x)
            g0, g1, wgt = self.g0, self.g1, self.wgt
            np.multiply(g0, g0, out=wgt)
            np.multiply(g1, g1, out=self.tmp)
            wgt += self.tmp
            wgt += self.nu**2
            np.sqrt(wgt, out=wgt)
            np.divide(self.alpha, wgt, out=wgt)
            g0 *= wgt
            g1 *= wgt
            self._grad_adjoint_add(g0, g1, out)

    def prepare_hessian(self):
        """Precompute the pointwise TV Hessian data at self.x: alpha w and sqrt(alpha w^3) g."""
        if not self.tv:
            return
        self._grad(self.x)
        g0, g1, w = self.g0, self.g1, self.aw
        w[...] = 1.0 / np.sqrt(g0 * g0 + g1 * g1 + self.nu**2)
        c = np.sqrt(self.alpha * w**3)
        np.multiply(c, g0, out=self.u0)
        np.multiply(c, g1, out=self.u1)
        w *= self.alpha

    def hessian_vector(self, out):
        """out = Hess E(x) v for v held in self.x (x's Hessian data precomputed)."""
        if self.tv:
            self._grad(self.x)
            g0, g1, t = self.g0, self.g1, self.tmp
            np.multiply(self.u0, g0, out=t)
            np.multiply(self.u1, g1, out=self.wgt)
            t += self.wgt
            g0 *= self.aw
            g1 *= self.aw
            np.multiply(t, self.u0, out=self.wgt)
            g0 -= self.wgt
            np.multiply(t, self.u1, out=self.wgt)
            g1 -= self.wgt
        self.r2c.execute()
        np.multiply(self.spec, self.w_half, out=self.spec)
        self.c2r.execute()
        np.copyto(out, self.real_out)
        if self.tv:
            self._grad_adjoint_add(self.g0, self.g1, out)


def bench(n, repeats, rng):
    """Return rows (size, operation, library s, reference s, max relative difference)."""
    X = unit_cell_space((n, n))
    x_true = rng.standard_normal((n, n))
    y = np.fft.fftn(x_true, norm="ortho") + 0.05 * (
        rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))
    )
    s = rng.uniform(0.0, 1.0, size=(n, n))
    tv = SmoothedTV is not None
    data_fit = SampledDataFit(X, y, s)
    energy = ParametrisedSum(data_fit, SmoothedTV(X, alpha=ALPHA, nu=NU)) if tv else data_fit
    hand = HandEnergy(y, s, ALPHA, NU, tv=tv)

    x = X.element(rng.standard_normal((n, n)))
    v = X.element(rng.standard_normal((n, n)))
    grad_op = energy.gradient
    g_lib = X.element()
    h_lib = X.element()
    hess = grad_op.derivative(x)
    g_ref, h_ref = np.empty((n, n)), np.empty((n, n))

    # correctness: library and hand code agree
    grad_op(x, out=g_lib)
    hand.x[...] = x.data
    hand.gradient(g_ref)
    hand.prepare_hessian()
    hand.x[...] = v.data
    hand.hessian_vector(h_ref)
    hess(v, out=h_lib)
    diff_g = np.linalg.norm(g_lib.data - g_ref) / np.linalg.norm(g_ref)
    diff_h = np.linalg.norm(h_lib.data - h_ref) / np.linalg.norm(h_ref)

    hand.x[...] = x.data
    t_lib_g, t_ref_g = _paired_medians(
        lambda: grad_op(x, out=g_lib), lambda: hand.gradient(g_ref), repeats
    )
    hand.x[...] = v.data
    t_lib_h, t_ref_h = _paired_medians(
        lambda: hess(v, out=h_lib), lambda: hand.hessian_vector(h_ref), repeats
    )
    return [
        (n, "gradient", t_lib_g, t_ref_g, diff_g),
        (n, "Hessian-vector", t_lib_h, t_ref_h, diff_h),
    ]


def main(argv=None):
    """Parse arguments, run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    what = "data fit + smoothed TV" if SmoothedTV is not None else "data fit only (no SmoothedTV)"
    print(f"E(x) = 1/2||S(Fx - y)||^2 [+ alpha TV_nu]: {what}; float64, 1 thread, "
          f"median of {args.repeats}")
    header = f"{'size':>7} {'operation':<15} {'library':>11} {'reference':>11} {'ratio':>6} "
    header += f"{'rel.diff':>9}"
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        for size, op, t_lib, t_ref, diff in bench(n, args.repeats, rng):
            print(
                f"{size:>5}^2 {op:<15} {t_lib * 1e3:>8.3f} ms {t_ref * 1e3:>8.3f} ms "
                f"{t_lib / t_ref:>6.2f} {diff:>9.1e}"
            )


if __name__ == "__main__":
    main()
