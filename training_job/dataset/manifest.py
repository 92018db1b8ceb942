"""manifest.json, written last: a reader that finds it finds a complete dataset.

Format "mlwf-dataset/1", deterministic (re-staging the same data rewrites nothing):
`num_training_samples`, `classes` (index = label), `cifar100_fine_labels`, `num_classes`,
`image_shape`, `splits.<split>` with `count`, `classes` (count per class), `images`, `lst`,
`lst_md5`, `images_sha256` (and `ambiguous`, the deliberately ambiguous file names, for
synthetic data), `source` (kind, location, md5 or seed), `seed`, `validation_fraction`, and
`content_sha256` over every image and list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from training_job.dataset.classes import CIFAR_FINE_LABELS, CLASS_NAMES
from training_job.dataset.layout import IMAGE_SIZE, MANIFEST, MANIFEST_FORMAT, SPLITS, check_prefix
from training_job.dataset.types import Dataset, LocalFile
from training_job.errors import MlwfError
from training_job.stack import DEFAULT_DATA_PREFIX


def build_manifest(
    dataset: Dataset, images: list[LocalFile], lists: list[LocalFile]
) -> dict[str, Any]:
    """What training and the other commands need to know, deterministic in the content."""

    def digest(files: Iterable[LocalFile]) -> str:
        lines = sorted(f"{f.key}\t{f.md5}\n" for f in files)
        return hashlib.sha256("".join(lines).encode()).hexdigest()

    by_key = {f.key: f for f in lists}
    splits = {}
    for name in SPLITS:
        split = dataset.splits[name]
        entry: dict[str, Any] = {
            "count": len(split),
            "classes": split.class_counts(),
            "images": f"{name}/",
            "lst": f"{name}.lst",
            "lst_md5": by_key[f"{name}.lst"].md5,
            "images_sha256": digest(f for f in images if f.key.startswith(f"{name}/")),
        }
        if split.ambiguous is not None:
            flags = split.ambiguous.tolist()
            entry["ambiguous"] = sorted(n for n, a in zip(split.names, flags, strict=True) if a)
        splits[name] = entry
    return {
        "format": MANIFEST_FORMAT,
        "classes": list(CLASS_NAMES),
        "cifar100_fine_labels": dict(zip(CLASS_NAMES, CIFAR_FINE_LABELS, strict=True)),
        "num_classes": len(CLASS_NAMES),
        "image_shape": [3, IMAGE_SIZE, IMAGE_SIZE],
        "num_training_samples": dataset.num_training_samples,
        "splits": splits,
        "source": dataset.source,
        "seed": dataset.seed,
        "validation_fraction": dataset.validation_fraction,
        "content_sha256": digest([*images, *lists]),
    }


def read_manifest(s3_client: Any, bucket: str, prefix: str = DEFAULT_DATA_PREFIX) -> dict:
    """The manifest of a completely staged dataset, or an `MlwfError` saying to stage one."""
    from botocore.exceptions import ClientError

    key = f"{check_prefix(prefix)}/{MANIFEST}"
    try:
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise MlwfError(
                f"no staged dataset at s3://{bucket}/{key} ({code}): run mlwf stage first"
            ) from exc
        raise
    try:
        manifest = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MlwfError(f"s3://{bucket}/{key}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise MlwfError(f"s3://{bucket}/{key}: not an {MANIFEST_FORMAT} manifest")
    return manifest
