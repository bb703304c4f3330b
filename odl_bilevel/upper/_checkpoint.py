r"""Checkpoints of upper-level runs: a JSON file for scalars, an NPZ file for arrays.

A checkpoint is a directory holding

- ``checkpoint.json``: format name and version, the engine, the current
  learned variables :math:`\varphi`, the history (one
  :class:`~odl_bilevel.upper.IterationRecord` per iteration), a fingerprint of
  the problem, engine-specific ``extra`` data, the problem's state
  (:meth:`BilevelProblem.state_dict`: warm starts and work ledger) with every
  numpy array (:math:`\varphi`, the history's :math:`\varphi_k` and
  :math:`\theta_k`, the warm starts) replaced by a reference
  ``{"__array__": key}``, and the name of the NPZ file holding those arrays;
- ``arrays-<token>.npz``: the arrays.

Writes are atomic and crash-safe: the NPZ file gets a fresh name and is
written to a temporary file that :func:`os.replace` moves into place; then the
JSON file is written the same way. Replacing the JSON file is the commit:
until it happens the old JSON still names the old NPZ file, which is deleted
only afterwards. A reader therefore sees either the previous or the new
checkpoint, never a half-written one, whenever the process is killed.
"""

import hashlib
import json
import logging
import os
import pathlib
import tempfile
import uuid

import numpy as np

from ._records import IterationRecord

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "checkpoint_exists",
    "load_checkpoint",
    "problem_fingerprint",
    "save_checkpoint",
]

logger = logging.getLogger(__name__)

#: Name written into every checkpoint, checked on loading.
CHECKPOINT_FORMAT = "odl_bilevel.upper.checkpoint"
#: Version of the checkpoint layout written; loading one not in ``_READABLE`` raises
#: ``ValueError``. Version 2 keeps every vector (``phi``, the history's ``phi`` and ``theta``)
#: in the NPZ file; version 1 had them as JSON lists, which cost seconds per checkpoint for a
#: free 256² sampling pattern (the whole history is rewritten at every iteration).
CHECKPOINT_VERSION = 2
_READABLE = (1, 2)

_JSON_NAME = "checkpoint.json"
_ARRAY_KEY = "__array__"


def problem_fingerprint(problem):
    """Return what identifies a problem for resuming: parameter names and size, samples.

    Parameters
    ----------
    problem : BilevelProblem
        Needs ``parameter_map`` (with ``names`` and ``size``) and ``n_samples``;
        the shape of ``problem.domain`` is added when there is one.

    Returns
    -------
    dict
        ``{"parameter_names": sha, "parameter_size": q, "n_samples": n,
        "domain_shape": [...] or None}`` (JSON-friendly), with ``sha`` the
        SHA-256 hex digest of the names joined by newlines (a free 256²
        sampling pattern has 65,536 names, written at every checkpoint).
    """
    pmap = problem.parameter_map
    shape = getattr(getattr(problem, "domain", None), "shape", None)
    return {
        "parameter_names": _names_digest(pmap.names),
        "parameter_size": int(pmap.size),
        "n_samples": int(problem.n_samples),
        "domain_shape": None if shape is None else [int(s) for s in shape],
    }


def _names_digest(names):
    return hashlib.sha256("\n".join(str(n) for n in names).encode("utf-8")).hexdigest()


def _comparable(fingerprint):
    """A fingerprint with its names as a digest (version-1 checkpoints stored the list)."""
    if isinstance(fingerprint, dict) and isinstance(fingerprint.get("parameter_names"), list):
        return {**fingerprint, "parameter_names": _names_digest(fingerprint["parameter_names"])}
    return fingerprint


def _encode(obj, arrays, where):
    """JSON-friendly copy of ``obj``; numpy arrays go to ``arrays`` and become references."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {_ARRAY_KEY: key}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, int | float):
        return obj
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"`{where}` has a non-string key {k!r}")
            if k == _ARRAY_KEY:
                raise ValueError(f"`{where}` uses the reserved key {_ARRAY_KEY!r}")
            out[k] = _encode(v, arrays, f"{where}[{k!r}]")
        return out
    if isinstance(obj, list | tuple):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(
        f"`{where}` holds a {type(obj).__name__}; checkpoints take None, bool, int, float, "
        "str, numpy arrays and dicts/lists of them"
    )


def _decode(obj, arrays, path):
    if isinstance(obj, dict):
        if set(obj) == {_ARRAY_KEY}:
            key = obj[_ARRAY_KEY]
            if key not in arrays:
                raise ValueError(f"`checkpoint` at {path} is damaged: array {key!r} is missing")
            return arrays[key]
        return {k: _decode(v, arrays, path) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, arrays, path) for v in obj]
    return obj


def _atomic_write(target, write):
    """Write ``target`` via a temporary file in the same directory and :func:`os.replace`."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _directory(path):
    if isinstance(path, bool) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"`checkpoint` must be a path (str or os.PathLike), got {path!r}")
    return pathlib.Path(path)


def checkpoint_exists(path):
    """Whether the directory ``path`` holds a checkpoint (its ``checkpoint.json``)."""
    return (_directory(path) / _JSON_NAME).is_file()


