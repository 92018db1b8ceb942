"""A copy of the project a test may edit as a user would: template, definitions, functions."""

from __future__ import annotations

import shutil
from pathlib import Path

from training_job.stack import PROJECT_ROOT


def project_copy(tmp_path: Path) -> Path:
    """template.yaml with its definitions and functions, in a folder the test may edit."""
    for folder in ("functions", "statemachine"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder)
    shutil.copy(PROJECT_ROOT / "template.yaml", tmp_path / "template.yaml")
    return tmp_path / "template.yaml"


def edit_template(template: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` (it must be there: the edit cannot miss)."""
    text = template.read_text()
    assert text.count(old) == 1, f"expected exactly one {old!r} in the template"
    template.write_text(text.replace(old, new))
