"""The numbers behind the monitor plots, with no drawing: records per time bucket and
accuracy per confidence bin. The console serves the same numbers as JSON
(mlwf/console/monitoring.py), so they stay apart from matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from mlwf.capture import CaptureRecord

# Candidate bucket sizes for counts over time: the smallest giving <= MAX_BUCKETS wins.
BUCKETS = (
    (timedelta(minutes=1), "minute"),
    (timedelta(minutes=5), "5 minutes"),
    (timedelta(minutes=15), "15 minutes"),
    (timedelta(hours=1), "hour"),
    (timedelta(hours=6), "6 hours"),
    (timedelta(days=1), "day"),
    (timedelta(days=7), "week"),
    (timedelta(days=30), "30 days"),
)
MAX_BUCKETS = 60


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def predicted_classes(records: Sequence[CaptureRecord]) -> list[int]:
    """The classes predicted, and always the two of the workflow."""
    present = {r.predicted for r in records}
    return sorted(present | set(range(2)))


def choose_bucket(first: datetime, last: datetime) -> tuple[timedelta, str]:
    """The smallest bucket size that splits [first, last] into at most MAX_BUCKETS."""
    span = last - first
    for size, name in BUCKETS:
        if span / size < MAX_BUCKETS:
            return size, name
    return BUCKETS[-1]


def bucket_counts(
    records: Sequence[CaptureRecord], size: timedelta
) -> tuple[list[datetime], dict[int, list[int]]]:
    """Bucket start times (UTC, naive) and per predicted class the count in each bucket."""
    epoch = datetime(1970, 1, 1)
    times = [naive_utc(r.time) for r in records]
    first = epoch + ((min(times) - epoch) // size) * size
    count = int((max(times) - first) // size) + 1
    starts = [first + i * size for i in range(count)]
    counts = {cls: [0] * count for cls in predicted_classes(records)}
    for record, moment in zip(records, times, strict=True):
        counts[record.predicted][int((moment - first) // size)] += 1
    return starts, counts


def reliability_bins(
    confidences: Sequence[float], correct: Sequence[bool], width: float = 0.05
) -> list[dict[str, float]]:
    """Per confidence bin [lo, hi): count, mean confidence and accuracy (bins with data)."""
    import numpy as np

    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    low = min(0.5, float(np.floor(conf.min() / width) * width)) if len(conf) else 0.5
    edges = np.round(np.arange(low, 1.0 + width / 2, width), 6)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        last = hi >= 1.0
        mask = (conf >= lo) & ((conf <= hi) if last else (conf < hi))
        n = int(mask.sum())
        if n:
            rows.append(
                {
                    "low": float(lo),
                    "high": float(hi),
                    "count": n,
                    "mean_confidence": float(conf[mask].mean()),
                    "accuracy": float(ok[mask].mean()),
                }
            )
    return rows
