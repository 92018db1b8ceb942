"""A training job's log, read from CloudWatch Logs while `mlwf train` waits.

SageMaker sends what the algorithm's container writes to stdout and stderr to the log group
/aws/sagemaker/TrainingJobs, one stream per instance named
`[training-job-name]/algo-[instance-number-in-cluster]-[epoch_timestamp]`
(https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html). The offline
trainer writes its own lines there too, so `mlwf train` shows the same things either way.

Read here rather than through sagemaker-core's MultiLogStreamHandler: that one builds its
logs client from a default boto3 Session (a singleton), so it would ignore the profile and
region `mlwf` was given, and the client the tests hand in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


@dataclass(frozen=True)
class LogLine:
    at: datetime
    host: str  # algo-1, algo-2, ...: the instance, from the stream's name
    message: str


@dataclass
class TrainingLogTail:
    """The lines of one job's streams not returned before, oldest first.

    A log that cannot be read (no permission, throttled) never stops the waiting: `problem`
    says why once, and the tail then reads nothing more."""

    logs: Any
    job_name: str
    problem: str | None = None
    _problem_taken: bool = False
    _tokens: dict[str, str | None] = field(default_factory=dict)

    def take_problem(self) -> str | None:
        """Why the log cannot be read, the first time this is asked after it happened."""
        if self.problem is None or self._problem_taken:
            return None
        self._problem_taken = True
        return self.problem

    def new_lines(self) -> list[LogLine]:
        if self.problem is not None:
            return []
        try:
            lines = [line for stream in self._streams() for line in self._read(stream)]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ResourceNotFoundException":
                return []  # no log group yet: the account's first job has not logged
            self.problem = f"{error.get('Code', 'error')}: {error.get('Message', exc)}"
            return []
        except BotoCoreError as exc:
            self.problem = str(exc)
            return []
        return sorted(lines, key=lambda line: line.at)

    def _streams(self) -> list[str]:
        names = []
        paginator = self.logs.get_paginator("describe_log_streams")
        pages = paginator.paginate(
            logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=f"{self.job_name}/"
        )
        for page in pages:
            names += [stream["logStreamName"] for stream in page["logStreams"]]
        return names

    def _read(self, stream: str) -> list[LogLine]:
        host = stream.removeprefix(f"{self.job_name}/").rpartition("-")[0] or stream
        lines = []
        while True:
            token = self._tokens.get(stream)
            answer = self.logs.get_log_events(
                logGroupName=TRAINING_LOG_GROUP,
                logStreamName=stream,
                startFromHead=True,
                **({"nextToken": token} if token else {}),
            )
            # GetLogEvents answers a forward token even with no events; the same token is
            # answered again once the stream's end is reached.
            self._tokens[stream] = answer["nextForwardToken"]
            if not answer["events"]:
                break
            lines += [
                LogLine(
                    datetime.fromtimestamp(event["timestamp"] / 1000, UTC),
                    host,
                    event["message"].rstrip("\n"),
                )
                for event in answer["events"]
            ]
            if answer["nextForwardToken"] == token:
                break
        return lines
