"""Cost of one implicit hypergradient relative to one lower-level solve; gain from warm starts.

Problem: 2-D denoising of synthetic piecewise-constant images (random rectangles
and discs in [0, 1], Gaussian noise sigma), n training pairs, with the energy

    E_i(x; alpha, nu, xi) = 1/2 |x - y_i|^2 + alpha sum_j sqrt(|(grad x)_j|^2 + nu^2)
                            + xi/2 |x|^2

(``L2DataFit`` + ``SmoothedTV`` + ``Tikhonov``), learned variables phi = log theta,
upper loss the mean squared error (``BilevelProblem`` defaults), lower level by
FISTA to the certificate |x - x_hat| <= lower_tol, adjoint systems by CG to the
relative residual cg_tol.

Table 1 (medians over samples and repeats, at the start theta_0 and at theta_N
reached by N L-BFGS-B iterations): one lower-level solve from
zero ("cold"), one solve after an upper-level-sized step phi_0 -> phi_0 + delta
warm-started from the solution at phi_0 ("warm"), and one hypergradient (CG solve
of B w = grad l and -C^T w) with w0 = 0 and with w0 = the adjoint at phi_0.
Columns: wall time, gradient evaluations / Hessian-vector products, iterations,
and the ratio to the cold lower-level solve.

Table 2: ``odl_bilevel.upper.lbfgsb`` for N iterations (gtol = ftol = 0) with the
problem's warm starts (lower level from the last solution, CG from the last
adjoint) and without (``value_and_gradient(..., warm_start=False)``: every solve
starts from zero): cumulative work from the problem's ledger and wall time, and
the ratio without / with.

Usage::

    python benchmarks/hypergradient.py --size 64 --samples 4 --repeats 3 --iterations 10
    python benchmarks/hypergradient.py --quick
"""

import argparse
import statistics
import time

import numpy as np
import odl

from odl_bilevel.bilevel import BilevelProblem, ParameterMap
from odl_bilevel.functionals import L2DataFit, ParametrisedSum, SmoothedTV, Tikhonov
from odl_bilevel.hypergradients import implicit_hypergradient
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.upper import lbfgsb

__all__ = ["ColdStarts", "build_problem", "main", "piecewise_constant_images"]

THETA0 = (0.02, 0.05, 1e-3)  # alpha, nu, xi: under-regularised start
STEP = 0.05  # |delta phi| of the "warm" solve: a typical accepted L-BFGS-B step in log units


