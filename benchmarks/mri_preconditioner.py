"""Preconditioned CG for the adjoint systems of MRI sampling learning, against plain CG.

Problem (Sherry et al. 2020; notation of DESIGN.md §1): ``--slices`` axial brain
MRI slices (``odl_bilevel.datasets.brain_slices``, N x N), k-space data y = F x +
complex Gaussian noise (sigma = 0.003), the lower-level energy

    E(x; s) = 1/2 |S(F x - y)|^2 + alpha (TV_nu(x) + xi/2 |x|^2),  S = diag(s),

with alpha = 3e-4, nu = xi = 1e-2 (the 256^2 MRI table's settings), and sampling
weights s that are nonzero (uniform in [0.2, 1]) on a random fraction ``density``
of k-space drawn with the variable density of ``variable_density_pattern``: the
states that learning a pattern passes through, from dense to sparse. For every
slice and density the lower level is solved (FISTA, RMS error 1e-4 per pixel),
then the adjoint system B w = grad l of the implicit hypergradient
(``implicit_hypergradient``, CG to relative residual ``--cg-tol`` from w = 0) once
plain (``preconditioner=None``) and once with the Fourier preconditioner
(``preconditioner="auto"``: the inverse of the summed Fourier symbols of the data
fit, the smoothed TV and the Tikhonov term). Printed: median CG iterations and
wall time per hypergradient, their ratios plain / preconditioned, and the largest
relative difference of the two hypergradients.

Measured on the 2-core development VM (2026-11-26, defaults: 256^2, 2 slices,
``python benchmarks/mri_preconditioner.py``, about 1 min):

=======  ======  =======  =========  ======  =======  ==========  ============
density  CG its  PCG its  its ratio  CG [s]  PCG [s]  time ratio  max rel diff
=======  ======  =======  =========  ======  =======  ==========  ============
1.00     15      4        3.8        0.115   0.035    3.3         3.6e-05
0.30     68      12       5.4        0.126   0.056    2.2         3.8e-04
0.10     187     58       3.2        0.277   0.146    1.9         3.0e-05
0.03     486     97       5.0        0.639   0.224    2.8         4.0e-07
=======  ======  =======  =========  ======  =======  ==========  ============

The two hypergradients agree to the CG tolerance (last column). A preconditioned
iteration costs about 1.5 to 2 plain ones (one real FFT pair more, and the symbol
is rebuilt per hypergradient).

Usage::

    python benchmarks/mri_preconditioner.py                  # 256^2, about 1 min
    python benchmarks/mri_preconditioner.py --size 128 --slices 4
"""

import argparse
import statistics
import time

import numpy as np

from odl_bilevel.datasets import brain_slices
from odl_bilevel.hypergradients import implicit_hypergradient
from odl_bilevel.problems import sampling_problem, simulate_kspace, variable_density_pattern

ALPHA, NU, XI = 3e-4, 1e-2, 1e-2


def _weights(shape, density, rng):
    if density >= 1.0:
        return rng.uniform(0.2, 1.0, shape)
    mask = variable_density_pattern(shape, density, rng=rng) > 0.5
    return np.where(mask, rng.uniform(0.2, 1.0, shape), 0.0)


def measure(clean, kspace, density, cg_tol, rng):
    """Return per-slice rows: (iterations, seconds) plain and preconditioned, difference."""
    size = clean[0].shape[0]
    s = _weights(clean[0].shape, density, rng).ravel()
    rows = []
    for x_true, y in zip(clean, kspace, strict=True):
        problem = sampling_problem(
            [x_true], [y], alpha=ALPHA, nu=NU, xi=XI, learn_alpha=False, init_weights=s,
            lower_tol=1e-4 * size,
        )
        x = problem.solve(s).x[0]
        energy = problem.energy(0, s)
        g = energy.domain.element(2.0 * (x.data - x_true))
        out = {}
        for name, pre in (("plain", None), ("pcg", "auto")):
            t0 = time.perf_counter()
            h = implicit_hypergradient(
                energy, x, g, lower_error=0.0, cg_tol=cg_tol, cg_max_iter=20000,
                preconditioner=pre,
            )
            out[name] = (h.cg.iterations, time.perf_counter() - t0, h.gradient)
        diff = np.linalg.norm(out["plain"][2] - out["pcg"][2]) / np.linalg.norm(out["plain"][2])
        rows.append((out["plain"][:2], out["pcg"][:2], diff))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--slices", type=int, default=2)
    parser.add_argument("--densities", type=float, nargs="+", default=[1.0, 0.3, 0.1, 0.03])
    parser.add_argument("--cg-tol", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    clean = brain_slices(args.slices, size=args.size)
    kspace = simulate_kspace(clean, 0.003, rng=args.seed)
    rng = np.random.default_rng(args.seed)
    print(f"{args.size}x{args.size}, {args.slices} slices, CG to relative residual "
          f"{args.cg_tol:g}; medians over slices")
    print(f"{'density':>8}{'CG its':>9}{'PCG its':>9}{'its ratio':>11}"
          f"{'CG [s]':>9}{'PCG [s]':>9}{'time ratio':>12}{'max rel diff':>14}")
    for density in args.densities:
        rows = measure(clean, kspace, density, args.cg_tol, rng)
        its = [statistics.median(r[k][0] for r in rows) for k in (0, 1)]
        secs = [statistics.median(r[k][1] for r in rows) for k in (0, 1)]
        diff = max(r[2] for r in rows)
        print(f"{density:>8.2f}{its[0]:>9.0f}{its[1]:>9.0f}{its[0] / its[1]:>11.1f}"
              f"{secs[0]:>9.3f}{secs[1]:>9.3f}{secs[0] / secs[1]:>12.1f}{diff:>14.1e}")


if __name__ == "__main__":
    main()
