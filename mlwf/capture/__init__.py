"""Read SageMaker Model Monitor data capture and join it to true labels.

Model Monitor writes JSON Lines under
``s3://BUCKET/<capture prefix>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm-ss-mmm>-<uuid>.jsonl``,
one record per line. `read_capture` reads every ``.jsonl`` file under an S3 prefix or a
local folder and returns the usable records in time order together with the count of
malformed lines per reason; a bad line is reported, never fatal.

`read_labels` reads a SageMaker ``.lst`` file (``index<TAB>label<TAB>relative-path``)
and hashes the images it names; `join_labels` gives each record its true label by
image content (the exact bytes, then the decoded pixels) and, failing that, by the
caller's ``InferenceId``.

Only the standard library at import time: boto3 and Pillow are imported when needed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from training_job.errors import MlwfError

CLASS_NAMES = ("bicycle", "motorcycle")

# Why a line was not usable; the keys are what the summaries report.
MALFORMED_REASONS = {
    "bad-json": "the line is not a JSON object (or not UTF-8)",
    "missing-key": "a required key is missing or has the wrong type",
    "unknown-encoding": "an encoding other than BASE64, JSON or CSV",
    "bad-base64": "BASE64 data that does not decode",
    "bad-output": "the output is not a list of class probabilities",
    "bad-time": "eventMetadata.inferenceTime is not an ISO 8601 time",
}

KNOWN_ENCODINGS = ("BASE64", "JSON", "CSV")
PROBABILITY_TOLERANCE = 1e-6  # each probability may stray this far outside [0, 1]
SUM_TOLERANCE = 0.01  # the probabilities must sum to 1 within this
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def class_name(index: int) -> str:
    """The class name of a class index (``class N`` beyond the two known classes)."""
    return CLASS_NAMES[index] if 0 <= index < len(CLASS_NAMES) else f"class {index}"


# --------------------------------------------------------------------------- S3 URLs


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def is_s3_url(value: str | Path) -> bool:
    """Whether the user meant S3 (anything starting ``s3:``, well formed or not)."""
    return isinstance(value, str) and value[:3].lower() == "s3:"


def parse_s3_url(url: str) -> S3Location:
    """``s3://BUCKET/PREFIX`` -> S3Location; a one-line MlwfError for anything else."""
    match = re.match(r"^s3://([^/]*)/?(.*)$", url)
    if not match or not _BUCKET_RE.match(match.group(1)):
        raise MlwfError(f"not an S3 URL: {url!r}; expected s3://BUCKET/PREFIX")
    return S3Location(match.group(1), match.group(2))


def _s3_client(s3_client: Any) -> Any:
    if s3_client is not None:
        return s3_client
    import boto3  # lazy: keeps `mlwf --help` fast

    return boto3.client("s3")


def _aws_error(exc: Exception, what: str) -> MlwfError:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    detail = f"{error.get('Code', 'Error')}: {error.get('Message', exc)}" if error else str(exc)
    return MlwfError(f"cannot {what}: {detail}")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class CaptureRecord:
    """One captured request and response."""

    time: datetime  # eventMetadata.inferenceTime, timezone-aware UTC
    event_id: str | None
    inference_id: str | None
    probabilities: tuple[float, ...]
    predicted: int  # index of the top probability (0 = bicycle, 1 = motorcycle)
    confidence: float  # the top probability
    input_sha256: str | None  # of the decoded request body; None when input was not captured
    source: str  # file path or s3:// URL of the capture file
    line: int  # 1-based line number in that file
    input_bytes: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def predicted_name(self) -> str:
        return class_name(self.predicted)


