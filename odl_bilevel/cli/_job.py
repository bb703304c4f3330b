"""The learning job behind ``odl-bilevel learn`` and ``odl-bilevel demo``.

A job reads a validated configuration (:mod:`._config`), builds the training
and test sets, learns the parameters with the configured upper-level engine,
evaluates PSNR/SSIM on both sets and writes ``result.json``, figures and a
checkpoint into the output directory. :func:`run_job` dispatches on
``data.kind``: ``"brain_mri"`` runs the MRI sampling job of :mod:`._mri_job`,
the other kinds the denoising job below.
"""

import json
import logging
import os
import pathlib
import time

import numpy as np

from ..datasets import (
    available_images,
    denoising_pairs,
    natural_images,
    piecewise_constant_signals,
)
from ..problems import denoising_phi, denoising_problem, denoising_weights, reconstruct
from ..upper import dfo, lbfgsb
from ._scores import image_scores

__all__ = ["build_data", "job_steps", "run_job"]

_logger = logging.getLogger(__name__)

#: images used by the default 2-D configuration, training first
DEFAULT_IMAGES = ("camera", "coins", "astronaut", "brick", "coffee", "chelsea", "grass", "text")


def build_data(cfg):
    """Return ``(clean_train, noisy_train, clean_test, noisy_test)`` as lists of arrays.

    The noise is seeded by ``data.seed``; 1-D signals are drawn from the same
    generator, so a configuration always gives the same data.
    """
    data = cfg["data"]
    rng = np.random.default_rng(data["seed"])
    n_total = data["n_train"] + data["n_test"]
    if data["kind"] == "signals_1d":
        clean = list(piecewise_constant_signals(n_total, length=data["length"], rng=rng))
    else:
        names = list(data["images"]) or list(DEFAULT_IMAGES)
        unknown = sorted(set(names) - set(available_images()))
        if unknown:
            from ._config import ConfigError

            raise ConfigError(
                f"config key `data.images` names unknown images {unknown}; "
                f"available: {', '.join(available_images())}"
            )
        if len(names) < n_total:
            from ._config import ConfigError

            raise ConfigError(
                f"config key `data.images` lists {len(names)} images but "
                f"`data.n_train` + `data.n_test` = {n_total}"
            )
        clean = natural_images(names[:n_total], size=data["size"], method="crop")
    clean, noisy = denoising_pairs(clean, data["sigma"], rng=rng)
    n = data["n_train"]
    return clean[:n], noisy[:n], clean[n:], noisy[n:]


def _record_dict(rec):
    return {
        "iteration": int(rec.iteration),
        "phi": [float(v) for v in rec.phi],
        "theta": [float(v) for v in rec.theta],
        "objective": float(rec.objective),
        "gradient_norm": float(rec.gradient_norm),
        "gradient_error_bound": float(rec.error_bound),
        "lower_tol": float(rec.lower_tol),
        "work": {k: float(v) for k, v in rec.work.items()},
        "wall_time": float(rec.wall_time),
    }


def _write_json(path, obj):
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=2, allow_nan=True))
    os.replace(tmp, path)


def _figures(out, cfg, result, data, recons):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from ..plotting import plot_history, plot_reconstructions

    clean_tr, noisy_tr, clean_te, noisy_te = data
    rec_tr, rec_te = recons
    paths = []
    k = min(3, len(clean_tr))
    fig = plot_reconstructions(
        clean_tr[:k], noisy_tr[:k], {"learned": rec_tr[:k]}, data_range=1.0
    )
    fig.savefig(out / "reconstructions_train.png", dpi=110)
    paths.append("reconstructions_train.png")
    if clean_te:
        k = min(3, len(clean_te))
        fig = plot_reconstructions(
            clean_te[:k], noisy_te[:k], {"learned": rec_te[:k]}, data_range=1.0
        )
        fig.savefig(out / "reconstructions_test.png", dpi=110)
        paths.append("reconstructions_test.png")
    hist = [(r.work.get("lower_iterations", 0.0), r.objective) for r in result.history]
    if hist:
        label = {"lbfgsb": "L-BFGS-B (implicit gradient)", "dfo": "DFO (dynamic accuracy)"}
        fig = plot_history({label.get(result.engine, result.engine): hist},
                           xlabel="lower-level iterations")
        fig.savefig(out / "objective_vs_work.png", dpi=110)
        paths.append("objective_vs_work.png")
    return paths


def job_steps(cfg):
    """Return the number of progress steps of the job ``cfg`` describes.

    Upper-level iterations for the denoising job, steps (learning runs,
    baselines, ...) for the MRI sampling job.
    """
    if cfg["data"]["kind"] == "brain_mri":
        from ._mri_job import mri_job_steps

        return mri_job_steps(cfg)
    return cfg["upper"]["max_iter"]


