"""The checks CreateStateMachine makes on a Map state's numbers (mlwf.offline.definition_map,
run by mlwf.offline.definition_check): what AWS refuses, and nothing it accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlwf.offline.definition_check import state_diagnostics
from tests.helpers.paths import PROJECT_ROOT

PROCESSOR = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def map_machine(**fields: Any) -> str:
    state = {"Type": "Map", "ItemProcessor": PROCESSOR, "End": True, **fields}
    return json.dumps({"StartAt": "M", "States": {"M": state}})


@pytest.mark.parametrize(
    "fields, message, where",
    [
        # AWS's answers, recorded in floci-io/floci#3733
        (
            {"MaxConcurrency": 2, "MaxConcurrencyPath": "$.n"},
            "There should only be one of the following fields: [MaxConcurrency, "
            "MaxConcurrencyPath]",
            "",
        ),
        ({"MaxConcurrency": -1}, "Minimum value is 0", "/MaxConcurrency"),
        ({"ToleratedFailureCount": -3}, "Minimum value is 0", "/ToleratedFailureCount"),
        ({"ToleratedFailurePercentage": -1}, "Minimum value is 0.0", "/ToleratedFailurePercentage"),
        (
            {"ToleratedFailurePercentage": 150},
            "Maximum value is 100.0",
            "/ToleratedFailurePercentage",
        ),
        (
            {"MaxConcurrencyPath": "$$.Execution.Input.n"},
            "Value is not a Reference Path",
            "/MaxConcurrencyPath",
        ),
        (
            {"ItemBatcher": {"MaxItemsPerBatch": 5, "MaxItemsPerBatchPath": "$.n"}},
            "There should only be one of the following fields: [MaxItemsPerBatch, "
            "MaxItemsPerBatchPath]",
            "/ItemBatcher",
        ),
        (
            {"ItemReader": {"Resource": "r", "ReaderConfig": {"MaxItems": 100_000_001}}},
            "Maximum value is 100000000",
            "/ItemReader/ReaderConfig/MaxItems",
        ),
    ],
)
def test_a_map_number_aws_refuses_is_refused(fields, message, where):
    assert state_diagnostics(map_machine(**fields)) == [
        f"SCHEMA_VALIDATION_FAILED: {message} at /States/M{where}"
    ]


def test_what_aws_takes_is_taken():
    taken = map_machine(
        MaxConcurrency=0,
        ToleratedFailurePercentage=100,
        ToleratedFailureCountPath="$.failures",
        ItemsPath="$$.Execution.Input.items",  # the one path that may read the context
        ItemBatcher={"MaxItemsPerBatchPath": "$.batch"},
        ItemReader={"Resource": "r", "ReaderConfig": {"MaxItems": 100_000_000}},
    )
    assert state_diagnostics(taken) == []


def test_the_projects_batch_definition_passes():
    path = PROJECT_ROOT / "statemachine" / "batch_classification.asl.json"
    assert state_diagnostics(path.read_text()) == []


@pytest.mark.parametrize(
    "fields, field, where",
    [
        ({"ItemBatcher": {"MaxItemsPerBatchPath": "$.n"}}, "MaxItemsPerBatchPath", "/ItemBatcher"),
        (
            {"ItemReader": {"Resource": "r", "ReaderConfig": {"MaxItemsPath": "$.n"}}},
            "MaxItemsPath",
            "/ItemReader/ReaderConfig",
        ),
    ],
)
def test_a_jsonata_maps_nested_path_field_is_refused(fields, field, where):
    # floci-io/floci#3733: AWS refuses every ...Path in a JSONata machine
    definition = json.loads(map_machine(**fields))
    definition["QueryLanguage"] = "JSONata"
    assert state_diagnostics(json.dumps(definition)) == [
        f"SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field '{field}' "
        f"is only supported for the 'JSONPath' QueryLanguage at /States/M{where}"
    ]
