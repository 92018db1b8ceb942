"""Waiting on a training job and what it came to: sagemaker_io.wait_for_training_job (no
sleeps: the clock is injected), training_job/training_summary.py, and a Failed or Stopped job
as one error from `train`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.paths import REGION
from tests.helpers.sagemaker_stack import (
    BUCKET,
    ScriptedSageMaker,
    no_sleep,
    settings,
)
from training_job import sagemaker_io, train
from training_job.errors import MlwfError

# each name made from the clock is new, as on AWS (tests/unit/conftest.py)
pytestmark = pytest.mark.usefixtures("ticking_names")

# ---------------------------------------------------------------- fixtures


# ---------------------------------------------------------------- waiting and the result


def transition(status: str, message: str) -> dict[str, str]:
    return {"Status": status, "StatusMessage": message}


START = datetime(2026, 1, 2, 3, 0, 0, tzinfo=UTC)
COMPLETED = {
    "TrainingJobStatus": "Completed",
    "SecondaryStatus": "Completed",
    "SecondaryStatusTransitions": [
        transition("Starting", "Preparing the instances for training"),
        transition("Downloading", "Downloading input data"),
        transition("Training", "Training image download completed. Training in progress."),
        transition("Uploading", "Uploading generated training model"),
        transition("Completed", "Training job completed"),
    ],
    "CreationTime": START,
    "TrainingStartTime": START + timedelta(minutes=2),
    "TrainingEndTime": START + timedelta(minutes=9, seconds=30),
    "TrainingTimeInSeconds": 450,
    "BillableTimeInSeconds": 135,
    "EnableManagedSpotTraining": True,
    "ResourceConfig": {"InstanceType": "ml.g4dn.xlarge"},
    "ModelArtifacts": {"S3ModelArtifacts": f"s3://{BUCKET}/models/job/output/model.tar.gz"},
    "FinalMetricDataList": [
        {"MetricName": "train:accuracy", "Value": 0.99},
        {"MetricName": "validation:accuracy", "Value": 0.915},
    ],
}


def test_wait_prints_each_change_once_and_never_sleeps_for_real() -> None:
    answers = [
        {
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [transition("Starting", "Launching instances")],
        },
        {  # same status, reworded message
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [
                transition("Starting", "Preparing the instances for training")
            ],
        },
        {  # nothing new
            "TrainingJobStatus": "InProgress",
            "SecondaryStatus": "Starting",
            "SecondaryStatusTransitions": [
                transition("Starting", "Preparing the instances for training")
            ],
        },
        COMPLETED,
    ]
    sm = ScriptedSageMaker(answers)
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    lines: list[str] = []
    desc = sagemaker_io.wait_for_training_job(
        sm, "job", poll_interval=15, sleep=sleep, clock=lambda: now[0], echo=lines.append
    )
    assert desc["TrainingJobStatus"] == "Completed"
    assert sleeps == [15, 15, 15]
    text = "\n".join(lines)
    assert text.count("Launching instances") == 1
    assert text.count("Preparing the instances for training") == 1
    assert text.count("status InProgress (Starting)") == 1
    assert "Training image download completed" in text
    # the secondary status only where it says more than the status
    assert lines[-1].endswith("status Completed")
    assert "[      45s]" in lines[-1]


def test_a_job_in_progress_is_printed_at_the_waiting_time() -> None:
    # Given a job whose descriptions carry its own times (as SageMaker's do)
    late = START + timedelta(minutes=2)
    in_progress = {
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Training",
        "SecondaryStatusTransitions": [
            {"Status": "Training", "StartTime": late, "StatusMessage": "Downloading"}
        ],
        "CreationTime": START,
        "LastModifiedTime": late,
    }
    reworded = {
        **in_progress,
        "SecondaryStatusTransitions": [
            {"Status": "Training", "StartTime": late, "StatusMessage": "In progress"}
        ],
    }
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    lines: list[str] = []
    # When it is polled while in progress
    sagemaker_io.wait_for_training_job(
        ScriptedSageMaker([in_progress, reworded, COMPLETED]),
        "job",
        poll_interval=150,
        sleep=sleep,
        clock=lambda: now[0],
        echo=lines.append,
    )
    # Then every line is at the time since the waiting began, so they never go backwards
    times = [line.split("]")[0].strip(" [") for line in lines]
    assert times[:3] == ["0s", "0s", "2m 30s"], lines
    assert times[-1] == "5m 00s"


def test_wait_prints_the_jobs_own_times_when_it_gives_them() -> None:
    # Given a job that had ended, 8 s after its creation, by the first poll (offline, the
    # local trainer runs within CreateTrainingJob)
    ended = START + timedelta(seconds=8)
    timed = [
        {"Status": "Starting", "StartTime": START, "StatusMessage": "Preparing"},
        {"Status": "Training", "StartTime": START, "StatusMessage": "In progress"},
        {"Status": "Completed", "StartTime": ended, "StatusMessage": "Done"},
    ]
    desc = {
        **COMPLETED,
        "SecondaryStatusTransitions": timed,
        "LastModifiedTime": ended,
    }
    lines: list[str] = []
    # When waiting for it
    sagemaker_io.wait_for_training_job(
        ScriptedSageMaker([desc]), "job", sleep=no_sleep, clock=lambda: 0.0, echo=lines.append
    )
    # Then each line is at the job's time since its creation, not at 0 s of waiting
    assert [line.split("]")[0].strip(" [") for line in lines] == ["0s", "0s", "8s", "8s"]
    assert lines[-1].endswith("status Completed")


def test_wait_times_out() -> None:
    sm = ScriptedSageMaker([{"TrainingJobStatus": "InProgress", "SecondaryStatus": "Training"}])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(MlwfError, match="still InProgress after 1m 00s"):
        sagemaker_io.wait_for_training_job(
            sm,
            "job",
            poll_interval=30,
            sleep=sleep,
            clock=lambda: now[0],
            timeout=60,
            echo=lambda _: None,
        )


def test_summary_reports_accuracy_duration_billing() -> None:
    summary = train.summarize_training_job({"TrainingJobName": "job", **COMPLETED})
    assert summary.validation_accuracy == pytest.approx(0.915)
    assert summary.total_seconds == 570
    assert summary.training_seconds == 450
    text = "\n".join(summary.lines())
    assert "validation accuracy  0.9150" in text
    assert "9m 30s in all, 7m 30s training" in text
    assert "2m 15s (managed spot: 70% saved) on ml.g4dn.xlarge" in text
    assert f"s3://{BUCKET}/models/job/output/model.tar.gz" in text


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {
                "TrainingJobStatus": "Failed",
                "SecondaryStatus": "Failed",
                "FailureReason": "ClientError: Unable to read data channel 'train_lst'",
            },
            "training job .* failed: ClientError: Unable to read data channel 'train_lst'",
        ),
        (
            {"TrainingJobStatus": "Stopped", "SecondaryStatus": "MaxWaitTimeExceeded"},
            "stopped: secondary status MaxWaitTimeExceeded",
        ),
    ],
)
def test_failed_or_stopped_job_is_one_error(
    staged: dict[str, Any], answer: dict[str, Any], message: str
) -> None:
    sm = ScriptedSageMaker([answer])
    with pytest.raises(MlwfError, match=message):
        train.train(
            sm, staged["s3"], settings(), region=REGION, sleep=no_sleep, echo=lambda _: None
        )
    assert len(sm.created) == 1
