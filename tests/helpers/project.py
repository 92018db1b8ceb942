"""A copy of the project a test may edit as a user would: template, definitions, functions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def edit_definition(tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """A project copy whose statemachine/`name` the user has edited (`edit` changes the
    parsed definition in place, or returns a new one): the copy's template.yaml."""
    template = project_copy(tmp_path)
    path = tmp_path / "statemachine" / name
    definition = json.loads(path.read_text())
    edited = edit(definition)
    path.write_text(json.dumps(definition if edited is None else edited, indent=2))
    return template


def load_refusal(template: Path, **load: Any) -> str:
    """What reading `template` (with load_template's `load` arguments) is refused with, as
    the offline stack reads it before anything starts (it must be refused)."""
    from mlwf.offline.template import load_template
    from training_job.errors import MlwfError

    try:
        load_template(template, **load)
    except MlwfError as exc:
        return str(exc)
    raise AssertionError(f"{template} was read without a refusal")


def refusal(template: Path, **start: Any) -> str:
    """What starting an offline stack on `template` (with OfflineStack.start's `start`
    arguments) is refused with (it must be refused)."""
    from mlwf.offline.runtime import OfflineStack
    from training_job.errors import MlwfError

    try:
        with OfflineStack.start(template, say=lambda _: None, **start):
            pass
    except MlwfError as exc:
        return str(exc)
    raise AssertionError(f"the stack started on {template}")
