"""A seeded generator of CIFAR-format 32x32 RGB images of bicycles and motorcycles, for
offline use and tests (`mlwf stage --source synthetic`).

Every image is a side view drawn with anti-aliased distance fields on a random background:

- bicycle (label 0): large thin dark wheels, a thin diamond frame in a light palette;
- motorcycle (label 1): smaller thick tyres with a hub, a thick frame, a solid body blob in
  a saturated palette, a dark seat and a headlight.

One continuous "class mix" drives every class feature (0 = pure bicycle, 1 = pure
motorcycle): clear bicycles draw it from [0, 0.15], clear motorcycles from [0.85, 1]. A
deliberate share of each class (`AMBIGUOUS_FRACTION`, exactly rounded per class) draws it
from [0.4, 0.6] whatever its label (about half of those also get a big occluder, the rest
heavy noise). These images are genuinely ambiguous (no classifier beats chance on them): a model
trained on this data is confident on most images and unsure on the rest, which is what the
workflow's confidence filter needs to show both outcomes. Position, scale, tilt, facing,
colours, background and noise are random for both classes.

Public API:

- `generate(count_per_class, seed=0, split="train", ambiguous_fraction=AMBIGUOUS_FRACTION)
  -> SyntheticImages`: images (N x 32 x 32 x 3 uint8), labels (N,), ambiguous (N,) bool,
  mix (N,) float, shuffled; N = 2 * count_per_class.
- `generate_split(split, count_per_class=None, seed=0) -> (images, labels)`: the same
  without the extra arrays; the count defaults to `DEFAULT_COUNTS[split]`.

The same (seed, split, count, fraction) always gives the same bytes; train and test use
independent random streams, so the test images are never copies of training images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIZE = 32
DEFAULT_COUNTS = {"train": 300, "test": 50}
AMBIGUOUS_FRACTION = 0.18
CLEAR_MIX = ((0.0, 0.15), (0.85, 1.0))  # class mix range of the clear images of each label
AMBIGUOUS_MIX = (0.4, 0.6)
_SPLIT_STREAM = {"train": 0, "test": 1, "validation": 2}
_CHUNK = 256  # images rendered at once: working arrays stay small and cache-friendly

# Light, thin-frame colours for bicycles; saturated body colours for motorcycles (RGB).
_FRAME_PALETTE = np.array(
    [
        [60, 130, 220],
        [60, 180, 110],
        [200, 200, 215],
        [235, 140, 180],
        [110, 210, 220],
        [235, 225, 90],
        [170, 120, 220],
        [240, 240, 240],
    ],
    dtype=np.float32,
)
_BODY_PALETTE = np.array(
    [
        [200, 25, 25],
        [235, 110, 15],
        [25, 25, 30],
        [20, 40, 150],
        [225, 190, 15],
        [25, 120, 45],
        [120, 15, 30],
    ],
    dtype=np.float32,
)

# Frame joints in wheelbase units (u forward, v up): rear hub, crank, seat, head tube, front
# hub, saddle ends, handlebar.
_REAR, _CRANK, _SEAT, _HEAD, _FRONT = (-1.0, 0.0), (0.0, 0.0), (-0.38, 1.0), (0.6, 0.95), (1.0, 0.0)
_SADDLE = ((-0.55, 1.12), (-0.22, 1.12))
_BAR = (0.5, 1.3)
_SEGMENTS = (
    (_REAR, _SEAT),
    (_REAR, _CRANK),
    (_CRANK, _SEAT),
    (_SEAT, _HEAD),
    (_CRANK, _HEAD),
    (_HEAD, _FRONT),
    (_HEAD, _BAR),
    _SADDLE,
)


@dataclass(frozen=True)
class SyntheticImages:
    images: np.ndarray  # (N, 32, 32, 3) uint8
    labels: np.ndarray  # (N,) int64: 0 bicycle, 1 motorcycle
    ambiguous: np.ndarray  # (N,) bool: drawn deliberately between the two classes
    mix: np.ndarray  # (N,) float32: the class mix each image was drawn with


def generate(
    count_per_class: int,
    seed: int = 0,
    split: str = "train",
    ambiguous_fraction: float = AMBIGUOUS_FRACTION,
) -> SyntheticImages:
    """`count_per_class` images of each class, shuffled, deterministic in all arguments."""
    if count_per_class < 0:
        raise ValueError(f"count_per_class must be >= 0, got {count_per_class}")
    if not 0.0 <= ambiguous_fraction <= 1.0:
        raise ValueError(f"ambiguous_fraction must be in [0, 1], got {ambiguous_fraction}")
    if split not in _SPLIT_STREAM:
        raise ValueError(f"split must be one of {sorted(_SPLIT_STREAM)}, got {split!r}")
    rng = np.random.default_rng([int(seed), _SPLIT_STREAM[split]])
    n = 2 * count_per_class
    labels = np.repeat(np.arange(2, dtype=np.int64), count_per_class)
    ambiguous = np.zeros(n, dtype=bool)
    n_ambiguous = round(ambiguous_fraction * count_per_class)
    for label in (0, 1):
        chosen = rng.choice(count_per_class, size=n_ambiguous, replace=False)
        ambiguous[label * count_per_class + chosen] = True
    order = rng.permutation(n)
    labels, ambiguous = labels[order], ambiguous[order]

    low = np.where(labels == 0, CLEAR_MIX[0][0], CLEAR_MIX[1][0])
    high = np.where(labels == 0, CLEAR_MIX[0][1], CLEAR_MIX[1][1])
    low = np.where(ambiguous, AMBIGUOUS_MIX[0], low)
    high = np.where(ambiguous, AMBIGUOUS_MIX[1], high)
    mix = (low + (high - low) * rng.random(n)).astype(np.float32)

    images = np.empty((n, SIZE, SIZE, 3), dtype=np.uint8)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        images[start:stop] = _render(mix[start:stop], ambiguous[start:stop], rng)
    return SyntheticImages(images=images, labels=labels, ambiguous=ambiguous, mix=mix)


def generate_split(
    split: str, count_per_class: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(images N x 32 x 32 x 3 uint8, labels N) of one split, `DEFAULT_COUNTS` by default."""
    count = DEFAULT_COUNTS.get(split, DEFAULT_COUNTS["test"])
    result = generate(count if count_per_class is None else count_per_class, seed, split)
    return result.images, result.labels


