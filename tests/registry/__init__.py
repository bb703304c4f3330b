"""Registry of every operator and functional, checked by ``tests/test_registry.py``.

Each module in this package defines ``CASES``, a list of :class:`Case`.
"""

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable

__all__ = ["Case", "all_cases"]


@dataclasses.dataclass(frozen=True)
class Case:
    """One registry entry.

    Attributes
    ----------
    name : str
        Test id.
    kind : str
        ``"operator"`` (linear; adjoint test) or ``"functional"`` (gradient,
        Hessian and, if it has ``params``, parameter-derivative tests).
    build : callable
        ``build(space, rng)`` returns the object for a unit-cell space ``space``
        (1-D or 2-D, float32 or float64).
    ndims : tuple of int
        Dimensions the object supports.
    point : callable or None
        ``point(obj, rng)`` returns the point for functional tests (default: random).
    """

    name: str
    kind: str
    build: Callable
    ndims: tuple = (1, 2)
    point: Callable | None = None


def all_cases():
    """Collect ``CASES`` from every module of this package."""
    cases = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(module.CASES)
    return cases
