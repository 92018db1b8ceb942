"""Image bytes to the 32x32 RGB arrays the local model reads."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from mlwf.offline.local_model.errors import UnsupportedImage

IMAGE_SIZE = 32

# Far above any photo worth classifying at 32x32; refuses decompression bombs cheaply.
_MAX_PIXELS = 50_000_000


def decode_image(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes -> 32x32x3 uint8 RGB (resized if needed); UnsupportedImage otherwise."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UnsupportedImage(f"expected image bytes, got {type(data).__name__}")
    if not data:
        raise UnsupportedImage("the image is empty")
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as opened:
            image: Image.Image = opened
            if image.width * image.height > _MAX_PIXELS:
                raise UnsupportedImage(f"the image is too large ({image.width}x{image.height})")
            if image.format == "JPEG":
                image.draft("RGB", (IMAGE_SIZE, IMAGE_SIZE))  # let libjpeg downscale big photos
            image.load()
            if image.mode in ("I;16", "I"):  # 16-bit grey: convert("RGB") would clip it
                image = image.point(lambda v: v / 256).convert("L")
            image = image.convert("RGB")
            if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC)
            return np.asarray(image, dtype=np.uint8)
    except UnsupportedImage:
        raise
    except UnidentifiedImageError:
        raise UnsupportedImage("the bytes are not a PNG or JPEG image") from None
    except Image.DecompressionBombError as exc:
        raise UnsupportedImage(f"the image is too large: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise UnsupportedImage(f"the image cannot be decoded: {exc}") from None


def decode_all(images: Sequence[bytes], what: str) -> np.ndarray:
    if isinstance(images, bytes | bytearray | memoryview | str):
        raise TypeError(
            f"{what}: expected a sequence of images, not a single {type(images).__name__}"
        )
    decoded = []
    for index, data in enumerate(images):
        try:
            decoded.append(decode_image(data))
        except UnsupportedImage as exc:
            raise UnsupportedImage(f"{what} {index}: {exc}") from None
    if not decoded:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    return np.stack(decoded)
