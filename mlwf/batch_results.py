"""Read a batch's verdicts from the files its Distributed Map wrote to S3, one at a time.

The batch state machine's ResultWriter writes, under `<prefix>/<map run id>/`, a
manifest.json naming SUCCEEDED_n.json, FAILED_n.json and PENDING_n.json files, each a JSON
array of child executions: {Status, Input, Output (SUCCEEDED), Error and Cause (FAILED),
...}, Input and Output as JSON strings
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).

A ResultWriter with a WriterConfig writes otherwise: `COMPACT` and `FLATTEN` give each
succeeded child's output itself (here the verdict the child recorded), a failed child's
entry as above; `OutputType: JSONL` one entry a line instead of an array. Each is read too;
an entry that is neither a child execution nor a verdict is a named error, never counted.

A file can hold millions of entries (AWS starts a new one at 5 GB), so each is parsed as a
stream, an entry at a time: memory stays flat in the number of verdicts. The verdicts go to
a CSV file and a summary as they come, never into a list.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mlwf.capture import CLASS_NAMES
from training_job.errors import MlwfError

ACCEPTED, LOW_CONFIDENCE, ERROR, SKIPPED = "ACCEPTED", "LOW_CONFIDENCE", "ERROR", "SKIPPED"
# A child the Map Run never started (it failed or was stopped first): listed as PENDING.
NOT_RUN = "NOT_RUN"
RESULT_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")
CSV_FIELDS = ("s3_key", "verdict", "predicted", "confidence", "error", "inference_id")
CHUNK_BYTES = 1 << 16
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Verdict:
    s3_key: str
    verdict: str
    inferences: list[float] | None = None
    error: str | None = None
    inference_id: str | None = None

    @property
    def confidence(self) -> float | None:
        return max(self.inferences) if self.inferences else None

    @property
    def predicted(self) -> str | None:
        if not self.inferences:
            return None
        index = max(range(len(self.inferences)), key=self.inferences.__getitem__)
        return CLASS_NAMES[index] if index < len(CLASS_NAMES) else str(index)

    def row(self) -> dict[str, str]:
        confidence = self.confidence
        return {
            "s3_key": self.s3_key,
            "verdict": self.verdict,
            "predicted": self.predicted or "",
            "confidence": f"{confidence:.4f}" if confidence is not None else "",
            "error": self.error or "",
            "inference_id": self.inference_id or "",
        }


def iter_json_array(stream: Any, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Any]:
    """The elements of the JSON array `stream` holds (anything with .read(n) giving bytes),
    one at a time, holding at most one element and one chunk in memory."""
    decoder = json.JSONDecoder()
    buffer, position, started, done = "", 0, False, False
    pending = b""  # an incomplete UTF-8 sequence at a chunk's end

    def more() -> bool:
        nonlocal buffer, position, pending
        chunk = stream.read(chunk_bytes)
        if not chunk:
            return False
        data = pending + chunk
        try:
            text, pending = data.decode("utf-8"), b""
        except UnicodeDecodeError as exc:  # split in the middle of a character
            text, pending = data[: exc.start].decode("utf-8"), data[exc.start :]
        buffer = buffer[position:] + text
        position = 0
        return True

    while True:
        while position < len(buffer) and buffer[position] in " \t\r\n,":
            if buffer[position] == "," and not started:
                raise ValueError("a result file must hold a JSON array")
            position += 1
        if position >= len(buffer):
            if not more():
                break
            continue
        if not started:
            if buffer[position] != "[":
                raise ValueError("a result file must hold a JSON array")
            started, position = True, position + 1
            continue
        if buffer[position] == "]":
            done = True
            break
        try:
            value, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError:
            if not more():  # the element is cut off: the file is truncated
                raise
            continue
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (end == len(buffer) or buffer[end] not in " \t\r\n,]")
            and more()
        ):
            # A number may go on in the next chunk ("12" then "34", "-0" then ".5"): it is
            # whole only once a delimiter follows it. Decode it again with more text.
            continue
        position = end
        yield value
    if not done:
        raise ValueError("a result file ends before its JSON array does")


def iter_entries(stream: Any, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Any]:
    """A result file's entries, one at a time: a JSON array's elements, or JSON Lines'."""
    first = stream.read(1)
    while first in (b" ", b"\t", b"\r", b"\n"):
        first = stream.read(1)
    if first in (b"[", b""):
        return iter_json_array(_Prefixed(first, stream), chunk_bytes)
    return _json_lines(_Prefixed(first, stream), chunk_bytes)


class _Prefixed:
    """A stream with bytes already read from it put back in front."""

    def __init__(self, head: bytes, stream: Any) -> None:
        self.head, self.stream = head, stream

    def read(self, size: int) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return bytes(self.stream.read(size))


def _json_lines(stream: Any, chunk_bytes: int) -> Iterator[Any]:
    pending = b""
    while True:
        chunk = stream.read(chunk_bytes)
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop() if chunk else b""
        for line in lines:
            if line.strip():
                yield json.loads(line)
        if not chunk:
            return


