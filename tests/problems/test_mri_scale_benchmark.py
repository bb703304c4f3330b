"""Smoke test of benchmarks/mri_scale.py on a tiny size (about a second)."""

import importlib.util
import json
import pathlib

BENCHMARK = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "mri_scale.py"


def _load():
    spec = importlib.util.spec_from_file_location("mri_scale_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_size_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "scale.json"
    _load().main(["--sizes", "16", "--iterations", "1", "--in-process", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "16" in printed
    (row,) = json.loads(out.read_text())["rows"]
    assert row["size"] == 16 and row["slices"] == 2
    assert row["wall_seconds"] >= 0 and row["peak_rss_mib"] > 0
    assert row["work"]["lower_solves"] > 0 and row["work"]["lower_iterations"] > 0
