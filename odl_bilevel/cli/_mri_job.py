r"""The MRI sampling job: ``odl-bilevel learn CONFIG.toml`` with ``data.kind = "brain_mri"``.

The job reproduces the table of Sherry et al. (IEEE TMI 2020) on the embedded
brain slices. With :math:`F` the unitary DFT and :math:`S = \operatorname{diag}(s)`:

1. *Data*: training and held-out test slices
   (:func:`~odl_bilevel.datasets.brain_train_test`) and simulated k-space
   :math:`y_i = F x_i^\dagger + \varepsilon_i`
   (:func:`~odl_bilevel.problems.simulate_kspace`, noise level ``data.sigma``).
2. *Learned patterns* at ``sampling.rate``, free (per pixel) and Cartesian
   (per phase-encode line), by
   :func:`~odl_bilevel.problems.learn_sampling_pattern` (β-continuation).
3. *Baselines* at the same rate (data-adapted, variable density, uniform
   random; free and, with ``sampling.cartesian_baselines``, Cartesian), each
   with the regulariser's :math:`\alpha` re-optimised on the training set
   (:func:`~odl_bilevel.problems.optimise_alpha`) so the comparison is fair.
   The variable-density pattern is a draw (seed ``sampling.seed``) of Lustig
   et al.'s polynomial density of power ``sampling.variable_density_power``;
   ``sampling.variable_density_trials = 10`` keeps the least interfering of
   10 draws instead, as their Monte-Carlo design (at 256², noise 0.003, 25 %
   that criterion does not pick better patterns: the peak interference of 24
   draws correlates *positively* with their test PSNR, r = 0.30). The names
   with the suffix ``_hermitian`` (e.g. ``"variable_density_hermitian"``)
   are the same designs with one sample per conjugate pair :math:`\pm k`
   (``hermitian=True``): the images are real, so their k-space is Hermitian
   and the plain designs spend many samples on coefficients they already
   have; every row reports that share (``conjugate_redundancy``).
   With ``sampling.full_reference`` (default) the table also has the fully
   sampled reconstruction (every k-space pixel, rate 100 %, own
   :math:`\alpha`): the ceiling of every pattern at this noise level, so the
   table shows how much of the possible gain each pattern realises.
4. *Greedy* line selection (Gözcü et al. 2018,
   :func:`~odl_bilevel.problems.greedy_cartesian_pattern`, run with
   ``sampling.alpha``, then :math:`\alpha` re-optimised): its lower-level
   solves and wall time against the learned Cartesian pattern's.
5. *β sweep*: learned free patterns at the lower rates of
   ``sampling.beta_sweep`` (a larger :math:`\beta_1` gives a sparser pattern).
6. *Regulariser comparison*: the free pattern learned with
   ``sampling.compare_regulariser`` beside the one learned with
   ``sampling.regulariser``.

The solves of the learning and of the :math:`\alpha` searches are certified to
``sampling.lower_tol``; ``"auto"`` (default) is an RMS error per pixel of
:math:`\min(10^{-3}, \sigma/30)` with :math:`\sigma` = ``data.sigma``, well
below the reconstruction errors being minimised.

Every pattern is evaluated by reconstruction
(:func:`~odl_bilevel.problems.reconstruct_sampled` with its own :math:`\alpha`,
certified to ``sampling.eval_tol``, by default an RMS error of :math:`10^{-4}`
per pixel): PSNR and SSIM (data range 1) on the training and the test slices.
``result.json`` holds the table, the greedy comparison, the sweep and the
comparison; ``patterns.npz`` every pattern; PNG figures show masks,
reconstructions with error maps, the sweep, the comparison and the learning
history.

Each finished step is stored under ``OUT/checkpoint/steps`` and each learning
run checkpoints itself under ``OUT/checkpoint/<step>``, so ``--resume``
continues an interrupted job: finished steps are read back, the interrupted
learning run continues. A step whose settings changed is recomputed.
"""

import concurrent.futures
import contextlib
import hashlib
import json
import logging
import pathlib
import shutil
import time

import numpy as np

from ..problems import (
    conjugate_redundancy,
    data_adapted_pattern,
    greedy_cartesian_pattern,
    learn_sampling_pattern,
    optimise_alpha,
    pattern_rate,
    reconstruct_sampled,
    uniform_random_pattern,
    variable_density_pattern,
)
from ._config import SAMPLING_BASELINES
from ._mri_plan import (
    _baseline_settings,
    _eval_tol,
    _plan,
    _resolved_sampling,
    build_mri_data,
    mri_job_steps,
)
from ._mri_report import build_mri_summary, shown_slice, write_mri_figures
from ._scores import image_scores

