"""What `mlwf train` reads of a staged dataset in S3 before it starts a job: the keys of the
training channels, the train split's size (manifest.json, else train.lst) and that every
channel has data, so a missing one fails now rather than ten minutes into a job."""

from __future__ import annotations

import json
from typing import Any

from training_job.dataset.lst import count_entries
from training_job.errors import MlwfError

# Channel name -> key under the dataset prefix. Image folders end in "/" so that the
# S3Prefix of `train/` does not also match `train.lst`.
CHANNELS = {
    "train": "train/",
    "validation": "validation/",
    "train_lst": "train.lst",
    "validation_lst": "validation.lst",
}


def s3_uri(bucket: str, *parts: str) -> str:
    return "s3://" + "/".join([bucket, *(p.strip("/") for p in parts if p.strip("/"))])


def _manifest_train_count(manifest: Any) -> int | None:
    """The train split's image count from manifest.json (`mlwf stage` writes
    {"num_training_samples": N, "splits": {"train": {"count": N, ...}}}); also accepted:
    {"train": {"count": N}}, {"train": N}, {"counts": {"train": N}}, or per-class counts
    {"splits": {"train": {"classes": {"bicycle": n, "motorcycle": m}}}}."""
    if not isinstance(manifest, dict):
        return None
    top = manifest.get("num_training_samples")
    if isinstance(top, int) and not isinstance(top, bool) and top > 0:
        return top
    splits, counts = manifest.get("splits"), manifest.get("counts")
    candidates = [
        splits.get("train") if isinstance(splits, dict) else None,
        manifest.get("train"),
        counts.get("train") if isinstance(counts, dict) else None,
    ]
    for split in candidates:
        if isinstance(split, bool):
            continue
        if isinstance(split, int) and split > 0:
            return split
        if isinstance(split, dict):
            for key in ("count", "images", "num_images", "n"):
                value = split.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value
            classes = split.get("classes")
            if isinstance(classes, dict) and classes:
                counts = list(classes.values())
                if all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
                    return sum(counts) or None
    return None


def _read_object(s3: Any, bucket: str, key: str) -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise


def num_training_samples(s3: Any, bucket: str, prefix: str) -> int:
    """How many images the train split has: manifest.json's count when it has one, else the
    number of lines of train.lst. The one place that knows the manifest's format."""
    prefix = prefix.strip("/")
    raw = _read_object(s3, bucket, f"{prefix}/manifest.json")
    if raw is not None:
        try:
            count = _manifest_train_count(json.loads(raw))
        except ValueError:
            count = None
        if count:
            return count
    raw = _read_object(s3, bucket, f"{prefix}/train.lst")
    if raw is None:
        raise MlwfError(
            f"no staged dataset at {s3_uri(bucket, prefix)}/ (neither manifest.json nor "
            "train.lst): run `mlwf stage` first"
        )
    count = count_entries(raw.decode("utf-8"))
    if not count:
        raise MlwfError(f"{s3_uri(bucket, prefix, 'train.lst')} is empty: run `mlwf stage`")
    return count


def check_staged_dataset(s3: Any, bucket: str, prefix: str) -> None:
    """Fail now, not ten minutes into a job, when a channel's data is missing."""
    prefix = prefix.strip("/")
    missing = []
    for key in CHANNELS.values():
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{key}", MaxKeys=1)
        if not listed.get("KeyCount"):
            missing.append(key)
    if missing:
        raise MlwfError(
            f"no staged dataset at {s3_uri(bucket, prefix)}/ (missing {', '.join(missing)}): "
            "run `mlwf stage` first"
        )
