"""What the `mlwf stage` tests share: tarballs in the real CIFAR-100 python format (pickled
dicts with `filenames`, `batch_label`, `fine_labels`, `coarse_labels` and `data`: N x 3072
uint8, channel-major, rows of 32 pixels), a directory staged by `mlwf stage` itself, and
ways to look at and record what lands in S3."""

from __future__ import annotations

import io
import pickle
import re
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from botocore.exceptions import ClientError
from PIL import Image

from mlwf.cli import main
from tests.helpers.sagemaker_stack import quiet
from training_job import stage

BUCKET = "stage-test-bucket"
PREFIX = "dataset"
BICYCLE, MOTORCYCLE = 8, 48
# Train: 10 bicycles, 10 motorcycles and 4 of other classes; test: 3 + 3 and 2 others.
TRAIN_LABELS = [BICYCLE, MOTORCYCLE, 3, BICYCLE, MOTORCYCLE, 99] * 2 + [BICYCLE, MOTORCYCLE] * 6
TEST_LABELS = [MOTORCYCLE, 3, BICYCLE, BICYCLE, 12, MOTORCYCLE, BICYCLE, MOTORCYCLE]
ONE_LINE_ERROR = re.compile(r"^mlwf stage: error: .+$")


def cifar_image(index: int) -> np.ndarray:
    """32x32x3 uint8 whose pixels encode where they are: R = row, G = column, B = index."""
    rows, cols = np.mgrid[0:32, 0:32]
    return np.stack([rows * 8, cols * 8, np.full_like(rows, index * 7 % 256)], -1).astype(np.uint8)


def file_name(fine: int, index: int, split: str = "train") -> str:
    """CIFAR-like and unique across splits, like the real names: test counts from 1000."""
    kind = {BICYCLE: "bicycle", MOTORCYCLE: "motorcycle"}.get(fine, f"class{fine}")
    return f"{kind}_s_{index + (1000 if split == 'test' else 0):06d}.png"


def cifar_batch(
    labels: list[int], *, split: str = "train", bytes_keys: bool = False, **overrides: Any
) -> dict:
    data = np.stack([cifar_image(i).transpose(2, 0, 1).reshape(3072) for i in range(len(labels))])
    batch: dict[Any, Any] = {
        "filenames": [file_name(f, i, split) for i, f in enumerate(labels)],
        "batch_label": "training batch 1 of 1",
        "fine_labels": list(labels),
        "coarse_labels": [f // 5 for f in labels],
        "data": data,
    }
    batch.update(overrides)
    if bytes_keys:  # what pickle.load(encoding="bytes") style files carry
        batch = {k.encode(): v for k, v in batch.items()}
        batch[b"filenames"] = [n.encode() for n in batch[b"filenames"]]
    return batch


def write_tarball(
    path: Path,
    train: dict | bytes | None = None,
    test: dict | bytes | None = None,
    *,
    protocol: int = 2,
) -> Path:
    """A gzipped tar with cifar-100-python/{train,test,meta}; dicts are pickled as given."""
    members = {
        "cifar-100-python/train": cifar_batch(TRAIN_LABELS) if train is None else train,
        "cifar-100-python/test": cifar_batch(TEST_LABELS, split="test") if test is None else test,
        "cifar-100-python/meta": {"fine_label_names": [], "coarse_label_names": []},
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            raw = content if isinstance(content, bytes) else pickle.dumps(content, protocol)
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def keys(client: Any, prefix: str = PREFIX) -> set[str]:
    paginator = client.get_paginator("list_objects_v2")
    return {
        item["Key"]
        for page in paginator.paginate(Bucket=BUCKET, Prefix=f"{prefix}/")
        for item in page.get("Contents", [])
    }


def read_object(client: Any, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def decode_png(raw: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(raw)) as image:
        assert image.format == "PNG"
        assert image.mode == "RGB"
        assert image.size == (32, 32)
        return np.asarray(image)


def cli(*argv: str) -> int:
    return main(["stage", *argv])


class RecordingS3:
    """A boto3 S3 client that records writes in order and can fail chosen puts."""

    def __init__(self, client: Any, fail: Callable[[str], bool] = lambda key: False):
        self._client = client
        self._fail = fail
        self.puts: list[str] = []
        self.deletes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_object(self, **kwargs: Any) -> Any:
        if self._fail(kwargs["Key"]):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "boom"}}, "PutObject")
        self.puts.append(kwargs["Key"])
        return self._client.put_object(**kwargs)

    def delete_objects(self, **kwargs: Any) -> Any:
        self.deletes.extend(o["Key"] for o in kwargs["Delete"]["Objects"])
        return self._client.delete_objects(**kwargs)


def staged_dir(tmp_path: Path, tarball: Path) -> Path:
    """A staged directory written by `mlwf stage` itself, from the test tarball."""
    work = tmp_path / "staged"
    stage.stage(tarball, verify=False, work_dir=work, log=quiet)
    return work
