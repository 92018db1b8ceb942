"""Where tests live: shared helpers in tests/helpers, imported by test modules but never from
one; whole offline stacks only in tests/offline, every module there marked `offline` (so
that `make test-fast` can leave them out by marker)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.paths import PROJECT_ROOT

TESTS = PROJECT_ROOT / "tests"
TEST_FOLDERS = ("unit", "offline", "preflight", "integration")


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def python_files(folder: str) -> list[Path]:
    return sorted((TESTS / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", ["helpers", *TEST_FOLDERS])
def test_nothing_imports_from_a_test_module_or_a_conftest(folder):
    forbidden = tuple(f"tests.{name}" for name in TEST_FOLDERS) + ("tests.conftest",)
    for path in python_files(folder):
        wrong = sorted(m for m in imported_modules(path) if m.startswith(forbidden))
        assert not wrong, f"{path.relative_to(PROJECT_ROOT)} imports {wrong}: use tests/helpers"


def test_unit_tests_start_no_offline_stack():
    for path in python_files("unit"):
        names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
        assert "OfflineStack" not in names, f"{path.name} starts a stack: tests/offline"
        assert "mlwf.offline.runtime" not in imported_modules(path), path.name


def test_every_offline_module_is_marked_offline():
    for path in python_files("offline"):
        if path.name.startswith("test_"):
            assert "pytestmark = pytest.mark.offline" in path.read_text(), path.name
