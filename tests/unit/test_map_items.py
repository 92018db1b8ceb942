"""mlwf/offline/map_items.py: a Map whose items are no array names the value as AWS does,
"Map state input must be an array but was: <the value as JSON>" (LocalStack's recordings of
AWS, test_base_scenarios.py::test_map_state_items_input_types); moto named its Python type."""

from __future__ import annotations

import json

import boto3
import pytest

from mlwf.offline.jsonata_states import jsonata_evaluated
from mlwf.offline.map_items import map_items_named_as_aws
from tests.helpers.executions import run_to_end
from tests.helpers.paths import REGION

INLINE = {
    "ProcessorConfig": {"Mode": "INLINE"},
    "StartAt": "Pass",
    "States": {"Pass": {"Type": "Pass", "End": True}},
}
# the recorded machine: a JSONata Map whose input is the value
RECORDED = {
    "QueryLanguage": "JSONata",
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Output": "{% $states.input.items %}", "Next": "MapIterateState"},
        "MapIterateState": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": INLINE,
            "End": True,
        },
    },
}
PREFIX = (
    "An error occurred while executing the state 'MapIterateState' (entered at the event id #4). "  # noqa: E501
)


def run(value: object) -> dict:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return run_to_end(sfn, RECORDED, json.dumps({"items": value}))


def test_the_pinned_moto_names_the_value_s_python_type(aws):
    with jsonata_evaluated():
        ended = run(1)
    assert ended["cause"] == PREFIX + "Map state input must be an array but was: <class 'int'>"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1, "1"),
        ("string", '"string"'),
        (True, "true"),
        ({"foo": "bar"}, '{"foo":"bar"}'),
        (None, "null"),
    ],  # noqa: E501
)
def test_the_value_is_named_as_json_as_aws_names_it(aws, value, shown):
    with jsonata_evaluated(), map_items_named_as_aws():
        ended = run(value)
    assert (ended["status"], ended["error"]) == ("FAILED", "States.QueryEvaluationError")
    assert ended["cause"] == PREFIX + f"Map state input must be an array but was: {shown}"


def test_a_json_path_map_names_what_its_items_path_selects(aws):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    state = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": INLINE, "End": True}
    with map_items_named_as_aws():
        ended = run_to_end(sfn, {"StartAt": "M", "States": {"M": state}}, '{"items": {"a": 1}}')
    assert ended["cause"].endswith('Map state input must be an array but was: {"a":1}')
