"""Preconditioned FISTA for the lower level of MRI sampling learning, against plain FISTA.

Problem (Sherry et al. 2020; notation of DESIGN.md §1): ``--slices`` axial brain
MRI slices (``odl_bilevel.datasets.brain_slices``, N x N), k-space data y = F x +
complex Gaussian noise (sigma = 0.003), the lower-level energy

    E(x; s) = 1/2 |S(F x - y)|^2 + alpha (TV_nu(x) + xi/2 |x|^2),  S = diag(s),

with alpha = 3e-4, nu = xi = 1e-2 (the 256^2 MRI table's settings). Plain FISTA
steps by grad E / L with the global L = max s^2 + alpha (8/nu + xi); the
preconditioned one (``fista(..., preconditioner="auto")``, the default) by
M^{-1} grad E with M = Re F^H diag(m) F, m = sym(s^2) + alpha lambda / nu + alpha xi
the Fourier majorant of the Hessian (``ParametrisedFunctional.fourier_majorant``),
one real FFT pair more per iteration. Both stop on the same certificate
|grad E(x)| / mu <= tol (RMS error 1e-4 per pixel), so their answers are equally
accurate.

Two measurements:

1. *Cold solves* from x = 0 for sampling weights that are nonzero (uniform in
   [0.2, 1]) on a fraction ``density`` of k-space drawn with the variable density,
   and 1e-3 elsewhere (as learning's weights): median iterations and wall time
   over slices (best of 3 runs each), their ratios, and the largest distance
   between the two answers relative to the tolerance (at most 2: both are within
   tol of the minimiser).
2. *A learning run*: ``learn_sampling_pattern`` to ``--rate`` (``--stages`` stages of at
   most ``--iters`` L-BFGS-B iterations, alpha fixed, serial) with
   ``solver_options={"preconditioner": None}`` and with the default, in the same
   process: lower-level iterations and solves, CG iterations, wall time.

Measured on the 2-core development VM (2026-11-26, defaults: 256^2, 2 slices,
``python benchmarks/lower_preconditioner.py``, about 3 min):

=======  =========  ==========  =========  =========  ==========  ==========  ========
density  FISTA its  PFISTA its  its ratio  FISTA [s]  PFISTA [s]  time ratio  dist/tol
=======  =========  ==========  =========  =========  ==========  ==========  ========
1.00     31         5           6.2        0.037      0.010       3.6         0.61
0.30     372        45          8.3        0.438      0.075       5.9         0.00
0.10     736        212         3.5        0.863      0.338       2.6         0.01
0.03     1807       293         6.2        2.049      0.460       4.5         0.17
=======  =========  ==========  =========  =========  ==========  ==========  ========

Learning (4 stages of at most 10 L-BFGS-B iterations to 25 %, lower tolerance RMS 1e-4
per pixel as the 256^2 table's, serial): plain 42,107 lower-level iterations, 142
solves, 1,412 CG iterations, 60.9 s; preconditioned 3,717 iterations, 108 solves, 980 CG
iterations, 15.6 s (11.3 times fewer lower-level iterations, 3.9 times less time). The
two runs take different L-BFGS-B paths (inexact solves of equal certified accuracy), so
their binary patterns differ in 10.6 % of k-space. (At the library's default tolerance,
RMS 1e-3 per pixel, two plain runs of this benchmark did not even agree with each other:
82 and 106 solves; that tolerance is too coarse for noise 0.003, see ``sampling.lower_tol``
of the MRI job.)

Usage::

    python benchmarks/lower_preconditioner.py                 # 256^2, about 3 min
    python benchmarks/lower_preconditioner.py --size 128 --slices 4 --iters 5
"""

import argparse
import statistics
import time

import numpy as np

from odl_bilevel.datasets import brain_slices
from odl_bilevel.problems import (
    learn_sampling_pattern,
    sampling_phi,
    sampling_problem,
    simulate_kspace,
    variable_density_pattern,
)
from odl_bilevel.solvers import fista

ALPHA, NU, XI = 3e-4, 1e-2, 1e-2
PLAIN = {"preconditioner": None}


def _weights(shape, density, rng):
    if density >= 1.0:
        return rng.uniform(0.2, 1.0, shape)
    mask = variable_density_pattern(shape, density, rng=rng) > 0.5
    return np.where(mask, rng.uniform(0.2, 1.0, shape), 1e-3)


def _best_of(runs, solve):
    best, result = np.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = solve()
        best = min(best, time.perf_counter() - t0)
    return result, best


