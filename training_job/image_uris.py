"""The built-in algorithm's image URI per region, as the SageMaker Python SDK gives it,
kept on disk per SDK release.

`image_uris.retrieve` reads the image from the SDK's own tables, with no network, but
importing the SDK (sagemaker-core's pydantic models) takes 1.7 s, measured in `mlwf
invoke` with no stack running: a fifth of its time, and of `mlwf offline up`'s, which train
and so name the image. The answer depends only on the SDK's release, the algorithm and the
region: it is kept in `$MLWF_CACHE_DIR/image-uris.json` (default ~/.cache/mlwf), keyed by
all three, and the SDK is imported only for a key not kept yet. A cache that cannot be read
or written only costs that import.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from training_job.cache_files import write_whole
from training_job.cifar import default_cache_dir

SDK_DISTRIBUTION = "sagemaker-core"
FILE_NAME = "image-uris.json"


def retrieve(algorithm: str, region: str) -> str:
    """`sagemaker.core.image_uris.retrieve(algorithm, region=region)`, from the cache when
    this SDK release has answered it before. ValueError as the SDK raises it."""
    key = f"{SDK_DISTRIBUTION}=={metadata.version(SDK_DISTRIBUTION)} {algorithm} {region}"
    path = default_cache_dir() / FILE_NAME
    known = _read(path)
    if isinstance(known.get(key), str):
        return str(known[key])
    from sagemaker.core import image_uris  # lazy: importing sagemaker.core takes seconds

    uri = str(image_uris.retrieve(algorithm, region=region))
    _write(path, {**known, key: uri})
    return uri


def _read(path: Path) -> dict:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _write(path: Path, known: dict) -> None:
    """Replaced whole, so that a reader never sees half a file."""
    write_whole(path, json.dumps(known, indent=1, sort_keys=True).encode())
