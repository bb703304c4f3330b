"""The one-way layering of DESIGN.md §2, checked on the import statements.

A module may import from its own layer and the layers below it. Leaves
(datasets, metrics, plotting) are never imported by the stack, and nothing in
the library imports ``odl_bilevel.testing``.
"""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "odl_bilevel"

# rank: a module may import only from ranks <= its own
STACK = {
    "_validation": 0,
    "_numeric": 0,
    "operators": 1,
    "functionals": 2,
    "solvers": 3,
    "hypergradients": 4,
    "bilevel": 5,
    "upper": 6,
    "problems": 7,
    "cli": 8,
}
LEAVES = {"datasets", "metrics", "plotting"}
LEAF_RANK = 1  # leaves may use operators and validation only


def _layer(parts):
    return parts[0] if parts else "__init__"


def _imports(path):
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[: len(rel) - node.level])
                mod = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    for alias in node.names:
                        yield mod + [alias.name]
                    continue
                yield mod
            elif node.module and node.module.startswith("odl_bilevel"):
                yield node.module.split(".")[1:]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("odl_bilevel."):
                    yield alias.name.split(".")[1:]


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _rank(layer):
    if layer in STACK:
        return STACK[layer]
    if layer in LEAVES:
        return LEAF_RANK
    return None


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_down_the_stack(path):
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    own = _layer(rel)
    if own in ("__init__", "__main__"):
        return  # the package root may re-export anything
    for target in _imports(path):
        layer = _layer(target)
        if layer in ("__init__", own):
            if layer == "__init__" and own != "__init__":
                pytest.fail(f"{path.name} imports the package root; import the layer instead")
            continue
        assert layer != "testing" or own == "testing", f"{rel} imports odl_bilevel.testing"
        if own == "testing":
            continue
        assert layer not in LEAVES or own in LEAVES or own == "cli", (
            f"{'/'.join(rel)} (stack) imports the leaf {layer}"
        )
        own_rank, rank = _rank(own), _rank(layer)
        assert own_rank is not None, f"unknown layer {own!r}: add it to tests/test_layers.py"
        assert rank is not None, f"unknown layer {layer!r}: add it to tests/test_layers.py"
        assert rank <= own_rank, f"{'/'.join(rel)} (layer {own}) imports the higher layer {layer}"