def piecewise_constant_images(n, size, *, rng, shapes=8):
    """``n`` images of ``size`` x ``size`` pixels: random rectangles and discs in [0, 1]."""
    rng = np.random.default_rng(rng)
    yy, xx = np.mgrid[0:size, 0:size]
    images = []
    for _ in range(n):
        img = np.full((size, size), rng.uniform(0.0, 0.3))
        for _ in range(shapes):
            value = rng.uniform(0.0, 1.0)
            if rng.random() < 0.5:
                r0, c0 = rng.integers(0, size - size // 8, size=2)
                h, w = rng.integers(size // 8, size // 2, size=2)
                img[r0 : r0 + h, c0 : c0 + w] = value
            else:
                r0, c0 = rng.uniform(0, size, size=2)
                radius = rng.uniform(size / 16, size / 4)
                img[(yy - r0) ** 2 + (xx - c0) ** 2 <= radius**2] = value
        images.append(img)
    return images


def build_problem(size, samples, *, sigma=0.1, lower_tol=1e-6, cg_tol=1e-6, rng=0):
    """The 2-D smoothed-TV + Tikhonov denoising BilevelProblem on synthetic images."""
    rng = np.random.default_rng(rng)
    X = unit_cell_space((size, size))
    clean = piecewise_constant_images(samples, size, rng=rng)
    noisy = [c + sigma * rng.standard_normal(c.shape) for c in clean]
    energies = [
        ParametrisedSum(
            L2DataFit(odl.IdentityOperator(X), y),
            SmoothedTV(X, alpha=THETA0[0], nu=THETA0[1]),
            Tikhonov(X, xi=THETA0[2]),
        )
        for y in noisy
    ]
    return BilevelProblem(
        energies,
        [X.element(c) for c in clean],
        parameter_map=ParameterMap.log(("alpha", "nu", "xi")),
        lower_tol=lower_tol,
        cg_tol=cg_tol,
        lower_max_iter=100_000,
        cg_max_iter=10_000,
    )


class ColdStarts:
    """A BilevelProblem seen through a proxy whose evaluations never use warm starts.

    ``lbfgsb`` calls ``problem.value_and_gradient(phi, tol=..., cg_tol=...)``; the
    proxy adds ``warm_start=False``, so every lower-level solve starts from zero and
    every CG solve from w0 = 0. Everything else is delegated.
    """

    def __init__(self, problem):
        self._problem = problem

    def __getattr__(self, name):
        return getattr(self._problem, name)

    def value_and_gradient(self, phi, **kwargs):
        """Evaluate without warm starts."""
        return self._problem.value_and_gradient(phi, warm_start=False, **kwargs)


def _hypergradient(problem, i, phi, x, error, w0, cg_tol):
    energy = problem.energy(i, phi)
    loss = problem.loss
    start = time.perf_counter()
    hg = implicit_hypergradient(
        energy,
        x,
        loss.gradient(x, problem.targets[i]),
        lower_error=error,
        loss_lipschitz=float(loss.lipschitz),
        cg_tol=cg_tol,
        cg_max_iter=10_000,
        w0=w0,
    )
    return hg, time.perf_counter() - start


def cost_table(problem, repeats, cg_tol, theta):
    """Rows of table 1 at ``theta``: medians of time, evaluations/products and iterations."""
    phi0 = problem.parameter_map.inverse(theta)
    phi1 = phi0 + STEP
    rows = {
        k: {"time": [], "products": [], "iterations": []}
        for k in (
            "lower solve, cold",
            "lower solve, warm",
            "hypergradient, w0 = 0",
            "hypergradient, warm w0",
        )
    }

    def add(kind, wall, products, iterations):
        rows[kind]["time"].append(wall)
        rows[kind]["products"].append(products)
        rows[kind]["iterations"].append(iterations)

    for _ in range(repeats):
        cold = problem.solve(phi0, warm_start=False)
        adjoints = []
        for i, res in enumerate(cold.results):
            add("lower solve, cold", res.wall_time, res.gradient_evaluations, res.iterations)
            hg, wall = _hypergradient(problem, i, phi0, res.x, cold.errors[i], None, cg_tol)
            add("hypergradient, w0 = 0", wall, hg.cg.hessian_products, hg.cg.iterations)
            adjoints.append(hg.adjoint)
        warm = problem.solve(phi1, warm_start=True)  # from the solutions at phi0
        for i, res in enumerate(warm.results):
            add("lower solve, warm", res.wall_time, res.gradient_evaluations, res.iterations)
            hg, wall = _hypergradient(problem, i, phi1, res.x, warm.errors[i], adjoints[i], cg_tol)
            add("hypergradient, warm w0", wall, hg.cg.hessian_products, hg.cg.iterations)
    return {k: {q: statistics.median(v) for q, v in row.items()} for k, row in rows.items()}


def warm_start_table(problem_factory, iterations, repeats):
    """Table 2: cumulative work of ``iterations`` L-BFGS-B steps with and without warm starts.

    The two variants alternate ``repeats`` times (so that load drift hits both); the
    work counts are deterministic, the wall time is the median.
    """
    out = {}
    variants = (("warm starts", lambda p: p), ("no warm starts", ColdStarts))
    for _ in range(repeats):
        for label, wrap in variants:
            problem = problem_factory()
            phi0 = problem.parameter_map.inverse(THETA0)
            start = time.perf_counter()
            res = lbfgsb(wrap(problem), phi0, max_iter=iterations, gtol=0.0, ftol=0.0)
            wall = time.perf_counter() - start
            walls = out.get(label, {}).get("walls", []) + [wall]
            out[label] = {
                "walls": walls,
                "wall": statistics.median(walls),
                "work": res.work,
                "iterations": res.iterations,
                "objective": res.objective,
                "theta": res.theta,
            }
    return out


def _print_cost_table(rows):
    ref = rows["lower solve, cold"]
    header = (
        f"{'work (median per sample)':<26}{'wall [ms]':>11}{'grad evals/HVPs':>17}"
        f"{'iterations':>12}{'time / cold':>13}{'products / cold':>17}"
    )
    print(header)
    print("-" * len(header))
    for kind, row in rows.items():
        print(
            f"{kind:<26}{1e3 * row['time']:>11.2f}{row['products']:>17.0f}"
            f"{row['iterations']:>12.0f}{row['time'] / ref['time']:>13.2f}"
            f"{row['products'] / ref['products']:>17.2f}"
        )


def _print_warm_table(out):
    keys = (
        "lower_solves",
        "lower_iterations",
        "gradient_evaluations",
        "cg_iterations",
        "hessian_products",
    )
    header = f"{'cumulative work':<22}" + "".join(f"{k:>16}" for k in out) + f"{'ratio':>9}"
    print(header)
    print("-" * len(header))
    warm, cold = out["warm starts"], out["no warm starts"]
    for key in keys:
        w, c = warm["work"][key], cold["work"][key]
        print(f"{key:<22}{w:>16}{c:>16}{(c / w if w else float('nan')):>9.2f}")
    print(
        f"{'wall time [s]':<22}{warm['wall']:>16.2f}{cold['wall']:>16.2f}"
        f"{cold['wall'] / warm['wall']:>9.2f}"
    )
    print(f"{'upper iterations':<22}{warm['iterations']:>16}{cold['iterations']:>16}")
    print(f"{'final objective':<22}{warm['objective']:>16.6g}{cold['objective']:>16.6g}")


def main(argv=None):
    """Parse arguments, run both benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--samples", type=int, default=4, help="training pairs")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="repeats (table 1: per sample; table 2: alternating runs)",
    )
    parser.add_argument("--iterations", type=int, default=10, help="L-BFGS-B iterations")
    parser.add_argument("--lower-tol", type=float, default=1e-6)
    parser.add_argument("--cg-tol", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small run (size 32, 2 samples, 2 repeats, 4 iterations)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.samples, args.repeats, args.iterations = 32, 2, 2, 4
    for name in ("size", "samples", "repeats", "iterations"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")

    def factory():
        return build_problem(
            args.size, args.samples, lower_tol=args.lower_tol, cg_tol=args.cg_tol, rng=args.seed
        )

    print(
        f"2-D smoothed TV + Tikhonov denoising, {args.size}x{args.size}, {args.samples} "
        f"samples, lower_tol = {args.lower_tol:g}, cg_tol = {args.cg_tol:g}, float64, "
        "FISTA + CG, 1 process\n"
    )
    runs = warm_start_table(factory, args.iterations, args.repeats)
    theta_n = tuple(float(t) for t in runs["warm starts"]["theta"])
    for label, theta in (("theta_0", THETA0), (f"theta_{args.iterations}", theta_n)):
        print(
            f"Table 1 at {label} = (alpha, nu, xi) = ({', '.join(f'{t:.4g}' for t in theta)}):"
            f" one hypergradient vs one lower-level solve ({args.repeats} repeats; warm = after "
            f"a step of {STEP} in each log-parameter)"
        )
        _print_cost_table(cost_table(factory(), args.repeats, args.cg_tol, theta))
        print()
    print(
        f"Table 2: {args.iterations} L-BFGS-B iterations from theta_0 with and without warm "
        f"starts (ratio = without / with; wall time: median of {args.repeats} alternating runs)"
    )
    _print_warm_table(runs)


if __name__ == "__main__":
    main()