def cold_solves(clean, kspace, density, rng, runs=3):
    """Per-slice ``((its, s) plain, (its, s) preconditioned, distance / tol)``."""
    size = clean[0].shape[0]
    tol = 1e-4 * size  # RMS error 1e-4 per pixel
    s = _weights(clean[0].shape, density, rng).ravel()
    rows = []
    for x_true, y in zip(clean, kspace, strict=True):
        problem = sampling_problem([x_true], [y], alpha=ALPHA, nu=NU, xi=XI, learn_alpha=False)
        energy = problem.energy(0, sampling_phi(problem, s))
        out = {}
        for name, pre in (("plain", None), ("auto", "auto")):
            res, secs = _best_of(
                runs,
                lambda e=energy, pre=pre: fista(e, tol=tol, max_iter=200_000, preconditioner=pre),
            )
            if not res.converged:
                raise RuntimeError(f"{name} FISTA did not converge: {res.message}")
            out[name] = (res.iterations, secs, res.x)
        dist = float(np.linalg.norm(out["plain"][2].data - out["auto"][2].data)) / tol
        rows.append((out["plain"][:2], out["auto"][:2], dist))
    return rows


def learning_run(clean, kspace, rate, stages, iters, executor=None):
    """``{name: (result, seconds)}`` of ``learn_sampling_pattern`` with both lower solvers."""
    out = {}
    for name, options in (("plain", PLAIN), ("preconditioned", None)):
        t0 = time.perf_counter()
        result = learn_sampling_pattern(
            clean, kspace, rate, alpha=ALPHA, nu=NU, xi=XI, max_stages=stages, max_iter=iters,
            lower_tol=1e-4 * clean[0].shape[0], reoptimise_alpha=False, solver_options=options,
            executor=executor,
        )
        out[name] = (result, time.perf_counter() - t0)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--slices", type=int, default=2)
    parser.add_argument("--densities", type=float, nargs="+", default=[1.0, 0.3, 0.1, 0.03])
    parser.add_argument("--rate", type=float, default=0.25)
    parser.add_argument("--stages", type=int, default=4)
    parser.add_argument("--iters", type=int, default=10,
                        help="L-BFGS-B iterations per stage (0: skip the learning run)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    clean = brain_slices(args.slices, size=args.size)
    kspace = simulate_kspace(clean, 0.003, rng=args.seed)
    rng = np.random.default_rng(args.seed)
    print(f"{args.size}x{args.size}, {args.slices} slices; cold solves from zero to RMS error "
          f"1e-4 per pixel, medians over slices (best of 3 runs)")
    print(f"{'density':>8}{'FISTA its':>11}{'PFISTA its':>12}{'its ratio':>11}"
          f"{'FISTA [s]':>11}{'PFISTA [s]':>12}{'time ratio':>12}{'dist/tol':>10}")
    for density in args.densities:
        rows = cold_solves(clean, kspace, density, rng)
        its = [statistics.median(r[k][0] for r in rows) for k in (0, 1)]
        secs = [statistics.median(r[k][1] for r in rows) for k in (0, 1)]
        dist = max(r[2] for r in rows)
        print(f"{density:>8.2f}{its[0]:>11.0f}{its[1]:>12.0f}{its[0] / its[1]:>11.1f}"
              f"{secs[0]:>11.3f}{secs[1]:>12.3f}{secs[0] / secs[1]:>12.1f}{dist:>10.2f}")
    if args.iters > 0:
        found = learning_run(clean, kspace, args.rate, args.stages, args.iters)
        print(f"\nlearning: learn_sampling_pattern to rate {args.rate:g}, {args.stages} stages of "
              f"at most {args.iters} L-BFGS-B iterations (lower tol RMS 1e-4 per pixel)")
        print(f"{'lower solver':<16}{'lower its':>11}{'solves':>8}{'CG its':>8}{'time [s]':>10}"
              f"{'rate':>8}")
        for name, (res, secs) in found.items():
            w = res.work
            print(f"{name:<16}{w['lower_iterations']:>11.0f}{w['lower_solves']:>8.0f}"
                  f"{w['cg_iterations']:>8.0f}{secs:>10.1f}{res.rate:>8.3f}")
        (a, ta), (b, tb) = found["plain"], found["preconditioned"]
        same = float(np.mean(a.binary == b.binary))
        its = a.work["lower_iterations"] / b.work["lower_iterations"]
        print(f"ratio plain / preconditioned: lower iterations {its:.1f}, time {ta / tb:.1f}; "
              f"binary patterns agree on {same:.1%} of k-space")

if __name__ == "__main__":
    main()
