"""The layers, read from the imports: graph/ stands alone, loaders/ read files into records, cli/ and web/ sit on top.

Every import statement of every module is read with :mod:`ast` (including imports inside functions, which a runtime
check would miss), so a newcomer's shortcut across a layer fails here with the file and line.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The top-level packages (folders installed as statetech.<name>) and what each may import.
ALLOWED = {
    "graph": set(),
    "loaders": {"graph"},
    "cli": {"graph", "loaders", "web"},
    "web": {"graph", "loaders"},
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, top-level statetech package) of every import in ``path``, relative imports resolved."""
    package = path.relative_to(ROOT).parts[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside its own package
                names = [f"statetech.{package}"]
            else:
                names = [node.module or ""]
                if node.module == "statetech":  # from statetech import graph, loaders
                    names = [f"statetech.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "statetech" and len(parts) > 1 and parts[1] in ALLOWED:
                found.append((node.lineno, parts[1]))
    return found


def _dependencies() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> ["file:line", ...] (imports of itself left out)."""
    deps: dict[str, dict[str, list[str]]] = {p: {} for p in ALLOWED}
    for package in ALLOWED:
        for path in _modules(package):
            for line, target in _imported_packages(path):
                if target != package:
                    deps[package].setdefault(target, []).append(f"{path.relative_to(ROOT)}:{line}")
    return deps


def test_the_packages_exist():
    for package in ALLOWED:
        assert _modules(package), f"no modules found under {package}/"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below(package):
    wrong = {target: where for target, where in _dependencies()[package].items() if target not in ALLOWED[package]}
    assert wrong == {}, f"{package}/ must not import {sorted(wrong)}: {wrong}"


def test_graph_imports_nothing_from_loaders_or_cli():
    assert _dependencies()["graph"] == {}


def test_no_import_cycles_between_packages():
    deps = {p: set(targets) for p, targets in _dependencies().items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(package: str) -> None:
        if package in done:
            return
        assert package not in visiting, "import cycle: " + " -> ".join([*visiting, package])
        visiting.append(package)
        for target in sorted(deps[package]):
            visit(target)
        visiting.pop()
        done.add(package)

    for package in sorted(deps):
        visit(package)


def test_the_walk_sees_imports_inside_functions(tmp_path, monkeypatch):
    # The checker itself must catch a lazy import in a function body (the shortcut this test exists to stop).
    fake_root = tmp_path
    (fake_root / "graph").mkdir()
    module = fake_root / "graph" / "sneaky.py"
    module.write_text("def f():\n    from statetech.loaders.curated import read_curated\n    return read_curated\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert _imported_packages(module) == [(2, "loaders")]


def test_loaders_hold_no_cypher_and_never_touch_a_store():
    """Loaders turn files into records; the graph writes them and answers resolution's questions."""
    offenders = []
    for path in _modules("loaders"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("statetech.graph.cypher", "statetech.graph.store"):
                offenders.append(f"{path.name}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module == "statetech.graph" and any(
                    a.name in ("cypher", "store") for a in node.names):
                offenders.append(f"{path.name}:{node.lineno} imports statetech.graph.cypher/store")
            if isinstance(node, ast.Attribute) and node.attr in ("run_read", "run_write", "write_transaction",
                                                                  "write_records", "write_batch"):
                offenders.append(f"{path.name}:{node.lineno} calls .{node.attr}()")
    assert offenders == []
