"""The package's shape: data flows one way between the stages' subpackages, no module imports
its way around in a cycle, only the CLI and the HTTP service print, the public API is exported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import dedup

PACKAGE = Path(dedup.__file__).parent

# Each unit (a subpackage, or a module at the top) and its layer: a unit may import only
# from itself and from units of lower layers. Units of one layer never import each other.
LAYERS = {
    "errors": 0,
    "util": 0,
    "config": 1,
    "models": 2,
    "text": 3,
    "match": 4,
    "group": 5,
    "store": 5,
    "output": 6,
    "scan": 7,
    "gate": 7,
    "evaluation": 8,
    "cli": 9,
    "__init__": 10,
    "__main__": 10,
}
# Modules of one unit that must stay independent of each other (candidates and scores meet
# only where the engines wire them).
SIBLINGS = [("match.lsh", "match.score")]
MAY_PRINT = ("cli", "__main__", "gate.server")  # and the modules inside them


def modules() -> list[str]:
    """Every module of the package, dotted from the package root (``match.align``)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found.append(".".join(parts))
    return found


def source(name: str) -> Path:
    path = PACKAGE.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def unit(name: str) -> str:
    return name.split(".")[0]


def imports_of(name: str) -> set[str]:
    """The package's modules ``name`` imports (at the top or inside a function)."""
    path = source(name)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    known = set(modules())
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.startswith("dedup."):
                target = node.module.removeprefix("dedup.")
            elif node.module == "dedup":
                target = ""
            else:
                continue
            for alias in node.names:
                child = f"{target}.{alias.name}" if target else alias.name
                found.add(child if child in known else target or "__init__")
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("dedup.") for a in node.names if a.name.startswith("dedup.")
            )
    return {module for module in found if module != name}


def test_every_unit_has_a_layer():
    assert {unit(m) for m in modules()} <= set(LAYERS), {unit(m) for m in modules()} - set(LAYERS)


@pytest.mark.parametrize("name", modules())
def test_imports_only_go_left(name):
    mine = unit(name)
    for imported in imports_of(name):
        theirs = unit(imported)
        assert theirs == mine or LAYERS[theirs] < LAYERS[mine], (
            f"{name} imports {imported}: {theirs} is not left of {mine}"
        )


@pytest.mark.parametrize(("left", "right"), SIBLINGS)
def test_siblings_do_not_import_each_other(left, right):
    assert right not in imports_of(left) and left not in imports_of(right)


def _cycles() -> Iterator[list[str]]:
    graph = {name: sorted(imports_of(name)) for name in modules()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> Iterator[list[str]]:
        state[node] = 1
        path.append(node)
        for child in graph.get(node, []):
            if state.get(child) == 1:
                yield [*path[path.index(child) :], child]
            elif child not in state:
                yield from visit(child)
        path.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            yield from visit(name)


def test_no_module_imports_itself_through_others():
    # A subpackage's __init__ re-exports its modules; a module importing its own package's
    # __init__ would close a loop through it.
    assert list(_cycles()) == []


def test_a_cycle_is_found(monkeypatch):
    # The cycle check must be able to fail.
    real = imports_of

    def looped(name: str) -> set[str]:
        return real(name) | ({"match.align"} if name == "text.features" else set())

    monkeypatch.setitem(globals(), "imports_of", looped)
    assert any("text.features" in cycle for cycle in _cycles())


def may_print(name: str) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in MAY_PRINT)


@pytest.mark.parametrize("name", [m for m in modules() if not may_print(m)])
def test_library_modules_do_not_print_or_exit(name):
    tree = ast.parse(source(name).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"print", "exit"}, f"{name} calls {node.func.id}()"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) != ("sys", "exit"), f"{name} calls sys.exit"


# A function over this many lines, or a class over this many, says why beside it: a comment
# starting "# Long:" on one of the lines just above it (or its decorators).
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 200


def long_units(source_text: str) -> list[str]:
    """The functions and classes of a module's source that are too long and do not say why."""
    lines = source_text.splitlines()
    found = []
    for node in ast.walk(ast.parse(source_text)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        size = (node.end_lineno or node.lineno) - node.lineno + 1
        limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        above = lines[max(0, first - 4) : first - 1]
        if size > limit and not any(line.strip().startswith("# Long:") for line in above):
            found.append(f"{node.name} ({size} lines, line {node.lineno})")
    return found


@pytest.mark.parametrize("name", modules())
def test_units_are_short_or_say_why(name):
    assert long_units(source(name).read_text()) == []


def test_a_long_unit_without_a_reason_is_found():
    body = "\n".join(f"    x{k} = {k}" for k in range(MAX_FUNCTION_LINES))
    assert long_units(f"def f():\n{body}\n") == [f"f ({MAX_FUNCTION_LINES + 1} lines, line 1)"]
    assert long_units(f"# Long: one compiled loop.\ndef f():\n{body}\n") == []


def test_public_api_is_exported():
    for name in dedup.__all__:
        assert hasattr(dedup, name), name


def test_the_import_paths_users_have_still_work():
    # The paths of the README and of earlier versions' docs.
    from dedup import scan, write_report
    from dedup.gate import Gate
    from dedup.gate.server import create_app, run

    assert all(callable(f) for f in (scan, write_report, Gate, create_app, run))
