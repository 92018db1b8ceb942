"""No import cycle among the workstation packages (mlwf/, training_job/), lazy imports
inside functions and type-only imports included: a cycle there is still a design knot,
just one that happens not to fail at import time."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers.paths import PROJECT_ROOT

PACKAGES = ("mlwf", "training_job")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PROJECT_ROOT) -> dict[str, set[str]]:
    """module -> the project modules it imports, anywhere in its body. `from a import b`
    counts as importing a.b when a.b is a module, else a."""
    files = [p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))]
    modules = {module_name(p, root): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = name.split(".")
                    anchor = anchor if is_package else anchor[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(step) == 1:
                return [*path[path.index(step) :], step]
            elif not state.get(step):
                state[step] = 1
                path.append(step)
                stack.append(iter(sorted(graph[step])))
    return None


def test_the_workstation_packages_have_no_import_cycle():
    graph = import_graph()
    assert "mlwf.monitor" in graph and "training_job.stage" in graph  # the walk saw the tree
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_check_finds_a_cycle(tmp_path):
    # Given a tree where a -> b (lazily, in a function) -> c (type-only) -> a
    package = tmp_path / "mlwf"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from mlwf import b\n")
    (package / "b.py").write_text("def f():\n    from mlwf.c import X\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import Y\n"
    )
    (tmp_path / "training_job").mkdir()
    assert find_cycle(import_graph(tmp_path)) == ["mlwf.a", "mlwf.b", "mlwf.c", "mlwf.a"]
