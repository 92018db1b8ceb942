"""The data-capture reader (mlwf/capture/records.py, s3.py); the label join is in
test_capture_join.py.

The records, trees and datasets are built by tests/helpers/capture_files.py."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlwf.capture import (
    CaptureRecord,
    MalformedRecord,
    join_labels,
    parse_probabilities,
    parse_record,
    parse_s3_url,
    parse_time,
    read_capture,
    read_labels,
)
from tests.helpers.capture_files import (
    BUCKET,
    T0,
    capture_key,
    capture_record,
    png_bytes,
    random_records,
    s3_bucket,
    write_lines,
    write_tree,
)
from training_job.errors import MlwfError

# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_reads_the_real_shared_records(capture_dir: Path) -> None:
    read = read_capture(capture_dir)
    assert read.files == 2
    assert read.malformed == {}
    assert [r.time for r in read.records] == [
        datetime(2025, 8, 22, 4, 7, 39, tzinfo=UTC),
        datetime(2025, 8, 22, 4, 7, 57, tzinfo=UTC),
        datetime(2025, 10, 4, 8, 44, 11, tzinfo=UTC),
    ]
    assert [r.probabilities for r in read.records] == [
        (1.8984535472554853e-06, 0.9999980926513672),
        (0.9932016730308533, 0.006798365619033575),
        (0.8227921724319458, 0.1772077977657318),
    ]
    assert [r.predicted_name for r in read.records] == ["motorcycle", "bicycle", "bicycle"]
    assert read.records[2].confidence == pytest.approx(0.8227921724319458)
    assert read.records[2].event_id == "8bab5840-5583-40c1-b8c1-35f456ca6ce5"
    assert all(r.inference_id is None for r in read.records)
    assert read.records[2].source.endswith(".jsonl") and "peer-a" in read.records[2].source
    assert read.records[0].input_bytes is None  # only kept on request


@pytest.mark.shared_data
def test_real_records_join_the_test_split_by_content(capture_dir: Path, cifar_dir: Path) -> None:
    read = read_capture(capture_dir, keep_inputs=True)
    assert read.records[0].input_bytes is not None
    assert read.records[0].input_bytes.startswith(b"\x89PNG")
    labels = read_labels(cifar_dir / "test.lst")
    assert len(labels.entries) == 200 and labels.missing_images == 0
    join = join_labels(read.records, labels)
    # peer-a's PNG is byte-identical to test/bicycle_s_001789.png; peer-b's were written
    # by another matplotlib version, so only their decoded pixels match.
    assert join.labels == [1, 0, 0]
    assert (join.by_sha256, join.by_pixels, join.by_inference_id, join.unmatched) == (1, 2, 0, 0)


# --------------------------------------------------------------------------- local trees


def test_generated_tree_over_days_and_hours_comes_back_in_time_order(tmp_path: Path) -> None:
    records = random_records(240, seed=1, span=timedelta(days=3))
    write_tree(tmp_path / "capture", records, per_file=7, seed=2)
    files = list((tmp_path / "capture").rglob("*.jsonl"))
    assert len(files) > 30 and len({f.parent for f in files}) > 24  # many files, many hours

    read = read_capture(tmp_path / "capture")

    assert read.files == len(files)
    assert read.lines == len(records) == len(read.records)
    assert read.malformed == {} and read.notes == []
    times = [r.time for r in read.records]
    assert times == sorted(times)
    assert sorted(times) == sorted(t for t, _ in records)
    assert (times[-1] - times[0]) > timedelta(days=2)
    for record in read.records:
        assert record.confidence == max(record.probabilities)
        assert record.predicted == record.probabilities.index(record.confidence)


def test_ties_keep_file_then_line_order(tmp_path: Path) -> None:
    same = T0 + timedelta(minutes=5)
    write_lines(
        tmp_path / "a" / "1.jsonl",
        [
            json.dumps(capture_record(same, [0.9, 0.1], event_id="a1")),
            json.dumps(capture_record(same, [0.8, 0.2], event_id="a2")),
            json.dumps(capture_record(T0, [0.7, 0.3], event_id="a3")),
        ],
    )
    write_lines(
        tmp_path / "b" / "0.jsonl", [json.dumps(capture_record(same, [0.6, 0.4], event_id="b1"))]
    )
    read = read_capture(tmp_path)
    assert [r.event_id for r in read.records] == ["a3", "a1", "a2", "b1"]
    assert [r.line for r in read.records] == [3, 1, 2, 1]


def test_malformed_lines_are_counted_per_reason_and_never_fatal(tmp_path: Path) -> None:
    good = capture_record(T0, [0.9, 0.1])

    def variant(change: Any) -> str:
        record = json.loads(json.dumps(good))
        change(record)
        return json.dumps(record)

    def set_output(record: dict[str, Any], data: str) -> None:
        record["captureData"]["endpointOutput"]["data"] = data

    lines = [
        json.dumps(good),
        '{"captureData": {',  # bad-json
        "[1, 2, 3]",  # bad-json: not an object
        variant(lambda r: r.pop("eventMetadata")),  # missing-key
        variant(lambda r: r["captureData"].pop("endpointOutput")),  # missing-key
        variant(lambda r: r["captureData"]["endpointOutput"].update(encoding="XML")),
        variant(lambda r: r["captureData"]["endpointInput"].update(data="not base64!")),
        variant(lambda r: set_output(r, '{"label": 1}')),  # bad-output: not a list
        variant(lambda r: set_output(r, "[0.9]")),  # bad-output: one number
        variant(lambda r: set_output(r, "[0.9, 0.9]")),  # bad-output: sums to 1.8
        variant(lambda r: set_output(r, '["a", "b"]')),  # bad-output: not numbers
        variant(lambda r: set_output(r, "[1.5, -0.5]")),  # bad-output: outside [0, 1]
        variant(lambda r: set_output(r, "[NaN, 0.5]")),  # bad-output: not finite
        variant(lambda r: r["eventMetadata"].update(inferenceTime="yesterday")),  # bad-time
        "",  # blank lines are not records
        json.dumps(capture_record(T0 + timedelta(seconds=1), [0.2, 0.8])),
    ]
    path = write_lines(tmp_path / "ep" / "x.jsonl", lines)
    path.write_bytes(path.read_bytes() + b"\xff\xfe not utf-8\n")  # bad-json too

    read = read_capture(tmp_path)

    assert len(read.records) == 2
    assert read.malformed == {
        "bad-json": 3,
        "missing-key": 2,
        "unknown-encoding": 1,
        "bad-base64": 1,
        "bad-output": 6,
        "bad-time": 1,
    }
    assert read.malformed_total == 14
    assert read.lines == 16
    assert read.malformed_examples["bad-json"].startswith(f"{path}:2:")
    assert "XML" in read.malformed_examples["unknown-encoding"]
    summary = read.as_dict()
    assert summary["malformed_total"] == 14 and summary["records"] == 2
    json.dumps(summary)  # plain JSON


def test_encodings_base64_output_csv_and_lowercase(tmp_path: Path) -> None:
    records = [
        capture_record(T0, [0.25, 0.75], output_encoding="BASE64"),
        capture_record(T0 + timedelta(seconds=1), [0.6, 0.4], output_encoding="CSV"),
        capture_record(T0 + timedelta(seconds=2), "[[0.3, 0.7]]"),  # batch of one
    ]
    records[1]["captureData"]["endpointInput"].update(encoding="csv", data="1,2,3")
    records[2]["captureData"]["endpointOutput"]["encoding"] = "json"
    write_lines(tmp_path / "e.jsonl", [json.dumps(r) for r in records])

    read = read_capture(tmp_path / "e.jsonl", keep_inputs=True)  # a single file works too

    assert read.malformed == {}
    assert [r.probabilities for r in read.records] == [(0.25, 0.75), (0.6, 0.4), (0.3, 0.7)]
    assert [r.predicted for r in read.records] == [1, 0, 1]
    assert read.records[1].input_bytes == b"1,2,3"


def test_parse_record_details() -> None:
    record = capture_record(T0, [0.1, 0.9], png_bytes(3), inference_id="test/a.png")
    parsed = parse_record(json.dumps(record), source="s", line_no=4)
    assert isinstance(parsed, CaptureRecord)
    assert parsed.inference_id == "test/a.png"
    assert (parsed.source, parsed.line, parsed.predicted_name) == ("s", 4, "motorcycle")
    assert parsed.input_sha256 is not None and len(parsed.input_sha256) == 64

    # An endpoint that captures only its output: usable, but not joinable by content.
    del record["captureData"]["endpointInput"]
    assert parse_record(json.dumps(record)).input_sha256 is None

    with pytest.raises(MalformedRecord) as info:
        parse_record(b"\xff")
    assert info.value.reason == "bad-json"


def test_probabilities_accept_csv_text_and_reject_the_rest() -> None:
    assert parse_probabilities(b"0.4,0.6") == (0.4, 0.6)
    assert parse_probabilities(b"0.4\n0.6\n") == (0.4, 0.6)
    assert parse_probabilities(b"[1, 0]") == (1.0, 0.0)
    for bad in (b"0.9", b"[]", b"[true, false]", b"{}", b"[0.5, 0.6]", b"x,y", b"\xff"):
        with pytest.raises(MalformedRecord) as info:
            parse_probabilities(bad)
        assert info.value.reason == "bad-output"


def test_parse_time_variants() -> None:
    expected = datetime(2025, 10, 4, 8, 44, 11, tzinfo=UTC)
    assert parse_time("2025-10-04T08:44:11Z") == expected
    assert parse_time("2025-10-04T10:44:11+02:00") == expected
    assert parse_time("2025-10-04T08:44:11") == expected  # naive means UTC
    assert parse_time("2025-10-04T08:44:11.250Z") == expected + timedelta(milliseconds=250)
    for bad in ("", "10/04/2025", None, 12):
        with pytest.raises(MalformedRecord):
            parse_time(bad)


def test_empty_folder_gives_an_empty_read_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("not capture")
    read = read_capture(tmp_path)
    assert read.records == [] and read.files == 0
    assert "no .jsonl capture files" in read.notes[0]


def test_only_malformed_lines_note_it(tmp_path: Path) -> None:
    write_lines(tmp_path / "x.jsonl", ["nope", "{}"])
    read = read_capture(tmp_path)
    assert read.records == [] and read.malformed_total == 2
    assert "hold no usable record" in read.notes[0]


def test_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(MlwfError, match="capture folder not found"):
        read_capture(tmp_path / "nope")


@pytest.mark.parametrize("url", ["s3://", "s3:/bucket/x", "s3://B_ad/x", "s3://a/x", "S3:bucket"])
def test_bad_s3_urls(url: str) -> None:
    with pytest.raises(MlwfError, match="not an S3 URL"):
        parse_s3_url(url)
    with pytest.raises(MlwfError, match="not an S3 URL"):
        read_capture(url)


def test_good_s3_urls() -> None:
    assert parse_s3_url("s3://my-bucket").prefix == ""
    assert parse_s3_url("s3://my-bucket/data_capture/ep/").prefix == "data_capture/ep/"
    assert parse_s3_url("s3://my.bucket/a/b").url == "s3://my.bucket/a/b"


# --------------------------------------------------------------------------- S3


def _fast_put(bucket: str, key: str, body: bytes) -> None:
    """Straight into moto's backend: 1005 put_object calls through botocore cost
    seconds, and the upload is not what is under test."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    s3_backends[DEFAULT_ACCOUNT_ID]["aws"].put_object(bucket, key, body)


