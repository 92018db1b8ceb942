"""The demo on a running stack waits for the endpoint's capture files
(mlwf.demo_steps.wait_for_capture): SageMaker writes them some time after the requests, and
each poll downloads only the files written since the last one."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from mlwf.capture import read_capture
from mlwf.demo_steps import wait_for_capture
from tests.helpers.capture_files import BUCKET, T0, capture_key, capture_record, s3_bucket
from training_job.stack import CAPTURE_PREFIX


def put_capture(s3, inference_id: str, minute: int) -> None:
    time = T0 + timedelta(minutes=minute)
    record = capture_record(time, [0.9, 0.1], inference_id=inference_id)
    key = f"{CAPTURE_PREFIX}/{capture_key('endpoint-a', time, inference_id)}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(record) + "\n")


def test_each_poll_downloads_only_the_files_written_since_the_last(aws, tmp_path: Path):
    # Given one inference captured now and the other only after the first poll
    s3 = s3_bucket()
    put_capture(s3, "exec-1", minute=0)
    downloads: list[str] = []
    s3.meta.events.register(
        "provide-client-params.s3.GetObject", lambda params, **_: downloads.append(params["Key"])
    )
    polls: list[float] = []

    def next_poll(seconds: float) -> None:  # SageMaker writes the second file meanwhile
        polls.append(seconds)
        put_capture(s3, "exec-2", minute=1)

    # When the demo waits for both
    files = wait_for_capture(
        s3,
        BUCKET,
        tmp_path / "data_capture",
        {"exec-1", "exec-2"},
        timeout=60,
        say=print,
        sleep=next_poll,
    )

    # Then it polled twice and downloaded each file once
    assert files == 2 and len(polls) == 1
    assert len(downloads) == len(set(downloads)) == 2
    read = read_capture(tmp_path / "data_capture")
    assert {r.inference_id for r in read.records} == {"exec-1", "exec-2"}
