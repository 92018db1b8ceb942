"""The staged dataset on disk: `<split>/<name>.png`, `<split>.lst` and `manifest.json`."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from training_job.dataset.layout import MANIFEST, SPLITS
from training_job.dataset.lst import format_lst
from training_job.dataset.manifest import build_manifest
from training_job.dataset.types import Dataset, LocalFile, LocalStaging
from training_job.errors import MlwfError


def write_local(dataset: Dataset, work_dir: str | Path) -> LocalStaging:
    """Write `<split>/<name>.png`, `<split>.lst` and `manifest.json` under `work_dir`.

    PNGs of an earlier staging that are not part of this dataset are removed from the split
    folders, so the folder is an exact mirror of what gets uploaded.
    """
    from PIL import Image

    work = Path(work_dir).expanduser()
    images: list[LocalFile] = []
    lists: list[LocalFile] = []
    for split_name in SPLITS:
        split = dataset.splits.get(split_name)
        if split is None:
            raise MlwfError(f"dataset has no {split_name} split: call split_validation first")
        folder = work / split_name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MlwfError(f"cannot create {folder}: {exc.strerror}") from exc
        wanted = set(split.names)
        for old in folder.glob("*.png"):
            if old.name not in wanted:
                old.unlink()
        for array, name in zip(split.images, split.names, strict=True):
            buffer = io.BytesIO()
            Image.fromarray(array, "RGB").save(buffer, format="PNG")
            images.append(
                _write(folder / name, f"{split_name}/{name}", buffer.getvalue(), "image/png")
            )
        text = format_lst(zip(split.ids.tolist(), split.labels.tolist(), split.names, strict=True))
        key = f"{split_name}.lst"
        lists.append(_write(work / key, key, text.encode(), "text/plain"))
    manifest = build_manifest(dataset, images, lists)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    manifest_file = _write(work / MANIFEST, MANIFEST, text.encode(), "application/json")
    return LocalStaging(
        work_dir=work, images=images, lists=lists, manifest_file=manifest_file, manifest=manifest
    )


def _write(path: Path, key: str, content: bytes, content_type: str) -> LocalFile:
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise MlwfError(f"cannot write {path}: {exc.strerror}") from exc
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    return LocalFile(key=key, path=path, md5=md5, size=len(content), content_type=content_type)
