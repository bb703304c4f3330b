"""Every public name imports, is listed in ``__all__`` and has a docstring."""

import importlib
import pathlib
import subprocess
import sys

import pytest

import odl_bilevel

SUBPACKAGES = [
    "odl_bilevel.operators",
    "odl_bilevel.functionals",
    "odl_bilevel.solvers",
    "odl_bilevel.hypergradients",
    "odl_bilevel.bilevel",
    "odl_bilevel.upper",
    "odl_bilevel.problems",
    "odl_bilevel.cli",
    "odl_bilevel.testing",
    "odl_bilevel.datasets",
    "odl_bilevel.metrics",
    "odl_bilevel.plotting",
]
PACKAGE = pathlib.Path(odl_bilevel.__file__).parent


def _public_names():
    for modname in SUBPACKAGES:
        module = importlib.import_module(modname)
        for name in module.__all__:
            yield pytest.param(modname, name, id=f"{modname}.{name}")


@pytest.mark.parametrize(("modname", "name"), list(_public_names()))
def test_public_name_has_docstring(modname, name):
    obj = getattr(importlib.import_module(modname), name)
    assert obj.__doc__ and obj.__doc__.strip(), f"{modname}.{name} has no docstring"


@pytest.mark.parametrize("modname", SUBPACKAGES)
def test_all_matches_public_imports(modname):
    module = importlib.import_module(modname)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and not isinstance(v, type(module))
    }
    assert public == set(module.__all__)


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_every_module_has_all(path):
    assert "__all__" in path.read_text(), f"{path} lacks __all__"


def test_import_has_no_side_effects():
    # ODL itself may pull in optional packages (e.g. scikit-image via odl.applications);
    # what odl_bilevel adds on top must not include the heavy optional ones.
    code = (
        "import sys, logging; import odl; before = set(sys.modules);"
        "import odl_bilevel, odl_bilevel.functionals, odl_bilevel.solvers, odl_bilevel.testing;"
        "new = set(sys.modules) - before;"
        "bad = [m for m in new if m.split('.')[0] in ('matplotlib', 'skimage', 'dask')];"
        "assert not bad, bad;"
        "assert logging.getLogger('odl_bilevel').handlers"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
