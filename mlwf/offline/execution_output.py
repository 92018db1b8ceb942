"""A succeeded execution's output answered as JSON text, as AWS answers it.

DescribeExecution's `output` is "the JSON output data of the execution"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html),
and StartSyncExecution's the same. moto's interpreter keeps the output as a Python value,
and moto's DescribeExecution passed a string through as it was: an execution whose last
state gave the string "done" answered `done`, which no JSON reader parses (AWS: `"done"`),
and one whose output was null answered none.
Any other value it wrote with `json.dumps`' spaces (`{"a": 1}`), while the same execution's
ExecutionSucceeded event, written by moto's interpreter, has it compact (`{"a":1}`). Both
now carry the same text, the event's.
moto's internals named here are pinned by tests/unit/test_execution_output.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch


def output_json(value: Any) -> str:
    """An execution's output as Step Functions writes it: compact JSON text, as moto's
    interpreter writes it in the history (its to_json_str with these separators)."""
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    return str(to_json_str(value, separators=(",", ":")))


@contextmanager
def outputs_as_json() -> Iterator[None]:
    """DescribeExecution answers a succeeded execution's output as JSON text while the
    block runs (StartSyncExecution's answer is mlwf.offline.express's, which uses
    output_json too)."""
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    describe = StepFunctionResponse.__dict__["describe_execution"]  # KeyError: moto changed

    def describe_execution(response: Any) -> Any:
        answer = dict(describe(response).result)
        status = answer.get("status")
        if getattr(status, "value", status) == "SUCCEEDED":  # a null output too: "null"
            execution = response.stepfunction_backend.describe_execution(answer["executionArn"])
            answer["output"] = output_json(execution.output)
        return ActionResult(answer)

    with patch.object(StepFunctionResponse, "describe_execution", describe_execution):
        yield