__all__ = ["build_mri_data", "mri_job_steps", "run_mri_job", "score_baseline"]

_logger = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------------
# step cache (resume)
# ------------------------------------------------------------------------------------------


def _key(cfg, settings):
    text = json.dumps({"data": cfg["data"], "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


class _Steps:
    """Finished steps stored as ``<name>.json`` + ``<name>.npz`` under ``checkpoint/steps``."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def load(self, name, key):
        meta_path, arrays_path = self.root / f"{name}.json", self.root / f"{name}.npz"
        if not (meta_path.exists() and arrays_path.exists()):
            return None
        meta = json.loads(meta_path.read_text())
        if meta.get("key") != key:
            return None
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: np.array(npz[k]) for k in npz.files}
        return meta["record"], arrays

    def save(self, name, key, record, arrays):
        tmp = self.root / f"{name}.tmp.npz"
        np.savez_compressed(tmp, **arrays)
        tmp.replace(self.root / f"{name}.npz")
        meta = self.root / f"{name}.json.tmp"
        meta.write_text(json.dumps({"key": key, "record": record}, indent=1))
        meta.replace(self.root / f"{name}.json")


# ------------------------------------------------------------------------------------------
# steps
# ------------------------------------------------------------------------------------------


def _work(work):
    return {k: float(v) for k, v in dict(work).items()}


def _stage_dict(stage):
    return {
        "beta1": float(stage.beta1),
        "support_rate": float(stage.support_rate),
        "objective": float(stage.objective),
        "iterations": int(stage.iterations),
        "lower_solves": int(stage.lower_solves),
        "status": getattr(stage.status, "name", str(stage.status)),
    }


def _run_learn(name, key, kwargs, data, ckpt_root, resume, executor, progress):
    train, _, k_train, _ = data
    ckpt = ckpt_root / name
    key_file = ckpt_root / f"{name}.key"
    if ckpt.exists() and not (resume and key_file.exists() and key_file.read_text() == key):
        shutil.rmtree(ckpt)
    key_file.write_text(key)

    def callback(stage, record):
        progress(f"{name}: stage {stage + 1} it {record.iteration} U={record.objective:.4g}")
        return False

    t0 = time.perf_counter()
    result = learn_sampling_pattern(
        train,
        k_train,
        kwargs["rate"],
        **{k: v for k, v in kwargs.items() if k != "rate"},
        executor=executor,
        callback=callback,
        checkpoint=ckpt,
        resume=bool(resume and ckpt.exists()),
    )
    wall = time.perf_counter() - t0
    work = _work(result.work)
    record = {
        "alpha": float(result.alpha_binary),
        "alpha_learning": float(result.alpha),
        "alpha_at_bound": None if result.alpha_search is None else result.alpha_search.at_bound,
        "lower_solves": int(work.get("lower_solves", 0)),
        "wall_time": float(work.get("wall_time", wall)),
        "objective": float(result.objective),
        "stages": [_stage_dict(s) for s in result.stages],
        "beta1": _final_beta(result.stages, kwargs["rate"]),
        "status": getattr(result.status, "name", str(result.status)),
        "message": str(result.message),
        "work": work,
    }
    arrays = {
        "binary": np.asarray(result.binary, dtype=float),
        "weights": np.asarray(result.weights, dtype=float),
        "pattern": np.asarray(result.pattern, dtype=float),
    }
    return record, arrays


def _final_beta(stages, rate):
    """β1 of the stage the final weights come from: the largest support at or below ``rate``."""
    if not stages:
        return None
    below = [s for s in stages if s.support_rate <= rate]
    stage = max(below, key=lambda s: s.support_rate) if below else stages[-1]
    return float(stage.beta1)


def _make_baseline(settings, shape, train):
    kind, rate, cartesian = settings["baseline"], settings["rate"], settings["cartesian"]
    hermitian = settings.get("hermitian", False)  # absent in checkpoints of older versions
    if kind == "full":
        return np.ones(shape)
    if kind == "data_adapted":
        return data_adapted_pattern(train, rate, cartesian=cartesian, hermitian=hermitian)
    if kind == "variable_density":
        return variable_density_pattern(
            shape,
            rate,
            power=settings["power"],
            cartesian=cartesian,
            trials=settings["trials"],
            hermitian=hermitian,
            rng=settings["seed"],
        )
    return uniform_random_pattern(
        shape, rate, cartesian=cartesian, hermitian=hermitian, rng=settings["seed"]
    )


def _run_baseline(settings, data, executor):
    train, _, k_train, _ = data
    t0 = time.perf_counter()
    pattern = _make_baseline(settings, train[0].shape, train)
    found = optimise_alpha(train, k_train, pattern, **settings["alpha_search"], executor=executor)
    wall = time.perf_counter() - t0
    work = _work(found.work)
    record = {
        "alpha": float(found.alpha),
        "lower_solves": int(work.get("lower_solves", 0)),
        "wall_time": wall,
        "alpha_evaluations": int(found.evaluations),
        "alpha_at_bound": found.at_bound,
        "work": work,
    }
    return record, {"binary": np.asarray(pattern, dtype=float)}


def _run_greedy(settings, data, executor, progress):
    train, _, k_train, _ = data
    search = settings["alpha_search"]

    def callback(step, line, objective):
        progress(f"greedy_cartesian: line {step} (#{line}) loss {objective:.4g}")
        return False

    result = greedy_cartesian_pattern(
        train,
        k_train,
        settings["rate"],
        alpha=settings["alpha"],
        regulariser=search["regulariser"],
        nu=search["nu"],
        xi=search["xi"],
        candidates_per_step=settings["candidates_per_step"],
        rng=settings["seed"],
        solver=search["solver"],
        lower_tol=search["lower_tol"],
        lower_max_iter=search["lower_max_iter"],
        executor=executor,
        callback=callback,
    )
    t0 = time.perf_counter()
    found = optimise_alpha(train, k_train, result.binary, **search, executor=executor)
    alpha_wall = time.perf_counter() - t0
    alpha_solves = int(_work(found.work).get("lower_solves", 0))
    record = {
        "alpha": float(found.alpha),
        "lower_solves": int(result.lower_solves) + alpha_solves,
        "wall_time": float(result.wall_time) + alpha_wall,
        "pattern_lower_solves": int(result.lower_solves),
        "pattern_wall_time": float(result.wall_time),
        "alpha_lower_solves": alpha_solves,
        "alpha_at_bound": found.at_bound,
        "candidates_per_step": settings["candidates_per_step"],
        "objective_history": [float(v) for v in result.objective_history],
        "work": _work(result.work),
    }
    return record, {"binary": np.asarray(result.binary, dtype=float)}


# ------------------------------------------------------------------------------------------
# evaluation
# ------------------------------------------------------------------------------------------


def _evaluate(record, arrays, regulariser, sampling, data, executor):
    """Add train/test metrics (and the drawn test reconstruction) to a step's record."""
    train, test, k_train, k_test = data
    options = {
        "alpha": record["alpha"],
        "regulariser": regulariser,
        "nu": float(sampling["nu"]),
        "xi": float(sampling["xi"]),
        "solver": sampling["solver"],
        "tol": _eval_tol(sampling, train[0].shape),
        "max_iter": sampling["lower_max_iter"],
        "executor": executor,
    }
    pattern = arrays["binary"]
    rec_train = reconstruct_sampled(k_train, pattern, **options)
    rec_test = reconstruct_sampled(k_test, pattern, **options)
    record["rate"] = float(pattern_rate(pattern))
    record["conjugate_redundancy"] = conjugate_redundancy(pattern)
    record["regulariser"] = regulariser
    record["train"] = image_scores(rec_train, train)
    record["test"] = image_scores(rec_test, test)
    arrays["recon_test"] = np.asarray(rec_test[shown_slice(test)], dtype=float)


_BASELINES = (*SAMPLING_BASELINES, "full")


def score_baseline(cfg, baseline, *, cartesian=False, seed=None, data=None, executor=None):
    """Score one baseline pattern as the MRI job does, outside the job (e.g. more random draws).

    The pattern of ``baseline`` at the configuration's rate (``"full"``: every
    sample), :math:`\alpha` re-optimised on the training slices, then PSNR and
    SSIM of the reconstructions of the training and test slices, with the
    job's settings (``sampling.*``). A random baseline (variable density,
    uniform random) is drawn with ``seed`` (default ``sampling.seed``, the
    job's own draw), so other seeds give other draws of the same density.

    Parameters
    ----------
    cfg : dict
        A validated ``brain_mri`` configuration (:func:`~odl_bilevel.cli.load_config`).
    baseline : str
        The pattern: one of ``sampling.baselines``' names (``"data_adapted"``,
        ``"variable_density"``, ``"uniform_random"``, each also with the suffix
        ``"_hermitian"``) or ``"full"``.
    cartesian : bool, optional
        Cartesian (whole lines) instead of free.
    seed : int, optional
        Seed of the draw of a random pattern.
    data : tuple, optional
        :func:`build_mri_data` of ``cfg`` (built when None).
    executor : concurrent.futures.Executor, optional
        Runs the per-slice solves.

    Returns
    -------
    dict
        The step's record, as in the job's ``result.json`` steps: ``alpha``,
        ``rate``, ``lower_solves``, ``wall_time`` and ``train`` / ``test``
        scores (``psnr_mean``, ``psnr_std``, ``ssim_mean``, per slice).

    Raises
    ------
    ValueError
        For an unknown ``baseline`` or a configuration that is not ``brain_mri``.
    """
    if baseline not in _BASELINES:
        raise ValueError(f"`baseline` must be one of {_BASELINES}, got {baseline!r}")
    if cfg.get("data", {}).get("kind") != "brain_mri":
        raise ValueError("`cfg` must be a validated brain_mri configuration")
    sampling = _resolved_sampling(cfg)
    data = build_mri_data(cfg) if data is None else data
    settings = _baseline_settings(sampling, baseline, cartesian=cartesian, seed=seed)
    record, arrays = _run_baseline(settings, data, executor)
    _evaluate(record, arrays, sampling["regulariser"], sampling, data, executor)
    return record


# ------------------------------------------------------------------------------------------
# the job
# ------------------------------------------------------------------------------------------


def _executor(workers):
    """A process pool for the per-slice solves (``workers > 1``), or None (serial)."""
    if workers <= 1:
        return contextlib.nullcontext()
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers)


def run_mri_job(cfg, out_dir, *, resume=False, progress=None):
    """Run the MRI sampling job of a ``brain_mri`` configuration and write its outputs.

    Parameters
    ----------
    cfg : dict
        A validated configuration with ``data.kind = "brain_mri"``.
    out_dir : path-like
        Output directory (created): ``result.json``, ``config.json``,
        ``patterns.npz``, PNG figures and ``checkpoint/``.
    resume : bool
        Continue from ``out_dir/checkpoint``: finished steps are read back,
        the interrupted learning run resumes from its own checkpoint.
    progress : callable, optional
        ``progress(step, text)``, called as the job advances through its
        :func:`mri_job_steps` steps.

    Returns
    -------
    dict
        The content written to ``result.json``.

    Raises
    ------
    FileNotFoundError
        If ``resume`` is set and there is no checkpoint.
    """
    from ._job import _write_json

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_root = out / "checkpoint"
    if resume and not ckpt_root.exists():
        raise FileNotFoundError(f"--resume: no checkpoint in {ckpt_root}")
    if not resume and ckpt_root.exists():
        shutil.rmtree(ckpt_root)
    ckpt_root.mkdir(parents=True, exist_ok=True)
    store = _Steps(ckpt_root / "steps")
    _write_json(out / "config.json", cfg)
    sampling = cfg["sampling"]
    t_start = time.perf_counter()
    data = build_mri_data(cfg)
    plan = _plan(cfg)
    done = [0]

    def report(text):
        if progress is not None:
            progress(done[0], text)

    records, arrays = {}, {}
    with _executor(sampling["workers"]) as executor:
        for name, kind, settings in plan:
            key = _key(cfg, {"kind": kind, "settings": settings, "eval": _eval_key(sampling)})
            cached = store.load(name, key) if resume else None
            if cached is not None:
                _logger.info("step %s: read back from %s", name, store.root)
                record, arr = cached
            else:
                report(f"{name} ...")
                if kind == "learn":
                    record, arr = _run_learn(
                        name, key, settings, data, ckpt_root, resume, executor, report
                    )
                    regulariser = settings["regulariser"]
                elif kind == "baseline":
                    record, arr = _run_baseline(settings, data, executor)
                    regulariser = settings["alpha_search"]["regulariser"]
                else:
                    record, arr = _run_greedy(settings, data, executor, report)
                    regulariser = settings["alpha_search"]["regulariser"]
                _evaluate(record, arr, regulariser, sampling, data, executor)
                store.save(name, key, record, arr)
            records[name], arrays[name] = record, arr
            done[0] += 1
            report(f"{name}: test PSNR {record['test']['psnr_mean']:.2f} dB")
    summary = build_mri_summary(cfg, plan, records)
    np.savez_compressed(out / "patterns.npz", **{n: a["binary"] for n, a in arrays.items()})
    summary["figures"] = []
    if cfg["output"]["figures"]:
        report("figures ...")
        summary["figures"] = write_mri_figures(out, plan, records, arrays, data[1])
    done[0] += 1
    report("done")
    summary["wall_time"] = {
        "total": time.perf_counter() - t_start,
        "steps": {name: records[name]["wall_time"] for name, _, _ in plan},
    }
    _write_json(out / "result.json", summary)
    _logger.info("wrote %s", out / "result.json")
    return summary


def _eval_key(sampling):
    keys = ("nu", "xi", "solver", "lower_tol", "eval_tol", "lower_max_iter")
    return {k: sampling[k] for k in keys}
