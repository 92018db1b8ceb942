"""`mlwf monitor`: summary, plots and the command end to end (mlwf/monitor.py, mlwf/plots/)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from mlwf.capture import CaptureRecord, read_capture
from mlwf.cli import main
from mlwf.monitor import format_summary, summarize
from mlwf.plots.bins import bucket_counts, choose_bucket, reliability_bins
from mlwf.plots.monitor import plot_all, plot_reliability
from mlwf.settings import resolve_threshold, threshold_output_key
from tests.helpers.capture_files import (
    BUCKET,
    T0,
    capture_key,
    capture_record,
    random_records,
    write_labelled_capture,
    write_lines,
    write_tree,
)

PLOTS = ["confidence_over_time.png", "confidence_histogram.png", "class_over_time.png"]


def record(seconds: int, probabilities: tuple[float, ...], source: str = "f") -> CaptureRecord:
    confidence = max(probabilities)
    return CaptureRecord(
        time=T0 + timedelta(seconds=seconds),
        event_id=None,
        inference_id=None,
        probabilities=probabilities,
        predicted=probabilities.index(confidence),
        confidence=confidence,
        input_sha256=None,
        source=source,
        line=1,
    )


RECORDS = [
    record(0, (0.99, 0.01)),
    record(60, (0.2, 0.8)),
    record(120, (0.95, 0.05)),
    record(3600, (0.07, 0.93)),  # exactly at the threshold: accepted
    record(7200, (0.4, 0.6)),
]


def assert_png(path: Path, size: tuple[int, int] = (1200, 600)) -> None:
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == size
        # Not blank: a plot has many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


# --------------------------------------------------------------------------- summary


def test_summarize_by_hand() -> None:
    summary = summarize(RECORDS, 0.93, [0, 1, 1, 1, None], threshold_source="--threshold")
    assert summary["records"] == 5
    assert summary["below_threshold"] == {"count": 2, "share": 0.4}
    assert summary["classes"]["bicycle"] == {
        "index": 0,
        "count": 2,
        "share": 0.4,
        "below_threshold": 0,
    }
    assert summary["classes"]["motorcycle"]["below_threshold"] == 2
    assert summary["time_span"] == {
        "first": "2025-10-04T08:00:00Z",
        "last": "2025-10-04T10:00:00Z",
        "seconds": 7200.0,
    }
    assert summary["confidence"]["min"] == 0.6 and summary["confidence"]["max"] == 0.99
    assert summary["confidence"]["median"] == 0.93
    labels = summary["labels"]
    assert (labels["joined"], labels["unmatched"]) == (4, 1)
    # Labelled: r0 right, r1 right (below), r2 wrong, r3 right.
    assert labels["accuracy"] == 0.75
    assert (labels["accepted_labelled"], labels["accuracy_accepted"]) == (3, pytest.approx(2 / 3))
    assert (labels["below_labelled"], labels["accuracy_below"]) == (1, 1.0)
    assert labels["confusion"] == {
        "bicycle": {"bicycle": 1, "motorcycle": 0},
        "motorcycle": {"bicycle": 1, "motorcycle": 2},
    }
    json.dumps(summary)
    text = format_summary(summary)
    assert "Below      2 of 5 records (40.0%) have top confidence < 0.93" in text
    assert "Accuracy   0.750 overall, 0.667 on 3 accepted, 1.000 on 1 below threshold" in text


def test_summarize_nothing() -> None:
    summary = summarize([], 0.93)
    assert summary["records"] == 0 and summary["time_span"] is None
    assert summary["below_threshold"] == {"count": 0, "share": None}
    assert summary["labels"] is None
    assert "Threshold  0.93" in format_summary(summary)


def test_time_buckets() -> None:
    assert choose_bucket(T0, T0 + timedelta(minutes=30))[1] == "minute"
    assert choose_bucket(T0, T0 + timedelta(hours=3))[1] == "5 minutes"
    assert choose_bucket(T0, T0 + timedelta(days=3))[1] == "6 hours"
    assert choose_bucket(T0, T0 + timedelta(days=45))[1] == "day"
    assert choose_bucket(T0, T0 + timedelta(days=5000))[1] == "30 days"
    starts, counts = bucket_counts(RECORDS, timedelta(hours=1))
    assert starts == [datetime(2025, 10, 4, h) for h in (8, 9, 10)]
    assert counts == {0: [2, 0, 0], 1: [1, 1, 1]}


def test_reliability_bins() -> None:
    bins = reliability_bins([0.52, 0.58, 0.97, 1.0, 0.99], [True, False, True, True, False])
    assert [(b["low"], b["high"], b["count"]) for b in bins] == [(0.5, 0.55, 1), (0.55, 0.6, 1),
                                                                 (0.95, 1.0, 3)]  # fmt: skip
    assert bins[2]["accuracy"] == pytest.approx(2 / 3)
    assert bins[2]["mean_confidence"] == pytest.approx((0.97 + 1.0 + 0.99) / 3)


# --------------------------------------------------------------------------- plots


def test_plot_all_writes_readable_pngs(tmp_path: Path) -> None:
    paths = plot_all(RECORDS, 0.93, tmp_path / "plain")
    assert [p.name for p in paths] == PLOTS
    for path in paths:
        assert_png(path)
    labelled = plot_all(RECORDS, 0.93, tmp_path / "labelled", labels=[0, 1, 1, 1, None])
    assert [p.name for p in labelled] == [*PLOTS, "reliability.png"]
    assert_png(labelled[-1])
    # Labels that all failed to join: no reliability plot.
    assert plot_reliability(RECORDS, 0.93, tmp_path / "r.png", [None] * 5) is None
    assert plot_all([], 0.93, tmp_path / "empty") == []
    with pytest.raises(ValueError, match="2 labels for 5 records"):
        plot_all(RECORDS, 0.93, tmp_path / "bad", labels=[0, 1])


def test_plots_of_one_record_and_of_a_long_span(tmp_path: Path) -> None:
    for path in plot_all(RECORDS[:1], 0.5, tmp_path / "one", labels=[0]):
        assert_png(path)
    months = [record(86400 * 9 * i, (0.3, 0.7)) for i in range(20)]
    for path in plot_all(months, 1.0, tmp_path / "long"):
        assert_png(path)


# --------------------------------------------------------------------------- the command


def run_monitor(*args: str) -> int:
    return main(["monitor", *args])


def test_cli_end_to_end_on_a_generated_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = random_records(300, seed=3, span=timedelta(days=2))
    write_tree(tmp_path / "capture", records, per_file=9)
    write_lines(tmp_path / "capture" / "ep" / "bad.jsonl", ["{", '{"captureData": {}}'])
    out = tmp_path / "out"

    code = run_monitor("--capture", str(tmp_path / "capture"), "--threshold", "0.9",
                       "--out", str(out))  # fmt: skip

    printed = capsys.readouterr()
    assert code == 0, printed.err
    for name in PLOTS:
        assert_png(out / name)
    assert not (out / "reliability.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    expected_below = sum(max(p) < 0.9 for _, p in records)
    assert summary["records"] == 300 and summary["threshold"] == 0.9
    assert summary["threshold_source"] == "--threshold"
    assert summary["below_threshold"]["count"] == expected_below
    assert summary["malformed"] == {"bad-json": 1, "missing-key": 1}
    assert summary["plots"] == PLOTS
    assert summary["classes"]["bicycle"]["count"] + summary["classes"]["motorcycle"]["count"] == 300
    assert f"Below      {expected_below} of 300 records" in printed.out
    assert "Malformed  bad-json 1, missing-key 1" in printed.out


def test_cli_with_labels_adds_accuracy_and_the_reliability_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = [(0.55, False), (0.7, True), (0.95, True), (0.99, False), (0.999, True)]
    capture, lst = write_labelled_capture(tmp_path, specs)
    # A record whose image is not in the .lst: counted as unmatched.
    write_lines(
        capture / capture_key("ep", T0 + timedelta(hours=1), "x"),
        [json.dumps(capture_record(T0 + timedelta(hours=1), [0.9, 0.1], b"unknown"))],
    )
    out = tmp_path / "out"
    code = run_monitor("--capture", str(capture), "--threshold", "0.93", "--labels", str(lst),
                       "--out", str(out))  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert_png(out / "reliability.png")
    labels = json.loads((out / "summary.json").read_text())["labels"]
    assert (labels["joined"], labels["unmatched"], labels["by_image_bytes"]) == (5, 1, 5)
    assert labels["accuracy"] == 0.6
    assert (labels["accepted_labelled"], labels["accuracy_accepted"]) == (3, pytest.approx(2 / 3))
    assert "5 of 6 records joined" in printed.out


def test_cli_reads_s3(aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for i, (time, probabilities) in enumerate(random_records(12, seed=4)):
        body = json.dumps(capture_record(time, probabilities))
        client.put_object(Bucket=BUCKET, Key=f"data_capture/{capture_key('ep', time, str(i))}",
                          Body=body)  # fmt: skip
    out = tmp_path / "out"
    code = run_monitor("--capture", f"s3://{BUCKET}/data_capture/", "--threshold", "0.93",
                       "--out", str(out))  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["records"], summary["files"]) == (12, 12)
    assert summary["source"] == f"s3://{BUCKET}/data_capture/"


def _stack(threshold: str, bucket: str | None = None) -> None:
    import boto3

    from training_job.stack import OUTPUT_FIELDS

    outputs = {threshold_output_key(): {"Value": threshold}}
    if bucket:
        key = next(k for k, v in OUTPUT_FIELDS.items() if v == "bucket")
        outputs[key] = {"Value": bucket}
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="ml-workflow", TemplateBody=json.dumps(template)
    )


def test_threshold_comes_from_the_stack_and_the_flag_overrides_it(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack("0.8")
    capture = write_tree(tmp_path / "capture", random_records(20, seed=6))
    out = tmp_path / "out"
    assert run_monitor("--capture", str(capture), "--stack-name", "ml-workflow",
                       "--out", str(out)) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    assert summary["threshold"] == 0.8
    source = f"stack ml-workflow output {threshold_output_key()}"
    assert summary["threshold_source"] == source
    assert f"Threshold  0.8 (from {source})" in capsys.readouterr().out

    # The flag wins without asking the stack.
    args = argparse.Namespace(stack_name="ml-workflow", region=None, threshold="0.97")
    assert resolve_threshold(args) == (0.97, "--threshold")


def test_capture_and_threshold_default_to_the_stack(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    _stack("0.9", bucket=BUCKET)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for i, (time, probabilities) in enumerate(random_records(4, seed=8)):
        key = "data_capture/" + capture_key("ep", time, str(i))
        client.put_object(
            Bucket=BUCKET, Key=key, Body=json.dumps(capture_record(time, probabilities))
        )
    out = tmp_path / "out"
    assert run_monitor("--stack-name", "ml-workflow", "--out", str(out)) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["source"], summary["records"]) == (f"s3://{BUCKET}/data_capture/", 4)
    assert summary["threshold"] == 0.9


def test_a_stack_threshold_out_of_range_is_reported(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack("0.3")
    capture = write_tree(tmp_path / "capture", random_records(3))
    assert run_monitor("--capture", str(capture), "--stack-name", "ml-workflow") == 1
    err = capsys.readouterr().err
    assert f"threshold 0.3 from stack ml-workflow output {threshold_output_key()} is out" in err


def test_no_threshold_anywhere_asks_for_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("training_job.stack.default_stack_name", lambda *_: None)
    capture = write_tree(tmp_path / "capture", random_records(3))
    assert run_monitor("--capture", str(capture), "--out", str(tmp_path / "o")) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlwf monitor: error: missing --threshold") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()  # nothing drawn at a guessed threshold


def test_no_capture_and_no_bucket_output_asks_for_the_flag(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _stack("0.9")  # no bucket output
    assert run_monitor("--stack-name", "ml-workflow", "--out", str(tmp_path / "o")) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlwf monitor: error: missing --capture: stack 'ml-workflow' has no")
    assert "--bucket" not in err and err.count("\n") == 1


def test_a_stack_that_does_not_exist_asks_for_the_flag(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = write_tree(tmp_path / "capture", random_records(3))
    assert run_monitor("--capture", str(capture), "--stack-name", "nope") == 1
    err = capsys.readouterr().err
    assert "cannot read stack 'nope'" in err and "pass --threshold" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--capture", "MISSING", "--threshold", "0.9"], "capture folder not found"),
        (["--capture", "s3://", "--threshold", "0.9"], "not an S3 URL: 's3://'"),
        (["--capture", "s3:/bucket/x", "--threshold", "0.9"], "not an S3 URL"),
        (["--capture", "CAPTURE", "--threshold", "1.5"], "threshold 1.5 from --threshold is out"),
        (["--capture", "CAPTURE", "--threshold", "0.2"], "the template allows 0.5 to 1.0"),
        (["--capture", "CAPTURE", "--threshold", "nan"], "out of range"),
        (["--capture", "CAPTURE", "--threshold", "high"], "threshold 'high' from --threshold is"),
        (["--capture", "CAPTURE", "--threshold", "0.9", "--labels", "MISSING"], "labels file"),
    ],
)
def test_bad_arguments_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    capture = write_tree(tmp_path / "capture", random_records(3))
    values = {"MISSING": str(tmp_path / "missing"), "CAPTURE": str(capture)}
    code = run_monitor(*[values.get(a, a) for a in args], "--out", str(tmp_path / "o"))
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("mlwf monitor: error: ") and err.count("\n") == 1
    assert message in err


def test_nothing_to_report_exits_1_but_writes_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "capture").mkdir()
    out = tmp_path / "out"
    code = run_monitor("--capture", str(tmp_path / "capture"), "--threshold", "0.93",
                       "--out", str(out))  # fmt: skip
    printed = capsys.readouterr()
    assert code == 1
    assert "no capture records to report: no .jsonl capture files" in printed.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == 0 and summary["plots"] == []
    assert "no .jsonl capture files" in summary["notes"][0]


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["monitor", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--capture", "--threshold", "--labels", "--images", "--out", "--stack-name"):
        assert flag in text


@pytest.mark.shared_data
def test_cli_on_the_real_shared_records(
    capture_dir: Path, cifar_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = run_monitor("--capture", str(capture_dir), "--threshold", "0.93",
                       "--labels", str(cifar_dir / "test.lst"), "--out", str(out))  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == 3 and summary["below_threshold"]["count"] == 1
    assert summary["time_span"]["first"] == "2025-08-22T04:07:39Z"
    assert summary["labels"]["joined"] == 3 and summary["labels"]["accuracy"] == 1.0
    for name in [*PLOTS, "reliability.png"]:
        assert_png(out / name)
    assert len(read_capture(capture_dir).records) == 3


def test_time_span_is_utc(tmp_path: Path) -> None:
    moment = datetime(2025, 10, 4, 10, 0, tzinfo=UTC)
    summary = summarize([record(0, (0.5, 0.5))], 0.93)
    assert summary["time_span"]["first"] == "2025-10-04T08:00:00Z"
    assert moment.isoformat().endswith("+00:00")
