"""The monitoring page's numbers are `mlwf monitor`'s: the same summary from the same
capture, plus the series the page draws (per-hour share below the threshold, the histogram,
the gallery of images below it, least confident first), over a time range."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mlwf.capture import read_capture
from mlwf.console.aws import ConsoleError
from mlwf.console.monitoring import monitoring, parse_moment
from mlwf.monitor import summarize
from tests.helpers.capture_files import capture_record

T0 = datetime(2026, 11, 30, 9, 10, tzinfo=UTC)
THRESHOLD = 0.93
# (minutes after T0, top confidence): two hours, four below the threshold.
INFERENCES = [(0, 0.99), (5, 0.6), (20, 0.95), (50, 0.91), (65, 0.97), (70, 0.7), (90, 0.5)]


def write_capture(folder: Path) -> None:
    """Capture lines as SageMaker writes them (BASE64 input, JSON output), one file."""
    lines = []
    for index, (minutes, top) in enumerate(INFERENCES):
        record = capture_record(
            T0 + timedelta(minutes=minutes),
            [top, 1 - top] if index % 2 else [1 - top, top],
            b"\x89PNG\r\n\x1a\n" + bytes([index]),  # a PNG signature, then a marker
            inference_id=f"exec-{index}",
            event_id=f"ev-{index}",
        )
        lines.append(json.dumps(record))
    (folder / "capture.jsonl").write_text("\n".join(lines) + "\n")


def test_the_page_gets_monitors_summary_and_its_series(tmp_path):
    write_capture(tmp_path)
    page = monitoring(None, None, THRESHOLD, capture=str(tmp_path))
    read = read_capture(tmp_path)
    expected = summarize(read.records, THRESHOLD, read=read, threshold_source="stack output")
    assert page["summary"] == expected  # one implementation, the command's
    assert page["threshold"] == THRESHOLD
    assert page["low_share"] == [
        {"hour": "2026-11-30T09:00:00Z", "count": 3, "below": 1, "share": 1 / 3},
        {"hour": "2026-11-30T10:00:00Z", "count": 4, "below": 3, "share": 0.75},
    ]
    assert sum(b["count"] for b in page["histogram"]) == len(INFERENCES)
    assert [g["confidence"] for g in page["gallery"]] == [0.5, 0.6, 0.7, 0.91]
    assert page["gallery"][0]["inference_id"] == "exec-6"
    assert base64.b64decode(page["gallery"][0]["image"]).endswith(bytes([6]))
    assert page["reliability"] is None  # no labels given


def test_a_time_range_narrows_every_number(tmp_path):
    write_capture(tmp_path)
    page = monitoring(
        None,
        None,
        THRESHOLD,
        capture=str(tmp_path),
        start=parse_moment("2026-11-30T10:01:00Z", "from"),
        end=parse_moment("2026-11-30T10:30", "to"),  # no zone: UTC
    )
    assert page["summary"]["records"] == 2
    assert [p[1] for p in page["points"]] == [0.97, 0.7]
    assert page["range"]["first"] == "2026-11-30T09:10:00Z"  # what there is to choose from


def test_no_threshold_and_bad_times_are_sentences(tmp_path):
    with pytest.raises(ConsoleError, match="no Threshold output"):
        monitoring(None, "bucket", None)
    with pytest.raises(ConsoleError, match="from='yesterday' is not an ISO 8601 time"):
        parse_moment("yesterday", "from")