def run_job(cfg, out_dir, *, resume=False, progress=None):
    """Run a learning job and write its outputs.

    A ``data.kind = "brain_mri"`` configuration runs
    :func:`~odl_bilevel.cli._mri_job.run_mri_job` (same arguments, its own
    ``result.json`` layout); every other kind the denoising job documented here.

    Parameters
    ----------
    cfg : dict
        A configuration from :func:`~odl_bilevel.cli._config.validate_config`.
    out_dir : path-like
        Output directory (created). Holds ``result.json``, ``config.json``,
        PNG figures and ``checkpoint/``.
    resume : bool
        Continue from ``out_dir/checkpoint`` instead of starting afresh.
    progress : callable, optional
        ``progress(iteration, text)`` called after every upper iteration.

    Returns
    -------
    dict
        The content written to ``result.json``.
    """
    if cfg["data"]["kind"] == "brain_mri":
        from ._mri_job import run_mri_job

        return run_mri_job(cfg, out_dir, resume=resume, progress=progress)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint"
    if resume and not checkpoint.exists():
        raise FileNotFoundError(f"--resume: no checkpoint in {checkpoint}")
    _write_json(out / "config.json", cfg)
    t0 = time.perf_counter()
    data = build_data(cfg)
    clean_tr, noisy_tr, clean_te, noisy_te = data
    prob, low, hyp, up = cfg["problem"], cfg["lower"], cfg["hypergradient"], cfg["upper"]
    problem = denoising_problem(
        clean_tr,
        noisy_tr,
        regulariser=prob["regulariser"],
        learn=tuple(prob["learn"]),
        init=dict(prob["init"]) or None,
        bounds={k: tuple(v) for k, v in prob["bounds"].items()} or None,
        penalty=None if prob["penalty"] == "none" else prob["penalty"],
        penalty_weight=prob["penalty_weight"],
        solver=low["solver"],
        lower_tol=low["tol"],
        lower_max_iter=low["max_iter"],
        cg_tol=hyp["cg_tol"],
        cg_max_iter=hyp["cg_max_iter"],
    )
    phi0 = denoising_phi(problem)

    def callback(record):
        if progress is not None:
            progress(record.iteration, f"U={record.objective:.6g}")
        return False

    if up["engine"] == "dfo":
        result = dfo(
            problem,
            phi0,
            accuracy=up["accuracy"],
            fixed_iterations=up["fixed_iterations"],
            fixed_tol=up["fixed_tol"],
            max_evals=up["max_evals"],
            max_iter=up["max_iter"],
            callback=callback,
            checkpoint=checkpoint,
            resume=resume,
        )
    else:
        result = lbfgsb(
            problem,
            phi0,
            max_iter=up["max_iter"],
            gtol=up["gtol"],
            ftol=up["ftol"],
            callback=callback,
            checkpoint=checkpoint,
            resume=resume,
        )
    learn_time = time.perf_counter() - t0
    phi = np.asarray(result.phi, dtype=float)
    rec_tr = [np.asarray(r) for r in reconstruct(problem, phi, noisy_tr)]
    rec_te = [np.asarray(r) for r in reconstruct(problem, phi, noisy_te)] if noisy_te else []
    init_tr = [np.asarray(r) for r in reconstruct(problem, phi0, noisy_tr)]
    init_te = [np.asarray(r) for r in reconstruct(problem, phi0, noisy_te)] if noisy_te else []
    work = {k: float(v) for k, v in result.work.items()}
    summary = {
        "status": result.status.name,
        "message": result.message,
        "engine": result.engine,
        "learned_parameters": denoising_weights(problem, phi),
        "initial_parameters": denoising_weights(problem, phi0),
        "phi": [float(v) for v in phi],
        "phi_names": list(problem.parameter_map.names),
        "objective": float(result.objective),
        "iterations": len(result.history),
        "work": work,
        "history": [_record_dict(r) for r in result.history],
        "metrics": {
            "train": {
                "learned": image_scores(rec_tr, clean_tr),
                "initial": image_scores(init_tr, clean_tr),
                "noisy": image_scores(noisy_tr, clean_tr),
            },
            "test": {
                "learned": image_scores(rec_te, clean_te),
                "initial": image_scores(init_te, clean_te),
                "noisy": image_scores(noisy_te, clean_te),
            },
        },
        "wall_time": {"learning": learn_time, "total": time.perf_counter() - t0},
        "figures": [],
    }
    if cfg["output"]["figures"]:
        summary["figures"] = _figures(out, cfg, result, data, (rec_tr, rec_te))
    _write_json(out / "result.json", summary)
    _logger.info("wrote %s", out / "result.json")
    return summary
