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


# Errors that pass: the next poll reads what this one could not
TRANSIENT_CODES = {"ThrottlingException", "ServiceUnavailableException"}


@dataclass
class TrainingLogTail:
    """The lines of one job's streams not returned before, oldest first.

    A log that cannot be read (no permission) never stops the waiting: `problem` says why
    once, and the tail then reads nothing more. A throttled read gives nothing this time;
    the lines come with the next read, none lost: a read moves on only once it has all of
    its lines."""

    logs: Any
    job_name: str
    problem: str | None = None
    _problem_taken: bool = False
    _tokens: dict[str, str] = field(default_factory=dict)

    def take_problem(self) -> str | None:
        """Why the log cannot be read, the first time this is asked after it happened."""
        if self.problem is None or self._problem_taken:
            return None
        self._problem_taken = True
        return self.problem

    def new_lines(self) -> list[LogLine]:
        if self.problem is not None:
            return []
        tokens = dict(self._tokens)  # kept only if every stream is read
        try:
            lines = [line for stream in self._streams() for line in self._read(stream, tokens)]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code == "ResourceNotFoundException" or code in TRANSIENT_CODES:
                return []  # no log group yet (the account's first job), or throttled
            self.problem = f"{code or 'error'}: {error.get('Message', exc)}"
            return []
        except BotoCoreError as exc:
            self.problem = str(exc)
            return []
        self._tokens = tokens
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

    def _read(self, stream: str, tokens: dict[str, str]) -> list[LogLine]:
        host = stream.removeprefix(f"{self.job_name}/").rpartition("-")[0] or stream
        lines = []
        while True:
            token = tokens.get(stream)
            answer = self.logs.get_log_events(
                logGroupName=TRAINING_LOG_GROUP,
                logStreamName=stream,
                startFromHead=True,
                **({"nextToken": token} if token else {}),
            )
            # GetLogEvents answers a forward token even with no events, and the token it
            # was given once the stream's end is reached
            tokens[stream] = answer["nextForwardToken"]
            lines += [
                LogLine(
                    datetime.fromtimestamp(event["timestamp"] / 1000, UTC),
                    host,
                    event["message"].rstrip("\n"),
                )
                for event in answer["events"]
            ]
            if not answer["events"] or answer["nextForwardToken"] == token:
                return lines