def _render(mix: np.ndarray, ambiguous: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one chunk of images; every random draw is vectorised over the chunk."""
    n = len(mix)

    def uniform(low: float, high: float, size: int | tuple[int, ...]) -> np.ndarray:
        return rng.uniform(low, high, size).astype(np.float32)

    def col(values: np.ndarray) -> np.ndarray:  # per-image scalar -> broadcastable (n, 1, 1)
        return values.astype(np.float32)[:, None, None]

    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5
    xs, ys = xs[None], ys[None]

    # Geometry: scale, position, facing, tilt, wheelbase, wheel and line sizes.
    scale = uniform(0.8, 1.15, n)
    half_base = scale * (8.6 - 0.8 * mix)
    height = half_base * 0.8
    cx = 16.0 + uniform(-3.0, 3.0, n)
    cy = uniform(18.5, 22.5, n)
    facing = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), n)
    tilt = uniform(-0.12, 0.12, n)
    cos_t, sin_t = np.cos(tilt), np.sin(tilt)

    def to_image(u: float, v: float) -> tuple[np.ndarray, np.ndarray]:
        du, dv = facing * u * half_base, -v * height  # image y grows downwards
        return cx + du * cos_t - dv * sin_t, cy + du * sin_t + dv * cos_t

    radius = scale * (5.9 - 1.0 * mix)
    tyre = scale * (0.5 + 1.45 * mix)  # half thickness of the tyre ring
    line = scale * (0.42 + 0.75 * mix)  # half thickness of frame tubes
    body_alpha = np.clip((mix - 0.3) / 0.5, 0.0, 1.0)

    # Colours.
    top = uniform(110, 235, (n, 3)) * np.array([0.85, 0.92, 1.0], dtype=np.float32)
    bottom = uniform(50, 190, (n, 3)) * np.array([0.95, 1.0, 0.85], dtype=np.float32)
    horizon = uniform(12, 26, n)
    wheel_rgb = uniform(8, 60, (n, 1)) + uniform(-6, 6, (n, 3))
    frame_rgb = _FRAME_PALETTE[rng.integers(len(_FRAME_PALETTE), size=n)] + uniform(-20, 20, (n, 3))
    body_rgb = _BODY_PALETTE[rng.integers(len(_BODY_PALETTE), size=n)] + uniform(-20, 20, (n, 3))
    frame_rgb = (frame_rgb * (1 - mix[:, None]) + body_rgb * mix[:, None]).astype(np.float32)
    body_rgb = body_rgb.astype(np.float32)
    hub_rgb = np.repeat(uniform(140, 200, (n, 1)), 3, axis=1) * (1 - 0.2 * mix[:, None])

    # Background: sky/ground blend around a random horizon, plus a faint random ripple.
    t = np.clip((ys - col(horizon)) / 6.0 + 0.5, 0.0, 1.0)[..., None]
    image = top[:, None, None, :] + t * (bottom - top)[:, None, None, :]
    ripple = np.sin(xs * col(uniform(0.1, 0.5, n)) + ys * col(uniform(0.1, 0.5, n)))
    image += (ripple * col(uniform(0, 12, n)))[..., None]

    def paint(coverage: np.ndarray, rgb: np.ndarray, rows: np.ndarray | None = None) -> None:
        """Alpha-blend a per-image colour over `image` (or over its `rows` only) in place;
        `coverage` is clipped to [0, 1]."""
        alpha = np.clip(coverage, 0.0, 1.0, out=coverage)[..., None]
        if rows is None:
            image[...] += alpha * (rgb[:, None, None, :] - image)
        else:
            part = image[rows]
            part += alpha * (rgb[rows][:, None, None, :] - part)
            image[rows] = part

    # Frame tubes.
    nearest = np.full((n, SIZE, SIZE), np.inf, dtype=np.float32)  # squared distance
    for start, end in _SEGMENTS:
        ax, ay = to_image(*start)
        bx, by = to_image(*end)
        distance2 = _segment_distance2(xs, ys, col(ax), col(ay), col(bx), col(by))
        np.minimum(nearest, distance2, out=nearest)
    paint(col(line) + 0.5 - np.sqrt(nearest), frame_rgb)

    # Motorcycle body (tank and engine), seat and headlight, fading in with the class mix;
    # drawn only on the images that have some.
    rows = np.flatnonzero(body_alpha > 0)
    if rows.size:

        def sub(values: np.ndarray) -> np.ndarray:
            return col(values[rows])

        alpha, tilt_rows = sub(body_alpha), tilt[rows]
        bx, by = to_image(0.02, 0.62)
        a, b = sub(half_base * 0.78), sub(height * 0.42)
        paint(_ellipse(xs, ys, sub(bx), sub(by), a, b, tilt_rows) * alpha, body_rgb, rows)
        sx, sy = to_image(-0.5, 1.0)
        a, b = sub(half_base * 0.36), sub(height * 0.16)
        paint(_ellipse(xs, ys, sub(sx), sub(sy), a, b, tilt_rows) * alpha, wheel_rgb, rows)
        lx, ly = to_image(0.78, 0.88)
        light = sub(scale) + 0.5 - np.hypot(xs - sub(lx), ys - sub(ly))
        paint(light * alpha, np.full((n, 3), 245.0, dtype=np.float32), rows)

    # Wheels: a ring of outer radius `radius` and half thickness `tyre`, and a hub.
    rings, hubs = [], []
    for u in (-1.0, 1.0):
        wx, wy = to_image(u, 0.0)
        distance = np.hypot(xs - col(wx), ys - col(wy))
        rings.append(col(tyre) + 0.5 - np.abs(distance - col(radius - tyre)))
        hubs.append(col(scale * (0.6 + 0.9 * mix)) + 0.5 - distance)
    paint(np.maximum(*rings), wheel_rgb)
    paint(np.maximum(*hubs), hub_rgb)

    # Ambiguous images: half get a big occluder over the middle of the vehicle.
    occluded = ambiguous & (rng.random(n) < 0.5)
    ox = cx + uniform(-4, 4, n)
    oy = cy - height * 0.5 + uniform(-3, 3, n)
    half_w, half_h = uniform(5, 9, n), uniform(4, 7, n)
    occluder_rgb = uniform(30, 220, (n, 3))
    rows = np.flatnonzero(occluded)
    if rows.size:
        box = np.minimum(
            col(half_w[rows]) - np.abs(xs - col(ox[rows])),
            col(half_h[rows]) - np.abs(ys - col(oy[rows])),
        )
        paint(box + 0.5, occluder_rgb, rows)

    # Lighting and sensor noise; noisy ambiguous images get much more of it.
    image *= uniform(0.8, 1.15, n)[:, None, None, None]
    sigma = np.where(ambiguous & ~occluded, uniform(14, 24, n), uniform(2, 8, n))
    image += rng.standard_normal(image.shape, dtype=np.float32) * col(sigma)[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _segment_distance2(xs, ys, ax, ay, bx, by) -> np.ndarray:
    """Squared distance from each pixel centre to the segment a-b (all arrays broadcast)."""
    dx, dy = bx - ax, by - ay
    px, py = xs - ax, ys - ay
    t = np.clip((px * dx + py * dy) / np.maximum(dx * dx + dy * dy, 1e-6), 0.0, 1.0)
    px -= t * dx
    py -= t * dy
    return px * px + py * py


def _ellipse(xs, ys, cx, cy, a, b, tilt) -> np.ndarray:
    """Anti-aliased coverage of a filled ellipse with semi-axes a, b tilted by `tilt`."""
    cos_t = np.cos(tilt).astype(np.float32)[:, None, None]
    sin_t = np.sin(tilt).astype(np.float32)[:, None, None]
    px, py = xs - cx, ys - cy
    u = px * cos_t + py * sin_t
    v = -px * sin_t + py * cos_t
    radial = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    return np.clip(0.5 - (radial - 1.0) * np.minimum(a, b), 0.0, 1.0)
