"""Small seeded synthetic vehicle images for training and testing the local model.

"Bicycles" are thin dark rings on a light background, "motorcycles" a saturated filled block
with thick tyres: easy to tell apart, so a model trained on a few dozen of them must.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def draw(label: int, rng: np.random.Generator) -> np.ndarray:
    """One 32x32 RGB image of the given class, position and colours random."""
    yy, xx = np.mgrid[0:32, 0:32]
    image = np.empty((32, 32, 3))
    image[:] = rng.uniform(150, 230, 3)  # light background
    dx, dy = rng.integers(-3, 4, 2)
    wheels = ((9 + dx, 20 + dy), (23 + dx, 20 + dy))
    if label == 0:  # thin dark rings and a thin frame line
        for cx, cy in wheels:
            ring = np.abs(np.hypot(xx - cx, yy - cy) - 6) < 0.9
            image[ring] = rng.uniform(0, 50, 3)
        frame = (np.abs(yy - (14 + dy)) < 0.7) & (xx > 9 + dx) & (xx < 23 + dx)
        image[frame] = rng.uniform(0, 60, 3)
    else:  # thick small tyres and a saturated body block
        for cx, cy in wheels:
            image[np.hypot(xx - cx, yy - cy) < 4.5] = rng.uniform(0, 40, 3)
        body = (np.abs(xx - (16 + dx)) < 8) & (np.abs(yy - (14 + dy)) < 4)
        image[body] = [rng.uniform(180, 255), rng.uniform(0, 40), rng.uniform(0, 60)]
    image += rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def encode(array: np.ndarray, fmt: str = "PNG", mode: str | None = None) -> bytes:
    image = Image.fromarray(array)
    if mode:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def dataset(per_class: int, seed: int) -> tuple[list[bytes], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1], per_class)
    return [encode(draw(int(label), rng)) for label in labels], labels
