"""The monitoring page's numbers, from the endpoint's data capture: the same reading and
summary as `mlwf monitor` (mlwf.capture.read_capture, mlwf.monitor.summarize, the
bucketing and reliability bins of mlwf.plots.bins), served as JSON for the page to draw."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from mlwf.capture import class_name, join_labels, read_capture, read_labels
from mlwf.console.aws import ConsoleError, console_error
from mlwf.monitor import summarize
from mlwf.plots.bins import bucket_counts, choose_bucket, reliability_bins
from training_job.errors import MlwfError
from training_job.stack import CAPTURE_PREFIX

MAX_POINTS = 5000  # confidence-over-time points sent to the page (evenly thinned beyond)
MAX_GALLERY = 60  # images below the threshold shown (the lowest confidence first)
HOUR = timedelta(hours=1)


def parse_moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConsoleError(400, f"{name}={value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment


def monitoring(
    s3_client: Any,
    bucket: str | None,
    threshold: float | None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    labels: str | None = None,
    capture: str | None = None,
) -> dict[str, Any]:
    """Summary and series of the capture records in [start, end]."""
    if threshold is None:
        raise ConsoleError(404, "the stack has no Threshold output: cannot draw the threshold")
    source = capture or (f"s3://{bucket}/{CAPTURE_PREFIX}/" if bucket else None)
    if source is None:
        raise ConsoleError(404, "the stack has no ImagesBucketName output: no capture to read")
    try:
        read = read_capture(source, s3_client, keep_inputs=True)
        label_set = read_labels(labels, None, s3_client) if labels else None
    except MlwfError as exc:
        raise ConsoleError(502, str(exc)) from None
    except Exception as exc:
        raise console_error(exc, f"capture under {source}") from None
    records = [
        r
        for r in read.records
        if (start is None or r.time >= start) and (end is None or r.time <= end)
    ]
    join = join_labels(records, label_set) if label_set is not None else None
    summary = summarize(records, threshold, join, read=read, threshold_source="stack output")
    return {
        "summary": summary,
        "threshold": threshold,
        "range": {
            "first": _iso(read.records[0].time) if read.records else None,
            "last": _iso(read.records[-1].time) if read.records else None,
        },
        "points": _points(records),
        "histogram": _histogram(records),
        "low_share": _low_share(records, threshold),
        "classes": _classes(records),
        "gallery": _gallery(records, threshold),
        "reliability": _reliability(records, join),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _points(records: list[Any]) -> list[list[Any]]:
    step = max(1, -(-len(records) // MAX_POINTS))
    return [[_iso(r.time), round(r.confidence, 6), r.predicted] for r in records[::step]]


def _histogram(records: list[Any]) -> list[dict[str, Any]]:
    """Counts per 0.01 of top confidence, as `mlwf monitor`'s histogram bins them."""
    counts = Counter(min(99, int(r.confidence * 100)) for r in records)
    return [{"low": b / 100, "high": (b + 1) / 100, "count": counts[b]} for b in sorted(counts)]


def _low_share(records: list[Any], threshold: float) -> list[dict[str, Any]]:
    """Per hour (UTC): inferences, how many fell below the threshold, and the share."""
    hours: dict[datetime, list[int]] = {}
    for record in records:
        hour = record.time.replace(minute=0, second=0, microsecond=0)
        counts = hours.setdefault(hour, [0, 0])
        counts[0] += 1
        counts[1] += record.confidence < threshold
    return [
        {"hour": _iso(hour), "count": total, "below": below, "share": below / total}
        for hour, (total, below) in sorted(hours.items())
    ]


def _classes(records: list[Any]) -> dict[str, Any]:
    if not records:
        return {"bucket": None, "starts": [], "counts": {}}
    size, name = choose_bucket(records[0].time, records[-1].time)
    starts, counts = bucket_counts(records, size)
    return {
        "bucket": name,
        "starts": [s.isoformat() + "Z" for s in starts],
        "counts": {class_name(c): values for c, values in counts.items()},
    }


def _gallery(records: list[Any], threshold: float) -> list[dict[str, Any]]:
    below = sorted((r for r in records if r.confidence < threshold), key=lambda r: r.confidence)
    shown = []
    for record in below[:MAX_GALLERY]:
        if not record.input_bytes:
            continue
        shown.append(
            {
                "time": _iso(record.time),
                "confidence": record.confidence,
                "predicted": class_name(record.predicted),
                "inference_id": record.inference_id,
                "source": f"{record.source}:{record.line}",
                "image": base64.b64encode(record.input_bytes).decode("ascii"),
            }
        )
    return shown


def _reliability(records: list[Any], join: Any) -> list[dict[str, float]] | None:
    if join is None:
        return None
    from mlwf.capture import labels_of

    truth = labels_of(join, len(records))
    pairs = [(r, t) for r, t in zip(records, truth, strict=True) if t is not None]
    if not pairs:
        return []
    return reliability_bins([r.confidence for r, _ in pairs], [r.predicted == t for r, t in pairs])
