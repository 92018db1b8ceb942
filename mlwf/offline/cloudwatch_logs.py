"""A function's log lines delivered to its CloudWatch Logs group, as Lambda delivers them:
one log stream per execution environment, the group created on first use when the template
declares none (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html).

The lines go straight into moto's Logs backend, where `sam logs`, the AWS CLI and the tests
read them through the API. Each invocation's lines used to go through a boto3 client to
the same backend: request serialization, signing and moto's response parsing, ~2 ms of the
stack process's time per invocation, on the path of every execution. moto's backend methods
are internals: tests/unit/test_cloudwatch_logs.py fails when moto changes them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

logger = logging.getLogger(__name__)


class LogGroupSink:
    """`sink(stream, lines)`: the lines appended to `stream` of the function's log group."""

    def __init__(self, account_id: str, region: str, group: str):
        self.account_id, self.region, self.group = account_id, region, group
        self._streams: set[str] = set()
        self._lock = threading.Lock()  # moto's backend is not thread-safe

    def __call__(self, stream: str, lines: list[str]) -> None:
        try:
            backend = _logs_backend(self.account_id, self.region)
            now = int(time.time() * 1000)
            events = [{"timestamp": now, "message": line} for line in lines]
            with self._lock:
                if stream not in self._streams:
                    if self.group not in backend.groups:
                        backend.create_log_group(self.group, tags={})
                    backend.create_log_stream(self.group, stream)
                    self._streams.add(stream)
                backend.put_log_events(self.group, stream, events)
        except Exception as exc:  # lines lost from CloudWatch must not stop the log
            logger.warning("lost %d lines of %s: %r", len(lines), self.group, exc)


def _logs_backend(account_id: str, region: str) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[account_id][region]


@contextmanager
def stream_prefix_filtered() -> Iterator[None]:
    """FilterLogEvents' logStreamNamePrefix, which moto's Logs ignores (it searched every
    stream of the group), honoured as the API documents it: only the streams whose names
    start with it; with logStreamNames as well, InvalidParameterException
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
    The way to read one training job's log: its streams are [job]/algo-N-[epoch]."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.responses import LogsResponse

    original = LogsResponse.__dict__["filter_log_events"]  # KeyError: moto changed; the test

    def filter_log_events(self: Any) -> str:
        prefix = self._get_param("logStreamNamePrefix")
        if prefix is None:
            return original(self)
        if self._get_param("logStreamNames"):
            raise InvalidParameterException(
                "Cannot specify both logStreamNames and logStreamNamePrefix"
            )
        group = self.logs_backend.groups.get(self._get_param("logGroupName"))
        if group is None:
            return original(self)  # moto's ResourceNotFoundException
        names = [name for name in group.streams if name.startswith(prefix)]
        if not names:  # moto reads no names as every stream
            return json.dumps({"events": [], "searchedLogStreams": []})
        given = self._get_param  # one response object per request: this one's own lookup
        self._get_param = lambda name, if_none=None: (
            names if name == "logStreamNames" else given(name, if_none)
        )
        try:
            return original(self)
        finally:
            del self._get_param

    with patch.object(LogsResponse, "filter_log_events", filter_log_events):
        yield


@contextmanager
def missing_stream_named() -> Iterator[None]:
    """GetLogEvents on a stream the group lacks answering "The specified log stream does not
    exist.", as Logs answers it (recorded in prefect-aws#177, localstack#9226); moto said
    the log group does not exist, sending whoever reads it to look for the wrong thing."""
    from moto.logs.exceptions import ResourceNotFoundException
    from moto.logs.models import LogGroup

    original = LogGroup.__dict__["get_log_events"]  # KeyError: moto changed; see the test

    def get_log_events(self: Any, log_stream_name: str, *args: Any) -> Any:
        if log_stream_name not in self.streams:
            raise ResourceNotFoundException("The specified log stream does not exist.")
        return original(self, log_stream_name, *args)

    with patch.object(LogGroup, "get_log_events", get_log_events):
        yield


# "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
# 1827, 2192, 2557, 2922, 3288, and 3653"
# (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)
RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
)
RETENTION_DAYS += (1827, 2192, 2557, 2922, 3288, 3653)


def retention_refusal(days: Any) -> str | None:
    """The InvalidParameterException message for a retention Logs does not offer; None
    for one it does."""
    from mlwf.offline.validation_errors import validation_errors

    if days in RETENTION_DAYS:
        return None
    allowed = f"[{', '.join(map(str, RETENTION_DAYS))}]"
    return validation_errors(
        [("retentionInDays", f"Member must satisfy enum value set: {allowed}", days)]
    )


@contextmanager
def retention_checked() -> Iterator[None]:
    """PutRetentionPolicy refusing a retention Logs does not offer; moto kept any number
    (a 2-day retention, which `sam deploy` fails on, was taken)."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.models import LogsBackend

    original = LogsBackend.__dict__["put_retention_policy"]  # KeyError: moto changed; the test

    def put_retention_policy(self: Any, log_group_name: str, retention_in_days: Any) -> None:
        refused = retention_refusal(retention_in_days)
        if refused:
            raise InvalidParameterException(refused)
        original(self, log_group_name, retention_in_days)

    with patch.object(LogsBackend, "put_retention_policy", put_retention_policy):
        yield
