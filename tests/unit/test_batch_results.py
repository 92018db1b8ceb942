"""Reading a batch's verdicts back from its ResultWriter files, one entry at a time.

The files' shapes are AWS's
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html): a
manifest.json naming SUCCEEDED_n / FAILED_n / PENDING_n files, each a JSON array of child
executions with their Input and Output as JSON strings.
"""

from __future__ import annotations

import io
import json
import random

import pytest

from mlwf.batch_results import (
    CSV_FIELDS,
    collect,
    iter_json_array,
    iter_verdicts,
    verdict_of,
    write_outputs,
)
from tests.helpers.batch_results import ChunkedBody, FakeS3, accepted, entry, results
from training_job.errors import MlwfError


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 16])
def test_a_json_array_streams_element_by_element_whatever_the_chunks(chunk):
    # Given elements with multi-byte characters, numbers and nesting split across chunks
    elements = [
        {"k": "vélo — 自転車", "n": 12345.678e-3, "a": [1, [2, {"x": None}]], "t": True},
        123456789,
        'a string with \\"escapes\\" and ]brackets[',
        [],
        {},
        -0.5,
    ]
    data = " \n[ " + " ,\n ".join(json.dumps(e, ensure_ascii=False) for e in elements) + " ]\n"
    got = list(iter_json_array(ChunkedBody(data.encode(), chunk, [], "f"), chunk_bytes=chunk))
    assert got == elements


def test_an_empty_array_streams_nothing():
    assert list(iter_json_array(io.BytesIO(b"[]"))) == []
    assert list(iter_json_array(io.BytesIO(b" [ ] "))) == []


@pytest.mark.parametrize("data", [b'[{"a": 1}, {"b": ', b'[{"a": 1}', b'{"a": 1}', b"", b"[1,"])
def test_what_is_not_a_whole_json_array_is_refused(data):
    with pytest.raises(ValueError):
        list(iter_json_array(io.BytesIO(data), chunk_bytes=4))


def test_a_large_array_streams_with_a_bounded_buffer():
    # A few MB of entries read 4 KB at a time: the decoder never holds the whole text
    rng = random.Random(7)
    entries = [accepted(f"k/{i:06d}.png", rng.random()) for i in range(5000)]
    body = ChunkedBody(json.dumps(entries).encode(), 4096, [], "f")
    count = sum(1 for _ in iter_json_array(body, chunk_bytes=4096))
    assert count == 5000


def test_verdicts_from_each_kind_of_entry():
    ok = verdict_of(accepted("a.png", 0.97))
    assert (ok.s3_key, ok.verdict, ok.predicted, round(ok.confidence, 2)) == (
        "a.png",
        "ACCEPTED",
        "bicycle",
        0.97,
    )
    low = verdict_of(
        entry(
            "SUCCEEDED",
            "b.png",
            {
                "s3_key": "b.png",
                "verdict": "LOW_CONFIDENCE",
                "inferences": [0.4, 0.6],
                "error": "ThresholdConfidenceNotMet",
                "inference_id": "i",
            },
        )
    )
    assert (low.verdict, low.predicted, low.error) == (
        "LOW_CONFIDENCE",
        "motorcycle",
        "ThresholdConfidenceNotMet",
    )
    # A child that failed past its catches: ERROR with the child's error
    failed = verdict_of(entry("FAILED", "c.png", Error="States.Runtime", Cause="..."))
    assert (failed.s3_key, failed.verdict, failed.error) == ("c.png", "ERROR", "States.Runtime")
    # A child never started (the Map Run ended first)
    pending = verdict_of(entry("PENDING", "d.png"))
    assert (pending.s3_key, pending.verdict) == ("d.png", "NOT_RUN")


def test_verdicts_are_read_one_file_at_a_time_in_the_manifests_order():
    # Given two SUCCEEDED files, a FAILED and a PENDING one
    objects = results(
        {
            "SUCCEEDED_0.json": [accepted("a.png"), accepted("b.png")],
            "SUCCEEDED_1.json": [accepted("c.png")],
            "FAILED_0.json": [entry("FAILED", "d.png", Error="States.Timeout")],
            "PENDING_0.json": [entry("PENDING", "e.png")],
        }
    )
    s3 = FakeS3(objects, chunk=16)

    # When the verdicts are read
    verdicts = iter_verdicts(s3, "b", "r/x/manifest.json")
    first = next(verdicts)

    # Then the first comes before the other files are even opened
    assert first.s3_key == "a.png"
    assert s3.log == [
        "open r/x/manifest.json",
        "close r/x/manifest.json",
        "open r/x/SUCCEEDED_0.json",
    ]
    rest = list(verdicts)
    assert [v.s3_key for v in rest] == ["b.png", "c.png", "d.png", "e.png"]
    # And each file is closed before the next one opens
    opened = [line for line in s3.log if "manifest" not in line]
    assert opened == [
        f"{action} r/x/{name}"
        for name in ("SUCCEEDED_0.json", "SUCCEEDED_1.json", "FAILED_0.json", "PENDING_0.json")
        for action in ("open", "close")
    ]


