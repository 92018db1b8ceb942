"""Training jobs on the offline stack: run one again as `mlwf train` does, read its log."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager


def job_log_events(stack, job_name: str) -> list[dict]:
    """The events of one training job's log streams ([job]/algo-N-[epoch])."""
    logs = stack.client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job_name}/")
    return [
        event
        for stream in streams["logStreams"]
        for event in logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
    ]


@contextmanager
def local_time_zone(name: str) -> Iterator[None]:
    """The process's local time zone, for the block."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def train_again(stack, deployment, said: list[str]):
    """`mlwf train` on the module's staged data, its printout into `said`, its log read."""
    from training_job.train import train

    return train(
        stack.client("sagemaker"),
        stack.s3,
        deployment.settings,
        region="us-east-1",
        poll_interval=0.0,
        echo=said.append,
        logs=stack.client("logs"),
    )
