"""The MRI sampling job's data and plan: which steps run, with which settings.

:func:`build_mri_data` draws the slices and k-space of a ``brain_mri``
configuration; :func:`_plan` turns the ``sampling`` section into the job's
steps (learning runs, baselines, the fully sampled reference, greedy, the
beta sweep, the regulariser comparison) with the keyword arguments of the
library functions that run them (:mod:`odl_bilevel.cli._mri_job`).
"""

import numpy as np

from ..datasets import brain_train_test
from ..problems import simulate_kspace
from ..problems._sampling_common import TOL_PER_PIXEL
from ._mri_report import FULL_REFERENCE

__all__ = ["build_mri_data", "mri_job_steps"]


def build_mri_data(cfg):
    """Return ``(train, test, kspace_train, kspace_test)`` for a ``brain_mri`` configuration.

    The slices are :func:`~odl_bilevel.datasets.brain_train_test` with
    ``rng=data.seed``; the k-space of all slices (training first) is drawn
    by :func:`~odl_bilevel.problems.simulate_kspace` from one generator seeded
    with ``data.seed``, so a configuration always gives the same data.
    """
    data = cfg["data"]
    train, test = brain_train_test(
        data["n_train"], data["n_test"], size=data["size"], rng=data["seed"]
    )
    kspace = simulate_kspace(list(train) + list(test), data["sigma"], rng=data["seed"])
    n = len(train)
    return list(train), list(test), kspace[:n], kspace[n:]


def _learn_kwargs(sampling, *, pattern, rate, regulariser):
    """Keyword arguments of ``learn_sampling_pattern`` for one learning step."""
    return {
        "rate": float(rate),
        "sampling": pattern,
        "regulariser": regulariser,
        "alpha": float(sampling["alpha"]),
        "nu": float(sampling["nu"]),
        "xi": float(sampling["xi"]),
        "learn_alpha": sampling["learn_alpha"],
        "beta": None if sampling["beta"] == "auto" else float(sampling["beta"]),
        "beta_factor": float(sampling["beta_factor"]),
        "beta2": float(sampling["beta2"]),
        "max_stages": sampling["max_stages"],
        "max_iter": sampling["max_iter"],
        "init_weights": float(sampling["init_weights"]),
        "alpha_bounds": tuple(float(v) for v in sampling["alpha_bounds"]),
        "reoptimise_alpha": sampling["reoptimise_alpha"],
        "solver": sampling["solver"],
        "lower_tol": _tol(sampling),
        "lower_max_iter": sampling["lower_max_iter"],
        "cg_tol": float(sampling["cg_tol"]),
        "cg_max_iter": sampling["cg_max_iter"],
        "support_threshold": float(sampling["support_threshold"]),
        "refine": sampling["refine"],
        "rate_tol": float(sampling["rate_tol"]),
    }


def _tol(sampling):
    """``sampling.lower_tol`` as the library takes it (see :func:`_resolved_sampling`)."""
    tol = sampling["lower_tol"]
    return None if tol == "auto" else float(tol)


#: ``sampling.lower_tol = "auto"``: certified RMS error per pixel of the solves of the
#: learning and the alpha searches: the library's 1e-3, but at most ``data.sigma / 30``
LOWER_TOL_NOISE_FRACTION = 1.0 / 30.0


def _resolved_sampling(cfg):
    """``cfg["sampling"]`` with ``lower_tol = "auto"`` replaced by its value for the data.

    The learning and the alpha searches minimise reconstruction errors whose RMS per
    pixel is about the noise level ``data.sigma`` or more (about 1.7e-3 to 4e-3 at
    sigma = 0.003). A solve certified to the library's default RMS error of 1e-3 per
    pixel is then not accurate enough: the losses, hypergradients and alpha searches
    depended on how far below its certificate the solver happened to stop (at 256^2 and
    sigma = 0.003 the fully sampled reference's alpha moved from 2.2e-3 to 3.0e-3 and its
    test PSNR by 0.3 dB when FISTA became preconditioned, and the learned Cartesian
    pattern took 4,908 instead of 2,280 solves). "auto" therefore certifies an RMS error
    of ``min(1e-3, sigma / 30)`` per pixel.
    """
    s = cfg["sampling"]
    if s["lower_tol"] != "auto":
        return s
    rms = min(TOL_PER_PIXEL, LOWER_TOL_NOISE_FRACTION * float(cfg["data"]["sigma"]))
    return {**s, "lower_tol": rms * float(cfg["data"]["size"])}  # ||.|| = RMS * sqrt(size^2)


