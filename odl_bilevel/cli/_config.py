"""Job configuration: a TOML file validated against a schema.

Every key has a type, a default and a check; an unknown key, a wrong type or a
value out of range raises :class:`ConfigError` naming the dotted key (e.g.
``lower.tol``), so a typo never silently falls back to a default.

``data.kind`` picks the job: ``"signals_1d"`` and ``"natural_images"`` run the
denoising job (sections ``[problem]``, ``[lower]``, ``[hypergradient]``,
``[upper]``); ``"brain_mri"`` runs the MRI sampling job, whose options all live
in ``[sampling]``. A section the chosen job does not read is an error when
given and is absent from the validated configuration.
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


def _subset(*options):
    def check(v):
        return len(v) == len(set(v)) and all(isinstance(s, str) and s in options for s in v)

    check.rule = "a list of distinct names from " + ", ".join(repr(o) for o in options)
    return check


def _rates(v):
    return all(
        isinstance(r, int | float) and not isinstance(r, bool) and 0 < r < 1 for r in v
    ) and len(v) == len(set(v))


def _auto_or_positive(v):
    return v == "auto" if isinstance(v, str) else v > 0


#: lower-level regularisers of the MRI sampling job (names of ``sampling_problem``)
SAMPLING_REGULARISERS = ("tv", "tv2", "h1")
#: baseline patterns of the MRI sampling job (``*_hermitian``: one member of each conjugate pair)
SAMPLING_BASELINES = (
    "data_adapted",
    "variable_density",
    "uniform_random",
    "data_adapted_hermitian",
    "variable_density_hermitian",
    "uniform_random_hermitian",
)
#: sections of the denoising job that the MRI sampling job does not read
_DENOISING_ONLY = ("problem", "lower", "hypergradient", "upper")


_INT = (int,)
_NUM = (int, float)

SCHEMA = {
    "data": {
        "kind": _Key(
            (str,), "signals_1d", _one_of("signals_1d", "natural_images", "brain_mri"), "one of"
        ),
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
    # read only by data.kind = "brain_mri" (the MRI sampling job, cli/_mri_job.py)
    "sampling": {
        "patterns": _Key(
            (list,), ["free", "cartesian"], _subset("free", "cartesian"), "a list of names"
        ),
        "rate": _Key(_NUM, 0.3, _unit, "in (0, 1)"),
        "regulariser": _Key((str,), "tv", _one_of(*SAMPLING_REGULARISERS), "one of"),
        "alpha": _Key(_NUM, 1e-2, _positive, "positive"),
        "learn_alpha": _Key((bool,), False, None, "true or false"),
        "alpha_bounds": _Key((list,), [1e-5, 1.0], None, "[lo, hi] with 0 < lo < hi"),
        "nu": _Key(_NUM, 1e-2, _positive, "positive"),
        "xi": _Key(_NUM, 1e-2, _positive, "positive"),
        "beta": _Key((str, int, float), "auto", _auto_or_positive, '"auto" or positive'),
        "beta_factor": _Key(_NUM, 4.0, lambda v: v > 1, "> 1"),
        "beta2": _Key(_NUM, 0.0, _nonneg, "non-negative"),
        "max_stages": _Key(_INT, 10, _positive, "a positive integer"),
        "max_iter": _Key(_INT, 50, _positive, "a positive integer"),
        "init_weights": _Key(_NUM, 1.0, lambda v: 0 < v <= 1, "in (0, 1]"),
        "reoptimise_alpha": _Key((bool,), True, None, "true or false"),
        "alpha_max_evals": _Key(_INT, 30, _positive, "a positive integer"),
        "alpha_xatol": _Key(_NUM, 0.05, _positive, "positive"),
        "baselines": _Key(
            (list,), list(SAMPLING_BASELINES[:3]), _subset(*SAMPLING_BASELINES), "a list of names"
        ),
        "cartesian_baselines": _Key((bool,), True, None, "true or false"),
        "full_reference": _Key((bool,), True, None, "true or false"),
        "variable_density_power": _Key(_NUM, 3.0, _positive, "positive"),
        "variable_density_trials": _Key(_INT, 1, _positive, "a positive integer"),
        "greedy": _Key((bool,), True, None, "true or false"),
        "greedy_candidates": _Key(_INT, 0, _nonneg, "a non-negative integer (0: all lines)"),
        "beta_sweep": _Key((list,), [], _rates, "a list of distinct rates in (0, 1)"),
        "compare_regulariser": _Key(
            (str,), "none", _one_of("none", *SAMPLING_REGULARISERS), "one of"
        ),
        "solver": _Key((str,), "fista", _one_of("fista", "gradient_descent"), "one of"),
        "lower_tol": _Key((str, int, float), "auto", _auto_or_positive, '"auto" or positive'),
        "lower_max_iter": _Key(_INT, 5000, _positive, "a positive integer"),
        "eval_tol": _Key((str, int, float), "auto", _auto_or_positive, '"auto" or positive'),
        "support_threshold": _Key(_NUM, 1e-2, _unit, "in (0, 1)"),
        "refine": _Key(_INT, 2, _nonneg, "a non-negative integer"),
        "rate_tol": _Key(_NUM, 0.1, _unit, "in (0, 1)"),
        "cg_tol": _Key(_NUM, 1e-3, _unit, "in (0, 1)"),
        "cg_max_iter": _Key(_INT, 500, _positive, "a positive integer"),
        "workers": _Key(_INT, 1, _positive, "a positive integer (1: serial)"),
        "seed": _Key(_INT, 0, _nonneg, "a non-negative integer"),
        "n_show": _Key(_INT, 2, _positive, "a positive integer"),
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
        The complete configuration: every section read by the job that
        ``data.kind`` selects, with defaults filled in.

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
                rule = getattr(spec.check, "rule", spec.rule)
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
    _check_kind(cfg, raw)
    return cfg


def _check_kind(cfg, raw):
    """Cross-key checks: which sections a data kind reads, and the brain MRI data."""
    data, sampling = cfg["data"], cfg["sampling"]
    if data["kind"] != "brain_mri":
        if "sampling" in raw:
            raise ConfigError(
                "config section `sampling` is read only when `data.kind` = 'brain_mri', "
                f"got data.kind = {data['kind']!r}"
            )
        del cfg["sampling"]
        return
    for section in _DENOISING_ONLY:
        if section in raw:
            raise ConfigError(
                f"config section `{section}` is not read when `data.kind` = 'brain_mri'; "
                "set the MRI job's options in [sampling]"
            )
        del cfg[section]
    for key in ("length", "images"):
        if key in raw.get("data", {}):
            raise ConfigError(
                f"config key `data.{key}` is not read when `data.kind` = 'brain_mri'"
            )
    if not 16 <= data["size"] <= 1024:
        raise ConfigError(
            f"config key `data.size` must lie in [16, 1024] for brain MRI, got {data['size']}"
        )
    if data["n_test"] < 1:
        raise ConfigError(
            "config key `data.n_test` must be at least 1 for brain MRI (the table is measured "
            "on held-out test slices)"
        )
    if data["n_train"] + data["n_test"] > 24:
        raise ConfigError(
            "config keys `data.n_train` + `data.n_test` must be at most 24 (the embedded brain "
            f"slices), got {data['n_train']} + {data['n_test']}"
        )
    pair = sampling["alpha_bounds"]
    ok = (
        len(pair) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
        and all(math.isfinite(v) for v in pair)
        and 0 < pair[0] < pair[1]
    )
    if not ok:
        raise ConfigError(
            f"config key `sampling.alpha_bounds` must be [lo, hi] with 0 < lo < hi, got {pair!r}"
        )
    if not pair[0] <= sampling["alpha"] <= pair[1]:
        raise ConfigError(
            f"config key `sampling.alpha` must lie in `sampling.alpha_bounds` {pair}, "
            f"got {sampling['alpha']}"
        )
    if not sampling["patterns"]:
        raise ConfigError("config key `sampling.patterns` must name at least one pattern")
    if sampling["compare_regulariser"] == sampling["regulariser"]:
        raise ConfigError(
            "config key `sampling.compare_regulariser` must differ from `sampling.regulariser` "
            f"(both {sampling['regulariser']!r}); use 'none' for no comparison"
        )
    if sampling["compare_regulariser"] != "none" and "free" not in sampling["patterns"]:
        raise ConfigError(
            "config key `sampling.compare_regulariser` needs 'free' in `sampling.patterns`"
        )
    if any(r >= sampling["rate"] for r in sampling["beta_sweep"]):
        raise ConfigError(
            "config key `sampling.beta_sweep` must hold rates below `sampling.rate` "
            f"({sampling['rate']}: larger beta, sparser patterns), got {sampling['beta_sweep']}"
        )
    if sampling["beta_sweep"] and "free" not in sampling["patterns"]:
        raise ConfigError("config key `sampling.beta_sweep` needs 'free' in `sampling.patterns`")
    given = raw.get("sampling", {})
    if given.get("greedy") and "cartesian" not in sampling["patterns"]:
        raise ConfigError(
            "config key `sampling.greedy` needs 'cartesian' in `sampling.patterns` "
            "(it is compared with the learned Cartesian pattern)"
        )


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
