"""Parse and read SageMaker Model Monitor data capture.

Model Monitor writes JSON Lines under
``s3://BUCKET/<capture prefix>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm-ss-mmm>-<uuid>.jsonl``,
one record per line. `parse_record` turns one line into a CaptureRecord or says why it
cannot (MalformedRecord); `read_capture` reads every ``.jsonl`` file under an S3 prefix or a
local folder and returns the usable records in time order together with the count of
malformed lines per reason: a bad line is reported, never fatal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlwf.capture.s3 import (
    S3Location,
    aws_error,
    client_or_default,
    is_client_error,
    is_s3_url,
    parse_s3_url,
)
from training_job.dataset.classes import class_name
from training_job.errors import MlwfError

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
        blobs = _s3_files(location, client_or_default(s3_client), read, max_workers)
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
        if not is_client_error(exc):
            raise
        raise aws_error(exc, f"list {location.url}") from exc
    keys.sort()

    def fetch(key: str) -> tuple[str, bytes]:
        try:
            body = client.get_object(Bucket=location.bucket, Key=key)["Body"].read()
        except Exception as exc:
            if not is_client_error(exc):
                raise
            raise aws_error(exc, f"read s3://{location.bucket}/{key}") from exc
        return f"s3://{location.bucket}/{key}", body

    if len(keys) <= 1 or max_workers <= 1:
        return map(fetch, keys)
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(fetch, keys))