#: ``sampling.eval_tol = "auto"``: certified RMS error per pixel of the reconstructions
#: that the table scores (ten times below the learning's default, 1e-3)
EVAL_TOL_PER_PIXEL = 1e-4


def _eval_tol(sampling, shape):
    """Certified ``||x - x_hat||`` of the scored reconstructions (``sampling.eval_tol``)."""
    tol = sampling["eval_tol"]
    if tol == "auto":
        return EVAL_TOL_PER_PIXEL * float(np.sqrt(np.prod(shape)))
    return float(tol)


def _alpha_kwargs(sampling, regulariser):
    return {
        "regulariser": regulariser,
        "nu": float(sampling["nu"]),
        "xi": float(sampling["xi"]),
        "alpha_bounds": tuple(float(v) for v in sampling["alpha_bounds"]),
        "xatol": float(sampling["alpha_xatol"]),
        "max_evals": sampling["alpha_max_evals"],
        "solver": sampling["solver"],
        "lower_tol": _tol(sampling),
        "lower_max_iter": sampling["lower_max_iter"],
    }


def _baseline_settings(sampling, baseline, *, cartesian=False, seed=None):
    """Settings of a baseline step (``baseline="full"``: the fully sampled reference)."""
    kind = baseline.removesuffix("_hermitian")
    hermitian = {"hermitian": True} if kind != baseline else {}  # (keeps older step keys)
    return {
        "baseline": kind,
        **hermitian,
        "cartesian": bool(cartesian),
        "rate": 1.0 if baseline == "full" else float(sampling["rate"]),
        "seed": sampling["seed"] if seed is None else seed,
        "power": float(sampling["variable_density_power"]),
        "trials": int(sampling["variable_density_trials"]),
        "alpha_search": _alpha_kwargs(sampling, sampling["regulariser"]),
    }


def _plan(cfg):
    """Return the job's steps as ``(name, kind, settings)`` in the order they run."""
    s = _resolved_sampling(cfg)
    reg, rate = s["regulariser"], float(s["rate"])
    steps = []
    for pattern in s["patterns"]:
        kwargs = _learn_kwargs(s, pattern=pattern, rate=rate, regulariser=reg)
        steps.append((f"learned_{pattern}", "learn", kwargs))
    variants = [p for p in ("free", "cartesian") if p in s["patterns"]]
    if not s["cartesian_baselines"]:
        variants = [p for p in variants if p == "free"] or ["free"]
    for baseline in s["baselines"]:
        for pattern in variants:
            settings = _baseline_settings(s, baseline, cartesian=pattern == "cartesian")
            steps.append((f"{baseline}_{pattern}", "baseline", settings))
    if s["full_reference"]:
        steps.append((FULL_REFERENCE, "baseline", _baseline_settings(s, "full")))
    if s["greedy"] and "cartesian" in s["patterns"]:
        settings = {
            "rate": rate,
            "alpha": float(s["alpha"]),
            "candidates_per_step": s["greedy_candidates"] or None,
            "seed": s["seed"],
            "alpha_search": _alpha_kwargs(s, reg),
        }
        steps.append(("greedy_cartesian", "greedy", settings))
    for r in sorted(s["beta_sweep"], reverse=True):
        kwargs = _learn_kwargs(s, pattern="free", rate=r, regulariser=reg)
        steps.append((f"sweep_{r:g}", "learn", kwargs))
    if s["compare_regulariser"] != "none":
        kwargs = _learn_kwargs(s, pattern="free", rate=rate, regulariser=s["compare_regulariser"])
        steps.append((f"regulariser_{s['compare_regulariser']}", "learn", kwargs))
    return steps


def mri_job_steps(cfg):
    """Return the number of steps of the MRI job (the length of its progress bar)."""
    return len(_plan(cfg)) + 1  # + the final figures
