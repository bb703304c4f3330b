"""Checkpoints: round trip, fingerprint and version checks, atomic and crash-safe writes."""

import hashlib
import json
import os

import numpy as np
import pytest
from upper_fakes import make_fake

import odl_bilevel.upper._checkpoint as checkpoint_module
from odl_bilevel.upper import (
    CHECKPOINT_VERSION,
    IterationRecord,
    checkpoint_exists,
    load_checkpoint,
    problem_fingerprint,
    save_checkpoint,
)


def _record(k):
    return IterationRecord(
        iteration=k,
        phi=[0.1 * k, -1.0],
        theta=[np.exp(0.1 * k), 0.5],
        objective=1.0 / (k + 1),
        gradient_norm=0.5,
        error_bound=np.inf,
        lower_tol=1e-6,
        work={"lower_iterations": 10 * k, "wall_time": 0.1},
        wall_time=0.2 * k,
    )


def _state(rng):
    return {
        "warm_starts": [rng.standard_normal((4, 3)), None, rng.standard_normal(5)],
        "adjoints": [[rng.standard_normal(2)]],
        "ledger": {"lower_iterations": 7},
        "flag": True,
        "name": "x",
        "count": np.int64(3),
        "scale": np.float64(0.25),
    }


def _save(path, rng, *, n=3, fingerprint=None, state=None):
    return save_checkpoint(
        path,
        engine="lbfgsb",
        phi=[0.3, -1 / 3],
        history=[_record(k) for k in range(n)],
        problem_state=_state(rng) if state is None else state,
        extra={"status": "running", "radius": np.array([1.5])},
        fingerprint=fingerprint,
    )


def _tmp_files(path):
    return [p.name for p in path.iterdir() if p.name.endswith(".tmp")]


def test_round_trip(tmp_path, rng):
    state = _state(rng)
    written = _save(tmp_path / "ck", np.random.default_rng(1), state=state)
    assert written.name == "checkpoint.json" and checkpoint_exists(tmp_path / "ck")
    data = load_checkpoint(tmp_path / "ck", engine="lbfgsb")
    assert data["engine"] == "lbfgsb" and data["version"] == CHECKPOINT_VERSION
    assert data["phi"].tolist() == [0.3, -1 / 3]  # exact
    assert data["history"] == tuple(_record(k) for k in range(3))
    got = data["problem_state"]
    for a, b in zip(got["warm_starts"], state["warm_starts"], strict=True):
        assert (a is None and b is None) or (np.array_equal(a, b) and a.shape == b.shape)
    assert np.array_equal(got["adjoints"][0][0], state["adjoints"][0][0])
    assert got["ledger"] == {"lower_iterations": 7}
    assert (got["flag"], got["name"], got["count"], got["scale"]) == (True, "x", 3, 0.25)
    assert data["extra"]["status"] == "running"
    assert data["extra"]["radius"].tolist() == [1.5]
    assert data["history"][0].error_bound == np.inf


def test_vectors_go_to_the_array_file_and_version_1_still_loads(tmp_path, rng):
    _save(tmp_path, rng)
    path = tmp_path / "checkpoint.json"
    doc = json.loads(path.read_text())
    # no vector is written as a JSON list: phi and the history's phi and theta are arrays
    assert set(doc["phi"]) == {"__array__"}
    assert all(set(r["phi"]) == set(r["theta"]) == {"__array__"} for r in doc["history"])
    # a version-1 checkpoint (vectors as JSON lists) reads the same
    old = {
        **doc,
        "version": 1,
        "phi": [0.3, -1 / 3],
        "history": [_record(k).as_dict() for k in range(3)],
    }
    path.write_text(json.dumps(old))
    data = load_checkpoint(tmp_path)
    assert data["version"] == 1 and data["phi"].tolist() == [0.3, -1 / 3]
    assert data["history"] == tuple(_record(k) for k in range(3))


def test_one_array_file_after_repeated_saves(tmp_path, rng):
    for n in range(1, 5):
        _save(tmp_path, rng, n=n)
    assert len(list(tmp_path.glob("arrays-*.npz"))) == 1
    assert _tmp_files(tmp_path) == []
    assert len(load_checkpoint(tmp_path)["history"]) == 4


