"""The events/ files, as `sam local invoke -e` takes them."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.helpers.paths import EVENTS_DIR


def load_event(name: str) -> dict[str, Any]:
    """An event from events/, the same file `sam local invoke -e` takes."""
    return json.loads((EVENTS_DIR / name).read_text())


def sample_png() -> bytes:
    """The PNG that events/classify_image.json carries."""
    return base64.b64decode(load_event("classify_image.json")["image_data"])
