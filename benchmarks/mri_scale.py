"""Scale of learning an MRI sampling pattern: a 1024 x 1024 run, with 256 x 256 as the baseline.

Problem (Sherry et al. 2020; notation of DESIGN.md §1): ``--slices`` axial brain
MRI slices (``odl_bilevel.datasets.brain_slices``, resized to N x N; 1024 x 1024 by
bilinear interpolation of the 256 x 256 template planes), k-space data
y_i = F x_i + complex Gaussian noise (sigma = ``--sigma``), the lower level

    E_i(x; s) = 1/2 |S(F x - y_i)|^2 + alpha (TV_nu(x) + xi/2 |x|^2),  S = diag(s),

solved by FISTA to the certificate |x - x_hat| <= ``--lower-tol`` (default the
driver's 1e-3 N, an RMS error of 1e-3 per pixel at every size), and one stage of
the upper level of ``odl_bilevel.problems.learn_sampling_pattern``: a free
(per-pixel) pattern s in [0, 1]^(N^2), alpha fixed, penalty beta |s|_1 with the
driver's default starting beta, ``--iterations`` L-BFGS-B iterations with implicit
hypergradients (CG to ``--cg-tol``), then the binary pattern at ``--rate``. The
same settings run at every size, so the lower-level problems are equally well
conditioned and the ratios between sizes measure the cost of the size alone.

For every size the benchmark reports

- the time of one lower-level FISTA iteration, measured first on a short solve
  (``--probe`` iterations per slice, from zero) -- this gives an estimate of the
  learning run before it starts;
- the learning run: wall time, peak memory (``resource.getrusage`` ``ru_maxrss``
  of a fresh process per size, so the peaks do not mix; with ``--tracemalloc``
  also the peak of the Python/NumPy allocations traced by ``tracemalloc``, which
  slows the run down), and the work from the problem's ledger: lower-level solves
  and iterations, CG iterations, Hessian-vector products, L-BFGS-B iterations, and
  the run's wall time per lower-level iteration or Hessian product (the two cost
  about the same; the rest -- hypergradient assembly, L-BFGS-B, set-up -- is
  included, so this is at least the probe's time);
- the ratio of each size to the first (the baseline).

BLAS threads: NumPy's OpenBLAS runs its vector operations (the dot products of
the hypergradient and of the parameter derivatives) on all cores by default. On a
machine shared with other work that is much slower than one thread (7x for the
whole run at 128^2 on the 2-core VM under load), so every size runs in its own
process with ``OPENBLAS_NUM_THREADS=1`` (and OMP/MKL likewise) unless
``--blas-threads`` says otherwise. The thread count also changes the rounding of
those sums, and with it, through the nonconvex upper level, the trajectory.

Usage::

    python benchmarks/mri_scale.py                       # 256^2 and 1024^2 (see below)
    python benchmarks/mri_scale.py --sizes 64 256 --json mri_scale.json
    python benchmarks/mri_scale.py --sizes 1024 --probe-only   # per-iteration time only

Run time on the 2-core development VM (shared with other jobs, load average about
5, so each process got roughly half a core; one BLAS thread): about 35 s for 256^2
and 17 min for 1024^2 with the defaults (2 slices, 10 L-BFGS-B iterations), peak
memory 0.4 and 4.1 GiB; ``--sizes 64 128`` finishes in under a minute. Measured
(2026-11-26, defaults):

================================  ========  =========  ========
quantity                          256^2     1024^2     ratio
================================  ========  =========  ========
ms / FISTA iteration (probe)      4.7       81.7       17.2
learning wall time [s]            27.5      990.9      36.0
lower solves                      30        34         1.13
lower iterations                  2981      7013       2.35
CG iterations                     1054      4105       3.89
Hessian products                  1108      4167       3.76
run ms / (iteration or HVP)       6.7       88.6       13.2
peak RSS [MiB]                    367       4118       11.2
================================  ========  =========  ========

Most of the memory at 1024^2 was held by Python-side arrays (``--tracemalloc`` at
256^2: 210 MiB traced of 367 MiB RSS): the L-BFGS-B evaluation cache and one
``IterationRecord`` per iteration, which kept phi and theta as tuples of Python
floats (64 bytes per pixel and iteration, 64 MiB per iteration at 1024^2). Records
now hold float64 arrays (16 bytes per pixel and iteration), and the adjoint systems
are solved by preconditioned CG (``implicit_hypergradient``). Re-measured after both
changes (2026-11-26, ``--sizes 256`` and ``--sizes 1024``, each alone on an idle VM, so
the times are not comparable with the table's, which ran under load): 256^2 6.5 s,
3,267 lower iterations, 338 CG iterations, 396 Hessian products, peak RSS 324 MiB;
1024^2 290.5 s, 7,501 lower iterations, 763 CG iterations (was 4,105), 821 Hessian
products (was 4,167), peak RSS 3,426 MiB (was 4,118), 34.9 ms per iteration or
product. With FISTA preconditioned by the Fourier majorant of the Hessian
(``fista(preconditioner="auto")``, same tolerances; same commands, idle VM): 256^2 3.9 s,
907 lower iterations (was 3,267), 322 CG iterations, peak RSS 321 MiB; 1024^2 98.3 s
(was 290.5), 1,142 lower iterations (was 7,501), 476 CG iterations, 526 Hessian
products, peak RSS 3,270 MiB, 50 ms per FISTA iteration (probe).

References: F. Sherry et al., Learning the sampling pattern for MRI, IEEE Trans. Med.
Imaging 39(12):4310-4321, 2020.
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

from odl_bilevel.datasets import available_brain_slices, brain_slices
from odl_bilevel.problems import (
    learn_sampling_pattern,
    sampling_phi,
    sampling_problem,
    simulate_kspace,
)

__all__ = ["main", "middle_slices", "probe_iteration_time", "run_size"]

WORK_KEYS = ("lower_solves", "lower_iterations", "cg_iterations", "hessian_products")


def middle_slices(count, size):
    """``count`` adjacent embedded brain slices around the middle of the brain, ``size``^2."""
    available = available_brain_slices()
    start = max(0, len(available) // 2 - count // 2)
    return brain_slices(indices=available[start : start + count], size=size)


def _settings(args):
    return {
        "alpha": args.alpha,
        "nu": args.nu,
        "xi": args.xi,
        "lower_tol": args.lower_tol,
        "cg_tol": args.cg_tol,
    }


def probe_iteration_time(clean, kspace, *, iterations, settings):
    """Seconds per lower-level FISTA iteration: ``iterations`` per slice from zero, all weights 1.

    Returns ``(seconds_per_iteration, setup_seconds)``; the setup is the time to build
    the problem and run a first, 2-iteration solve (operators, FFT plans, caches).
    """
    start = time.perf_counter()
    problem = sampling_problem(
        clean,
        kspace,
        alpha=settings["alpha"],
        nu=settings["nu"],
        xi=settings["xi"],
        learn_alpha=False,
        init_weights=1.0,
    )
    phi = sampling_phi(problem)
    # tol far below reach: each solve runs exactly `max_iter` iterations per slice; the
    # first, short one pays the one-off costs (FFT plans, caches) and counts as setup
    problem.solve(phi, tol=1e-300, max_iter=2, warm_start=False)
    setup = time.perf_counter() - start
    result = problem.solve(phi, tol=1e-300, max_iter=iterations, warm_start=False)
    wall = sum(r.wall_time for r in result.results)
    count = sum(r.iterations for r in result.results)
    return wall / count, setup


def run_size(size, args):
    """Probe and (unless ``--probe-only``) learn at one size; return a dict of results."""
    settings = _settings(args)
    clean = middle_slices(args.slices, size)
    kspace = simulate_kspace(clean, args.sigma, rng=args.seed)
    per_iter, setup = probe_iteration_time(
        clean, kspace, iterations=args.probe, settings=settings
    )
    out = {"size": size, "pixels": size * size, "slices": args.slices,
           "probe_seconds_per_iteration": per_iter, "setup_seconds": setup}
    if args.probe_only:
        out["peak_rss_mib"] = _peak_rss_mib()
        return out
    if args.tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    result = learn_sampling_pattern(
        clean,
        kspace,
        args.rate,
        sampling="free",
        alpha=settings["alpha"],
        nu=settings["nu"],
        xi=settings["xi"],
        max_stages=1,
        max_iter=args.iterations,
        reoptimise_alpha=False,
        lower_tol=settings["lower_tol"],
        cg_tol=settings["cg_tol"],
    )
    wall = time.perf_counter() - start
    if args.tracemalloc:
        out["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    out["peak_rss_mib"] = _peak_rss_mib()
    work = {k: int(result.work[k]) for k in WORK_KEYS}
    out.update(
        wall_seconds=wall,
        work=work,
        run_seconds_per_iteration=wall
        / max(1, work["lower_iterations"] + work["hessian_products"]),
        upper_iterations=sum(s.iterations for s in result.stages),
        stages=len(result.stages),
        support_rate=float(result.stages[-1].support_rate) if result.stages else float("nan"),
        binary_rate=float(result.rate),
        objective=float(result.objective),
        status=str(getattr(result.status, "name", result.status)),
    )
    return out


def _blas_text(args):
    if args.in_process or args.blas_threads == 0:
        return f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    return f"{args.blas_threads} BLAS thread(s)"


def _tol_text(tol):
    return "1e-3 N (default)" if tol is None else f"{tol:g}"


def _peak_rss_mib():
    # Linux reports ru_maxrss in KiB (macOS in bytes)
    scale = 2**20 if sys.platform == "darwin" else 2**10
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _child_argv(args, size, path):
    argv = [sys.executable, str(pathlib.Path(__file__).resolve()), "--child", str(size),
            "--child-out", str(path)]
    for name in ("slices", "rate", "iterations", "probe", "alpha", "nu", "xi", "sigma",
                 "lower_tol", "cg_tol", "seed"):
        if getattr(args, name) is not None:
            argv += [f"--{name.replace('_', '-')}", repr(getattr(args, name))]
    if args.tracemalloc:
        argv.append("--tracemalloc")
    if args.probe_only:
        argv.append("--probe-only")
    return argv


BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _run_isolated(size, args):
    """Run one size in a fresh Python process, so that its peak memory is its own."""
    env = dict(os.environ)
    if args.blas_threads > 0:
        env.update({name: str(args.blas_threads) for name in BLAS_VARIABLES})
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "result.json"
        subprocess.run(_child_argv(args, size, path), check=True, env=env)
        return json.loads(path.read_text())


def _print_table(rows):
    base = rows[0]
    cols = [f"{r['size']}^2" for r in rows]
    ratio_cols = [f"{r['size']}/{base['size']}" for r in rows[1:]]
    width = 14
    print(f"{'':<34}" + "".join(f"{c:>{width}}" for c in cols + ratio_cols))
    print("-" * (34 + width * (len(cols) + len(ratio_cols))))

    def line(label, get, fmt):
        vals = [get(r) for r in rows]
        cells = [format(v, fmt) if v is not None else "-" for v in vals]
        ratios = [
            f"{v / vals[0]:.2f}" if v is not None and vals[0] else "-" for v in vals[1:]
        ]
        print(f"{label:<34}" + "".join(f"{c:>{width}}" for c in cells + ratios))

    line("pixels", lambda r: r["pixels"], "d")
    line("ms / FISTA iteration (probe)", lambda r: 1e3 * r["probe_seconds_per_iteration"], ".3f")
    line("problem setup [s]", lambda r: r["setup_seconds"], ".2f")
    if "wall_seconds" in base:
        line("learning wall time [s]", lambda r: r["wall_seconds"], ".1f")
        for key in WORK_KEYS:
            line(key.replace("_", " "), lambda r, key=key: r["work"][key], "d")
        line("upper iterations", lambda r: r["upper_iterations"], "d")
        line("run ms / (iteration or HVP)", lambda r: 1e3 * r["run_seconds_per_iteration"], ".3f")
        line("support rate after the stage", lambda r: r["support_rate"], ".3f")
    line("peak RSS [MiB]", lambda r: r["peak_rss_mib"], ".0f")
    if "tracemalloc_peak_mib" in base:
        line("tracemalloc peak [MiB]", lambda r: r.get("tracemalloc_peak_mib"), ".0f")


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024],
                        help="image sides; the first is the baseline of the ratios")
    parser.add_argument("--slices", type=int, default=2, help="training slices")
    parser.add_argument("--rate", type=float, default=0.3, help="sampling rate of the binary")
    parser.add_argument("--iterations", type=int, default=10, help="L-BFGS-B iterations")
    parser.add_argument("--probe", type=int, default=20,
                        help="FISTA iterations per slice of the per-iteration probe")
    parser.add_argument("--alpha", type=float, default=1e-2)
    parser.add_argument("--nu", type=float, default=1e-2)
    parser.add_argument("--xi", type=float, default=1e-2)
    parser.add_argument("--sigma", type=float, default=0.02, help="k-space noise level")
    parser.add_argument("--lower-tol", type=float, default=None,
                        help="certified lower-level error; default 1e-3 sqrt(N^2) (the driver's)")
    parser.add_argument("--cg-tol", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also trace Python/NumPy allocations (slower)")
    parser.add_argument("--probe-only", action="store_true",
                        help="only time one lower-level iteration per size")
    parser.add_argument("--in-process", action="store_true",
                        help="run every size in this process (peak RSS then accumulates; "
                        "BLAS threads as the environment says)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads of the per-size processes (0: as the environment "
                        "says); see the module docstring")
    parser.add_argument("--json", type=pathlib.Path, help="write the results to this JSON file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=pathlib.Path, help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    """Parse arguments, run every size and print the table."""
    parser = _parser()
    args = parser.parse_args(argv)
    for name in ("slices", "iterations", "probe"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    if not 0 < args.rate <= 1:
        parser.error("--rate must lie in (0, 1]")
    if any(not 16 <= s <= 1024 for s in args.sizes):
        parser.error("--sizes must lie in [16, 1024]")
    if args.child is not None:
        args.child_out.write_text(json.dumps(run_size(args.child, args)))
        return None
    print(
        f"MRI sampling learning, free pattern, {args.slices} brain slices, rate {args.rate}, "
        f"alpha = {args.alpha:g}, nu = {args.nu:g}, xi = {args.xi:g}, sigma = {args.sigma:g}, "
        f"lower_tol = {_tol_text(args.lower_tol)}, cg_tol = {args.cg_tol:g}, "
        f"{args.iterations} L-BFGS-B iterations, one continuation stage, float64, 1 process, "
        f"{_blas_text(args)}\n"
    )
    rows = []
    for size in args.sizes:
        start = time.perf_counter()
        row = run_size(size, args) if args.in_process else _run_isolated(size, args)
        print(f"{size}^2 done in {time.perf_counter() - start:.1f} s", flush=True)
        rows.append(row)
    print()
    _print_table(rows)
    if args.json:
        settings = {k: v for k, v in vars(args).items() if k not in ("child", "child_out")}
        settings["json"] = str(args.json)
        args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=1))
        print(f"\nresults written to {args.json}")
    return rows


if __name__ == "__main__":
    main()
