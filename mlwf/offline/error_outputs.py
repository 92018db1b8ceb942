"""A caught failure that names no error or cause gives its Catch null for them, as on AWS.

A Catch's error output is an object of the failure's `Error` and `Cause`
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-error-output),
and `SendTaskFailure` may give neither: both are optional
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html).
A task failed by `SendTaskFailure` with neither `error` nor `cause`, caught with
`"ResultPath": "$.states_all_error"`, gives `{"Error": null, "Cause": null}` on AWS, caught
at the Task or at the Parallel around it: LocalStack's recordings of AWS,
test_callback.py::test_sqs_failure_in_wait_for_task_tok_no_error_field[SQS_WAIT_FOR_TASK_TOKEN_CATCH]
and [SQS_PARALLEL_WAIT_FOR_TASK_TOKEN] (2024-04-29). moto's error output binds "" to a field
the failure does not have (its comment says AWS does; no recorded run shows an empty
string): the Task's own catch gave null (its failure event carries the two fields, empty),
the Parallel's gave "" (the branch's failure, passed up, has neither). A Map's catch is
built the same way as the Parallel's, and is held to the same rule (not recorded).

moto's internal replaced here is pinned by tests/unit/test_error_outputs.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

_EXECUTE_STATE = "moto.stepfunctions.parser.asl.component.state.exec.execute_state"


def error_output(failure_event: Any) -> dict[str, Any]:
    """The Catch's view of a failure: its error and cause, null where it has none."""
    details = failure_event.event_details or {}
    spec = next(iter(details.values()), None) or {}
    return {"Error": spec.get("error"), "Cause": spec.get("cause")}


@contextmanager
def error_outputs_as_aws() -> Iterator[None]:
    import importlib

    state = importlib.import_module(_EXECUTE_STATE).ExecutionState
    if not isinstance(state.__dict__.get("_construct_error_output_value"), staticmethod):
        raise RuntimeError("moto changed: ExecutionState._construct_error_output_value")
    with patch.object(state, "_construct_error_output_value", staticmethod(error_output)):
        yield
