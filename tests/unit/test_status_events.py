"""mlwf/offline/status_events.py: an execution's status change event detail, and the moto
internals the patch wraps, pinned (the delivery is tests/offline/test_status_events.py's)."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from mlwf.offline.status_events import status_detail

STARTED = datetime(2024, 2, 7, 13, 56, 58, 123000, tzinfo=UTC)


def execution(**fields: object) -> SimpleNamespace:
    given = {
        "exec_arn": "arn:aws:states:us-east-1:123456789012:execution:m:e",
        "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
        "name": "e",
        "start_date": STARTED,
        "stop_date": None,
        "execution_input": '{"a": 1}',
        "output": None,
        "error": None,
        "cause": None,
    }
    return SimpleNamespace(**{**given, **fields})


@pytest.mark.parametrize(
    ("status", "redrive", "reason"),
    [
        ("RUNNING", "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"),
        ("SUCCEEDED", "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"),
        ("FAILED", "REDRIVABLE", None),
        ("TIMED_OUT", "REDRIVABLE", None),
        ("ABORTED", "REDRIVABLE", None),
    ],
)
def test_the_redrive_fields_follow_the_status(status, redrive, reason):
    detail = status_detail(execution(), status)
    assert (detail["redriveStatus"], detail["redriveStatusReason"]) == (redrive, reason)


def test_dates_are_epoch_milliseconds_and_the_output_json_text():
    stopped = STARTED.replace(second=59)
    detail = status_detail(execution(stop_date=stopped, output={"b": 2}), "SUCCEEDED")
    assert (detail["startDate"], detail["stopDate"]) == (1707314218123, 1707314219123)
    assert (detail["input"], detail["output"]) == ('{"a": 1}', '{"b":2}')
    assert detail["outputDetails"] == {"included": True}


def test_the_pinned_moto_sets_running_as_it_starts_and_every_field_at_the_end():
    from moto.stepfunctions.parser.backend.execution import (
        BaseExecutionWorkerCommunication,
        Execution,
    )

    start = inspect.getsource(Execution.__dict__["start"])
    assert start.index("ExecutionStatus.RUNNING") < start.index("self.exec_worker.start()")
    reflect = inspect.getsource(BaseExecutionWorkerCommunication._reflect_execution_status)
    for field in ("exec_status", "stop_date", "output", "error", "cause"):
        assert f"self.execution.{field} = " in reflect
