"""SageMaker data-capture records and trees, and the labelled datasets they join, written
for the tests of mlwf capture, monitor and threshold."""

from __future__ import annotations

import base64
import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BUCKET = "capture-bucket"
T0 = datetime(2025, 10, 4, 8, 0, tzinfo=UTC)


def png_bytes(seed: int, size: int = 8, mode: str = "RGB", **save: Any) -> bytes:
    """A small random PNG, the same pixels for the same seed."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **save)
    return buffer.getvalue()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_record(
    time: datetime,
    probabilities: list[float] | str,
    image: bytes = b"\x89PNG fake",
    *,
    output_encoding: str = "JSON",
    inference_id: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A record as SageMaker writes it (input BASE64, output JSON unless told)."""
    text = probabilities if isinstance(probabilities, str) else json.dumps(probabilities)
    if output_encoding == "BASE64":
        data = base64.b64encode(text.encode()).decode()
    elif output_encoding == "CSV":
        data = text.strip("[]").replace(" ", "")
    else:
        data = text
    metadata = {"eventId": event_id or f"ev-{iso(time)}", "inferenceTime": iso(time)}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "image/png",
                "mode": "INPUT",
                "data": base64.b64encode(image).decode(),
                "encoding": "BASE64",
            },
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": data,
                "encoding": output_encoding,
            },
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


def s3_bucket(bucket: str = BUCKET) -> Any:
    """An S3 client with `bucket` created (moto must be active)."""
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return client


def capture_key(endpoint: str, time: datetime, suffix: str = "0") -> str:
    """The key layout of Model Monitor: endpoint/variant/YYYY/MM/DD/HH/mm-ss-mmm-uuid.jsonl."""
    return f"{endpoint}/AllTraffic/{time:%Y/%m/%d/%H}/{time:%M-%S}-000-{suffix}.jsonl"


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def random_records(
    count: int, seed: int = 0, *, span: timedelta = timedelta(days=3), start: datetime = T0
) -> list[tuple[datetime, list[float]]]:
    """(time, probabilities) pairs with random times in [start, start + span)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        time = start + timedelta(seconds=int(rng.uniform(0, span.total_seconds())))
        top = round(rng.uniform(0.5, 1.0), 4)
        probabilities = [top, round(1 - top, 4)]
        if rng.random() < 0.5:
            probabilities.reverse()
        out.append((time, probabilities))
    return out


def write_tree(
    root: Path, records: list[tuple[datetime, list[float]]], per_file: int = 5, seed: int = 0
) -> Path:
    """Write records into hour folders, `per_file` records per file, shuffled inside
    each file so that the reader must sort them."""
    rng = random.Random(seed)
    by_hour: dict[datetime, list[tuple[datetime, list[float]]]] = {}
    for time, probabilities in records:
        hour = time.replace(minute=0, second=0, microsecond=0)
        by_hour.setdefault(hour, []).append((time, probabilities))
    for hour, items in by_hour.items():
        rng.shuffle(items)
        for start in range(0, len(items), per_file):
            chunk = items[start : start + per_file]
            key = capture_key("ep", hour + timedelta(minutes=start // per_file), str(start))
            write_lines(root / key, [json.dumps(capture_record(t, p)) for t, p in chunk])
    return root


def write_dataset(root: Path, labels: list[int], seed: int = 0) -> tuple[Path, list[bytes]]:
    """root/test.lst plus root/test/img_N.png: the layout of the staged dataset."""
    images = [png_bytes(seed * 1000 + i) for i in range(len(labels))]
    (root / "test").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (label, image) in enumerate(zip(labels, images, strict=True)):
        (root / "test" / f"img_{i}.png").write_bytes(image)
        lines.append(f"{i + 100}\t{label}\timg_{i}.png")
    lst = root / "test.lst"
    lst.write_text("\n".join(lines) + "\n")
    return lst, images


def write_labelled_capture(
    root: Path, specs: list[tuple[float, bool]], *, seed: int = 0, start: datetime = T0
) -> tuple[Path, Path]:
    """A capture folder whose records are (top confidence, prediction correct?) and the
    .lst (with images) that labels them: returns (capture folder, .lst path)."""
    labels = [i % 2 for i in range(len(specs))]
    lst, images = write_dataset(root / "data", labels, seed)
    lines = []
    for i, ((confidence, correct), label, image) in enumerate(
        zip(specs, labels, images, strict=True)
    ):
        predicted = label if correct else 1 - label
        probabilities = [0.0, 0.0]
        probabilities[predicted] = confidence
        probabilities[1 - predicted] = round(1 - confidence, 9)
        record = capture_record(start + timedelta(minutes=7 * i), probabilities, image)
        lines.append(json.dumps(record))
    write_lines(root / "capture" / capture_key("ep", start), lines)
    return root / "capture", lst
