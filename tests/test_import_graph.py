"""The import graph of `src/tieout`, read from the source with `ast` rather than by importing it: a cycle that only
closes inside a function (an import written there to dodge the cycle at load time) is still a cycle between two
modules that each need the other, so every `import` and `from ... import` counts, at any depth (but not one under
`if TYPE_CHECKING:`, which never runs).

An edge is a module of tieout naming another: `import tieout.a.b` names `tieout.a.b`; `from tieout.a import b`
names the module `tieout.a.b` when there is one, else the package `tieout.a` (a name defined in its `__init__`).
Relative imports are resolved against the importing module's package (so `from . import b` inside `tieout.a`
names `tieout.a` too). Importing `tieout.a.b` also runs `tieout/a/__init__.py`, but that alone is no edge:
otherwise every package whose __init__ imports one of its modules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "tieout"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / ROOT).rglob("*.py"))}


def imported(name: str, path: Path) -> Iterator[str]:
    """Every module of tieout that `name` (read from `path`) imports, in the order written."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    # Imports under `if TYPE_CHECKING:` are read by type checkers only: they never run.
    typing_only = {id(n) for top in ast.walk(tree)
                   if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test) for n in ast.walk(top)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from . import x` in a package's __init__ is relative to the package itself.
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - (node.level - 1)])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            # The module named after `from` is imported (its code runs first) even when what is taken from it
            # is one of its own modules.
            yield source
            for alias in node.names:
                if f"{source}.{alias.name}" in modules():
                    yield f"{source}.{alias.name}"


@cache
def graph() -> dict[str, frozenset[str]]:
    return {
        name: frozenset(target for target in imported(name, path) if target in modules() and target != name)
        for name, path in modules().items()
    }


def cycles(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative so that a deep
    chain of imports cannot reach Python's recursion limit), each sorted, in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def describe(component: list[str], edges: dict[str, frozenset[str]]) -> str:
    """A component with the imports that close it, so the failure says which lines to change."""
    members = set(component)
    links = [f"    {source} -> {target}" for source in component for target in sorted(edges[source] & members)]
    return " <-> ".join(component) + "\n" + "\n".join(links)


def test_the_graph_is_read() -> None:
    # Guards the walker itself: a graph with no edges would have no cycles either.
    edges = graph()
    assert "tieout.cli" in edges and "tieout.run" in edges
    assert "tieout.run" in edges["tieout.cli.run"]
    # `from tieout.sources import convert` names the module, not the package.
    assert "tieout.sources.convert" in edges["tieout.sources.formats.stripe"]


def test_the_cycle_finder() -> None:
    edges = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a", "d"}),
        "d": frozenset({"e"}),
        "e": frozenset({"d"}),
        "f": frozenset({"a"}),
    }
    assert cycles(edges) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


# The packages this branch made acyclic, checked while the whole-graph test below still waits for the other
# branches: a package whose __init__ imports its modules is imported by none of them (they import each other by
# their own paths), and two modules that need each other share a third instead.
def test_no_import_cycles() -> None:
    edges = graph()
    found = cycles(edges)
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(describe(c, edges) for c in found)


def test_only_the_cli_imports_run() -> None:
    # run.py is the command's orchestration; everything below the CLI (and the Python API, the other front door:
    # `tieout.run_day`) is what it orchestrates.
    allowed = ("tieout.cli", "tieout.__main__", "tieout.api")
    importers = sorted(
        name
        for name, targets in graph().items()
        if "tieout.run" in targets and not any(name == a or name.startswith(a + ".") for a in allowed)
    )
    assert not importers, f"imports tieout.run from outside the CLI: {importers}"


def test_loading_a_renderer_keeps_the_render_function() -> None:
    """`tieout.reports.render` is a function and a package of renderers: the web loads one renderer
    (`tieout.reports.render.xlsx`) directly, and the name must stay the function for every later importer."""
    import subprocess
    import sys

    code = ("import tieout.reports; import tieout.reports.render.xlsx; "
            "from tieout.reports import render; assert callable(render), render")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
