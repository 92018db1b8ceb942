"""The model artifact: a gzipped tarball holding metadata.json and model.pkl (the pickled
ensemble), as SageMaker's model.tar.gz holds the real algorithm's model."""

from __future__ import annotations

import io
import json
import pickle
import tarfile
import time
from collections.abc import Mapping
from typing import Any

from mlwf.offline.local_model.ensemble import _Ensemble
from mlwf.offline.local_model.errors import LocalModelError
from training_job.dataset.classes import CLASS_NAMES

ARTIFACT_FORMAT = "mlwf-local-model"
ARTIFACT_VERSION = 1
METADATA_NAME = "metadata.json"
MODEL_NAME = "model.pkl"


def write_artifact(ensemble: _Ensemble, metadata: Mapping[str, Any]) -> bytes:
    """The ensemble and its metadata as a gzipped tarball: model.pkl plus metadata.json."""
    members = {
        METADATA_NAME: json.dumps(metadata, indent=2, sort_keys=True).encode(),
        MODEL_NAME: pickle.dumps(ensemble, protocol=pickle.HIGHEST_PROTOCOL),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def read_artifact(data: bytes) -> tuple[_Ensemble, dict[str, Any]]:
    """The ensemble and metadata of an artifact written by write_artifact; LocalModelError if
    it is not one."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            payloads = {}
            for name in (METADATA_NAME, MODEL_NAME):
                member = tar.getmember(name)
                stream = tar.extractfile(member) if member.isfile() else None
                if stream is None:
                    raise LocalModelError(f"the artifact's {name} is not a file")
                payloads[name] = stream.read()
    except LocalModelError:
        raise
    except KeyError as exc:
        raise LocalModelError(f"not a local-model artifact: {exc.args[0]}") from None
    except (tarfile.TarError, OSError, EOFError, TypeError) as exc:
        raise LocalModelError(f"not a gzipped tarball: {exc}") from None

    try:
        metadata = json.loads(payloads[METADATA_NAME])
    except ValueError as exc:
        raise LocalModelError(f"the artifact's {METADATA_NAME} is not JSON: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != ARTIFACT_FORMAT:
        raise LocalModelError(f"not a local-model artifact (format is not {ARTIFACT_FORMAT})")
    if metadata.get("version") != ARTIFACT_VERSION:
        raise LocalModelError(
            f"artifact version {metadata.get('version')!r} is not supported "
            f"(this code reads version {ARTIFACT_VERSION})"
        )
    if tuple(metadata.get("classes", ())) != CLASS_NAMES:
        raise LocalModelError(f"the artifact's classes are not {CLASS_NAMES}")
    # Unpickling runs code named by the file, so artifacts are only ever loaded from the
    # user's own bucket, where their own training job wrote them, which is also how
    # SageMaker treats its model.tar.gz.
    try:
        ensemble = pickle.loads(payloads[MODEL_NAME])
    except Exception as exc:  # any damage surfaces as some exception from pickle
        raise LocalModelError(f"the artifact's model cannot be loaded: {exc!r}") from None
    if not isinstance(ensemble, _Ensemble):
        raise LocalModelError("the artifact's model is not a local model")
    return ensemble, metadata
