"""The command line runs a small job end to end, resumes, and rejects bad configs."""

import json

import pytest

from odl_bilevel.cli import main

TINY = """
[data]
kind = "signals_1d"
n_train = 2
n_test = 2
length = 48
sigma = 0.1
seed = 3

[problem]
regulariser = "tv_tikhonov"
learn = ["alpha", "nu"]
init = {{ alpha = 0.1, nu = 0.1, xi = 0.01 }}

[lower]
tol = 1e-6

[upper]
max_iter = {max_iter}

[output]
figures = {figures}
"""


def _write(tmp_path, max_iter=4, figures="false"):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(max_iter=max_iter, figures=figures))
    return path


@pytest.fixture(autouse=True)
def _agg(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")


def test_learn_writes_result(tmp_path, capsys):
    out = tmp_path / "run"
    config = _write(tmp_path, figures="true")
    assert main(["learn", str(config), "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert set(result["learned_parameters"]) == {"alpha", "nu", "xi"}
    assert result["learned_parameters"]["xi"] == pytest.approx(0.01)  # fixed
    work = result["work"]
    for key in ("lower_solves", "lower_iterations", "hessian_products", "cg_iterations"):
        assert work[key] > 0
    hist = result["history"]
    assert hist[0]["iteration"] == 0 and hist[-1]["objective"] <= hist[0]["objective"]
    train = result["metrics"]["train"]
    assert train["learned"]["psnr_mean"] > train["noisy"]["psnr_mean"]
    assert set(result["metrics"]["test"]["learned"]) >= {"psnr_mean", "ssim_mean"}
    for name in result["figures"]:
        assert (out / name).stat().st_size > 1000
    assert (out / "checkpoint").is_dir()
    assert "wrote" in capsys.readouterr().out


def test_resume_continues_interrupted_run(tmp_path):
    cfg_short, out = _write(tmp_path, max_iter=2), tmp_path / "run"
    assert main(["learn", str(cfg_short), "--out", str(out), "--quiet"]) == 0
    first = json.loads((out / "result.json").read_text())
    cfg_long = _write(tmp_path, max_iter=6)
    assert main(["learn", str(cfg_long), "--out", str(out), "--quiet", "--resume"]) == 0
    resumed = json.loads((out / "result.json").read_text())
    assert len(resumed["history"]) >= len(first["history"])
    assert resumed["history"][: len(first["history"])] == first["history"]
    # the resumed run continues the numbering and improves on the interrupted one
    iterations = [h["iteration"] for h in resumed["history"]]
    assert iterations == list(range(len(iterations)))
    assert iterations[-1] > first["history"][-1]["iteration"] or resumed["status"] == "CONVERGED"
    assert resumed["objective"] <= first["objective"] * (1 + 1e-12)
    assert resumed["work"]["lower_solves"] > first["work"]["lower_solves"]


def test_bad_config_exit_code_names_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[lower]\ntol = -1\n")
    assert main(["learn", str(path), "--out", str(tmp_path / "x")]) == 2
    assert "`lower.tol`" in capsys.readouterr().err


def test_resume_without_checkpoint_is_an_error(tmp_path, capsys):
    code = main(["learn", str(_write(tmp_path)), "--out", str(tmp_path / "none"), "--resume"])
    assert code == 2
    assert "checkpoint" in capsys.readouterr().err


def test_dfo_engine_from_config(tmp_path):
    body = TINY.format(max_iter=30, figures="false")
    body = body.replace("max_iter = 30\n", 'max_iter = 30\nengine = "dfo"\nmax_evals = 25\n')
    path = tmp_path / "dfo.toml"
    path.write_text(body)
    out = tmp_path / "run"
    assert main(["learn", str(path), "--out", str(out), "--quiet"]) == 0
    result = json.loads((out / "result.json").read_text())
    assert result["engine"] == "dfo"
    assert result["history"][-1]["objective"] <= result["history"][0]["objective"]
    assert result["work"]["hessian_products"] == 0  # derivative-free: no Hessian products
