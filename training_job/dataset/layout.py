"""Where a staged dataset's files live, under a local work dir or ``s3://BUCKET/PREFIX/``
(default prefix ``dataset``):

    train/<name>.png  validation/<name>.png  test/<name>.png     32x32 RGB PNGs
    train.lst  validation.lst  test.lst     index<TAB>label<TAB>path, path relative to
                                            the split folder, uploaded after every image
    manifest.json                           uploaded last: its presence means complete
"""

from __future__ import annotations

from training_job.errors import MlwfError

SPLITS = ("train", "validation", "test")
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "mlwf-dataset/1"
IMAGE_SIZE = 32


def check_prefix(prefix: str | None) -> str:
    """The prefix without slashes at either end; an MlwfError when that leaves nothing."""
    cleaned = (prefix or "").strip("/")
    if not cleaned:
        raise MlwfError("--prefix must not be empty: the dataset needs a prefix of its own")
    return cleaned
