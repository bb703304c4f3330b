"""The MRI sampling job runs end to end on a tiny configuration, resumes, and prints its table."""

import json

import numpy as np
import pytest

from odl_bilevel.cli import main
from odl_bilevel.cli._mri_report import format_mri_summary

SIZE = 16
RATE = 0.25

TINY = f"""
[data]
kind = "brain_mri"
size = {SIZE}
n_train = 1
n_test = 1
sigma = 0.05
seed = 1

[sampling]
rate = {RATE}
alpha = 1e-2
max_stages = 2
max_iter = 3
refine = 0
alpha_max_evals = 5
alpha_xatol = 0.3
greedy_candidates = 2
beta_sweep = [0.15]
compare_regulariser = "h1"
lower_max_iter = 300
cg_tol = 1e-2
variable_density_trials = 3
"""

ROW_KEYS = {
    "method",
    "sampling",
    "rate",
    "alpha",
    "lower_solves",
    "wall_time",
    "conjugate_redundancy",
    *(
        f"{split}_{m}_{s}"
        for split in ("train", "test")
        for m in ("psnr", "ssim")
        for s in ("mean", "std")
    ),
}


def _expected_rate(sampling, rate=RATE):
    if sampling == "full":
        return 1.0
    m = SIZE if sampling == "cartesian" else SIZE * SIZE
    return max(1, round(rate * m)) / m


def _lean(extra):
    """TINY without greedy, sweep and regulariser comparison; ``extra`` opens [sampling]."""
    return (
        TINY.replace("greedy_candidates = 2", "greedy = false")
        .replace("beta_sweep = [0.15]", "beta_sweep = []")
        .replace('compare_regulariser = "h1"', "")
        .replace("[sampling]", "[sampling]\n" + extra)
    )


