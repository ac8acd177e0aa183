"""The rules package is imported by run, reports and the web alike: none of its modules may be part of an import
cycle, at module level or inside a function (a function-level import is still a loop, only a later one)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The tieout modules `path` imports anywhere but under `if TYPE_CHECKING:`; `from a import b` imports
    `a.b` when that is a module, else `a` (and a package's `__init__` either way)."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for top in ast.walk(tree) if _type_checking_only(top) for n in ast.walk(top)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in (SRC / "tieout").rglob("*.py")}
    return {name: _imports(path, set(files)) for name, path in files.items()}


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_no_rules_module_is_in_an_import_cycle() -> None:
    graph = _graph()
    rules = sorted(m for m in graph if m == "tieout.rules" or m.startswith("tieout.rules."))
    assert "tieout.rules.registry" in rules and "tieout.rules.safety" in rules
    in_cycle = [m for m in rules if m in _reaches(graph, m)]
    assert in_cycle == []


def test_the_graph_sees_function_level_imports() -> None:
    # the walk must find an import made inside a function, or the test above would prove nothing about them
    graph = _graph()
    assert "tieout.run" in graph["tieout.reports.bridge"]
