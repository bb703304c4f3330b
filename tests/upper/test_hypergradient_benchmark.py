"""Smoke test of benchmarks/hypergradient.py: both tables print and warm starts save work."""

import importlib.util
import pathlib

import pytest

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "hypergradient.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("hypergradient_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prints_both_tables(bench, capsys):
    bench.main(["--size", "16", "--samples", "1", "--repeats", "1", "--iterations", "2"])
    out = capsys.readouterr().out
    assert "Table 1 at theta_0" in out and "Table 1 at theta_2" in out and "Table 2" in out
    assert "hypergradient, warm w0" in out and "lower_iterations" in out


def test_warm_starts_save_lower_iterations(bench):
    runs = bench.warm_start_table(lambda: bench.build_problem(16, 2, rng=1), 3, 1)
    warm, cold = runs["warm starts"], runs["no warm starts"]
    assert warm["work"]["lower_solves"] == cold["work"]["lower_solves"]
    assert warm["work"]["lower_iterations"] < cold["work"]["lower_iterations"]
    assert warm["objective"] == pytest.approx(cold["objective"], rel=1e-4)


def test_bad_sizes_are_rejected(bench):
    with pytest.raises(SystemExit):
        bench.main(["--samples", "0"])
