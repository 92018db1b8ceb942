"""A ResultPath that cannot be applied to the state's input fails with
States.ResultPathMatchFailure, as Step Functions fails it (mlwf/offline/result_paths.py)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from mlwf.offline.result_paths import result_paths_as_aws
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION


def pass_writing(result_path: str) -> dict[str, Any]:
    state = {"Type": "Pass", "Result": 1, "ResultPath": result_path, "End": True}
    return {"StartAt": "P", "States": {"P": state}}


def run(definition: dict[str, Any], given: str) -> dict[str, Any]:
    return run_to_end(boto3.client("stepfunctions", region_name=REGION), definition, given)


@pytest.fixture
def as_aws(aws):
    with result_paths_as_aws():
        yield


def test_the_pinned_moto_fails_it_with_a_python_type_error(aws):
    # What result_paths_as_aws replaces; the patch also relies on moto's body raising the
    # TypeError (jsonpath-ng's) for it, and nothing else.
    ended = run(pass_writing("$.r"), '"abc"')
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Runtime")
    assert "TypeError" in ended["cause"]


@pytest.mark.parametrize(
    ("result_path", "given", "shown"),
    [
        ("$.r", '"abc"', '"abc"'),  # a string
        ("$.r", "[1, 2]", "[1,2]"),  # an array
        ("$.r", "7", "7"),
        ("$.a.b", '{"a": "s"}', '{"a":"s"}'),  # a field deeper down that is not an object
    ],
)
def test_a_result_path_into_a_value_that_is_not_an_object_fails(as_aws, result_path, given, shown):
    ended = run(pass_writing(result_path), given)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.ResultPathMatchFailure")
    assert ended["cause"] == f"Unable to apply ReferencePath {result_path} to input {shown}"


def test_a_catch_on_states_all_sees_it(as_aws):
    parallel = {
        "Type": "Parallel",
        "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
        "ResultPath": "$.r",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$", "Next": "Caught"}],
        "End": True,
    }
    caught = {"Type": "Pass", "End": True}
    definition = {"StartAt": "P", "States": {"P": parallel, "Caught": caught}}
    ended = run(definition, '"abc"')
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == {
        "Error": "States.ResultPathMatchFailure",
        "Cause": 'Unable to apply ReferencePath $.r to input "abc"',
    }


def test_an_object_still_gets_the_field_created_where_missing(as_aws):
    ended = run(pass_writing("$.a.b"), '{"x": 1}')
    assert ended["status"] == "SUCCEEDED", ended
    assert json.loads(ended["output"]) == {"x": 1, "a": {"b": 1}}
