"""Join capture records to their true labels.

`read_labels` reads a SageMaker ``.lst`` file (``index<TAB>label<TAB>relative-path``) and
hashes the images it names; `join_labels` gives each record its true label by image content
(the exact bytes, then the decoded pixels) and, failing that, by the caller's
``InferenceId``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mlwf.capture.records import CaptureRecord
from mlwf.capture.s3 import aws_error, client_or_default, is_client_error, is_s3_url, parse_s3_url
from training_job.errors import MlwfError


def pixels_sha256(image: bytes) -> str | None:
    """sha256 of the decoded RGB pixels (and size), or None when not an image.

    Two PNG files of the same picture differ in their bytes when they were written by
    different software (the capture's text chunk names the matplotlib version), so the
    label join falls back to this.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as img:
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class LabelEntry:
    index: str  # first column of the .lst
    label: int
    path: str  # relative path as written in the .lst
    sha256: str | None  # None when the image was not found
    pixels_sha256: str | None


@dataclass
class LabelSet:
    """A .lst file with the hashes of the images it names."""

    source: str
    entries: list[LabelEntry]
    images_root: str  # where the images were looked for (first root tried)
    missing_images: int = 0
    ambiguous: int = 0  # keys dropped because they point at different labels
    by_sha256: dict[str, int] = field(default_factory=dict)
    by_pixels: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stem = PurePosixPath(self.source).stem
        tables = (self.by_sha256, self.by_pixels, self.by_name)
        conflicts: set[tuple[int, str]] = set()
        for entry in self.entries:
            path = entry.path.replace("\\", "/")
            names = {entry.index, path, f"{stem}/{path}", PurePosixPath(path).name}
            for number, keys in enumerate(([entry.sha256], [entry.pixels_sha256], names)):
                table = tables[number]
                for key in keys:
                    if not key:
                        continue
                    if table.setdefault(key, entry.label) != entry.label:
                        conflicts.add((number, key))
        for number, key in conflicts:
            del tables[number][key]
        self.ambiguous = len(conflicts)


def parse_lst(text: str, source: str) -> list[tuple[str, int, str]]:
    """(index, label, relative path) per line of a SageMaker .lst file, parsed by the same
    code that writes and checks them in `mlwf stage`."""
    from training_job.dataset.lst import parse_lst as parse_entries

    rows = [(str(e.index), e.label, e.path) for e in parse_entries(text, source)]
    if not rows:
        raise MlwfError(f"{source} lists no images")
    return rows


def read_labels(
    lst: str | Path,
    images: str | Path | None = None,
    s3_client: Any = None,
    *,
    max_workers: int = 8,
) -> LabelSet:
    """Read a .lst file and hash the images it names.

    Images are looked for under `images` when given, else in the folder named after
    the .lst next to it (``test.lst`` -> ``test/``), then next to the .lst itself.
    `lst` and `images` may be local paths or ``s3://`` URLs. Images that are not found
    are counted, not fatal: those records can still join by inference id.
    """
    client = None
    lst_text = str(lst)
    if is_s3_url(lst_text):
        location = parse_s3_url(lst_text)
        client = client_or_default(s3_client)
        try:
            body = client.get_object(Bucket=location.bucket, Key=location.prefix)["Body"]
            text = body.read().decode("utf-8", errors="replace")
        except Exception as exc:
            if not is_client_error(exc):
                raise
            raise aws_error(exc, f"read labels {lst_text}") from exc
        parent = location.url.rsplit("/", 1)[0]
        stem = PurePosixPath(location.prefix).stem
        source = location.url
    else:
        path = Path(lst).expanduser()
        if not path.is_file():
            raise MlwfError(f"labels file not found: {path}")
        text = path.read_text(encoding="utf-8", errors="replace")
        parent, stem, source = str(path.parent), path.stem, str(path)
    rows = parse_lst(text, source)

    if images is not None:
        roots = [str(images)]
    else:
        roots = [_join(parent, stem), parent]
    if any(is_s3_url(r) for r in roots):
        if images is not None and is_s3_url(str(images)):
            parse_s3_url(str(images))  # a one-line error for a malformed URL
        client = client or client_or_default(s3_client)
    elif images is not None and not Path(images).expanduser().is_dir():
        raise MlwfError(f"images folder not found: {images}")

    def load(row: tuple[str, int, str]) -> LabelEntry:
        index, label, rel = row
        blob = None
        for root in roots:
            blob = _read_optional(_join(root, rel), client)
            if blob is not None:
                break
        if blob is None:
            return LabelEntry(index, label, rel, None, None)
        return LabelEntry(index, label, rel, hashlib.sha256(blob).hexdigest(), pixels_sha256(blob))

    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        entries = list(pool.map(load, rows))
    missing = sum(e.sha256 is None for e in entries)
    return LabelSet(source=source, entries=entries, images_root=roots[0], missing_images=missing)


def _join(root: str, rel: str) -> str:
    if is_s3_url(root):
        return root.rstrip("/") + "/" + rel.lstrip("/")
    return str(Path(root) / rel)


def _read_optional(where: str, client: Any) -> bytes | None:
    if is_s3_url(where):
        location = parse_s3_url(where)
        try:
            return client.get_object(Bucket=location.bucket, Key=location.prefix)["Body"].read()
        except Exception as exc:
            if not is_client_error(exc):
                raise
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise aws_error(exc, f"read {where}") from exc
    path = Path(where)
    return path.read_bytes() if path.is_file() else None


@dataclass
class LabelJoin:
    """The true label of each record (None when it did not join), and how it joined."""

    labels: list[int | None]
    label_source: str
    by_sha256: int = 0
    by_pixels: int = 0
    by_inference_id: int = 0
    missing_images: int = 0

    @property
    def joined(self) -> int:
        return self.by_sha256 + self.by_pixels + self.by_inference_id

    @property
    def unmatched(self) -> int:
        return len(self.labels) - self.joined

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.label_source,
            "joined": self.joined,
            "unmatched": self.unmatched,
            "by_image_bytes": self.by_sha256,
            "by_decoded_pixels": self.by_pixels,
            "by_inference_id": self.by_inference_id,
            "label_images_not_found": self.missing_images,
        }


