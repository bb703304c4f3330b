r"""What the MRI sampling job reports: ``result.json``'s summary, the figures, the printed table.

The steps of :mod:`._mri_job` leave one *record* per step (a JSON-friendly
dict: ``alpha``, ``rate``, ``regulariser``, ``lower_solves``, ``wall_time``,
``train``/``test`` metrics, ...) and its *arrays* (``binary`` pattern,
``recon_test``: the reconstruction of the drawn test slice). This module
turns them into the table rows, the greedy comparison, the β sweep, the
regulariser comparison, the PNG figures and the text printed at the end.
"""

import numpy as np

from ..datasets import brain_split_indices

__all__ = [
    "FULL_REFERENCE",
    "build_mri_summary",
    "format_mri_summary",
    "shown_slice",
    "write_mri_figures",
]

_BASELINE_LABELS = {  # longer names first: they share the prefixes of the shorter ones
    "data_adapted_hermitian": "data-adapted (hermitian)",
    "variable_density_hermitian": "variable density (hermitian)",
    "uniform_random_hermitian": "uniform random (hermitian)",
    "data_adapted": "data-adapted",
    "variable_density": "variable density",
    "uniform_random": "uniform random",
}
#: step name of the fully sampled reference row (``sampling.full_reference``)
FULL_REFERENCE = "fully_sampled"
_METRIC_KEYS = ("psnr_mean", "psnr_std", "ssim_mean", "ssim_std")


def shown_slice(images):
    """Index of the slice drawn in the figures: the one with the most signal."""
    return int(np.argmax([float(np.sum(x)) for x in images]))


def _label(name):
    if name.startswith("learned_"):
        return f"learned {name.split('_', 1)[1]}"
    if name == "greedy_cartesian":
        return "greedy cartesian"
    if name == FULL_REFERENCE:
        return "fully sampled (reference)"
    if name.startswith("sweep_"):
        return f"learned free, rate {float(name[6:]):.0%}"
    if name.startswith("regulariser_"):
        return f"learned free ({name[12:]})"
    for key, label in _BASELINE_LABELS.items():
        if name.startswith(key + "_"):
            return f"{label} {name[len(key) + 1 :]}"
    return name


def _row(name, record):
    pattern = "full" if name == FULL_REFERENCE else name.rpartition("_")[2]
    row = {
        "name": name,
        "method": _label(name),
        "sampling": pattern,
        "rate": record["rate"],
        "alpha": record["alpha"],
        "alpha_at_bound": record.get("alpha_at_bound"),
        "regulariser": record["regulariser"],
    }
    for split in ("train", "test"):
        for key in _METRIC_KEYS:
            row[f"{split}_{key}"] = record[split][key]
    row["conjugate_redundancy"] = record.get("conjugate_redundancy")
    row["lower_solves"] = record["lower_solves"]
    row["wall_time"] = record["wall_time"]
    return row


