"""No two graphbench modules import each other, directly or through others (issue 21).

The check reads every module's source (no import runs) and follows every ``import`` statement, those inside
functions included: a lazy import is still a dependency, and a cycle of lazy imports is the kind that breaks
when someone moves one of them to the top of the file. Edges from a package to its own submodules are the
import system's, not the code's, and are not followed beyond what the package's ``__init__`` itself imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import graphbench

ROOT = Path(graphbench.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ("graphbench", *path.relative_to(ROOT).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the graphbench modules its source imports (anywhere in the file)."""
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            edges[name].update(t for t in targets if t in mods and t != name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_two_module_cycle_and_a_longer_one():
    edges = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(cycles(edges)) == [["a", "b"], ["c", "d", "e"]]


def test_the_graph_sees_lazy_imports():
    edges = import_graph()
    # graphbench.sweep.launch imports the runner only inside a function
    assert "graphbench.sweep.runner" in edges["graphbench.sweep.launch"]
    assert "graphbench.report.html" in edges["graphbench.report.expressiveness"]


def test_no_import_cycles_in_graphbench():
    assert cycles(import_graph()) == []


def test_formerly_cyclic_pairs_import_one_way():
    edges = import_graph()
    assert "graphbench.sweep.runner" not in edges["graphbench.sweep.queue"]
    assert "graphbench.report.build" not in edges["graphbench.report.expressiveness"]
