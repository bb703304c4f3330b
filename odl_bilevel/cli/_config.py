"""Job configuration: a TOML file validated against a schema.

Every key has a type, a default and a check; an unknown key, a wrong type or a
value out of range raises :class:`ConfigError` naming the dotted key (e.g.
``lower.tol``), so a typo never silently falls back to a default.
"""

import dataclasses
import math
import tomllib
from collections.abc import Callable
from typing import Any

__all__ = ["SCHEMA", "ConfigError", "default_config", "load_config", "validate_config"]


class ConfigError(ValueError):
    """A configuration key is unknown, of the wrong type or out of range."""


@dataclasses.dataclass(frozen=True)
class _Key:
    types: tuple
    default: Any
    check: Callable | None = None
    rule: str = ""


def _positive(v):
    return v > 0


def _nonneg(v):
    return v >= 0


def _unit(v):
    return 0 < v < 1


def _one_of(*options):
    def check(v):
        return v in options

    check.options = options
    return check


def _names(v):
    return all(isinstance(s, str) for s in v)


_INT = (int,)
_NUM = (int, float)

SCHEMA = {
    "data": {
        "kind": _Key((str,), "signals_1d", _one_of("signals_1d", "natural_images"), "one of"),
        "n_train": _Key(_INT, 4, _positive, "a positive integer"),
        "n_test": _Key(_INT, 4, _nonneg, "a non-negative integer"),
        "length": _Key(_INT, 256, lambda v: v >= 8, "an integer >= 8"),
        "images": _Key((list,), [], _names, "a list of image names"),
        "size": _Key(_INT, 64, lambda v: v >= 8, "an integer >= 8"),
        "sigma": _Key(_NUM, 0.1, _positive, "positive"),
        "seed": _Key(_INT, 0, _nonneg, "a non-negative integer"),
    },
    "problem": {
        "regulariser": _Key((str,), "tv_tikhonov", _one_of("tv", "tv_tikhonov", "tgv"), "one of"),
        "learn": _Key((list,), ["alpha", "nu", "xi"], _names, "a list of parameter names"),
        "init": _Key((dict,), {}, None, "a table of initial parameter values"),
        "bounds": _Key((dict,), {}, None, "a table of [lo, hi] bounds per learned parameter"),
        "penalty": _Key((str,), "none", _one_of("none", "condition"), "one of"),
        "penalty_weight": _Key(_NUM, 0.0, _nonneg, "non-negative"),
    },
    "lower": {
        "solver": _Key((str,), "fista", _one_of("fista", "gradient_descent"), "one of"),
        "tol": _Key(_NUM, 1e-6, _positive, "positive"),
        "max_iter": _Key(_INT, 5000, _positive, "a positive integer"),
    },
    "hypergradient": {
        "cg_tol": _Key(_NUM, 1e-6, _unit, "in (0, 1)"),
        "cg_max_iter": _Key(_INT, 1000, _positive, "a positive integer"),
    },
    "upper": {
        "engine": _Key((str,), "lbfgsb", _one_of("lbfgsb", "dfo"), "one of"),
        "max_iter": _Key(_INT, 30, _positive, "a positive integer"),
        "accuracy": _Key(
            (str,), "dynamic", _one_of("dynamic", "fixed_iterations", "fixed_tol"), "one of"
        ),
        "max_evals": _Key(_INT, 200, _positive, "a positive integer"),
        "fixed_iterations": _Key(_INT, 200, _positive, "a positive integer"),
        "fixed_tol": _Key(_NUM, 1e-6, _positive, "positive"),
        "gtol": _Key(_NUM, 1e-6, _positive, "positive"),
        "ftol": _Key(_NUM, 1e-9, _positive, "positive"),
    },
    "output": {
        "figures": _Key((bool,), True, None, "true or false"),
    },
}


def default_config():
    """Return the default configuration as a nested dict (a fresh copy)."""
    return {
        section: {k: _copy(spec.default) for k, spec in keys.items()}
        for section, keys in SCHEMA.items()
    }


def _copy(v):
    return list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v


def _type_name(types):
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names[t] for t in types)


def validate_config(raw):
    """Validate a nested dict against :data:`SCHEMA`, filling in defaults.

    Parameters
    ----------
    raw : dict
        Parsed TOML.

    Returns
    -------
    dict
        The complete configuration.

    Raises
    ------
    ConfigError
        Naming the dotted key that is unknown, of the wrong type or out of range.

    Examples
    --------
    >>> cfg = validate_config({"lower": {"tol": 1e-4}})
    >>> cfg["lower"]["tol"], cfg["upper"]["max_iter"]
    (0.0001, 30)
    >>> validate_config({"lower": {"tol": -1}})
    Traceback (most recent call last):
    ...
    odl_bilevel.cli._config.ConfigError: config key `lower.tol` must be positive, got -1
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"the configuration must be a table, got {type(raw).__name__}")
    cfg = default_config()
    for section, values in raw.items():
        if section not in SCHEMA:
            raise ConfigError(
                f"unknown config section `{section}`; known sections: {', '.join(SCHEMA)}"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"config key `{section}` must be a table")
        for key, value in values.items():
            dotted = f"{section}.{key}"
            spec = SCHEMA[section].get(key)
            if spec is None:
                raise ConfigError(
                    f"unknown config key `{dotted}`; known keys in [{section}]: "
                    f"{', '.join(SCHEMA[section])}"
                )
            ok_type = isinstance(value, spec.types) and not (
                isinstance(value, bool) and bool not in spec.types
            )
            if not ok_type:
                raise ConfigError(
                    f"config key `{dotted}` must be {_type_name(spec.types)}, got {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"config key `{dotted}` must be finite, got {value!r}")
            if spec.check is not None and not spec.check(value):
                rule = spec.rule
                if hasattr(spec.check, "options"):
                    rule = "one of " + ", ".join(repr(o) for o in spec.check.options)
                raise ConfigError(f"config key `{dotted}` must be {rule}, got {value!r}")
            cfg[section][key] = _copy(value)
    for name, value in cfg["problem"]["init"].items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"config key `problem.init.{name}` must be a positive number")
    for name, pair in cfg["problem"]["bounds"].items():
        ok = (
            isinstance(pair, list)
            and len(pair) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pair)
            and 0 < pair[0] < pair[1]
        )
        if not ok:
            raise ConfigError(
                f"config key `problem.bounds.{name}` must be [lo, hi] with 0 < lo < hi, "
                f"got {pair!r}"
            )
    return cfg


def load_config(path):
    """Read and validate a TOML configuration file.

    Raises
    ------
    ConfigError
        If the file is not valid TOML or fails :func:`validate_config`.
    FileNotFoundError
        If ``path`` does not exist.
    """
    with open(path, "rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return validate_config(raw)
