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

import logging
import threading
import time
from typing import Any

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
