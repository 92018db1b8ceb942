"""The Context object's times and fields as AWS gives them.

AWS's Context object (https://docs.aws.amazon.com/step-functions/latest/dg/
input-output-contextobject.html) has `Execution.StartTime`, `Execution.RedriveCount` and
`State.EnteredTime`; its times are UTC with milliseconds and a `Z`, "2023-11-21T06:27:31.545Z",
and `$$.Execution.StartTime` is the execution's `startDate` to the millisecond (LocalStack's
test_base.py::test_execution_dateformat, asserted against AWS). moto's interpreter put the
start as a Python datetime, so an execution whose output held `$$.Execution.StartTime` could
not be described (DescribeExecution failed on it, in Python's words); it wrote EnteredTime
in Python's own form (`...47.152367+00:00`); it had no RedriveCount, so
`$$.Execution.RedriveCount` failed the execution with States.Runtime; and an EXPRESS
execution's Id was its Standard form, `...:execution:...`, where AWS gives
`...:express:<machine>:<name>:<id>`, the ARN StartExecution answers (LocalStack's
test_express_sync.py recordings). (RedriveTime is there only once an execution is
redriven, which offline executions never are.)

moto's internals named here are pinned by tests/unit/test_context_objects.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

from mlwf.offline.express import express_arn


def aws_time(moment: datetime) -> str:
    """A time as the Context object gives it: UTC, milliseconds, `Z`."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


# The order AWS writes them in (LocalStack's test_context_object.snapshot.json, 2024-09-11)
_EXECUTION_ORDER = ("Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount")


def _settled(context: dict[str, Any]) -> None:
    execution = {**context["Execution"], "RedriveCount": 0}
    start = execution.get("StartTime")
    if isinstance(start, datetime):
        execution["StartTime"] = aws_time(start)
    ordered = {key: execution.pop(key) for key in _EXECUTION_ORDER if key in execution}
    context["Execution"] = {**ordered, **execution}


@contextmanager
def context_objects_as_aws() -> Iterator[None]:
    """While the block runs, each execution's Context object has AWS's times and fields.
    Entered after moto_patches.stops_as_aws, whose environment it wraps."""
    import moto.stepfunctions.parser.asl.component.state.state as state_module
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    # KeyError/AttributeError: moto changed; see tests/unit/test_context_objects.py
    make_environment = ExecutionWorker.__dict__["_get_evaluation_environment"]
    state_data = state_module.StateData

    def environment(worker: Any) -> Any:
        env = make_environment(worker)
        context = env.states.context_object.context_object_data
        _settled(context)
        if getattr(env.execution_type, "value", env.execution_type) == "EXPRESS":
            # the ARN AWS gives an EXPRESS execution, which StartExecution answered
            context["Execution"]["Id"] = express_arn(context["Execution"]["Id"])
        return env

    def entered(**fields: Any) -> Any:
        # moto writes datetime.now(utc).isoformat() as each state is entered; AWS writes
        # the name first (the same recording)
        entered_time = fields.get("EnteredTime")
        if isinstance(entered_time, str):
            fields["EnteredTime"] = aws_time(datetime.fromisoformat(entered_time))
        return state_data(**{"Name": fields.pop("Name", None), **fields})

    with ExitStack() as stack:
        stack.enter_context(
            patch.object(ExecutionWorker, "_get_evaluation_environment", environment)
        )
        stack.enter_context(patch.object(state_module, "StateData", entered))
        yield
