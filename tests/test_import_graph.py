"""The package's import graph, read from the source: no import cycle among the store and the past-day readers,
and nothing below `tieout.cli` imports `tieout.run` (the pipeline is the commands' to call, not the library's).

Every import counts, a function's own included: a cycle hidden in a function still makes each module need the
other. Imports under `if TYPE_CHECKING:` do not (they never run), nor does `importlib.import_module` (a lazy
package's names).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
# Cycles left to the other parts (the sources/formats and web packages are being untangled beside this
# one); each entry is one strongly connected component as it stands. Empty this once they land.
ELSEWHERE = {
    frozenset({"tieout.sources.formats", "tieout.sources.formats.chargebee", "tieout.sources.formats.hubspot",
               "tieout.sources.formats.salesforce", "tieout.sources.formats.stripe", "tieout.sources.formats.zuora"}),
    frozenset({"tieout.web.flow", "tieout.web.pages"}),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in (SRC / "tieout").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            walk(child)

    walk(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the tieout modules it imports (`from pkg import name` is pkg.name when that is a module)."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                found = known(target) if target.startswith("tieout") else None
                if found is not None and found != module:
                    graph[module].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(frozenset(component))
    return out


def test_the_walker_finds_a_cycle_through_a_function_level_import() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_imports() -> None:
    # store.migrations reads exports only for a store from before source history: imported inside a function.
    assert "tieout.ingest" in import_graph()["tieout.store.migrations"]


def test_no_import_cycle() -> None:
    found = [sorted(c) for c in cycles(import_graph()) if c not in ELSEWHERE]
    assert found == []


def test_nothing_below_the_cli_imports_the_pipeline() -> None:
    graph = import_graph()
    importers = sorted(m for m, targets in graph.items() if "tieout.run" in targets and not m.startswith("tieout.cli"))
    assert importers == []
