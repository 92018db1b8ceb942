"""A training job's log, read from CloudWatch Logs while `mlwf train` waits
(training_job/training_log.py, and its lines in sagemaker_io.wait_for_training_job)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.helpers.paths import REGION
from tests.helpers.sagemaker_stack import ScriptedSageMaker, no_sleep
from training_job import sagemaker_io
from training_job.training_log import TRAINING_LOG_GROUP, TrainingLogTail

# CloudWatch Logs refuses events more than 14 days old (moto too): the log's times are
# recent, whole seconds
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
EPOCH = int(NOW.timestamp())
COMPLETED = {"TrainingJobStatus": "Completed", "SecondaryStatus": "Completed"}


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.fixture
def logs(aws: None) -> Any:
    client = boto3.client("logs", region_name=REGION)
    client.create_log_group(logGroupName=TRAINING_LOG_GROUP)
    return client


def put(logs: Any, stream: str, *events: tuple[datetime, str]) -> None:
    try:
        logs.create_log_stream(logGroupName=TRAINING_LOG_GROUP, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    logs.put_log_events(
        logGroupName=TRAINING_LOG_GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": ms(at), "message": message} for at, message in events],
    )


def test_the_tail_gives_each_line_of_the_jobs_streams_once_oldest_first(logs: Any) -> None:
    # Given a two-instance job's streams, and another job whose name starts the same
    at = NOW + timedelta(seconds=1)
    put(logs, f"job/algo-1-{EPOCH}", (at, "epoch 0"), (at + timedelta(seconds=2), "epoch 1"))
    put(logs, f"job/algo-2-{EPOCH}", (at + timedelta(seconds=1), "worker up\n"))
    put(logs, f"job-2/algo-1-{EPOCH}", (at, "not this job"))
    tail = TrainingLogTail(logs, "job")

    # When it is read, then read again after more lines came
    first = tail.new_lines()
    again = tail.new_lines()
    put(logs, f"job/algo-1-{EPOCH}", (at + timedelta(seconds=3), "epoch 2"))
    later = tail.new_lines()

    # Then each read has only what is new, in time order, named by its instance
    assert [(line.host, line.message) for line in first] == [
        ("algo-1", "epoch 0"),
        ("algo-2", "worker up"),
        ("algo-1", "epoch 1"),
    ]
    assert first[0].at == at
    assert again == []
    assert [(line.host, line.message) for line in later] == [("algo-1", "epoch 2")]
    assert tail.take_problem() is None


def test_no_log_group_yet_is_no_lines_and_no_problem(aws: None) -> None:
    # An account's first training job: the group appears when the container first logs
    tail = TrainingLogTail(boto3.client("logs", region_name=REGION), "job")
    assert tail.new_lines() == []
    assert tail.take_problem() is None


def test_an_unreadable_log_is_told_once_and_then_left_alone() -> None:
    # Given credentials without logs:DescribeLogStreams
    logs = boto3.client(
        "logs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(logs)
    stubber.add_client_error("describe_log_streams", "AccessDeniedException", "not authorized", 400)
    tail = TrainingLogTail(logs, "job")
    with stubber:
        # When it is read twice (the stub answers once: a second call would fail)
        assert tail.new_lines() == []
        assert tail.new_lines() == []
    # Then the problem is told once
    assert tail.take_problem() == "AccessDeniedException: not authorized"
    assert tail.take_problem() is None


def test_the_wait_prints_log_lines_among_the_transitions_by_time(logs: Any) -> None:
    # Given a job that had ended by the first poll, its log written during its training
    ended = NOW + timedelta(seconds=8)
    desc = {
        **COMPLETED,
        "CreationTime": NOW,
        "SecondaryStatusTransitions": [
            {"Status": "Starting", "StartTime": NOW, "StatusMessage": "Preparing"},
            {"Status": "Training", "StartTime": NOW, "StatusMessage": "In progress"},
            {"Status": "Completed", "StartTime": ended, "StatusMessage": "Done"},
        ],
        "LastModifiedTime": ended,
    }
    stream = f"job/algo-1-{EPOCH}"
    put(logs, stream, (NOW + timedelta(seconds=2), "cache used"))
    put(logs, stream, (NOW + timedelta(seconds=7), "artifact written"))
    lines: list[str] = []

    # When `mlwf train` waits for it, reading its log
    sagemaker_io.wait_for_training_job(
        ScriptedSageMaker([desc]),
        "job",
        sleep=no_sleep,
        clock=lambda: 0.0,
        echo=lines.append,
        log=TrainingLogTail(logs, "job"),
    )

    # Then the log's lines sit where they happened, at the job's own times
    assert lines == [
        "  [       0s] Starting: Preparing",
        "  [       0s] Training: In progress",
        "  [       2s] algo-1 | cache used",
        "  [       7s] algo-1 | artifact written",
        "  [       8s] Completed: Done",
        "  [       8s] status Completed",
    ]


def test_the_wait_says_once_why_the_log_is_not_shown() -> None:
    logs = boto3.client(
        "logs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(logs)
    stubber.add_client_error("describe_log_streams", "AccessDeniedException", "no", 400)
    in_progress = {"TrainingJobStatus": "InProgress", "SecondaryStatus": "Training"}
    lines: list[str] = []
    with stubber:
        sagemaker_io.wait_for_training_job(
            ScriptedSageMaker([in_progress, in_progress, COMPLETED]),
            "job",
            sleep=lambda _: None,
            clock=lambda: 0.0,
            echo=lines.append,
            log=TrainingLogTail(logs, "job"),
        )
    told = [line for line in lines if "cannot be read" in line]
    assert told == [
        "  (the job's log in CloudWatch Logs cannot be read: AccessDeniedException: no)"
    ]
    assert lines[-1].endswith("status Completed")


def test_log_times_are_utc(logs: Any) -> None:
    put(logs, f"job/algo-1-{EPOCH}", (NOW, "first"))
    (line,) = TrainingLogTail(logs, "job").new_lines()
    assert line.at == NOW and line.at.tzinfo == UTC


def stubbed_logs() -> tuple[Any, Stubber]:
    logs = boto3.client(
        "logs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    return logs, Stubber(logs)


def streams_answer(*names: str) -> dict[str, Any]:
    return {"logStreams": [{"logStreamName": name} for name in names]}


def events_answer(token: str, *messages: str) -> dict[str, Any]:
    events = [{"timestamp": ms(NOW) + i, "message": m} for i, m in enumerate(messages)]
    return {"events": events, "nextForwardToken": token, "nextBackwardToken": "b"}


def test_a_throttled_read_loses_no_line_and_the_next_read_has_them(aws: None) -> None:
    # Given two streams, the second one throttled on the first read
    logs, stubber = stubbed_logs()
    one, two = f"job/algo-1-{EPOCH}", f"job/algo-2-{EPOCH}"
    stubber.add_response("describe_log_streams", streams_answer(one, two))
    stubber.add_response("get_log_events", events_answer("f1", "one says"))
    stubber.add_response("get_log_events", events_answer("f1"))  # the end of stream one
    stubber.add_client_error("get_log_events", "ThrottlingException", "slow down", 400)
    # the second read starts again from where the last whole read ended
    stubber.add_response("describe_log_streams", streams_answer(one, two))
    stubber.add_response("get_log_events", events_answer("f1", "one says"))
    stubber.add_response("get_log_events", events_answer("f1"))
    stubber.add_response("get_log_events", events_answer("f2", "two says"))
    stubber.add_response("get_log_events", events_answer("f2"))
    tail = TrainingLogTail(logs, "job")
    with stubber:
        first = tail.new_lines()
        second = tail.new_lines()
    # Then the throttled read gave nothing and is no lasting problem; the next has both
    assert first == []
    assert tail.take_problem() is None
    assert [line.message for line in second] == ["one says", "two says"]


def test_events_answered_with_the_token_given_end_the_read() -> None:
    # A stream's end is the token it was given; a read that got events and that token
    # (never seen from AWS) still ends, with its events once
    logs, stubber = stubbed_logs()
    stream = f"job/algo-1-{EPOCH}"
    stubber.add_response("describe_log_streams", streams_answer(stream))
    stubber.add_response("get_log_events", events_answer("f1", "first"))
    stubber.add_response("get_log_events", events_answer("f1", "again"))
    with stubber:
        lines = TrainingLogTail(logs, "job").new_lines()
    assert [line.message for line in lines] == ["first", "again"]


def test_the_wait_reads_the_log_once_more_after_a_job_it_saw_running(logs: Any) -> None:
    # Given a job seen in progress, whose last line reaches CloudWatch after its end
    stream = f"job/algo-1-{EPOCH}"
    in_progress = {
        "TrainingJobStatus": "InProgress",
        "SecondaryStatus": "Training",
        "SecondaryStatusTransitions": [
            {"Status": "Training", "StartTime": NOW, "StatusMessage": "Downloading"}
        ],
    }
    reworded = {
        **in_progress,
        "SecondaryStatusTransitions": [
            {"Status": "Training", "StartTime": NOW, "StatusMessage": "In progress"}
        ],
    }
    arrivals = iter(
        [
            [(NOW + timedelta(seconds=5), "epoch 1")],  # during the first sleep
            [],  # nothing during the second
            [(NOW + timedelta(seconds=70), "final accuracy 0.9")],  # after the end
        ]
    )
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds
        arrived = next(arrivals)
        if arrived:
            put(logs, stream, *arrived)

    put(logs, stream, (NOW + timedelta(seconds=1), "epoch 0"))
    lines: list[str] = []
    sagemaker_io.wait_for_training_job(
        ScriptedSageMaker([in_progress, reworded, COMPLETED]),
        "job",
        poll_interval=30,
        sleep=sleep,
        clock=lambda: now[0],
        echo=lines.append,
        log=TrainingLogTail(logs, "job"),
    )

    # Then each line shows once, in order; the rewording comes after the poll's log
    # lines; the last line is read one settle wait (not a whole poll) after the end
    assert [line.split("] ", 1)[1] for line in lines] == [
        "Training: Downloading",
        "algo-1 | epoch 0",
        "status InProgress (Training)",
        "algo-1 | epoch 1",
        "Training: In progress",
        "status Completed",
        "algo-1 | final accuracy 0.9",
    ]
    assert slept == [30, 30, sagemaker_io.LOG_SETTLE_SECONDS]