def save_checkpoint(path, *, engine, phi, history, problem_state, extra=None, fingerprint=None):
    r"""Write a checkpoint into the directory ``path`` atomically (created if missing).

    Parameters
    ----------
    path : str or os.PathLike
        Directory of the checkpoint.
    engine : str
        Name of the optimiser, e.g. ``"lbfgsb"``.
    phi : array-like
        Current learned variables :math:`\varphi` (stored exactly, as float64
        in the NPZ file).
    history : sequence of IterationRecord
        The history so far.
    problem_state : dict
        :meth:`BilevelProblem.state_dict` output: nested dicts/lists of
        None, bool, int, float, str and numpy arrays.
    extra : dict, optional
        Engine-specific data of the same kinds (status, options, trust-region
        radius, ...).
    fingerprint : dict, optional
        :func:`problem_fingerprint` of the problem; checked by
        :func:`load_checkpoint`.

    Returns
    -------
    pathlib.Path
        The JSON file written.

    Raises
    ------
    TypeError
        If an argument has the wrong type or ``problem_state``/``extra`` hold
        something that cannot be stored (the message names where).
    """
    directory = _directory(path)
    if not isinstance(engine, str) or not engine:
        raise TypeError(f"`engine` must be a non-empty str, got {engine!r}")
    phi = np.asarray(phi, dtype=float).ravel()
    records = []
    for k, rec in enumerate(history):
        if not isinstance(rec, IterationRecord):
            raise TypeError(f"`history[{k}]` must be an IterationRecord, got {type(rec).__name__}")
        records.append(rec.as_dict(arrays=True))
    if not isinstance(problem_state, dict):
        raise TypeError(f"`problem_state` must be a dict, got {type(problem_state).__name__}")
    extra = {} if extra is None else extra
    if not isinstance(extra, dict):
        raise TypeError(f"`extra` must be a dict, got {type(extra).__name__}")
    arrays = {}
    document = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "engine": engine,
        "fingerprint": _encode(fingerprint, arrays, "fingerprint"),
        "phi": _encode(phi, arrays, "phi"),
        "history": _encode(records, arrays, "history"),
        "problem_state": _encode(problem_state, arrays, "problem_state"),
        "extra": _encode(extra, arrays, "extra"),
    }
    directory.mkdir(parents=True, exist_ok=True)
    npz_name = f"arrays-{uuid.uuid4().hex[:16]}.npz"
    document["arrays"] = npz_name
    text = json.dumps(document, indent=1)
    _atomic_write(directory / npz_name, lambda f: np.savez(f, **arrays))
    try:
        _atomic_write(directory / _JSON_NAME, lambda f: f.write(text.encode("utf-8")))
    except BaseException:
        (directory / npz_name).unlink(missing_ok=True)
        raise
    for stale in directory.glob("arrays-*.npz"):
        if stale.name != npz_name:
            stale.unlink(missing_ok=True)
    logger.debug("checkpoint written to %s (%d records)", directory, len(records))
    return directory / _JSON_NAME


def load_checkpoint(path, *, engine=None, fingerprint=None):
    """Read the checkpoint in directory ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Directory of the checkpoint.
    engine : str, optional
        If given, the checkpoint must come from this engine.
    fingerprint : dict, optional
        If given (:func:`problem_fingerprint` of the problem to resume), it
        must equal the stored one.

    Returns
    -------
    dict
        Keys ``engine``, ``version``, ``fingerprint``, ``phi`` (float64
        array), ``history`` (tuple of IterationRecord), ``problem_state`` and
        ``extra`` (with their arrays restored).

    Raises
    ------
    FileNotFoundError
        If there is no checkpoint in ``path``.
    ValueError
        If the checkpoint is damaged, has another format version, comes from
        another engine or another problem (the message names ``checkpoint``).
    """
    directory = _directory(path)
    json_path = directory / _JSON_NAME
    if not json_path.is_file():
        raise FileNotFoundError(f"`checkpoint`: no {_JSON_NAME} in {directory}")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"`checkpoint` at {directory} is not valid JSON: {err}") from err
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"`checkpoint` at {directory} is not an odl_bilevel checkpoint")
    if document.get("version") not in _READABLE:
        raise ValueError(
            f"`checkpoint` at {directory} has format version {document.get('version')!r}; "
            f"this version of odl_bilevel reads versions {_READABLE}"
        )
    if engine is not None and document["engine"] != engine:
        raise ValueError(
            f"`checkpoint` at {directory} was written by engine {document['engine']!r}, "
            f"not {engine!r}"
        )
    if fingerprint is not None and _comparable(document["fingerprint"]) != _comparable(
        json.loads(json.dumps(fingerprint))
    ):
        raise ValueError(
            f"`checkpoint` at {directory} belongs to another problem: stored "
            f"{document['fingerprint']}, this problem {fingerprint}"
        )
    npz_path = directory / document["arrays"]
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError as err:
        raise ValueError(
            f"`checkpoint` at {directory} is damaged: {npz_path.name} is missing"
        ) from err
    return {
        "engine": document["engine"],
        "version": document["version"],
        "fingerprint": document["fingerprint"],
        "phi": np.asarray(_decode(document["phi"], arrays, directory), dtype=float),
        "history": tuple(
            IterationRecord.from_dict(r) for r in _decode(document["history"], arrays, directory)
        ),
        "problem_state": _decode(document["problem_state"], arrays, directory),
        "extra": _decode(document["extra"], arrays, directory),
    }
