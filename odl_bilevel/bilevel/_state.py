"""Checkpoint state of a :class:`BilevelProblem`: warm starts and ledger as plain arrays (private).

Checkpoints must not pickle ODL objects (they would tie a checkpoint to one
version of ODL and of this library), so the state is a flat ``dict`` of
Python ints/floats and float64/int8 numpy arrays that ``numpy.savez`` and
JSON writers store directly.
"""

import numpy as np

from ..solvers import WorkLedger
from ._elements import flatten, space_size, unflatten

__all__ = ["STATE_VERSION", "problem_state", "restore_state"]

#: Layout version of :func:`problem_state`.
STATE_VERSION = 1


def problem_state(problem):
    """Return the state dict of ``problem`` (see :meth:`BilevelProblem.state_dict`).

    Keys:

    - ``"version"``, ``"n_samples"``, ``"x_size"`` (ints): layout version, number
      of samples and number of real entries of a lower-level variable;
    - ``"x_warm"``, ``"w_warm"``: float64 arrays of shape ``(n_samples, x_size)``,
      the lower-level and adjoint warm starts, flattened part by part for
      product spaces; rows of zeros where ``"x_has"``/``"w_has"`` (int8 arrays of
      shape ``(n_samples,)``) are 0;
    - ``"y_warm"``/``"y_has"``: the same for PDHG's dual iterates (shape
      ``(n_samples, y_size)``, ``y_size`` 0 when there are none);
    - ``"ledger_<field>"`` for every field of the :class:`~odl_bilevel.solvers.WorkLedger`.
    """
    n, size = problem.n_samples, space_size(problem.domain)
    state = {"version": STATE_VERSION, "n_samples": n, "x_size": size}
    warm = {"x": problem._x_warm, "w": problem._w_warm, "y": problem._y_warm}
    for key, elems in warm.items():
        has = np.array([e is not None for e in elems], dtype=np.int8)
        flat = [None if e is None else flatten(e) for e in elems]
        width = size if key != "y" else max((f.size for f in flat if f is not None), default=0)
        arr = np.zeros((n, width))
        for i, f in enumerate(flat):
            if f is not None:
                arr[i] = f
        state[f"{key}_warm"], state[f"{key}_has"] = arr, has
    for field, value in problem.ledger.as_dict().items():
        state[f"ledger_{field}"] = value
    return state


def _scalar(state, key):
    try:
        return np.asarray(state[key]).item()
    except KeyError as err:
        raise ValueError(f"`state` lacks the key {key!r}") from err
    except (TypeError, ValueError) as err:
        raise ValueError(f"`state[{key!r}]` must be a scalar, got {state[key]!r}") from err


def restore_state(problem, state):
    """Validate ``state`` for ``problem``; return ``(warm, ledger)`` to install.

    ``warm`` maps ``"x"``, ``"w"``, ``"y"`` to lists of elements (or ``None``)
    and ``ledger`` maps the ledger fields to numbers. Nothing is modified here,
    so a bad state leaves the problem untouched.

    Raises
    ------
    ValueError
        If ``state`` is not a mapping of the expected layout, or was made for
        another number of samples or domain size (naming ``state``).
    """
    if not hasattr(state, "__getitem__"):
        raise ValueError(f"`state` must be a dict from state_dict(), got {type(state).__name__}")
    version = int(_scalar(state, "version"))
    n, size = int(_scalar(state, "n_samples")), int(_scalar(state, "x_size"))
    if version != STATE_VERSION:
        raise ValueError(f"`state` has version {version}, expected {STATE_VERSION}")
    if n != problem.n_samples or size != space_size(problem.domain):
        raise ValueError(
            f"`state` is for {n} samples of size {size}, this problem has "
            f"{problem.n_samples} of size {space_size(problem.domain)}"
        )
    warm = {}
    for key in ("x", "w", "y"):
        try:
            arr = np.asarray(state[f"{key}_warm"], dtype=float)
            has = np.asarray(state[f"{key}_has"]).astype(bool)
        except KeyError as err:
            raise ValueError(f"`state` lacks the key {err}") from err
        if has.shape != (n,) or arr.ndim != 2 or arr.shape[0] != n:
            raise ValueError(
                f"`state` has {key}_warm of shape {arr.shape} and {key}_has of shape "
                f"{has.shape} for {n} samples"
            )
        elems = [None] * n
        for i in range(n):
            if has[i]:
                space = (
                    problem.energies[i].pdhg_form().dual_space if key == "y" else problem.domain
                )
                try:
                    elems[i] = unflatten(arr[i], space)
                except ValueError as err:
                    raise ValueError(f"`state` {key}_warm[{i}]: {err}") from err
        warm[key] = elems
    ledger = {field: _scalar(state, f"ledger_{field}") for field in WorkLedger().as_dict()}
    return warm, ledger
