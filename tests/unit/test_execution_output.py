"""A succeeded execution's output answered as JSON text (mlwf.offline.execution_output):
DescribeExecution's `output` is "the JSON output data of the execution"
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html).
Each case runs on moto alone (the pin: what it answered) and patched."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from mlwf.offline.execution_output import output_json, outputs_as_json
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION


def ending_with(result: Any) -> dict[str, Any]:
    """A machine whose one state gives `result`."""
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}}


def run(result: Any) -> tuple[dict[str, Any], str]:
    """The execution's description, and the output its ExecutionSucceeded event carries."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    described = run_to_end(sfn, ending_with(result))
    events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    succeeded = next(e for e in events if e["type"] == "ExecutionSucceeded")
    return described, succeeded["executionSucceededEventDetails"]["output"]


def test_the_pinned_moto_answers_a_string_output_as_no_json(aws):
    # What outputs_as_json replaces: the string as it is, and other values with spaces that
    # the execution's own ExecutionSucceeded event does not have
    described, event = run("done")
    assert (described["output"], event) == ("done", '"done"')
    described, event = run({"a": 1, "b": [1, 2]})
    assert (described["output"], event) == ('{"a": 1, "b": [1, 2]}', '{"a":1,"b":[1,2]}')
    described, event = run(None)
    assert ("output" in described, event) == (False, "null")


@pytest.fixture
def as_json(aws):
    with outputs_as_json():
        yield


@pytest.mark.parametrize("result", ["done", {"a": 1, "b": [1, 2]}, [1, "x"], 2.5, True, None])
def test_the_output_is_the_json_text_the_history_has(as_json, result):
    described, event = run(result)
    assert described["output"] == event
    assert json.loads(described["output"]) == result


def test_after_the_block_moto_is_as_it_was(aws):
    with outputs_as_json():
        pass
    assert run("done")[0]["output"] == "done"


def test_output_json_is_compact_and_quotes_strings():
    assert output_json({"a": "b", "c": [1, None]}) == '{"a":"b","c":[1,null]}'
    assert output_json("done") == '"done"'