def build_mri_summary(cfg, plan, records):
    """Return the content of ``result.json`` (without ``figures`` and ``wall_time``).

    Parameters
    ----------
    cfg : dict
        The validated ``brain_mri`` configuration.
    plan : list of (name, kind, settings)
        The job's steps, in order.
    records : dict
        ``{name: record}`` of the finished steps.

    Returns
    -------
    dict
        ``kind``, ``data`` (sizes, noise, template slice indices), ``rate``,
        ``regulariser``, ``table`` (one row per pattern at ``rate``: method,
        sampling, rate, alpha, train/test PSNR and SSIM mean and std,
        ``conjugate_redundancy``: the share of samples whose conjugate
        frequency is sampled too, lower solves, wall time), ``learning``
        (stages and work of every learning run), ``greedy`` (greedy vs
        learned Cartesian; None without it), ``beta_sweep``,
        ``regulariser_comparison`` and ``steps`` (every record).
    """
    data_cfg, sampling = cfg["data"], cfg["sampling"]
    train_idx, test_idx = brain_split_indices(
        data_cfg["n_train"], data_cfg["n_test"], rng=data_cfg["seed"]
    )
    table_kinds = {"learn", "baseline", "greedy"}
    table = [
        _row(name, records[name])
        for name, kind, _ in plan
        if kind in table_kinds and not name.startswith(("sweep_", "regulariser_"))
    ]
    summary = {
        "kind": "brain_mri",
        "data": {
            "size": data_cfg["size"],
            "n_train": data_cfg["n_train"],
            "n_test": data_cfg["n_test"],
            "sigma": data_cfg["sigma"],
            "train_slices": list(train_idx),
            "test_slices": list(test_idx),
        },
        "rate": float(sampling["rate"]),
        "regulariser": sampling["regulariser"],
        "table": table,
        "learning": {
            name: {
                k: records[name][k]
                for k in (
                    "alpha",
                    "alpha_learning",
                    "beta1",
                    "objective",
                    "stages",
                    "status",
                    "message",
                    "work",
                    "lower_solves",
                    "wall_time",
                )
            }
            for name, kind, _ in plan
            if kind == "learn"
        },
        "greedy": None,
        "beta_sweep": [],
        "regulariser_comparison": None,
        "steps": {name: records[name] for name, _, _ in plan},
    }
    if "greedy_cartesian" in records and "learned_cartesian" in records:
        g, lc = records["greedy_cartesian"], records["learned_cartesian"]
        summary["greedy"] = {
            "greedy": {
                "lower_solves": g["pattern_lower_solves"],
                "wall_time": g["pattern_wall_time"],
                "lower_solves_with_alpha": g["lower_solves"],
                "candidates_per_step": g["candidates_per_step"],
                "test_psnr_mean": g["test"]["psnr_mean"],
                "test_ssim_mean": g["test"]["ssim_mean"],
            },
            "learned_cartesian": {
                "lower_solves": lc["lower_solves"],
                "wall_time": lc["wall_time"],
                "test_psnr_mean": lc["test"]["psnr_mean"],
                "test_ssim_mean": lc["test"]["ssim_mean"],
            },
            "full_greedy_lower_solves": _full_greedy_solves(cfg),
            "solve_ratio": g["pattern_lower_solves"] / max(lc["lower_solves"], 1),
            "time_ratio": g["pattern_wall_time"] / max(lc["wall_time"], 1e-12),
        }
    elif "learned_cartesian" in records:
        # greedy not run: its solve count is fixed by the algorithm (not its results)
        lc = records["learned_cartesian"]
        summary["greedy"] = {
            "greedy": None,
            "learned_cartesian": {
                "lower_solves": lc["lower_solves"],
                "wall_time": lc["wall_time"],
                "test_psnr_mean": lc["test"]["psnr_mean"],
                "test_ssim_mean": lc["test"]["ssim_mean"],
            },
            "full_greedy_lower_solves": _full_greedy_solves(cfg),
            "solve_ratio": None,
            "time_ratio": None,
        }
    sweep_names = [n for n, _, _ in plan if n.startswith("sweep_")]
    if sweep_names:
        entries = ["learned_free", *sweep_names]
        summary["beta_sweep"] = [_sweep_entry(n, records[n]) for n in entries]
    comparison = [n for n, _, _ in plan if n.startswith("regulariser_")]
    if comparison:
        a, b = records["learned_free"], records[comparison[0]]
        summary["regulariser_comparison"] = {
            "regularisers": [a["regulariser"], b["regulariser"]],
            "entries": [_sweep_entry("learned_free", a), _sweep_entry(comparison[0], b)],
        }
    return summary


def _full_greedy_solves(cfg):
    r"""Lower-level solves of the deterministic greedy method (every candidate line, every step).

    The DC line is evaluated once (``n`` solves); then step ``j`` (``j = 1,
    ..., k - 1`` lines chosen) tries the ``m - j`` remaining lines with ``n``
    solves each: :math:`n\,(1 + \sum_{j=1}^{k-1}(m - j))` for ``m`` lines and
    ``k = max(1, round(rate m))``, as counted by
    :func:`~odl_bilevel.problems.greedy_cartesian_pattern`.
    """
    m, n = cfg["data"]["size"], cfg["data"]["n_train"]
    k = max(1, round(cfg["sampling"]["rate"] * m))
    return n * (1 + sum(m - j for j in range(1, k)))


