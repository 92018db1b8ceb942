"""A training job's image channels, read from S3 as the built-in algorithm names them.

The image-classification algorithm's "lst" input: a `train` channel of images and a
`train_lst` channel of .lst files naming them, the same for `validation`
(https://docs.aws.amazon.com/sagemaker/latest/dg/image-classification.html). The images
are listed, with their ETags, before any is read: the trained-model cache is keyed by those
ETags, so that a job whose model is cached reads no image at all. An object's ETag "is a
hash of the object" that "reflects changes only to the contents of an object, not its
metadata" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html): the MD5 of the
content for a single-part upload without SSE-KMS or SSE-C, as `mlwf stage` makes them,
another digest otherwise, which only costs a cache miss. Reading the 600 images of the
synthetic data one GetObject at a time took ~2 s of every `mlwf offline up`, `mlwf demo`
and `mlwf invoke`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from training_job.dataset.lst import parse_lst
from training_job.dataset.sync import list_objects
from training_job.errors import MlwfError


@dataclass(frozen=True)
class Channel:
    """The images an .lst channel names, in its order, with their labels and ETags."""

    bucket: str
    keys: tuple[str, ...]
    etags: tuple[str, ...]
    labels: tuple[int, ...]
    lst_keys: tuple[str, ...]  # the .lst file naming each image, for errors

    def images(self, s3: Any) -> list[bytes]:
        """Each image's bytes; MlwfError naming it if it went since it was listed."""
        bodies = []
        for key, lst_key in zip(self.keys, self.lst_keys, strict=True):
            try:
                bodies.append(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            except ClientError:
                raise _missing(lst_key, self.bucket, key) from None
        return bodies


def read_channel(s3: Any, data_uri: str, lst_uri: str) -> Channel:
    """The channel whose images are under `data_uri`, named by the .lst files under `lst_uri`.

    MlwfError if there is no .lst file, or an .lst names an image that is not there.
    """
    bucket, _, data_prefix = data_uri.removeprefix("s3://").partition("/")
    folder = data_prefix.rstrip("/")
    etags = {key: etag for key, (etag, _) in list_objects(s3, bucket, f"{folder}/").items()}
    keys, labels, lst_keys = [], [], []
    for lst_key, text in _read_objects(s3, lst_uri, suffix=".lst").items():
        for entry in parse_lst(text, lst_key):
            key = f"{folder}/{entry.path}"
            if key not in etags:
                raise _missing(lst_key, bucket, key)
            keys.append(key)
            labels.append(entry.label)
            lst_keys.append(lst_key)
    return Channel(
        bucket, tuple(keys), tuple(etags[k] for k in keys), tuple(labels), tuple(lst_keys)
    )


def _missing(lst_key: str, bucket: str, key: str) -> MlwfError:
    return MlwfError(f"{lst_key}: s3://{bucket}/{key} is missing")


def _read_objects(s3: Any, uri: str, suffix: str) -> dict[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    texts = {
        key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        for key in list_objects(s3, bucket, prefix)
        if key.endswith(suffix)
    }
    if not texts:
        raise MlwfError(f"no {suffix} file under {uri}")
    return texts
