"""`LocalModel`, what the offline endpoint serves, and `train`, which makes one."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlwf.offline.local_model.artifact import (
    ARTIFACT_FORMAT,
    ARTIFACT_VERSION,
    read_artifact,
    write_artifact,
)
from mlwf.offline.local_model.ensemble import (
    DEFAULT_HYPERPARAMETERS,
    _Ensemble,
    fit_ensemble,
    parse_hyperparameters,
)
from mlwf.offline.local_model.errors import LocalModelError, UnsupportedImage
from mlwf.offline.local_model.images import IMAGE_SIZE, decode_all, decode_image
from mlwf.offline.local_model.inference import CompiledEnsemble
from mlwf.offline.local_model.threads import OneThread
from training_job.dataset.classes import CLASS_NAMES

CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "application/x-image"})


class LocalModel:
    """A trained local model: what the offline endpoint serves."""

    classes: tuple[str, str] = CLASS_NAMES

    def __init__(self, ensemble: _Ensemble, metadata: Mapping[str, Any]) -> None:
        self._ensemble = ensemble
        self._compiled = CompiledEnsemble(ensemble)
        self._metadata = dict(metadata)

    @property
    def metadata(self) -> dict[str, Any]:
        """Version, classes, hyperparameters and training metrics (a copy)."""
        return json.loads(json.dumps(self._metadata))

    def predict_proba(self, images: Sequence[bytes]) -> np.ndarray:
        """Probabilities of (bicycle, motorcycle) for each image: shape (n, 2), rows sum to 1."""
        return self._compiled.predict_proba(decode_all(images, "image"))

    def invoke(self, body: bytes, content_type: str) -> bytes:
        """The endpoint: one image in, b"[p_bicycle, p_motorcycle]" (JSON) out."""
        kind = (content_type or "").split(";")[0].strip().lower()
        if kind not in CONTENT_TYPES:
            raise UnsupportedImage(
                f"content type {content_type!r} is not supported; "
                f"use one of {', '.join(sorted(CONTENT_TYPES))}"
            )
        probabilities = self._compiled.predict_proba(decode_image(body)[None])[0]
        return json.dumps([float(p) for p in probabilities]).encode()

    def to_artifact(self) -> bytes:
        """The model as a gzipped tarball: model.pkl plus metadata.json."""
        return write_artifact(self._ensemble, self._metadata)

    @classmethod
    def from_artifact(cls, data: bytes) -> LocalModel:
        """Load a model written by to_artifact; LocalModelError if it is not one."""
        return cls(*read_artifact(data))


def train(
    images: Sequence[bytes],
    labels: Sequence[int],
    *,
    hyperparameters: Mapping[str, str] | None = None,
    seed: int = 0,
) -> LocalModel:
    """Train on PNG/JPEG images with labels 0 (bicycle) / 1 (motorcycle).

    `hyperparameters` may hold the real algorithm's (recorded, ignored) and the local model's
    own `local_*` overrides of DEFAULT_HYPERPARAMETERS. Every random choice follows `seed`.
    """
    started = time.perf_counter()
    hp = parse_hyperparameters(hyperparameters)
    if isinstance(labels, bytes | str):
        raise TypeError("labels: expected a sequence of 0/1 labels")
    raw_labels = list(labels)
    if len(raw_labels) != len(images):
        raise LocalModelError(f"{len(images)} images but {len(raw_labels)} labels")
    if not raw_labels:
        raise LocalModelError("no training images")
    bad = [label for label in raw_labels if label not in (0, 1) or isinstance(label, float)]
    if bad:
        raise LocalModelError(f"labels must be 0 (bicycle) or 1 (motorcycle), got {bad[0]!r}")
    y = np.asarray(raw_labels, dtype=np.int64)
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        missing = CLASS_NAMES[int(counts.argmin())]
        raise LocalModelError(f"the training data has no {missing} images: need both classes")
    if counts.min() < 2:
        raise LocalModelError(
            f"need at least 2 images of each class, got {counts[0]} bicycle(s) and "
            f"{counts[1]} motorcycle(s)"
        )
    x = decode_all(images, "training image")
    with OneThread():
        ensemble, metrics = fit_ensemble(x, y, hp, seed)
    metrics["train_seconds"] = round(time.perf_counter() - started, 2)
    metrics["num_images"] = {CLASS_NAMES[0]: int(counts[0]), CLASS_NAMES[1]: int(counts[1])}
    given = {str(k): str(v) for k, v in (hyperparameters or {}).items()}
    metadata = {
        "format": ARTIFACT_FORMAT,
        "version": ARTIFACT_VERSION,
        "classes": list(CLASS_NAMES),
        "image_shape": [3, IMAGE_SIZE, IMAGE_SIZE],
        "seed": seed,
        "hyperparameters": {**DEFAULT_HYPERPARAMETERS, **given},
        "metrics": metrics,
        "libraries": _library_versions(),
    }
    return LocalModel(ensemble, metadata)


def _library_versions() -> dict[str, str]:
    import PIL
    import skimage
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "scikit-image": skimage.__version__,  # type: ignore[attr-defined]  # lazily set, unstubbed
        "pillow": PIL.__version__,
    }