@pytest.fixture(autouse=True)
def _agg(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("mri")
    config = root / "tiny.toml"
    config.write_text(TINY)
    out = root / "run"
    code = main(["learn", str(config), "--out", str(out), "--quiet"])
    return code, config, out


def test_mri_job_writes_the_table(tiny_run, capsys):
    code, _, out = tiny_run
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert result["kind"] == "brain_mri" and result["rate"] == RATE
    assert result["data"]["size"] == SIZE and len(result["data"]["test_slices"]) == 1
    table = result["table"]
    names = [row["name"] for row in table]
    assert names == [
        "learned_free",
        "learned_cartesian",
        "data_adapted_free",
        "data_adapted_cartesian",
        "variable_density_free",
        "variable_density_cartesian",
        "uniform_random_free",
        "uniform_random_cartesian",
        "fully_sampled",
        "greedy_cartesian",
    ]
    patterns = np.load(out / "patterns.npz")
    for row in table:
        assert ROW_KEYS <= set(row), row["name"]
        assert row["rate"] == pytest.approx(_expected_rate(row["sampling"])), row["name"]
        assert 0 < row["alpha"] and np.isfinite(row["test_psnr_mean"])
        bound = {"lower": 1e-5, "upper": 1.0}.get(row["alpha_at_bound"])
        assert row["alpha_at_bound"] is None or row["alpha"] == pytest.approx(bound, rel=0.5)
        assert 0 < row["test_ssim_mean"] <= 1 and row["train_psnr_std"] >= 0
        mask = patterns[row["name"]]
        assert mask.shape == (SIZE, SIZE) and set(np.unique(mask)) <= {0.0, 1.0}
        if row["sampling"] == "cartesian":  # one weight per line along axis 0
            assert np.all(mask == mask[:, :1])
    reference = table[names.index("fully_sampled")]
    assert reference["method"] == "fully sampled (reference)" and reference["sampling"] == "full"
    assert np.all(patterns["fully_sampled"] == 1.0)
    # variable density: the least interfering of variable_density_trials draws, sampling.seed 0
    from odl_bilevel.problems import variable_density_pattern

    for cartesian in (False, True):
        expected = variable_density_pattern(
            (SIZE, SIZE), RATE, cartesian=cartesian, trials=3, rng=0
        )
        name = "variable_density_" + ("cartesian" if cartesian else "free")
        np.testing.assert_array_equal(patterns[name], expected)
        plain = variable_density_pattern((SIZE, SIZE), RATE, cartesian=cartesian, rng=0)
        assert not np.array_equal(expected, plain)  # the option reached the pattern
    solves = {row["name"]: row["lower_solves"] for row in table}
    assert solves["learned_free"] > 0 and solves["data_adapted_free"] > 0  # the alpha search
    greedy = result["greedy"]
    assert greedy["greedy"]["lower_solves"] > 0 and greedy["learned_cartesian"]["lower_solves"] > 0
    assert greedy["solve_ratio"] == pytest.approx(
        greedy["greedy"]["lower_solves"] / greedy["learned_cartesian"]["lower_solves"]
    )
    sweep = result["beta_sweep"]
    assert [e["rate"] for e in sweep] == pytest.approx(
        [_expected_rate("free"), _expected_rate("free", 0.15)]
    )
    assert all(e["beta1"] > 0 for e in sweep)
    comparison = result["regulariser_comparison"]
    assert comparison["regularisers"] == ["tv", "h1"]
    assert [e["regulariser"] for e in comparison["entries"]] == ["tv", "h1"]
    learning = result["learning"]["learned_free"]
    assert learning["stages"] and learning["work"]["lower_solves"] > 0
    assert set(result["figures"]) == {
        "masks.png",
        "reconstructions_free.png",
        "reconstructions_cartesian.png",
        "beta_sweep.png",
        "regularisers.png",
        "learning_history.png",
    }
    for name in result["figures"]:
        assert (out / name).stat().st_size > 1000
    assert (out / "config.json").exists() and (out / "checkpoint" / "steps").is_dir()


def test_mri_job_resume_reads_finished_steps(tiny_run, capsys):
    code, config, out = tiny_run
    assert code == 0
    first = json.loads((out / "result.json").read_text())
    # as if interrupted before the end: a learning step and a baseline are not stored yet
    steps = out / "checkpoint" / "steps"
    for name in ("learned_cartesian", "uniform_random_free"):
        for suffix in (".json", ".npz"):
            (steps / (name + suffix)).unlink()
    capsys.readouterr()
    assert main(["learn", str(config), "--out", str(out), "--resume"]) == 0
    captured = capsys.readouterr()
    resumed = json.loads((out / "result.json").read_text())

    def strip(rows):
        return [{k: v for k, v in row.items() if k != "wall_time"} for row in rows]

    # the learning run is returned by its own checkpoint, the baseline recomputed (seeded)
    assert strip(resumed["table"]) == strip(first["table"])
    assert (steps / "learned_cartesian.json").exists()
    assert resumed["wall_time"]["total"] < first["wall_time"]["total"]
    assert "learned free" in captured.out and "greedy" in captured.out
    assert "wrote" in captured.out
    assert "13/13" in captured.err  # 12 steps + the figures: the progress bar ends full


def test_mri_job_bad_config_exit_code(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[data]\nkind = "brain_mri"\n[sampling]\nrate = 1.5\n')
    assert main(["learn", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "`sampling.rate`" in capsys.readouterr().err


def test_mri_job_without_greedy_reports_its_solve_count(tmp_path, capsys):
    config = tmp_path / "nogreedy.toml"
    config.write_text(_lean('baselines = ["data_adapted"]\ncartesian_baselines = false'))
    assert main(["learn", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    greedy = json.loads((tmp_path / "run" / "result.json").read_text())["greedy"]
    assert greedy["greedy"] is None and greedy["solve_ratio"] is None
    k = max(1, round(RATE * SIZE))  # lines; n_train = 1: the DC line, then m - j per step
    assert greedy["full_greedy_lower_solves"] == 1 + sum(SIZE - j for j in range(1, k))
    assert "not run" in capsys.readouterr().out


def test_score_baseline_reproduces_the_jobs_steps(tiny_run):
    from odl_bilevel.cli import build_mri_data, load_config, score_baseline

    code, config, out = tiny_run
    assert code == 0
    rows = {row["name"]: row for row in json.loads((out / "result.json").read_text())["table"]}
    cfg = load_config(config)
    data = build_mri_data(cfg)
    for name, baseline, cartesian in [
        ("variable_density_free", "variable_density", False),
        ("data_adapted_cartesian", "data_adapted", True),
        ("fully_sampled", "full", False),
    ]:
        record = score_baseline(cfg, baseline, cartesian=cartesian, data=data)
        assert record["alpha"] == pytest.approx(rows[name]["alpha"]), name
        assert record["rate"] == pytest.approx(rows[name]["rate"]), name
        assert record["test"]["psnr_mean"] == pytest.approx(rows[name]["test_psnr_mean"]), name
    # another seed is another draw of the same density: same rate, other samples
    other = score_baseline(cfg, "variable_density", seed=cfg["sampling"]["seed"] + 1, data=data)
    job = rows["variable_density_free"]
    assert other["rate"] == pytest.approx(job["rate"])
    assert other["test"]["psnr_mean"] != pytest.approx(job["test_psnr_mean"])


def test_score_baseline_rejects_bad_arguments(tiny_run):
    from odl_bilevel.cli import load_config, score_baseline

    cfg = load_config(tiny_run[1])
    with pytest.raises(ValueError, match="`baseline`"):
        score_baseline(cfg, "learned")
    with pytest.raises(ValueError, match="`cfg`"):
        score_baseline({"data": {"kind": "denoising"}}, "full")


def test_mri_summary_names_the_alphas_on_a_bound(tiny_run):
    _, _, out = tiny_run
    summary = json.loads((out / "result.json").read_text())
    for row in summary["table"]:
        row["alpha_at_bound"] = None
    assert "alpha on a bound" not in format_mri_summary(summary)
    summary["table"][2]["alpha_at_bound"] = "lower"
    line = next(
        line for line in format_mri_summary(summary).splitlines() if "alpha on a bound" in line
    )
    assert line.endswith(f"{summary['table'][2]['method']} (lower)")


def test_mri_job_hermitian_baselines(tmp_path, capsys):
    """``*_hermitian`` baselines: one sample per conjugate pair, labelled, scored alike."""
    from odl_bilevel.cli import build_mri_data, load_config, score_baseline
    from odl_bilevel.problems import data_adapted_pattern, variable_density_pattern

    config = tmp_path / "hermitian.toml"
    config.write_text(
        _lean(
            'patterns = ["free"]\nfull_reference = false\n'
            'baselines = ["data_adapted", "data_adapted_hermitian", "variable_density_hermitian"]'
        ).replace("variable_density_trials = 3", "")
    )
    assert main(["learn", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    rows = {row["name"]: row for row in result["table"]}
    assert list(rows) == [
        "learned_free",
        "data_adapted_free",
        "data_adapted_hermitian_free",
        "variable_density_hermitian_free",
    ]
    assert rows["data_adapted_hermitian_free"]["method"] == "data-adapted (hermitian) free"
    assert rows["variable_density_hermitian_free"]["method"] == "variable density (hermitian) free"
    patterns = np.load(tmp_path / "run" / "patterns.npz")
    cfg = load_config(config)
    data = build_mri_data(cfg)
    np.testing.assert_array_equal(
        patterns["data_adapted_hermitian_free"],
        data_adapted_pattern(data[0], RATE, hermitian=True),
    )
    np.testing.assert_array_equal(
        patterns["variable_density_hermitian_free"],
        variable_density_pattern((SIZE, SIZE), RATE, hermitian=True, rng=0),
    )
    for name in ("data_adapted_hermitian_free", "variable_density_hermitian_free"):
        assert rows[name]["conjugate_redundancy"] == 0.0
        assert rows[name]["rate"] == pytest.approx(_expected_rate("free"))
    assert rows["data_adapted_free"]["conjugate_redundancy"] > 0.9  # the plain one: pairs
    assert "variable density (hermitian) free" in capsys.readouterr().out
    record = score_baseline(cfg, "variable_density_hermitian", data=data)
    assert record["test"]["psnr_mean"] == pytest.approx(
        rows["variable_density_hermitian_free"]["test_psnr_mean"]
    )


def test_auto_lower_tol_follows_the_noise_level():
    from odl_bilevel.cli._mri_plan import _resolved_sampling

    def cfg(sigma, size, tol="auto"):
        return {"data": {"sigma": sigma, "size": size}, "sampling": {"lower_tol": tol}}

    # RMS min(1e-3, sigma / 30) per pixel, times sqrt(size^2)
    assert _resolved_sampling(cfg(0.003, 256))["lower_tol"] == pytest.approx(1e-4 * 256)
    assert _resolved_sampling(cfg(0.03, 64))["lower_tol"] == pytest.approx(1e-3 * 64)
    assert _resolved_sampling(cfg(0.3, 64))["lower_tol"] == pytest.approx(1e-3 * 64)
    assert _resolved_sampling(cfg(0.003, 256, 0.5))["lower_tol"] == 0.5  # explicit: kept
