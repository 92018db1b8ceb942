"""A state machine's executions logged to its CloudWatch Logs group, as its
LoggingConfiguration asks (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).

The template's machines log every event (`Level: ALL`) to their log groups; EXPRESS
executions keep no history but there, so `sam logs` on a machine and the console's EXPRESS
executions read it. moto's interpreter carries LocalStack's logging code, but moto starts
every execution without a logging session, and the session's own publishing could not have
worked against moto's Logs backend (it handed the backend the record where a
`{timestamp, message}` event belongs, and caught botocore's errors where moto raises its
own): the groups stayed empty. Here each execution gets a session whose records go straight
into moto's Logs backend, in Step Functions' log format: `id`, `type`, `details`,
`previous_event_id`, `event_timestamp` (milliseconds, as a string) and `execution_arn`, the
events the level selects (moto's `is_logging_enabled_for`, after cloudwatch-log-level.html),
the input and output left out unless `includeExecutionData`. One log stream per execution,
named `states/<machine>/<yyyy-mm-dd-HH-MM>/<id>` as AWS's streams are shown named: the form
is inferred, AWS's rule for splitting streams is not documented.

A level that is not one of `ALL | ERROR | FATAL | OFF` is refused by
mlwf.offline.request_constraints. moto's internals named here are pinned by
tests/unit/test_execution_logs.py.
"""

from __future__ import annotations

import functools
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch  # as moto's mock_aws does: set, then put back as it was

from mlwf.offline.express import express_arn

_LOCK = threading.Lock()  # moto's Logs backend is not thread-safe


def log_group_name(arn: str) -> str:
    """`arn:aws:logs:<region>:<account>:log-group:<name>:*` -> `<name>`."""
    return arn.split(":log-group:", 1)[-1].removesuffix(":*")


def stream_name(machine_name: str, started: datetime) -> str:
    return f"states/{machine_name}/{started:%Y-%m-%d-%H-%M}/{uuid.uuid4().hex[:8]}"


def history_record(history_log: dict[str, Any]) -> tuple[int, str]:
    """(milliseconds, message) of one log event, from moto's history log."""
    stamp = history_log["event_timestamp"]
    when = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    millis = int(when.timestamp() * 1000)
    record = {
        "id": str(history_log["id"]),
        "type": str(getattr(history_log["type"], "value", history_log["type"])),  # moto's enum
        "details": history_log.get("details", {}),
        "previous_event_id": str(history_log["previous_event_id"]),
        "event_timestamp": str(millis),
        "execution_arn": history_log["execution_arn"],
        "redrive_count": "0",  # as AWS's records have it; offline nothing is redriven
    }
    return millis, json.dumps(record, default=str)


def _session(state_machine: Any, execution_arn: str) -> Any:
    """The logging session for one execution; None where the machine logs nothing."""
    from moto.logs.models import logs_backends
    from moto.stepfunctions.parser.asl.eval.event.logging import CloudWatchLoggingConfiguration

    logging: Any = getattr(state_machine, "loggingConfiguration", None) or {}
    # includeExecutionData is optional, false when left out (API_LoggingConfiguration.html);
    # moto's reader takes it as given
    logging = {**logging, "includeExecutionData": bool(logging.get("includeExecutionData"))}
    configuration = CloudWatchLoggingConfiguration.from_logging_configuration(
        state_machine_arn=state_machine.arn, logging_configuration=logging
    )
    if configuration is None:  # OFF, or no log group
        return None
    group = log_group_name(logging["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"])
    stream = stream_name(state_machine.name, datetime.now(UTC))
    backend = logs_backends[configuration.log_account_id][configuration.log_region]

    session = _session_class()(execution_arn=execution_arn, configuration=configuration)
    session.destination = (backend, group, stream)
    return session


@functools.cache
def _session_class() -> type:
    """moto's logging session, its publishing done here: made once, not per execution."""
    from moto.stepfunctions.parser.asl.eval.event.logging import CloudWatchLoggingSession

    class Session(CloudWatchLoggingSession):
        destination: tuple[Any, str, str]  # (moto's Logs backend, group, stream)

        def publish_history_log(self, history_log: Any) -> None:
            millis, message = history_record(dict(history_log))
            backend, group, stream = self.destination
            with _LOCK:
                if group not in backend.groups:
                    return  # no group: AWS delivers nothing either
                if stream not in backend.groups[group].streams:
                    backend.create_log_stream(group, stream)
                backend.put_log_events(group, stream, [{"timestamp": millis, "message": message}])

    return Session


@contextmanager
def executions_logged() -> Iterator[None]:
    """While the block runs, each execution logs to its machine's group."""
    from moto.stepfunctions.parser.backend.execution import Execution

    started = Execution.__dict__["__init__"]  # KeyError: moto changed; see the test

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("cloud_watch_logging_session") is None and "state_machine" in kwargs:
            arn = kwargs["exec_arn"]
            kind = getattr(kwargs["state_machine"], "type", None)  # moto's sm_type: STANDARD
            if getattr(kind, "value", kind) == "EXPRESS":
                arn = express_arn(arn)  # as AWS's EXPRESS records name the execution
            kwargs["cloud_watch_logging_session"] = _session(kwargs["state_machine"], arn)
        started(self, *args, **kwargs)

    with patch.object(Execution, "__init__", init):
        yield
