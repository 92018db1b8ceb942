"""The local model's errors."""

from __future__ import annotations


class LocalModelError(Exception):
    """The local model cannot train, load or answer; the message says why."""


class UnsupportedImage(LocalModelError):
    """The bytes are not a decodable PNG/JPEG image, or the content type is not an image."""