def test_s3_prefix_with_more_keys_than_one_listing_page(aws: None) -> None:
    client = s3_bucket()
    pages: list[int] = []
    client.meta.events.register(
        "after-call.s3.ListObjectsV2",
        lambda parsed, **_: pages.append(len(parsed.get("Contents", []))),
    )
    start = T0
    count = 1005
    rng = random.Random(5)
    order = list(range(count))
    rng.shuffle(order)  # key order != time order
    for n, position in enumerate(order):
        time = start + timedelta(seconds=position * 37)
        key = "data_capture/" + capture_key("ep", time, f"{n:04d}")
        _fast_put(BUCKET, key, json.dumps(capture_record(time, [0.3, 0.7])).encode() + b"\n")
    _fast_put(BUCKET, "data_capture/ep/README.txt", b"not capture")
    _fast_put(BUCKET, "elsewhere/x.jsonl", json.dumps(capture_record(T0, [1, 0])).encode())

    read = read_capture(f"s3://{BUCKET}/data_capture/", client)

    assert pages == [1000, 6]  # the paginator really turned the page
    assert read.files == count and len(read.records) == count
    assert read.skipped_files == 1 and any("not .jsonl" in n for n in read.notes)
    times = [r.time for r in read.records]
    assert times == sorted(times) and times[0] == start
    assert read.records[0].source.startswith(f"s3://{BUCKET}/data_capture/ep/AllTraffic/")


