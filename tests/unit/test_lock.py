"""requirements/*lock.txt: the whole resolved dependency set `make` installs against.

A pin changed in pyproject.toml (or requirements/checkov.txt) without `make lock` leaves a
lock that no longer holds it: .venv would then fail to build, or build from the old set.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers.paths import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements"
LOCK_LINE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?:\s*;.*)?$")


def locked(path: Path) -> dict[str, str]:
    """name -> version for every package line of a lock (comments and `# via` skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = LOCK_LINE.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        pins[canonicalize_name(match["name"])] = match["version"]
    return pins


def direct_pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for text in requirements:
        requirement = Requirement(text)
        (specifier,) = requirement.specifier  # every direct dependency is an exact pin
        assert specifier.operator == "==", text
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def project_requirements() -> list[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["dev"]


def requirement_lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("lock.txt", project_requirements),
        ("checkov-lock.txt", lambda: requirement_lines(REQUIREMENTS / "checkov.txt")),
    ],
    ids=["project", "checkov"],
)
def test_the_lock_holds_every_direct_pin(lock, requirements):
    pins = locked(REQUIREMENTS / lock)
    for name, version in direct_pins(requirements()).items():
        assert pins.get(name) == version, (
            f"{name}=={version} is pinned but requirements/{lock} has {pins.get(name)}: "
            "run `make lock`"
        )


def test_the_lock_pins_what_the_direct_dependencies_pull_in():
    # Not only the direct pins: moto's Flask, botocore and numpy are in it too.
    pins = locked(REQUIREMENTS / "lock.txt")
    assert {"botocore", "flask", "werkzeug", "numpy", "aws-xray-sdk"} <= set(pins)
    assert len(pins) > len(direct_pins(project_requirements()))


def test_make_installs_against_the_locks():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert "pip install --quiet -c $(LOCK) uv" in makefile  # uv itself at its locked version
    assert '--python $(BIN)/python -c $(LOCK) -e ".[dev]"' in makefile
    assert "-c $(CHECKOV_LOCK) -r requirements/checkov.txt" in makefile
