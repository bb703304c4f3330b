"""Configuration validation names the offending key."""

import io

import pytest

from odl_bilevel.cli import ConfigError, load_config, validate_config
from odl_bilevel.cli._progress import ProgressBar


def test_defaults_filled_in():
    cfg = validate_config({})
    assert cfg["lower"]["solver"] == "fista"
    assert cfg["upper"]["engine"] == "lbfgsb"
    assert cfg["problem"]["learn"] == ["alpha", "nu", "xi"]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"lower": {"tol": -1.0}}, "lower.tol"),
        ({"lower": {"tol": "small"}}, "lower.tol"),
        ({"lower": {"max_iter": 1.5}}, "lower.max_iter"),
        ({"lower": {"tolerance": 1e-3}}, "lower.tolerance"),
        ({"lowr": {"tol": 1e-3}}, "lowr"),
        ({"data": {"kind": "mri"}}, "data.kind"),
        ({"data": {"sigma": float("nan")}}, "data.sigma"),
        ({"data": {"n_train": True}}, "data.n_train"),
        ({"problem": {"init": {"alpha": -1}}}, "problem.init.alpha"),
        ({"hypergradient": {"cg_tol": 2.0}}, "hypergradient.cg_tol"),
        ({"upper": {"engine": "adam"}}, "upper.engine"),
        ({"problem": {"bounds": {"alpha": [1.0, 0.5]}}}, "problem.bounds.alpha"),
        ({"problem": {"bounds": {"alpha": 3}}}, "problem.bounds.alpha"),
    ],
)
def test_bad_config_names_key(raw, key):
    with pytest.raises(ConfigError, match=f"`{key}"):
        validate_config(raw)


def test_load_config_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[lower]\ntol = 1e-3\n[problem]\nlearn = ["alpha"]\n')
    cfg = load_config(path)
    assert cfg["lower"]["tol"] == 1e-3 and cfg["problem"]["learn"] == ["alpha"]
    path.write_text("[lower\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_example_configs_are_valid():
    import pathlib

    configs = sorted(
        (pathlib.Path(__file__).resolve().parents[2] / "examples" / "configs").glob("*.toml")
    )
    assert configs
    for path in configs:
        load_config(path)


def test_progress_bar_non_tty():
    buf = io.StringIO()
    bar = ProgressBar(3, label="x", stream=buf, width=6)
    for k in range(1, 4):
        bar.update(k, f"step {k}")
    bar.close()
    lines = buf.getvalue().splitlines()
    assert len(lines) == 3 and "3/3" in lines[-1] and "######" in lines[-1]