def test_s3_many_records_per_file_and_prefix_semantics(aws: None) -> None:
    client = s3_bucket()
    records = random_records(30, seed=9)
    lines = [json.dumps(capture_record(t, p)) for t, p in records]
    client.put_object(Bucket=BUCKET, Key="cap/ep-1/a.jsonl", Body="\n".join(lines[:20]))
    client.put_object(Bucket=BUCKET, Key="cap/ep-2/b.jsonl", Body="\n".join(lines[20:]))

    both = read_capture(f"s3://{BUCKET}/cap/ep", client)  # a prefix, not a folder
    one = read_capture(f"s3://{BUCKET}/cap/ep-1/", client)

    assert (both.files, len(both.records)) == (2, 30)
    assert (one.files, len(one.records)) == (1, 20)
    assert [r.time for r in both.records] == sorted(t for t, _ in records)


def test_s3_empty_prefix_and_missing_bucket(aws: None) -> None:
    client = s3_bucket()
    read = read_capture(f"s3://{BUCKET}/nothing/here/", client)
    assert read.records == [] and read.files == 0
    assert read.notes and f"s3://{BUCKET}/nothing/here/" in read.notes[0]
    with pytest.raises(MlwfError, match="cannot list s3://no-such-bucket/x.*NoSuchBucket"):
        read_capture("s3://no-such-bucket/x", client)