class MalformedRecord(ValueError):
    """A capture line that cannot be used; `reason` is a key of MALFORMED_REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_time(value: Any) -> datetime:
    """An ISO 8601 time (``2025-10-04T08:44:11Z``) as a UTC datetime; naive means UTC."""
    if not isinstance(value, str):
        raise MalformedRecord("bad-time", f"inferenceTime is {value!r}")
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedRecord("bad-time", f"inferenceTime is {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _block(capture: dict[str, Any], name: str) -> tuple[str, bytes]:
    """(ENCODING, decoded bytes) of captureData.<name>."""
    block = capture.get(name)
    if not isinstance(block, dict) or "data" not in block or "encoding" not in block:
        raise MalformedRecord("missing-key", f"captureData.{name} needs data and encoding")
    encoding, data = block["encoding"], block["data"]
    if not isinstance(encoding, str) or encoding.upper() not in KNOWN_ENCODINGS:
        raise MalformedRecord("unknown-encoding", f"captureData.{name}.encoding is {encoding!r}")
    encoding = encoding.upper()
    if encoding == "BASE64":
        if not isinstance(data, str):
            raise MalformedRecord("bad-base64", f"captureData.{name}.data is not a string")
        try:
            return encoding, base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRecord("bad-base64", f"captureData.{name}.data") from None
    # JSON and CSV captures hold the text itself.
    text = data if isinstance(data, str) else json.dumps(data)
    return encoding, text.encode("utf-8")


def parse_probabilities(body: bytes) -> tuple[float, ...]:
    """The class probabilities in an endpoint response body.

    Accepts a JSON list (``[0.82, 0.17]``), a batch of one (``[[0.82, 0.17]]``) or
    comma/whitespace separated numbers (CSV). At least two finite numbers in [0, 1]
    summing to 1 (within SUM_TOLERANCE); anything else is ``bad-output``.
    """
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise MalformedRecord("bad-output", "the output is not text") from None
    try:
        value: Any = json.loads(text)
    except ValueError:
        parts = [p for p in re.split(r"[,\s]+", text) if p]
        try:
            value = [float(p) for p in parts]
        except ValueError:
            raise MalformedRecord("bad-output", f"cannot read {text[:40]!r}") from None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if not isinstance(value, list) or len(value) < 2:
        raise MalformedRecord("bad-output", f"{text[:40]!r} is not a list of probabilities")
    probabilities = []
    for p in value:
        if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p):
            raise MalformedRecord("bad-output", f"{p!r} is not a probability")
        if not -PROBABILITY_TOLERANCE <= p <= 1 + PROBABILITY_TOLERANCE:
            raise MalformedRecord("bad-output", f"{p!r} is outside [0, 1]")
        probabilities.append(float(p))
    if abs(sum(probabilities) - 1.0) > SUM_TOLERANCE:
        raise MalformedRecord("bad-output", f"probabilities sum to {sum(probabilities):.4g}")
    return tuple(probabilities)


def parse_record(
    line: str | bytes, *, source: str = "", line_no: int = 0, keep_input: bool = False
) -> CaptureRecord:
    """One JSON Lines record -> CaptureRecord, or MalformedRecord saying why not.

    The input block is optional (an endpoint may capture only its output; such a record
    cannot be joined to labels by content), the output block and inferenceTime are not.
    """
    try:
        if isinstance(line, bytes):
            line = line.decode("utf-8")
        record = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        raise MalformedRecord("bad-json", "not valid JSON") from None
    if not isinstance(record, dict):
        raise MalformedRecord("bad-json", "not a JSON object")
    capture = record.get("captureData")
    metadata = record.get("eventMetadata")
    if not isinstance(capture, dict):
        raise MalformedRecord("missing-key", "captureData")
    if not isinstance(metadata, dict) or "inferenceTime" not in metadata:
        raise MalformedRecord("missing-key", "eventMetadata.inferenceTime")
    _, output = _block(capture, "endpointOutput")
    probabilities = parse_probabilities(output)
    input_bytes = None
    if "endpointInput" in capture:
        _, input_bytes = _block(capture, "endpointInput")
    time = parse_time(metadata["inferenceTime"])
    confidence = max(probabilities)
    event_id = metadata.get("eventId")
    inference_id = metadata.get("inferenceId")
    return CaptureRecord(
        time=time,
        event_id=None if event_id is None else str(event_id),
        inference_id=None if inference_id is None else str(inference_id),
        probabilities=probabilities,
        predicted=probabilities.index(confidence),
        confidence=confidence,
        input_sha256=None if input_bytes is None else hashlib.sha256(input_bytes).hexdigest(),
        source=source,
        line=line_no,
        input_bytes=input_bytes if keep_input else None,
    )


# --------------------------------------------------------------------------- reading


@dataclass
class CaptureRead:
    """Everything `read_capture` found: the records in time order and what went wrong."""

    source: str
    records: list[CaptureRecord] = field(default_factory=list)
    files: int = 0  # capture files read
    lines: int = 0  # non-blank lines read
    malformed: dict[str, int] = field(default_factory=dict)  # reason -> lines
    malformed_examples: dict[str, str] = field(default_factory=dict)  # reason -> first case
    skipped_files: int = 0  # objects under an S3 prefix that are not .jsonl
    notes: list[str] = field(default_factory=list)

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "lines": self.lines,
            "records": len(self.records),
            "malformed": dict(sorted(self.malformed.items())),
            "malformed_total": self.malformed_total,
            "malformed_examples": dict(sorted(self.malformed_examples.items())),
            "skipped_files": self.skipped_files,
            "notes": list(self.notes),
        }


def read_capture(
    source: str | Path,
    s3_client: Any = None,
    *,
    keep_inputs: bool = False,
    max_workers: int = 8,
) -> CaptureRead:
    """Every capture record under ``s3://BUCKET/PREFIX``, a local folder or one file.

    S3: every ``.jsonl`` object whose key starts with PREFIX (S3 prefix semantics, so
    end the prefix with ``/`` to mean exactly one folder), listed with a paginator and
    fetched ``max_workers`` at a time. Local: every ``*.jsonl`` below the folder.
    Records come back sorted by inferenceTime, then by file (key order), then line.
    `keep_inputs` keeps each request body in ``record.input_bytes`` (needed to join
    labels by decoded pixels; costs the memory of every captured image).

    Raises MlwfError for a bad S3 URL, a missing local path or an S3 listing error; an
    empty source gives an empty CaptureRead with a note.
    """
    text = str(source)
    if is_s3_url(text):
        location = parse_s3_url(text)
        read = CaptureRead(source=location.url)
        blobs = _s3_files(location, _s3_client(s3_client), read, max_workers)
        where = f"under {location.url}"
    else:
        path = Path(source).expanduser()
        read = CaptureRead(source=str(path))
        if not path.exists():
            raise MlwfError(f"capture folder not found: {path}")
        if path.is_file():
            files = [path]
        else:
            files = sorted(p for p in path.rglob("*.jsonl") if p.is_file())
        blobs = ((str(p), p.read_bytes()) for p in files)
        where = f"in {path}"
    keyed: list[tuple[datetime, int, int, CaptureRecord]] = []
    reasons: Counter[str] = Counter()
    for file_index, (name, blob) in enumerate(blobs):
        read.files += 1
        for line_no, raw in enumerate(blob.split(b"\n"), start=1):
            if not raw.strip():
                continue
            read.lines += 1
            try:
                record = parse_record(raw, source=name, line_no=line_no, keep_input=keep_inputs)
            except MalformedRecord as exc:
                reasons[exc.reason] += 1
                read.malformed_examples.setdefault(exc.reason, f"{name}:{line_no}: {exc.detail}")
                continue
            keyed.append((record.time, file_index, line_no, record))
    keyed.sort(key=lambda k: k[:3])
    read.records = [k[3] for k in keyed]
    read.malformed = dict(reasons)
    if read.files == 0:
        read.notes.append(
            f"no .jsonl capture files {where}; check the location (SageMaker writes "
            "capture files a few minutes after the first requests)"
        )
    elif not read.records:
        read.notes.append(f"{read.files} capture file(s) {where} hold no usable record")
    if read.skipped_files:
        read.notes.append(f"ignored {read.skipped_files} object(s) that are not .jsonl")
    return read


def _s3_files(
    location: S3Location, client: Any, read: CaptureRead, max_workers: int
) -> Iterable[tuple[str, bytes]]:
    keys: list[str] = []
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=location.bucket, Prefix=location.prefix):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(".jsonl"):
                    keys.append(obj["Key"])
                elif not obj["Key"].endswith("/"):
                    read.skipped_files += 1
    except Exception as exc:
        if not _is_client_error(exc):
            raise
        raise _aws_error(exc, f"list {location.url}") from exc
    keys.sort()

    def fetch(key: str) -> tuple[str, bytes]:
        try:
            body = client.get_object(Bucket=location.bucket, Key=key)["Body"].read()
        except Exception as exc:
            if not _is_client_error(exc):
                raise
            raise _aws_error(exc, f"read s3://{location.bucket}/{key}") from exc
        return f"s3://{location.bucket}/{key}", body

    if len(keys) <= 1 or max_workers <= 1:
        return map(fetch, keys)
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(fetch, keys))


def _is_client_error(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, ClientError | BotoCoreError)


# --------------------------------------------------------------------------- labels


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
    from training_job.stage import parse_lst as parse_entries

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
        client = _s3_client(s3_client)
        try:
            body = client.get_object(Bucket=location.bucket, Key=location.prefix)["Body"]
            text = body.read().decode("utf-8", errors="replace")
        except Exception as exc:
            if not _is_client_error(exc):
                raise
            raise _aws_error(exc, f"read labels {lst_text}") from exc
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
        client = client or _s3_client(s3_client)
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
            if not _is_client_error(exc):
                raise
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise _aws_error(exc, f"read {where}") from exc
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
