"""Where the tests find the project, its events and the shared real data, and the region."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = PROJECT_ROOT / "events"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
REGION = "us-east-1"


def shared_dir(*parts: str) -> Path:
    """A folder of ../shared/data, or a clean skip when this checkout has none."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"real data not available at {path}")
    return path