def join_labels(records: Sequence[CaptureRecord], label_set: LabelSet) -> LabelJoin:
    """Each record's true label: by the sha256 of its request body, else by the decoded
    pixels (needs ``input_bytes``, see ``read_capture(keep_inputs=True)``), else by its
    inference id equal to a .lst path, file name or index. Unmatched records get None."""
    join = LabelJoin(
        labels=[], label_source=label_set.source, missing_images=label_set.missing_images
    )
    for record in records:
        label = None
        if record.input_sha256 and record.input_sha256 in label_set.by_sha256:
            label = label_set.by_sha256[record.input_sha256]
            join.by_sha256 += 1
        elif record.input_bytes is not None and label_set.by_pixels:
            digest = pixels_sha256(record.input_bytes)
            if digest in label_set.by_pixels:
                label = label_set.by_pixels[digest]
                join.by_pixels += 1
        if label is None and record.inference_id:
            key = record.inference_id.strip().replace("\\", "/")
            if key in label_set.by_name:
                label = label_set.by_name[key]
                join.by_inference_id += 1
        join.labels.append(label)
    return join


def labels_of(labels: Sequence[int | None] | LabelJoin | None, count: int) -> list[int | None]:
    """True labels aligned with `count` records from a LabelJoin, a list, or None."""
    if labels is None:
        return [None] * count
    values = labels.labels if isinstance(labels, LabelJoin) else list(labels)
    if len(values) != count:
        raise ValueError(f"{len(values)} labels for {count} records")
    return values
