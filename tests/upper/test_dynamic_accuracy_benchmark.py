"""Smoke test of benchmarks/dynamic_accuracy.py on its smallest setting (a few seconds)."""

import importlib.util
import json
import pathlib

import pytest

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "dynamic_accuracy.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("dynamic_accuracy_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smallest_setting_prints_table_figure_and_json(bench, tmp_path, capsys):
    json_path, figure_path = tmp_path / "out.json", tmp_path / "fig.png"
    bench.main(
        [
            "--quick",
            "--problems",
            "denoising_1d",
            "--samples",
            "1",
            "--max-evals",
            "12",
            "--methods",
            "fista-dynamic",
            "fista-fixed200",
            "fista-fixed2000",
            "--json",
            str(json_path),
            "--figure",
            str(figure_path),
        ]
    )
    out = capsys.readouterr().out
    assert "work to 1%" in out and "FISTA fixed 2000" in out and "target, denoising_1d" in out
    assert figure_path.stat().st_size > 0
    data = json.loads(json_path.read_text())
    problem = data["problems"]["denoising_1d"]
    assert set(problem["methods"]) == {"fista-dynamic", "fista-fixed200", "fista-fixed2000"}
    best = problem["best_objective"]
    for run in problem["methods"].values():
        assert run["evaluations"] == len(run["work"]) == len(run["objective"]) <= 12
        assert run["work"] == sorted(run["work"])  # cumulative
        assert run["final_objective_accurate"] >= best
        if run["work_to_1pct"] is not None:
            assert run["work_to_1pct"] in run["work"]
    fixed = problem["methods"]["fista-fixed2000"]
    assert fixed["total_work"] == 2000 * fixed["evaluations"]  # one sample, 2000 per evaluation


def test_work_to_target_needs_a_certified_or_verified_value(bench):
    run = {
        "objective": [2.0, 0.9, 1.0],
        "error_bound": [0.0, 0.5, 0.0],
        "work": [10, 20, 30],
        "phi": [[0.0], [1.0], [2.0]],
    }
    # evaluation 1 looks good but its bound is loose and its accurate value is not
    work, index, how = bench._work_to_target(run, 1.0, lambda phi: (1.2, 0.0))
    assert (work, index, how) == (30, 2, "certified")
    work, index, how = bench._work_to_target(run, 1.0, lambda phi: (0.95, 0.01))
    assert (work, index, how) == (20, 1, "re-evaluated")
    assert bench._work_to_target(run, 0.5, lambda phi: (0.95, 0.0))[2] == "not reached"


def test_bad_sizes_are_rejected(bench):
    with pytest.raises(SystemExit):
        bench.main(["--samples", "0"])
    with pytest.raises(SystemExit):
        bench.main(["--problems", "mri_2d"])


@pytest.mark.parametrize("name", ["denoising_2d", "mri_1d"])
def test_other_problems_build_and_evaluate(bench, name):
    settings = bench.settings_for(name, quick=True, samples=1)
    settings["size"] = 8 if name == "mri_1d" else 16
    problem, phi0 = bench.build(name, settings, "gradient_descent")
    assert problem.solver == "gradient_descent"
    assert problem.objective(phi0, tol=1e-3).value > 0
    if name == "mri_1d":
        assert problem.parameter_map.size == 8  # one weight per k-space sample, alpha fixed
        assert problem.parameter_map.bounds[0] == pytest.approx((settings["weight_min"], 1.0))
