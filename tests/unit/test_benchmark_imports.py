"""The benchmarks import names from the project, often inside functions that only a full
benchmark run reaches (MiniStack's takes minutes and PyPI). Each such import must resolve,
so that moving a name breaks this test, not the next benchmark run: it once did
(register_stack left mlwf/offline_up.py, benchmarks/ministack_compare.py still imported it)."""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.helpers.paths import PROJECT_ROOT

PROJECT_PACKAGES = ("mlwf", "training_job", "tests")
BENCHMARKS = sorted((PROJECT_ROOT / "benchmarks").glob("*.py"))


def project_imports(source: str) -> list[tuple[str, str | None]]:
    """(module, name) for each `from <project module> import name` and `import <module>`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in PROJECT_PACKAGES:
                found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [
                (alias.name, None)
                for alias in node.names
                if alias.name.split(".")[0] in PROJECT_PACKAGES
            ]
    return found


def test_the_benchmarks_are_found():
    assert len(BENCHMARKS) >= 5, BENCHMARKS


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda path: path.name)
def test_every_project_name_a_benchmark_imports_exists(script):
    for module_name, name in project_imports(script.read_text()):
        module = importlib.import_module(module_name)
        if name is not None and not hasattr(module, name):
            importlib.import_module(f"{module_name}.{name}")  # a submodule, else ImportError