def verdict_of(entry: Any) -> Verdict:
    """The verdict a result file entry records for its image: a child execution's entry, or
    (a WriterConfig's COMPACT or FLATTEN) the verdict its child gave."""
    if isinstance(entry, dict) and "Status" not in entry and "verdict" in entry:
        return _verdict(entry)
    if not isinstance(entry, dict) or "Status" not in entry:
        raise ValueError(
            "an entry is neither a child execution nor a verdict (a WriterConfig whose "
            "results mlwf batch cannot read?)"
        )
    status = entry.get("Status")
    try:
        child_input = json.loads(entry.get("Input") or "{}")
    except ValueError:
        child_input = {}
    key = str(child_input.get("s3_key", ""))
    inference_id = child_input.get("inference_id")
    if status == "SUCCEEDED":
        return _verdict(json.loads(entry.get("Output") or "{}"), key, inference_id)
    if status == "PENDING":
        return Verdict(key, NOT_RUN, inference_id=inference_id)
    # A child that failed past its own catches (e.g. a States.Runtime, or an EXPRESS child
    # past its five minutes): its image has no verdict but the error.
    return Verdict(key, ERROR, error=entry.get("Error") or status, inference_id=inference_id)


def _verdict(output: Any, key: str = "", inference_id: str | None = None) -> Verdict:
    """The verdict a child's output records."""
    return Verdict(
        s3_key=str(output.get("s3_key", key)),
        verdict=str(output.get("verdict", ERROR)),
        inferences=output.get("inferences"),
        error=output.get("error"),
        inference_id=output.get("inference_id", inference_id),
    )


def read_manifest(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    stream = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        manifest = json.loads(stream.read())
        files = manifest["ResultFiles"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MlwfError(f"s3://{bucket}/{key} is not a ResultWriter manifest: {exc}") from None
    finally:
        stream.close()
    if not isinstance(files, dict):
        raise MlwfError(f"s3://{bucket}/{key}: ResultFiles is not an object")
    return manifest


def iter_verdicts(s3: Any, bucket: str, manifest_key: str) -> Iterator[Verdict]:
    """Every verdict of the Map Run, reading its result files one at a time in the
    manifest's order (SUCCEEDED, FAILED, then PENDING files)."""
    manifest = read_manifest(s3, bucket, manifest_key)
    destination = manifest.get("DestinationBucket") or bucket
    for status in RESULT_STATUSES:
        for result_file in manifest["ResultFiles"].get(status) or []:
            body = s3.get_object(Bucket=destination, Key=result_file["Key"])["Body"]
            try:
                for entry in iter_entries(body):
                    yield verdict_of(entry)
            except ValueError as exc:
                where = f"s3://{destination}/{result_file['Key']}"
                raise MlwfError(f"{where} is not a result file: {exc}") from None
            finally:
                close = getattr(body, "close", None)
                if close:
                    close()


@dataclass
class BatchSummary:
    """Counts by verdict and by error, kept as the verdicts stream by."""

    verdicts: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    problems: list[Verdict] = field(default_factory=list)  # the first few, to show

    def add(self, verdict: Verdict) -> None:
        self.verdicts[verdict.verdict] += 1
        if verdict.verdict in (ERROR, NOT_RUN):
            self.errors[verdict.error or verdict.verdict] += 1
            if len(self.problems) < SHOWN_PROBLEMS:
                self.problems.append(verdict)

    @property
    def keys(self) -> int:
        return sum(self.verdicts.values())

    @property
    def images(self) -> int:
        return self.keys - self.verdicts[SKIPPED]

    def as_dict(self) -> dict[str, Any]:
        return {
            "keys": self.keys,
            "images": self.images,
            "verdicts": dict(sorted(self.verdicts.items())),
            "errors": dict(sorted(self.errors.items())),
        }

    def lines(self) -> list[str]:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.verdicts.items()) if k != SKIPPED)
        lines = [f"{self.images} images: {counts or 'none'}"]
        if self.verdicts[SKIPPED]:
            lines.append(f"{self.verdicts[SKIPPED]} keys skipped: not .png/.jpg/.jpeg")
        if self.errors:
            lines.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items())))
        return lines


def collect(verdicts: Iterator[Verdict], csv_file: IO[str] | None = None) -> BatchSummary:
    """Summarise the verdicts, writing each to `csv_file` (if given) as it comes."""
    summary = BatchSummary()
    writer = None
    if csv_file is not None:
        writer = csv.DictWriter(csv_file, fieldnames=CSV_FIELDS)
        writer.writeheader()
    for verdict in verdicts:
        summary.add(verdict)
        if writer is not None:
            writer.writerow(verdict.row())
    return summary


def write_outputs(
    out: Path, verdicts: Iterator[Verdict], details: dict[str, Any]
) -> tuple[BatchSummary, Path, Path]:
    """verdicts.csv and summary.json in `out`, refusing to overwrite files mlwf did not
    write there (a verdicts.csv of an earlier batch is mlwf's: replaced)."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / "verdicts.csv", out / "summary.json"
    for path in (csv_path, json_path):
        if path.exists() and not _written_by_mlwf(path):
            raise MlwfError(f"{path} exists and mlwf did not write it: choose another --out")
    with csv_path.open("w", newline="") as handle:
        summary = collect(verdicts, handle)
    json_path.write_text(
        json.dumps({**details, "written_by": "mlwf batch", **summary.as_dict()}, indent=2) + "\n"
    )
    return summary, csv_path, json_path


def _written_by_mlwf(path: Path) -> bool:
    if path.suffix == ".csv":
        with path.open() as handle:
            return handle.readline().strip() == ",".join(CSV_FIELDS)
    try:
        return json.loads(path.read_text()).get("written_by") == "mlwf batch"
    except (ValueError, AttributeError, UnicodeDecodeError):
        return False
