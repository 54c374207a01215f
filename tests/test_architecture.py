"""The package's shape: data flows one way, only the CLI prints, the public API is exported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dedup

PACKAGE = Path(dedup.__file__).parent

# Each module's layer: a module may import only from its own layer or layers to its left.
LAYERS = {
    "errors": 0,
    "models": 0,
    "config": 0,
    "metrics": 0,
    "parallel": 0,
    "arrays": 0,
    "corpus": 1,
    "datasets": 2,
    "credits": 2,
    "clean": 3,
    "features": 4,
    "signatures": 5,
    "index": 6,
    "store": 6,
    "store_redis": 6,
    "score": 6,
    "align": 7,
    "cluster": 8,
    "report": 9,
    "html": 9,
    "pipeline": 10,
    "evaluation": 11,
    "gate": 11,
    "spark": 11,
    "server": 12,
    "cli": 13,
    "__init__": 14,
    "__main__": 14,
}
# Same-layer modules that must stay independent of each other.
SIBLINGS = [("index", "score")]
MAY_PRINT = {"cli", "__main__", "server"}


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def imports_of(name: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("dedup."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("dedup."))
    return found


def test_every_module_has_a_layer():
    assert set(modules()) <= set(LAYERS), set(modules()) - set(LAYERS)


@pytest.mark.parametrize("name", modules())
def test_imports_only_go_left(name):
    for imported in imports_of(name):
        assert LAYERS[imported] <= LAYERS[name], f"{name} imports {imported} (right of it)"


@pytest.mark.parametrize(("left", "right"), SIBLINGS)
def test_siblings_do_not_import_each_other(left, right):
    assert right not in imports_of(left) and left not in imports_of(right)


@pytest.mark.parametrize("name", sorted(set(modules()) - MAY_PRINT))
def test_library_modules_do_not_print_or_exit(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"print", "exit"}, f"{name} calls {node.func.id}()"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) != ("sys", "exit"), f"{name} calls sys.exit"


def test_public_api_is_exported():
    for name in dedup.__all__:
        assert hasattr(dedup, name), name