def _sweep_entry(name, record):
    entry = {
        "name": name,
        "regulariser": record["regulariser"],
        "rate": record["rate"],
        "beta1": record.get("beta1"),
        "alpha": record["alpha"],
        "lower_solves": record["lower_solves"],
        "wall_time": record["wall_time"],
    }
    for split in ("train", "test"):
        for key in _METRIC_KEYS:
            entry[f"{split}_{key}"] = record[split][key]
    return entry


def write_mri_figures(out, plan, records, arrays, test):
    """Write the PNG figures into ``out`` and return their file names.

    ``masks.png`` (every pattern of the table), ``reconstructions_free.png``
    and ``reconstructions_cartesian.png`` (masks, reconstructions of the drawn
    test slice, error maps), ``beta_sweep.png``, ``regularisers.png`` and
    ``learning_history.png`` (the β continuations), each when its steps ran.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from ..plotting import (
        plot_continuation,
        plot_patterns,
        plot_rate_sweep,
        plot_sampling_reconstructions,
    )

    table = [
        n
        for n, k, _ in plan
        if k in ("learn", "baseline", "greedy") and not n.startswith(("sweep_", "regulariser_"))
    ]
    paths = []

    def save(fig, filename):
        fig.savefig(out / filename, dpi=100)
        paths.append(filename)

    masks = {_label(n): arrays[n]["binary"] for n in table if n != FULL_REFERENCE}
    save(plot_patterns(masks, ncols=4), "masks.png")
    for pattern in ("free", "cartesian"):
        names = [n for n in table if n.endswith("_" + pattern)]
        if names:
            fig = plot_sampling_reconstructions(
                test[shown_slice(test)],
                {_label(n): arrays[n]["recon_test"] for n in names},
                patterns={_label(n): arrays[n]["binary"] for n in names},
            )
            save(fig, f"reconstructions_{pattern}.png")
    sweep = [n for n, _, _ in plan if n.startswith("sweep_")]
    if sweep:
        names = ["learned_free", *sweep]
        baselines = [n for n in table if n.endswith("_free") and n != "learned_free"]
        fig = plot_rate_sweep(
            [(records[n]["rate"], records[n]["test"]["psnr_mean"]) for n in names],
            labels=[f"β={records[n]['beta1']:.2g}" for n in names],
            patterns=[arrays[n]["binary"] for n in names],
            reference={
                _label(n): (records[n]["rate"], records[n]["test"]["psnr_mean"]) for n in baselines
            },
        )
        save(fig, "beta_sweep.png")
    comparison = [n for n, _, _ in plan if n.startswith("regulariser_")]
    if comparison:
        names = ["learned_free", comparison[0]]
        labels = [f"learned for {records[n]['regulariser']}" for n in names]
        fig = plot_sampling_reconstructions(
            test[shown_slice(test)],
            {lab: arrays[n]["recon_test"] for lab, n in zip(labels, names, strict=True)},
            patterns={lab: arrays[n]["binary"] for lab, n in zip(labels, names, strict=True)},
        )
        save(fig, "regularisers.png")
    learned = [n for n, k, _ in plan if k == "learn" and records[n]["stages"]]
    if learned:
        runs, targets, histories = {}, {}, {}
        for n in learned:
            stages = records[n]["stages"]
            label = _label(n)
            runs[label] = [(s["beta1"], s["support_rate"]) for s in stages]
            targets[label] = records[n]["rate"]
            solves = np.cumsum([s["lower_solves"] for s in stages])
            histories[label] = [
                (float(w), s["objective"]) for w, s in zip(solves, stages, strict=True)
            ]
        fig = plot_continuation(
            runs,
            targets=targets,
            histories=histories,
            objective_label="upper objective (loss + penalty), end of stage",
        )
        save(fig, "learning_history.png")
    return paths


def _share(value):
    return f"{'-':>10}" if value is None else f"{value:>10.1%}"


def format_mri_summary(summary):
    """Return the MRI job's table, greedy comparison, sweep and comparison as printable text."""
    lines = [
        f"MRI sampling at rate {summary['rate']:.1%}, {summary['regulariser']} regulariser, "
        f"{summary['data']['size']}^2, {summary['data']['n_train']} training / "
        f"{summary['data']['n_test']} test slices",
        f"{'method':<40}{'rate':>7}{'alpha':>10}{'train PSNR':>15}{'train SSIM':>15}"
        f"{'test PSNR':>15}{'test SSIM':>15}{'solves':>9}{'time':>9}{'±k pairs':>10}",
    ]
    for row in summary["table"]:
        lines.append(
            f"{row['method']:<40}{row['rate']:>7.1%}{row['alpha']:>10.3g}"
            f"{row['train_psnr_mean']:>9.2f}±{row['train_psnr_std']:<5.2f}"
            f"{row['train_ssim_mean']:>9.3f}±{row['train_ssim_std']:<5.3f}"
            f"{row['test_psnr_mean']:>9.2f}±{row['test_psnr_std']:<5.2f}"
            f"{row['test_ssim_mean']:>9.3f}±{row['test_ssim_std']:<5.3f}"
            f"{row['lower_solves']:>9d}{row['wall_time']:>8.1f}s"
            + _share(row.get("conjugate_redundancy"))
        )
    lines.append(
        "±k pairs: share of a pattern's samples whose conjugate frequency -k is sampled too "
        "(the images are real: a repeated coefficient)"
    )
    bounded = [
        f"{row['method']} ({row['alpha_at_bound']})"
        for row in summary["table"]
        if row.get("alpha_at_bound")
    ]
    if bounded:
        lines.append(
            "alpha on a bound of sampling.alpha_bounds (widen them to search further): "
            + ", ".join(bounded)
        )
    greedy = summary.get("greedy")
    if greedy and greedy["greedy"] is None:
        lc = greedy["learned_cartesian"]
        lines.append(
            f"learned Cartesian: {lc['lower_solves']} lower-level solves, "
            f"{lc['wall_time']:.1f} s; greedy over all candidates (not run) needs "
            f"{greedy['full_greedy_lower_solves']} solves"
        )
    elif greedy:
        g, lc = greedy["greedy"], greedy["learned_cartesian"]
        variant = (
            f"{g['candidates_per_step']} random candidates per step"
            if g["candidates_per_step"]
            else "all candidates"
        )
        lines.append(
            f"greedy Cartesian ({variant}): {g['lower_solves']} lower-level solves, "
            f"{g['wall_time']:.1f} s (all candidates: {greedy['full_greedy_lower_solves']} "
            f"solves); "
            f"learned Cartesian: {lc['lower_solves']} solves, {lc['wall_time']:.1f} s "
            f"(greedy/learned: {greedy['solve_ratio']:.2f}x solves, "
            f"{greedy['time_ratio']:.2f}x time)"
        )
    if summary.get("beta_sweep"):
        lines.append(
            "beta sweep (learned free): "
            + "; ".join(
                f"{e['rate']:.1%} (beta1={e['beta1']:.3g}) test PSNR {e['test_psnr_mean']:.2f} dB"
                for e in summary["beta_sweep"]
            )
        )
    comparison = summary.get("regulariser_comparison")
    if comparison:
        lines.append(
            "regulariser comparison (learned free): "
            + "; ".join(
                f"{e['regulariser']}: test PSNR {e['test_psnr_mean']:.2f} dB, "
                f"SSIM {e['test_ssim_mean']:.3f}"
                for e in comparison["entries"]
            )
        )
    return "\n".join(lines)
