"""A stand-in for a SageMaker endpoint, answered through the offline bridge."""

from __future__ import annotations

from typing import Any


class FakeEndpoint:
    """Answers InvokeEndpoint with a fixed body and records what it was sent."""

    def __init__(self, body: bytes = b"[0.97, 0.03]"):
        self.body = body
        self.calls: list[dict[str, Any]] = []

    def __call__(self, body: bytes, content_type: str, params: dict) -> tuple[bytes, str]:
        self.calls.append({"body": body, "content_type": content_type, **params})
        if isinstance(self.body, Exception):
            raise self.body
        return self.body, "application/json"
