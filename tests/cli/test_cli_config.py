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


MRI = {"data": {"kind": "brain_mri", "size": 32, "n_train": 2, "n_test": 1}}


def _mri(**sampling):
    raw = {"data": dict(MRI["data"])}
    if sampling:
        raw["sampling"] = sampling
    return raw


def test_brain_mri_defaults_and_sections():
    cfg = validate_config(_mri())
    assert set(cfg) == {"data", "output", "sampling"}  # the denoising sections are not read
    s = cfg["sampling"]
    assert s["patterns"] == ["free", "cartesian"] and s["rate"] == 0.3
    assert s["baselines"] == ["data_adapted", "variable_density", "uniform_random"]
    assert s["beta"] == "auto" and s["regulariser"] == "tv" and s["greedy"]
    assert "sampling" not in validate_config({})  # nor [sampling] by the denoising job
    cfg = validate_config(
        _mri(patterns=["free"], beta=0.5, beta_sweep=[0.1, 0.2], compare_regulariser="h1",
             alpha_bounds=[1e-4, 0.1], alpha=1e-3, baselines=["uniform_random"])
    )
    assert cfg["sampling"]["beta"] == 0.5 and cfg["sampling"]["beta_sweep"] == [0.1, 0.2]
    assert cfg["sampling"]["patterns"] == ["free"]  # greedy (default on) is then skipped


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"sampling": {"rate": 0.2}}, "sampling"),  # not read by the denoising job
        ({**_mri(), "upper": {"max_iter": 3}}, "upper"),  # not read by the MRI job
        ({**_mri(), "lower": {"tol": 1e-3}}, "lower"),
        ({"data": {**MRI["data"], "images": ["camera"]}}, "data.images"),
        ({"data": {**MRI["data"], "size": 8}}, "data.size"),
        ({"data": {**MRI["data"], "n_train": 20, "n_test": 5}}, "data.n_train"),
        ({"data": {**MRI["data"], "n_test": 0}}, "data.n_test"),
        ({"data": {**MRI["data"], "kind": "brain"}}, "data.kind"),
        (_mri(rate=0.0), "sampling.rate"),
        (_mri(rate=1.0), "sampling.rate"),
        (_mri(rate="30%"), "sampling.rate"),
        (_mri(patterns=["free", "radial"]), "sampling.patterns"),
        (_mri(patterns=["free", "free"]), "sampling.patterns"),
        (_mri(patterns=[]), "sampling.patterns"),
        (_mri(regulariser="tgv"), "sampling.regulariser"),
        (_mri(alpha=-1.0), "sampling.alpha"),
        (_mri(alpha=2.0), "sampling.alpha"),  # outside alpha_bounds
        (_mri(alpha_bounds=[0.1, 0.01]), "sampling.alpha_bounds"),
        (_mri(alpha_bounds=[1e-3]), "sampling.alpha_bounds"),
        (_mri(beta="large"), "sampling.beta"),
        (_mri(beta=0.0), "sampling.beta"),
        (_mri(beta_factor=1.0), "sampling.beta_factor"),
        (_mri(beta2=-1.0), "sampling.beta2"),
        (_mri(max_stages=0), "sampling.max_stages"),
        (_mri(baselines=["random"]), "sampling.baselines"),
        (_mri(beta_sweep=[0.1, 1.5]), "sampling.beta_sweep"),
        (_mri(beta_sweep=[0.1, 0.1]), "sampling.beta_sweep"),
        (_mri(beta_sweep=[0.1, 0.3]), "sampling.beta_sweep"),  # not below sampling.rate
        (_mri(beta_sweep=[0.1], patterns=["cartesian"]), "sampling.beta_sweep"),
        (_mri(compare_regulariser="tv"), "sampling.compare_regulariser"),
        (_mri(compare_regulariser="tgv"), "sampling.compare_regulariser"),
        (_mri(greedy=True, patterns=["free"]), "sampling.greedy"),
        (_mri(greedy="yes"), "sampling.greedy"),
        (_mri(greedy_candidates=-1), "sampling.greedy_candidates"),
        (_mri(lower_tol=0.0), "sampling.lower_tol"),
        (_mri(cg_tol=1.0), "sampling.cg_tol"),
        (_mri(workers=0), "sampling.workers"),
        (_mri(lower_tolerance=1e-3), "sampling.lower_tolerance"),
    ],
)
def test_bad_mri_config_names_key(raw, key):
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
