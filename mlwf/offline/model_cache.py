"""The trained local models, cached by what determines them.

Training the local model takes seconds to tens of seconds, and `mlwf invoke`, `mlwf demo`
and `mlwf offline up` train on the same seeded data again and again. A model is a pure
function of its training and validation images and labels, its hyperparameters, its seed
and the local model's code, so it is cached under a digest of all of these (the images by
their S3 ETags), in `$MLWF_MODEL_CACHE_DIR` (default ~/.cache/mlwf/models, beside the
CIFAR-100 download). A change to any of them trains anew. Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training_job.cache_files import write_whole
from training_job.cifar import default_cache_dir

LOCAL_MODEL_CODE = Path(__file__).resolve().parent  # local_model.py or local_model/


@dataclass(frozen=True)
class CachedModel:
    artifact: bytes  # model.tar.gz, as the trainer writes it to S3
    validation_accuracy: float | None
    validation_count: int
    path: Path


def cache_dir() -> Path:
    configured = os.environ.get("MLWF_MODEL_CACHE_DIR")
    return Path(configured).expanduser() if configured else default_cache_dir() / "models"


def model_key(
    images: Sequence[str],
    labels: Iterable[int],
    validation: tuple[Sequence[str], Iterable[int]],
    hyperparameters: dict[str, Any] | None,
    seed: int,
) -> str:
    """The key of the model trained on these images: each given by its S3 ETag, a digest of
    its content (mlwf.offline.training_channels), so that no image is read to find it."""
    digest = hashlib.sha256()
    for name in sorted(_code_files()):
        digest.update(name.encode() + b"\0" + (LOCAL_MODEL_CODE / name).read_bytes())
    digest.update(json.dumps([sorted((hyperparameters or {}).items()), seed]).encode())
    for part_images, part_labels in ((images, labels), validation):
        digest.update(json.dumps([int(label) for label in part_labels]).encode())
        digest.update(json.dumps(list(part_images)).encode())
    return digest.hexdigest()[:32]


def _code_files() -> list[str]:
    """The local model's source files, relative to LOCAL_MODEL_CODE."""
    package = LOCAL_MODEL_CODE / "local_model"
    if package.is_dir():
        return [f"local_model/{p.name}" for p in package.glob("*.py")]
    return ["local_model.py"]


def load(key: str) -> CachedModel | None:
    folder = cache_dir() / key
    try:
        meta = json.loads((folder / "meta.json").read_text())
        artifact = (folder / "model.tar.gz").read_bytes()
    except (OSError, ValueError):
        return None  # not cached, or half-written by a run that was stopped
    return CachedModel(
        artifact, meta.get("validation_accuracy"), meta.get("validation_count", 0), folder
    )


def store(
    key: str, artifact: bytes, validation_accuracy: float | None, validation_count: int
) -> Path | None:
    """Keep a model; a cache that cannot be written (read-only home) only costs time."""
    folder = cache_dir() / key
    meta = {"validation_accuracy": validation_accuracy, "validation_count": validation_count}
    # the artifact first: an entry is read only once its meta.json is there
    for name, data in (("model.tar.gz", artifact), ("meta.json", json.dumps(meta).encode())):
        if not write_whole(folder / name, data):
            return None
    return folder