def test_fingerprint_mismatch_names_checkpoint(tmp_path, rng):
    fp = problem_fingerprint(make_fake(rng))
    assert fp == {
        "parameter_names": hashlib.sha256(b"xi").hexdigest(),
        "parameter_size": 1,
        "n_samples": 3,
        "domain_shape": [20],
    }
    _save(tmp_path, rng, fingerprint=fp)
    assert load_checkpoint(tmp_path, fingerprint=dict(fp))["fingerprint"] == fp
    other = problem_fingerprint(make_fake(rng, n_samples=4))
    with pytest.raises(ValueError, match="`checkpoint`.*another problem"):
        load_checkpoint(tmp_path, fingerprint=other)
    with pytest.raises(ValueError, match="`checkpoint`.*engine"):
        load_checkpoint(tmp_path, engine="dfo")
    # version 1 stored the list of names: still recognised as the same problem
    path = tmp_path / "checkpoint.json"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "fingerprint": {**fp, "parameter_names": ["xi"]}}))
    assert load_checkpoint(tmp_path, fingerprint=fp)["engine"] == "lbfgsb"
    path.write_text(json.dumps({**doc, "fingerprint": {**fp, "parameter_names": ["nu"]}}))
    with pytest.raises(ValueError, match="`checkpoint`.*another problem"):
        load_checkpoint(tmp_path, fingerprint=fp)


def test_version_and_damage_are_reported(tmp_path, rng):
    with pytest.raises(FileNotFoundError, match="checkpoint"):
        load_checkpoint(tmp_path)
    _save(tmp_path, rng)
    path = tmp_path / "checkpoint.json"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "version": CHECKPOINT_VERSION + 1}))
    with pytest.raises(ValueError, match="checkpoint.*version"):
        load_checkpoint(tmp_path)
    path.write_text(json.dumps({**doc, "format": "something else"}))
    with pytest.raises(ValueError, match="checkpoint"):
        load_checkpoint(tmp_path)
    path.write_text(json.dumps(doc)[:-20])
    with pytest.raises(ValueError, match="checkpoint.*JSON"):
        load_checkpoint(tmp_path)
    path.write_text(json.dumps({**doc, "arrays": "arrays-missing.npz"}))
    with pytest.raises(ValueError, match="checkpoint.*missing"):
        load_checkpoint(tmp_path)


def test_failed_commit_keeps_previous_checkpoint(tmp_path, rng, monkeypatch):
    """A crash between writing the arrays and replacing the JSON leaves the old checkpoint."""
    _save(tmp_path, rng, n=2)
    before = load_checkpoint(tmp_path)
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("checkpoint.json"):
            raise KeyboardInterrupt  # killed just before the commit
        real_replace(src, dst)

    monkeypatch.setattr(checkpoint_module.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, rng, n=3)
    monkeypatch.undo()
    after = load_checkpoint(tmp_path)
    assert after["history"] == before["history"]
    assert _tmp_files(tmp_path) == []
    assert len(list(tmp_path.glob("arrays-*.npz"))) == 1


def test_failure_while_writing_arrays_keeps_previous_checkpoint(tmp_path, rng, monkeypatch):
    _save(tmp_path, rng, n=2)

    def savez(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.np, "savez", savez)
    with pytest.raises(OSError, match="disk full"):
        _save(tmp_path, rng, n=3)
    monkeypatch.undo()
    assert len(load_checkpoint(tmp_path)["history"]) == 2
    assert _tmp_files(tmp_path) == []


def test_unstorable_state_is_named_and_leaves_nothing(tmp_path, rng):
    with pytest.raises(TypeError, match=r"problem_state\['warm_starts'\]\[0\]"):
        _save(tmp_path, rng, state={"warm_starts": [object()]})
    with pytest.raises(TypeError, match="non-string key"):
        _save(tmp_path, rng, state={1: 2})
    with pytest.raises(ValueError, match="reserved"):
        _save(tmp_path, rng, state={"__array__": 2})
    assert not checkpoint_exists(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"engine": ""}, TypeError, "engine"),
        ({"history": [{"iteration": 0}]}, TypeError, r"history\[0\]"),
        ({"problem_state": [1]}, TypeError, "problem_state"),
        ({"extra": [1]}, TypeError, "extra"),
    ],
)
def test_bad_arguments_are_named(tmp_path, kwargs, error, name):
    args = {"engine": "lbfgsb", "phi": [0.0], "history": [], "problem_state": {}, **kwargs}
    with pytest.raises(error, match=name):
        save_checkpoint(tmp_path, **args)
    with pytest.raises(TypeError, match="checkpoint"):
        save_checkpoint(3, engine="lbfgsb", phi=[0.0], history=[], problem_state={})
