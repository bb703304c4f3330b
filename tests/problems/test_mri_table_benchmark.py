"""Smoke test of benchmarks/mri_table.py on a tiny configuration (a few seconds)."""

import importlib.util
import json
import pathlib

import pytest

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "mri_table.py"

TINY = """
[data]
kind = "brain_mri"
size = 16
n_train = 1
n_test = 1
sigma = 0.05

[sampling]
patterns = ["free", "cartesian"]
rate = 0.25
max_stages = 1
max_iter = 2
refine = 0
alpha_max_evals = 4
alpha_xatol = 0.5
greedy = false
baselines = ["data_adapted", "variable_density", "variable_density_hermitian"]
cartesian_baselines = false
lower_max_iter = 200
cg_tol = 1e-2
"""


def _load():
    spec = importlib.util.spec_from_file_location("mri_table_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _agg(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def test_tiny_table_prints_margins_and_ceiling(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = tmp_path / "margins.json"
    code = _load().main(
        ["--config", str(config), "--sigma", "0.02", "--set", "sampling.alpha=0.02",
         "--quiet", "--json", str(out), "--draws", "3"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "fully sampled (reference)" in printed and "ceiling" in printed
    found = json.loads(out.read_text())
    assert found["data"]["sigma"] == 0.02
    targets = {t["baseline"]: t for t in found["targets"]}
    assert set(targets) == {
        "data_adapted_free",
        "variable_density_free",
        "variable_density_hermitian_free",
    }
    # the stricter baseline is measured against its plain version's margin, beside the targets
    stricter = targets["variable_density_hermitian_free"]
    assert not stricter["target"] and stricter["required"] == 3.0
    assert targets["variable_density_free"]["target"]
    assert "stricter baselines" in printed and "+-k pairs" in printed
    psnr = found["test_psnr"]
    for name, t in targets.items():
        assert t["margin"] == pytest.approx(psnr["learned_free"] - psnr[name])
        assert t["largest_possible"] == pytest.approx(psnr["fully_sampled"] - psnr[name])
        assert t["met"] == (t["margin"] >= t["required"])
    draws = found["draws"]["variable_density_free"]  # the job's draw and two more
    assert draws["seeds"] == [0, 1, 2] and len(draws["test_psnr"]) == 3
    assert draws["test_psnr"][0] == pytest.approx(psnr["variable_density_free"])
    assert len(set(draws["test_psnr"])) == 3
    assert draws["mean"] == pytest.approx(sum(draws["test_psnr"]) / 3)
    assert draws["margin"] == pytest.approx(psnr["learned_free"] - draws["mean"])
    assert "over 3 random draws" in printed
    assert len(found["draws"]["variable_density_hermitian_free"]["test_psnr"]) == 3
    assert not found["draws"]["variable_density_hermitian_free"]["target"]
    solves = found["cartesian_solves"]
    assert solves["learned"] > 0 and solves["greedy_all_candidates"] == 1 + 15 + 14 + 13


def test_to_toml_round_trips():
    import tomllib

    module = _load()
    config = {"data": {"kind": "brain_mri", "size": 8, "sigma": 0.1, "flag": True},
              "sampling": {"patterns": ["free"], "rate": 0.3}}
    assert tomllib.loads(module.to_toml(config)) == config
    with pytest.raises(TypeError, match="TOML"):
        module.to_toml({"a": {"b": None}})
