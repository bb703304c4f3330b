"""Smoke test of benchmarks/lower_preconditioner.py on a tiny size (a few seconds)."""

import importlib.util
import pathlib

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "lower_preconditioner.py"


def _load():
    spec = importlib.util.spec_from_file_location("lower_preconditioner_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_size_prints_both_tables(capsys):
    argv = ["--size", "32", "--slices", "1", "--densities", "0.3", "--stages", "1", "--iters", "2"]
    _load().main(argv)
    printed = capsys.readouterr().out
    assert "32x32, 1 slices" in printed and "0.30" in printed
    assert "plain" in printed and "preconditioned" in printed and "ratio plain" in printed