def test_a_manifest_that_is_not_one_is_a_named_error():
    s3 = FakeS3({"b/m.json": b'{"something": "else"}'})
    with pytest.raises(MlwfError, match="is not a ResultWriter manifest"):
        list(iter_verdicts(s3, "b", "m.json"))


def test_a_broken_result_file_is_a_named_error():
    objects = results({"SUCCEEDED_0.json": []})
    objects["b/r/x/SUCCEEDED_0.json"] = b'[{"Status": "SUCC'
    with pytest.raises(MlwfError, match="SUCCEEDED_0.json is not a result file"):
        list(iter_verdicts(FakeS3(objects), "b", "r/x/manifest.json"))


def test_the_summary_counts_verdicts_and_errors():
    verdicts = [
        verdict_of(accepted("a.png")),
        verdict_of(entry("FAILED", "d.png", Error="States.Timeout")),
        verdict_of(
            entry(
                "SUCCEEDED",
                "n.txt",
                {"s3_key": "n.txt", "verdict": "SKIPPED", "error": "NotAnImage"},
            )
        ),
    ]
    summary = collect(iter(verdicts))
    assert summary.as_dict() == {
        "keys": 3,
        "images": 2,
        "verdicts": {"ACCEPTED": 1, "ERROR": 1, "SKIPPED": 1},
        "errors": {"States.Timeout": 1},
    }
    assert summary.lines() == [
        "2 images: ACCEPTED 1, ERROR 1",
        "1 keys skipped: not .png/.jpg/.jpeg",
        "errors: States.Timeout 1",
    ]


def test_outputs_are_a_csv_row_per_verdict_and_a_json_summary(tmp_path):
    verdicts = iter([verdict_of(accepted("a.png", 0.97)), verdict_of(entry("PENDING", "e.png"))])
    summary, csv_path, json_path = write_outputs(tmp_path, verdicts, {"execution_arn": "arn"})
    lines = csv_path.read_text().splitlines()
    assert lines[0] == ",".join(CSV_FIELDS)
    assert lines[1] == "a.png,ACCEPTED,bicycle,0.9700,,run-a.png"
    assert lines[2] == "e.png,NOT_RUN,,,,run-e.png"
    written = json.loads(json_path.read_text())
    assert written["execution_arn"] == "arn" and written["keys"] == 2
    assert written["verdicts"] == {"ACCEPTED": 1, "NOT_RUN": 1}

    # A second batch into the same folder replaces what mlwf wrote there
    write_outputs(tmp_path, iter([]), {"execution_arn": "arn2"})
    assert json.loads(json_path.read_text())["execution_arn"] == "arn2"


@pytest.mark.parametrize("name", ["verdicts.csv", "summary.json"])
def test_outputs_never_overwrite_a_file_mlwf_did_not_write(tmp_path, name):
    (tmp_path / name).write_text("my own notes\n")
    with pytest.raises(MlwfError, match=f"{name} exists and mlwf did not write it"):
        write_outputs(tmp_path, iter([]), {})
    assert (tmp_path / name).read_text() == "my own notes\n"


def verdict_output(key: str, verdict: str = "ACCEPTED") -> dict:
    """What a batch child outputs: the verdict a WriterConfig's COMPACT writes itself."""
    return {"s3_key": key, "verdict": verdict, "inferences": [0.9, 0.1], "inference_id": key}


@pytest.mark.parametrize("chunk", [1, 5, 64])
@pytest.mark.parametrize("lines", [False, True], ids=["json-array", "json-lines"])
def test_a_writer_config_s_compact_results_are_read_as_verdicts(chunk, lines):
    # Given result files written with WriterConfig COMPACT (the children's outputs), as a
    # JSON array or JSON Lines, and a failed child's entry kept whole, as AWS keeps it
    succeeded = [verdict_output("a.png"), verdict_output("b.png", "LOW_CONFIDENCE")]
    failed = [entry("FAILED", "c.png", Error="States.Timeout")]
    objects = results({"SUCCEEDED_0.json": succeeded, "FAILED_0.json": failed})
    if lines:
        for name, entries in (("SUCCEEDED_0.json", succeeded), ("FAILED_0.json", failed)):
            text = "".join(json.dumps(e) + "\n" for e in entries)
            objects[f"b/r/x/{name}"] = text.encode()
    # When mlwf batch reads them
    verdicts = list(iter_verdicts(FakeS3(objects, chunk=chunk), "b", "r/x/manifest.json"))
    # Then each image has its verdict (before: every COMPACT entry was counted an ERROR)
    assert [(v.s3_key, v.verdict, v.error) for v in verdicts] == [
        ("a.png", "ACCEPTED", None),
        ("b.png", "LOW_CONFIDENCE", None),
        ("c.png", "ERROR", "States.Timeout"),
    ]


def test_an_entry_that_is_no_verdict_is_a_named_error_not_a_count():
    objects = results({"SUCCEEDED_0.json": [[1, 2]]})  # FLATTEN of outputs that are arrays
    with pytest.raises(MlwfError, match="neither a child execution nor a verdict"):
        list(iter_verdicts(FakeS3(objects), "b", "r/x/manifest.json"))
